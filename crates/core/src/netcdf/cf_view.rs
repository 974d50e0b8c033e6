//! The CF view: the rules that change what a variable *is*, applied here once so that both
//! readers present the same model.
//!
//! - `_Unsigned = "true"` on a signed integer variable makes it unsigned: the data is
//!   reinterpreted bit for bit, the missing-value markers (`_FillValue`, `missing_value`) are
//!   converted with it, and `_Unsigned` is dropped because it has been applied. `valid_*` keep
//!   their stored values, as xarray leaves them (the output must read like xarray's view). `"false"` on an unsigned
//!   variable does the reverse (netCDF-Java and xarray honour both).
//! - A `char` array is text: its last dimension is collapsed into strings ([`VarMeta::char_dim`]),
//!   trailing NULs are stripped, and the bytes are decoded with `_Encoding` (UTF-8 when absent).
//!   Bytes that are not valid in that encoding are read as Latin-1, which maps every byte to one
//!   character, so nothing is lost or replaced. `_Encoding` is dropped once applied.
//! - A NetCDF-4 `string` is text.
//!
//! A reader describes the file as stored ([`RawGroup`], [`RawVar`]) and reads values as stored
//! ([`RawSource`]); [`CfFile`] turns both into the [`FileMeta`] and [`ArrayData`] callers see.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::{
    Attr, AttrValue, DimMeta, FileMeta, GroupMeta, JsonFloat, SourceEncoding, UnsupportedVar,
    VarMeta,
};
use crate::record::RecordField;
use crate::{ArrayData, CoreError, DType, Result};

/// A NetCDF atomic type as stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcType {
    Byte,
    UByte,
    Char,
    Short,
    UShort,
    Int,
    UInt,
    Int64,
    UInt64,
    Float,
    Double,
    String,
    /// A NetCDF-4 compound of numbers or an opaque type, read as stored records of this many
    /// bytes ([`crate::record`]); [`RawVar::record`] says which.
    Record(u32),
}

impl NcType {
    /// The CDL name, as `ncdump` prints it.
    pub fn name(self) -> &'static str {
        match self {
            NcType::Byte => "byte",
            NcType::UByte => "ubyte",
            NcType::Char => "char",
            NcType::Short => "short",
            NcType::UShort => "ushort",
            NcType::Int => "int",
            NcType::UInt => "uint",
            NcType::Int64 => "int64",
            NcType::UInt64 => "uint64",
            NcType::Float => "float",
            NcType::Double => "double",
            NcType::String => "string",
            NcType::Record(_) => "record",
        }
    }

    /// The element type of the stored values (text for `char` and `string`).
    pub fn dtype(self) -> DType {
        match self {
            NcType::Byte => DType::Int8,
            NcType::UByte => DType::Uint8,
            NcType::Short => DType::Int16,
            NcType::UShort => DType::Uint16,
            NcType::Int => DType::Int32,
            NcType::UInt => DType::Uint32,
            NcType::Int64 => DType::Int64,
            NcType::UInt64 => DType::Uint64,
            NcType::Float => DType::Float32,
            NcType::Double => DType::Float64,
            NcType::Char | NcType::String => DType::Str,
            NcType::Record(size) => DType::Record(size),
        }
    }
}

/// A variable as stored, before the CF view.
#[derive(Debug, Clone)]
pub struct RawVar {
    pub name: String,
    pub nc_type: NcType,
    pub dims: Vec<String>,
    pub shape: Vec<u64>,
    pub attrs: Vec<Attr>,
    pub encoding: SourceEncoding,
    /// For a NetCDF-4 enum variable (`nc_type` is then its base integer type): its members,
    /// name and value, in the type's order.
    pub enum_members: Option<Vec<(String, i128)>>,
    /// For a record variable (`nc_type` is [`NcType::Record`]): what it is.
    pub record: Option<RawRecord>,
}

/// A compound or opaque type as the model shows it.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// "compound {bin_num, nobs}", "opaque (16 bytes)".
    pub kind: String,
    /// The compound's fields in the stored order; empty for an opaque type.
    pub fields: Vec<RecordField>,
}

/// A variable of a user-defined type as stored: named in errors, never read.
#[derive(Debug, Clone)]
pub struct RawUnsupported {
    pub name: String,
    /// "compound {a, b}", "enum of ubyte", "vlen of int", "opaque (16 bytes)".
    pub nc_type: String,
    pub dims: Vec<String>,
    pub shape: Vec<u64>,
}

/// A group as stored, before the CF view.
#[derive(Debug, Clone)]
pub struct RawGroup {
    pub name: String,
    pub dims: Vec<DimMeta>,
    pub vars: Vec<RawVar>,
    /// Variables of user-defined types, see [`UnsupportedVar`].
    pub unsupported: Vec<RawUnsupported>,
    pub attrs: Vec<Attr>,
    pub groups: Vec<RawGroup>,
}

/// The one mapping from a stored NetCDF numeric type to its [`ArrayData`] variant. Each reader
/// passes its own typed read, generic over the element type named `$t`:
/// `numeric_by_type!(nc_type, path, |T| self.values::<T>(path, start, count)?)`.
macro_rules! numeric_by_type {
    ($nc_type:expr, $path:expr, |$t:ident| $read:expr) => {
        match $nc_type {
            NcType::Byte => {
                type $t = i8;
                ArrayData::Int8($read)
            }
            NcType::UByte => {
                type $t = u8;
                ArrayData::Uint8($read)
            }
            NcType::Short => {
                type $t = i16;
                ArrayData::Int16($read)
            }
            NcType::UShort => {
                type $t = u16;
                ArrayData::Uint16($read)
            }
            NcType::Int => {
                type $t = i32;
                ArrayData::Int32($read)
            }
            NcType::UInt => {
                type $t = u32;
                ArrayData::Uint32($read)
            }
            NcType::Int64 => {
                type $t = i64;
                ArrayData::Int64($read)
            }
            NcType::UInt64 => {
                type $t = u64;
                ArrayData::Uint64($read)
            }
            NcType::Float => {
                type $t = f32;
                ArrayData::Float32($read)
            }
            NcType::Double => {
                type $t = f64;
                ArrayData::Float64($read)
            }
            NcType::Char | NcType::String | NcType::Record(_) => {
                return Err(CoreError::Invalid(format!(
                    "{}: {} is not numeric",
                    $path,
                    $nc_type.name()
                )))
            }
        }
    };
}
pub(crate) use numeric_by_type;

/// Values exactly as stored, over a variable's stored dimensions. Every hyperslab handed to
/// these methods has been checked against the shape and holds at least one element.
pub trait RawSource {
    /// Numeric values, as `nc_type` (the matching [`ArrayData`] variant).
    fn read_numeric(
        &self,
        path: &str,
        nc_type: NcType,
        start: &[u64],
        count: &[u64],
    ) -> Result<ArrayData>;
    /// The bytes of a `char` variable; the character dimension, if any, is the last.
    fn read_chars(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<u8>>;
    /// The elements of a NetCDF-4 `string` variable.
    fn read_strings(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<String>>;
    /// The elements of a record variable, as stored records ([`crate::record`]).
    fn read_records(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<u8>>;
}

/// The character set of a `char` variable, from its `_Encoding` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Ascii,
    Latin1,
}

impl TextEncoding {
    /// The encoding an `_Encoding` value names. Labels we don't know fall back to UTF-8, the
    /// NetCDF default; the Latin-1 fallback in [`TextEncoding::decode`] keeps their bytes intact.
    pub fn from_label(label: Option<&str>) -> TextEncoding {
        match label.map(|l| l.trim().to_ascii_lowercase()).as_deref() {
            Some("latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1") => TextEncoding::Latin1,
            Some("ascii" | "us-ascii") => TextEncoding::Ascii,
            _ => TextEncoding::Utf8,
        }
    }

    /// Decode one fixed-width field: trailing NULs are padding, not text.
    pub fn decode(self, field: &[u8]) -> String {
        let end = field.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let bytes = &field[..end];
        let valid = match self {
            TextEncoding::Latin1 => None,
            TextEncoding::Ascii => bytes
                .is_ascii()
                .then(|| std::str::from_utf8(bytes).ok())
                .flatten(),
            TextEncoding::Utf8 => std::str::from_utf8(bytes).ok(),
        };
        match valid {
            Some(text) => text.to_owned(),
            None => bytes.iter().map(|&b| char::from(b)).collect(),
        }
    }
}

/// How to turn one variable's stored values into its view.
#[derive(Debug, Clone)]
struct VarPlan {
    stored: NcType,
    dtype: DType,
    /// The viewed shape, which hyperslabs are checked against.
    shape: Vec<u64>,
    /// For a `char` array with a character dimension: its length.
    char_len: Option<u64>,
    text: TextEncoding,
}

/// A file's CF view: its metadata, and how to read each variable.
#[derive(Debug, Clone)]
pub struct CfFile {
    pub meta: FileMeta,
    plans: HashMap<String, VarPlan>,
}

impl CfFile {
    /// Apply the view to a reader's description of the file. `root.name` is ignored: the root is
    /// always `/`.
    pub fn new(format: &str, reader: &str, root: RawGroup) -> CfFile {
        let mut plans = HashMap::new();
        let root = view_group(root, "/".to_string(), &mut plans);
        CfFile {
            meta: FileMeta {
                format: format.to_string(),
                reader: reader.to_string(),
                root,
            },
            plans,
        }
    }

    /// Read the hyperslab `start`/`count` of the variable at `path`, through `source`.
    pub fn read(
        &self,
        source: &impl RawSource,
        path: &str,
        start: &[u64],
        count: &[u64],
    ) -> Result<ArrayData> {
        let plan = self
            .plans
            .get(path)
            .ok_or_else(|| CoreError::NotFound(format!("variable {path}")))?;
        check_hyperslab(path, &plan.shape, start, count)?;
        let len = count.iter().product::<u64>();
        if len == 0 {
            return Ok(ArrayData::filled(plan.dtype, 0, 0.0));
        }
        let len = usize::try_from(len).map_err(|_| {
            CoreError::Invalid(format!("{path}: {len} elements do not fit in memory"))
        })?;
        let data = match plan.stored {
            NcType::Char => {
                let (mut start, mut count) = (start.to_vec(), count.to_vec());
                if let Some(width) = plan.char_len {
                    start.push(0);
                    count.push(width);
                }
                let bytes = if plan.char_len == Some(0) {
                    Vec::new()
                } else {
                    source.read_chars(path, &start, &count)?
                };
                ArrayData::Str(split_text(&bytes, len, plan.text))
            }
            NcType::String => ArrayData::Str(source.read_strings(path, start, count)?),
            NcType::Record(size) => ArrayData::Record {
                size,
                bytes: source.read_records(path, start, count)?,
            },
            stored => reinterpret(source.read_numeric(path, stored, start, count)?, plan.dtype),
        };
        if data.len() != len {
            return Err(CoreError::Read(format!(
                "{path}: the reader returned {} values for a hyperslab of {len}",
                data.len()
            )));
        }
        Ok(data)
    }
}

fn check_hyperslab(path: &str, shape: &[u64], start: &[u64], count: &[u64]) -> Result<()> {
    let fits = start.len() == shape.len()
        && count.len() == shape.len()
        && shape
            .iter()
            .zip(start.iter().zip(count))
            .all(|(&n, (&s, &c))| s.checked_add(c).is_some_and(|end| end <= n));
    if fits {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "{path}: hyperslab start {start:?} count {count:?} does not fit shape {shape:?}"
        )))
    }
}

/// Split `len` fixed-width fields out of `bytes` and decode each.
fn split_text(bytes: &[u8], len: usize, text: TextEncoding) -> Vec<String> {
    if bytes.is_empty() {
        return vec![String::new(); len];
    }
    let width = bytes.len() / len;
    bytes
        .chunks(width.max(1))
        .take(len)
        .map(|field| text.decode(field))
        .collect()
}

/// Reinterpret integers as their other-signed twin (`_Unsigned`); other data passes unchanged.
fn reinterpret(data: ArrayData, to: DType) -> ArrayData {
    use bytemuck::allocation::cast_vec;
    match (data, to) {
        (ArrayData::Int8(v), DType::Uint8) => ArrayData::Uint8(cast_vec(v)),
        (ArrayData::Uint8(v), DType::Int8) => ArrayData::Int8(cast_vec(v)),
        (ArrayData::Int16(v), DType::Uint16) => ArrayData::Uint16(cast_vec(v)),
        (ArrayData::Uint16(v), DType::Int16) => ArrayData::Int16(cast_vec(v)),
        (ArrayData::Int32(v), DType::Uint32) => ArrayData::Uint32(cast_vec(v)),
        (ArrayData::Uint32(v), DType::Int32) => ArrayData::Int32(cast_vec(v)),
        (ArrayData::Int64(v), DType::Uint64) => ArrayData::Uint64(cast_vec(v)),
        (ArrayData::Uint64(v), DType::Int64) => ArrayData::Int64(cast_vec(v)),
        (data, _) => data,
    }
}

fn child_path(parent: &str, name: &str) -> String {
    format!("{}/{}", parent.trim_end_matches('/'), name)
}

/// Whether the characters of a `char` variable join into text along its last dimension: as
/// xarray decides, when that dimension is no variable of the group and every variable of the
/// group that uses it is a `char` variable with it last. Otherwise xarray shows the characters one
/// by one, which zarrio does not store: such a variable is refused by name, never changed.
fn joins_text(var: &RawVar, group: &RawGroup) -> bool {
    let Some(last) = var.dims.last() else {
        return true;
    };
    !group.vars.iter().any(|v| &v.name == last)
        && group
            .vars
            .iter()
            .filter(|v| v.dims.contains(last))
            .all(|v| v.nc_type == NcType::Char && v.dims.last() == Some(last))
}

fn view_group(mut raw: RawGroup, path: String, plans: &mut HashMap<String, VarPlan>) -> GroupMeta {
    let split: Vec<bool> = raw
        .vars
        .iter()
        .map(|v| v.nc_type == NcType::Char && !joins_text(v, &raw))
        .collect();
    let mut kept = Vec::with_capacity(raw.vars.len());
    for (var, single_chars) in std::mem::take(&mut raw.vars).into_iter().zip(split) {
        if single_chars {
            raw.unsupported.push(RawUnsupported {
                nc_type: format!(
                    "char whose last dimension '{}' is not only a character dimension (xarray reads it character by character)",
                    var.dims.last().map_or("", String::as_str)
                ),
                name: var.name,
                dims: var.dims,
                shape: var.shape,
            });
        } else {
            kept.push(var);
        }
    }
    let vars = kept
        .into_iter()
        .map(|var| {
            let var_path = child_path(&path, &var.name);
            let (meta, plan) = view_var(var, var_path.clone());
            plans.insert(var_path, plan);
            meta
        })
        .collect();
    let groups = raw
        .groups
        .into_iter()
        .map(|group| {
            let group_path = child_path(&path, &group.name);
            view_group(group, group_path, plans)
        })
        .collect();
    GroupMeta {
        name: if path == "/" {
            "/".to_string()
        } else {
            raw.name
        },
        unsupported: raw
            .unsupported
            .into_iter()
            .map(|u| UnsupportedVar {
                path: child_path(&path, &u.name),
                name: u.name,
                nc_type: u.nc_type,
                dims: u.dims,
            })
            .collect(),
        path,
        dims: raw.dims,
        vars,
        attrs: raw.attrs,
        groups,
    }
}

fn text_attr<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| match &a.value {
            AttrValue::Text(t) => Some(t.as_str()),
            _ => None,
        })
}

fn view_var(raw: RawVar, path: String) -> (VarMeta, VarPlan) {
    let RawVar {
        name,
        nc_type,
        mut dims,
        mut shape,
        mut attrs,
        encoding,
        enum_members,
        record,
    } = raw;
    let mut dtype = nc_type.dtype();
    // An enum is stored as its base integer, as xarray reads it; the name of each value goes
    // with it in the CF attributes for flags (flag_values, flag_meanings).
    if let Some(members) = &enum_members {
        let values: Vec<i64> = members.iter().map(|(_, v)| *v as i64).collect();
        let typed = match nc_type {
            NcType::Byte => AttrValue::Int8(values),
            NcType::UByte => AttrValue::Uint8(values),
            NcType::Short => AttrValue::Int16(values),
            NcType::UShort => AttrValue::Uint16(values),
            NcType::Int => AttrValue::Int32(values),
            NcType::UInt => AttrValue::Uint32(values),
            NcType::UInt64 => AttrValue::Uint64(members.iter().map(|(_, v)| *v as u64).collect()),
            _ => AttrValue::Int64(values),
        };
        attrs.retain(|a| a.name != "flag_values" && a.name != "flag_meanings");
        attrs.push(Attr {
            name: "flag_values".into(),
            value: typed,
        });
        attrs.push(Attr {
            name: "flag_meanings".into(),
            value: AttrValue::Text(
                members
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        });
    }
    let mut char_dim = None;
    let mut char_len = None;
    let mut text = TextEncoding::Utf8;

    match nc_type {
        NcType::Char => {
            text = TextEncoding::from_label(text_attr(&attrs, "_Encoding"));
            attrs.retain(|a| a.name != "_Encoding");
            if let (Some(dim), Some(len)) = (dims.pop(), shape.pop()) {
                char_dim = Some(dim);
                char_len = Some(len);
            }
        }
        NcType::String => {}
        _ if dtype.is_integer() => {
            if let Some(flag) = text_attr(&attrs, "_Unsigned").map(str::to_ascii_lowercase) {
                let flipped = match flag.trim() {
                    "true" => to_unsigned(dtype),
                    "false" => to_signed(dtype),
                    _ => None,
                };
                attrs.retain(|a| a.name != "_Unsigned");
                if let Some(flipped) = flipped {
                    for attr in &mut attrs {
                        if UNSIGNED_ATTRS.contains(&attr.name.as_str()) {
                            flip_attr(&mut attr.value, dtype);
                        }
                    }
                    dtype = flipped;
                }
            }
        }
        _ => {}
    }

    let plan = VarPlan {
        stored: nc_type,
        dtype,
        shape: shape.clone(),
        char_len,
        text,
    };
    let meta = VarMeta {
        name,
        path,
        dtype,
        nc_type: match (&enum_members, &record) {
            (Some(_), _) => format!("enum of {}", nc_type.name()),
            (None, Some(r)) => r.kind.clone(),
            (None, None) => nc_type.name().to_string(),
        },
        fields: record.map(|r| r.fields).unwrap_or_default(),
        dims,
        shape,
        char_dim,
        attrs,
        encoding,
    };
    (meta, plan)
}

/// The missing-value markers `_Unsigned` applies to (what xarray converts; `valid_*` it leaves).
const UNSIGNED_ATTRS: [&str; 2] = ["_FillValue", "missing_value"];

fn to_unsigned(dtype: DType) -> Option<DType> {
    match dtype {
        DType::Int8 => Some(DType::Uint8),
        DType::Int16 => Some(DType::Uint16),
        DType::Int32 => Some(DType::Uint32),
        DType::Int64 => Some(DType::Uint64),
        _ => None,
    }
}

fn to_signed(dtype: DType) -> Option<DType> {
    match dtype {
        DType::Uint8 => Some(DType::Int8),
        DType::Uint16 => Some(DType::Int16),
        DType::Uint32 => Some(DType::Int32),
        DType::Uint64 => Some(DType::Int64),
        _ => None,
    }
}

/// Reinterpret an attribute stored as `stored` (the variable's type) as its other-signed twin.
/// Attributes of any other type (a float `valid_range` on packed data, say) are left alone.
fn flip_attr(value: &mut AttrValue, stored: DType) {
    let flipped = match (&*value, stored) {
        (AttrValue::Int8(v), DType::Int8) => {
            AttrValue::Uint8(v.iter().map(|&x| i64::from(x as i8 as u8)).collect())
        }
        (AttrValue::Int16(v), DType::Int16) => {
            AttrValue::Uint16(v.iter().map(|&x| i64::from(x as i16 as u16)).collect())
        }
        (AttrValue::Int32(v), DType::Int32) => {
            AttrValue::Uint32(v.iter().map(|&x| i64::from(x as i32 as u32)).collect())
        }
        (AttrValue::Int64(v), DType::Int64) => {
            AttrValue::Uint64(v.iter().map(|&x| x as u64).collect())
        }
        (AttrValue::Uint8(v), DType::Uint8) => {
            AttrValue::Int8(v.iter().map(|&x| i64::from(x as u8 as i8)).collect())
        }
        (AttrValue::Uint16(v), DType::Uint16) => {
            AttrValue::Int16(v.iter().map(|&x| i64::from(x as u16 as i16)).collect())
        }
        (AttrValue::Uint32(v), DType::Uint32) => {
            AttrValue::Int32(v.iter().map(|&x| i64::from(x as u32 as i32)).collect())
        }
        (AttrValue::Uint64(v), DType::Uint64) => {
            AttrValue::Int64(v.iter().map(|&x| x as i64).collect())
        }
        _ => return,
    };
    *value = flipped;
}

/// Text attribute: C strings end at the first NUL (libnetcdf's attribute API cuts there, so
/// both readers must).
fn attr_text(text: &str) -> String {
    text.split('\0').next().unwrap_or_default().to_string()
}

fn floats<T: Copy + Into<f64>>(values: &[T]) -> Vec<JsonFloat> {
    values.iter().map(|&v| JsonFloat(v.into())).collect()
}

fn ints<T: Copy + Into<i64>>(values: &[T]) -> Vec<i64> {
    values.iter().map(|&v| v.into()).collect()
}

fn strings(mut values: Vec<String>) -> AttrValue {
    if values.len() == 1 {
        AttrValue::Text(attr_text(&values.remove(0)))
    } else {
        AttrValue::Texts(values.iter().map(|s| attr_text(s)).collect())
    }
}

/// An attribute from the pure-Rust reader; `None` for user-defined types, which have no
/// [`AttrValue`].
pub fn attr_from_pure(value: &netcdf_reader::NcAttrValue) -> Option<AttrValue> {
    use netcdf_reader::NcAttrValue as V;
    Some(match value {
        V::Bytes(v) => AttrValue::Int8(ints(v)),
        V::UBytes(v) => AttrValue::Uint8(ints(v)),
        V::Shorts(v) => AttrValue::Int16(ints(v)),
        V::UShorts(v) => AttrValue::Uint16(ints(v)),
        V::Ints(v) => AttrValue::Int32(ints(v)),
        V::UInts(v) => AttrValue::Uint32(ints(v)),
        V::Int64s(v) => AttrValue::Int64(v.clone()),
        V::UInt64s(v) => AttrValue::Uint64(v.clone()),
        V::Floats(v) => AttrValue::Float32(floats(v)),
        V::Doubles(v) => AttrValue::Float64(floats(v)),
        V::Chars(s) => AttrValue::Text(attr_text(s)),
        V::Strings(v) => strings(v.clone()),
        V::UserDefined { values, .. } => {
            AttrValue::Records(values.iter().map(record_attr).collect::<Option<_>>()?)
        }
    })
}

/// One value of a compound attribute as an object of its fields; `None` unless every field is a
/// number (the compounds whose variables zarrio stores).
fn record_attr(
    value: &netcdf_reader::NcValue,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    use netcdf_reader::NcValue as V;
    let netcdf_reader::NcValue::Compound(fields) = value else {
        return None;
    };
    fields
        .iter()
        .map(|f| {
            let v = match &f.value {
                V::Byte(x) => serde_json::json!(x),
                V::UByte(x) => serde_json::json!(x),
                V::Short(x) => serde_json::json!(x),
                V::UShort(x) => serde_json::json!(x),
                V::Int(x) => serde_json::json!(x),
                V::UInt(x) => serde_json::json!(x),
                V::Int64(x) => serde_json::json!(x),
                V::UInt64(x) => serde_json::json!(x),
                V::Float(x) => serde_json::to_value(JsonFloat(f64::from(*x))).ok()?,
                V::Double(x) => serde_json::to_value(JsonFloat(*x)).ok()?,
                _ => return None,
            };
            Some((f.name.clone(), v))
        })
        .collect()
}

/// An attribute from libnetcdf.
#[cfg(feature = "libnetcdf")]
pub fn attr_from_libnc(value: netcdf::AttributeValue) -> AttrValue {
    use netcdf::AttributeValue as V;
    match value {
        V::Schar(x) => AttrValue::Int8(vec![x.into()]),
        V::Schars(v) => AttrValue::Int8(ints(&v)),
        V::Uchar(x) => AttrValue::Uint8(vec![x.into()]),
        V::Uchars(v) => AttrValue::Uint8(ints(&v)),
        V::Short(x) => AttrValue::Int16(vec![x.into()]),
        V::Shorts(v) => AttrValue::Int16(ints(&v)),
        V::Ushort(x) => AttrValue::Uint16(vec![x.into()]),
        V::Ushorts(v) => AttrValue::Uint16(ints(&v)),
        V::Int(x) => AttrValue::Int32(vec![x.into()]),
        V::Ints(v) => AttrValue::Int32(ints(&v)),
        V::Uint(x) => AttrValue::Uint32(vec![x.into()]),
        V::Uints(v) => AttrValue::Uint32(ints(&v)),
        V::Longlong(x) => AttrValue::Int64(vec![x]),
        V::Longlongs(v) => AttrValue::Int64(v),
        V::Ulonglong(x) => AttrValue::Uint64(vec![x]),
        V::Ulonglongs(v) => AttrValue::Uint64(v),
        V::Float(x) => AttrValue::Float32(vec![JsonFloat(x.into())]),
        V::Floats(v) => AttrValue::Float32(floats(&v)),
        V::Double(x) => AttrValue::Float64(vec![JsonFloat(x)]),
        V::Doubles(v) => AttrValue::Float64(floats(&v)),
        V::Str(s) => AttrValue::Text(attr_text(&s)),
        V::Strs(v) => strings(v),
    }
}

/// Run a reader's work on untrusted bytes, turning a panic inside a parser (an unchecked
/// offset in a corrupt file, an `unwrap` in a binding) into [`CoreError::Read`]. `what` names
/// the file in the message.
pub fn guard<T>(what: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        Err(CoreError::Read(format!(
            "{what}: the file is corrupt or not NetCDF (the parser failed: {detail})"
        )))
    })
}

/// Copy the hyperslab `start`/`count` out of a C-ordered array of `shape`, for readers whose
/// library only reads whole variables of some type. The hyperslab has been checked.
pub fn hyperslab<T: Clone>(data: &[T], shape: &[u64], start: &[u64], count: &[u64]) -> Vec<T> {
    let Some(last) = shape.len().checked_sub(1) else {
        return data.iter().take(1).cloned().collect();
    };
    let mut strides = vec![1usize; shape.len()];
    for d in (0..last).rev() {
        strides[d] = strides[d + 1] * shape[d + 1] as usize;
    }
    let run = count[last] as usize;
    let total = count.iter().product::<u64>() as usize;
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return out;
    }
    // An odometer over the outer dimensions; each position copies one run of the last.
    let mut index = vec![0u64; last];
    loop {
        let offset = (0..last)
            .map(|d| (start[d] + index[d]) as usize * strides[d])
            .sum::<usize>()
            + start[last] as usize;
        out.extend_from_slice(&data[offset..offset + run]);
        let mut d = last;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            index[d] += 1;
            if index[d] < count[d] {
                break;
            }
            index[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_decoding() {
        assert_eq!(TextEncoding::Utf8.decode(b"Z\xc3\xbcrich\0\0"), "Zürich");
        assert_eq!(TextEncoding::Utf8.decode(b"Caf\xe9\0"), "Café");
        assert_eq!(TextEncoding::Latin1.decode(b"\xc3\xbc"), "Ã¼");
        assert_eq!(TextEncoding::Ascii.decode(b"abc\0"), "abc");
        assert_eq!(TextEncoding::Ascii.decode(b"\xe9t\xe9"), "été");
        assert_eq!(TextEncoding::Utf8.decode(b"a\0b\0"), "a\0b");
        assert_eq!(TextEncoding::Utf8.decode(b"\0\0"), "");
        assert_eq!(
            TextEncoding::from_label(Some("ISO-8859-1")),
            TextEncoding::Latin1
        );
        assert_eq!(TextEncoding::from_label(Some("koi8-r")), TextEncoding::Utf8);
    }

    #[test]
    fn hyperslabs() {
        let data: Vec<u32> = (0..24).collect();
        assert_eq!(
            hyperslab(&data, &[2, 3, 4], &[1, 1, 2], &[1, 2, 2]),
            vec![18, 19, 22, 23]
        );
        assert_eq!(hyperslab(&data, &[24], &[5], &[3]), vec![5, 6, 7]);
        assert_eq!(hyperslab(&data[..1], &[], &[], &[]), vec![0]);
        assert!(hyperslab(&data, &[2, 12], &[0, 0], &[0, 12]).is_empty());
    }

    fn raw(nc_type: NcType, attrs: Vec<Attr>) -> RawVar {
        RawVar {
            name: "v".into(),
            nc_type,
            dims: vec!["x".into(), "n".into()],
            shape: vec![2, 3],
            attrs,
            encoding: SourceEncoding::default(),
            enum_members: None,
            record: None,
        }
    }

    fn attr(name: &str, value: AttrValue) -> Attr {
        Attr {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn unsigned_view() {
        let (meta, plan) = view_var(
            raw(
                NcType::Byte,
                vec![
                    attr("_Unsigned", AttrValue::Text("true".into())),
                    attr("_FillValue", AttrValue::Int8(vec![-1])),
                    attr("valid_range", AttrValue::Int8(vec![0, -3])),
                    attr("scale_factor", AttrValue::Float32(vec![JsonFloat(0.5)])),
                ],
            ),
            "/v".into(),
        );
        assert_eq!(meta.dtype, DType::Uint8);
        assert_eq!(meta.nc_type, "byte");
        assert_eq!(
            meta.attrs,
            vec![
                attr("_FillValue", AttrValue::Uint8(vec![255])),
                // valid_* keep their stored values, as in xarray's view of the file.
                attr("valid_range", AttrValue::Int8(vec![0, -3])),
                attr("scale_factor", AttrValue::Float32(vec![JsonFloat(0.5)])),
            ]
        );
        assert_eq!(
            reinterpret(ArrayData::Int8(vec![-1, 5]), plan.dtype),
            ArrayData::Uint8(vec![255, 5])
        );
        let (meta, _) = view_var(
            raw(
                NcType::UShort,
                vec![attr("_Unsigned", AttrValue::Text("false".into()))],
            ),
            "/v".into(),
        );
        assert_eq!(meta.dtype, DType::Int16);
    }

    #[test]
    fn char_view() {
        let (meta, plan) = view_var(
            raw(
                NcType::Char,
                vec![attr("_Encoding", AttrValue::Text("latin-1".into()))],
            ),
            "/v".into(),
        );
        assert_eq!(
            (meta.dtype, meta.dims, meta.shape),
            (DType::Str, vec!["x".to_string()], vec![2])
        );
        assert_eq!(meta.char_dim.as_deref(), Some("n"));
        assert!(meta.attrs.is_empty());
        assert_eq!(plan.char_len, Some(3));
        assert_eq!(split_text(b"ab\0\xe9\0\0", 2, plan.text), vec!["ab", "é"]);
        assert_eq!(split_text(b"", 2, plan.text), vec!["", ""]);
    }
}
