//! [`PureReader`]: NetCDF through the pure-Rust `netcdf-reader` and `hdf5-reader` crates.
//! Reads classic, 64-bit offset, CDF-5, NetCDF-4 and NETCDF4_CLASSIC files from a path or from
//! bytes; the only reader in WebAssembly.

use std::collections::HashMap;
use std::sync::Arc;

use hdf5_reader::filters::{FILTER_DEFLATE, FILTER_SHUFFLE};
use hdf5_reader::messages::HdfMessage;
use hdf5_reader::FilterRegistry;
use netcdf_reader::{
    BytesStorage, DynStorage, FileStorage, NcDimension, NcFile, NcFormat, NcGroup, NcOpenOptions,
    NcReadable, NcSliceInfo, NcSliceInfoElem, NcVariable,
};

use super::cf_view::{
    self, CfFile, NcType, RawGroup, RawRecord, RawSource, RawUnsupported, RawVar,
};
use super::{Attr, DimMeta, FileMeta, NcReader, Purpose, SourceEncoding};
use crate::codec::{gzip, shuffle};
use crate::record::{self, RecordField};
use crate::{ArrayData, CoreError, Result};

/// netcdf-c stores a variable that shares its name with a dimension, without being that
/// dimension's coordinate variable, as an HDF5 dataset with this prefix.
const NON_COORD_PREFIX: &str = "_nc4_non_coord_";

pub struct PureReader {
    cf: CfFile,
    file: NcFile,
    /// The same bytes as `file`, for what `netcdf-reader` has no API for (the raw bytes of a
    /// classic char variable).
    bytes: DynStorage,
    /// Variable path as we show it → path in the file, where they differ (see
    /// [`NON_COORD_PREFIX`]).
    file_paths: HashMap<String, String>,
    /// Paths of enum variables: read as their base integers through [`EnumValue`].
    enums: std::collections::HashSet<String>,
}

/// Bytes shared by the NetCDF parser and our own raw reads, without a copy.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// Files up to this size are read whole when opened by path (see [`PureReader::open_path`]): the
/// bytes held stay below what the file's values take once read.
const READ_WHOLE_UP_TO: u64 = 4 << 20;

/// No chunk cache. zarrio reads each slab once, in order, with slab edges on the archive's chunk
/// edges: a cache only pays when a source chunk that two slabs share is still in it at the second
/// read, which takes a cache of a whole slab's source chunks (tens of MB per open file), and the
/// crate's default (64 MiB per file) and a small one (8 MiB: 12 MB of a writer's ~120) cost memory
/// that counts against the run's peak for chunks never asked for again. A pass that reads every
/// chunk once (a packing range over all files, `analyze`) would otherwise keep every open file's
/// cache full.
fn open_options() -> NcOpenOptions {
    NcOpenOptions {
        chunk_cache_bytes: 0,
        filter_registry: Some(filters()),
        ..Default::default()
    }
}

/// The HDF5 filters, with our byte unshuffle (vectorised: the crate's own goes byte by byte,
/// about a tenth of the time of reading a shuffled, deflated variable) and our inflate: the
/// crate's sizes its output for the worst case when the next filter is not one of its own
/// (gigabytes for a chunk of a few megabytes, which WebAssembly cannot give).
fn filters() -> FilterRegistry {
    let mut registry = FilterRegistry::new();
    registry.register(
        FILTER_DEFLATE,
        Box::new(|_, data, _| {
            gzip::inflate_zlib(data)
                .map_err(|e| hdf5_reader::error::Error::DecompressionError(e.to_string()))
        }),
    );
    registry.register(
        FILTER_SHUFFLE,
        Box::new(|_, data, element_size| {
            let mut out = vec![0; data.len()];
            shuffle::unshuffle(element_size, data, &mut out);
            Ok(out)
        }),
    );
    registry
}

impl PureReader {
    /// Open a file by path: a small file is read whole, one system call (parsing an HDF5 file's
    /// metadata with positional I/O costs a call per structure, hundreds for a file of a few
    /// hundred kilobytes, more than reading it, and series of thousands of such files are common);
    /// larger classic files are memory-mapped, larger HDF5 ones read with positional I/O.
    pub fn open_path(path: &str, purpose: Purpose) -> Result<PureReader> {
        cf_view::guard(path, || {
            let size = std::fs::metadata(path)
                .map_err(|e| read_error(path, e))?
                .len();
            if size <= READ_WHOLE_UP_TO {
                let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
                return PureReader::from_vec(path, bytes, purpose);
            }
            let file =
                NcFile::open_with_options(path, open_options()).map_err(|e| read_error(path, e))?;
            let bytes: DynStorage =
                Arc::new(FileStorage::open(path).map_err(|e| read_error(path, e))?);
            PureReader::new(path, file, bytes, purpose)
        })
    }

    /// Open a file held in memory (WebAssembly, or bytes fetched from an object store); `what`
    /// names it in errors.
    pub fn open_bytes(what: &str, bytes: Vec<u8>) -> Result<PureReader> {
        cf_view::guard(what, || {
            PureReader::from_vec(what, bytes, Purpose::Describe)
        })
    }

    /// Open a file the host reads by range (WebAssembly: a file descriptor or a `Blob` on the
    /// JavaScript side); `what` names it in errors.
    pub fn open_source(
        what: &str,
        source: Box<dyn super::range::ByteSource>,
        purpose: Purpose,
    ) -> Result<PureReader> {
        cf_view::guard(what, || {
            let storage: DynStorage = Arc::new(super::range::RangeStorage::new(source));
            let file = NcFile::from_storage_with_options(storage.clone(), open_options())
                .map_err(|e| read_error(what, e))?;
            PureReader::new(what, file, storage, purpose)
        })
    }

    /// A file's bytes in memory; `what` names it in errors.
    fn from_vec(what: &str, bytes: Vec<u8>, purpose: Purpose) -> Result<PureReader> {
        let shared = Arc::new(bytes);
        let file = NcFile::from_owner(SharedBytes(shared.clone()), open_options())
            .map_err(|e| read_error(what, e))?;
        let storage: DynStorage = Arc::new(BytesStorage::from_owner(SharedBytes(shared.clone())));
        PureReader::new(what, file, storage, purpose)
    }

    fn new(what: &str, file: NcFile, bytes: DynStorage, purpose: Purpose) -> Result<PureReader> {
        let format = match file.format() {
            NcFormat::Classic => "classic",
            NcFormat::Offset64 => "64bit_offset",
            NcFormat::Cdf5 => "cdf5",
            NcFormat::Nc4 => "netcdf4",
            NcFormat::Nc4Classic => "netcdf4_classic",
        };
        let root = file.root_group().map_err(|e| read_error(what, e))?;
        // What netcdf-reader's model lacks (chunks, filters, attribute creation order) comes
        // from the same bytes through hdf5-reader. It is cosmetic (`analyze`, listing order),
        // so a file whose HDF5 structure hides it still opens, and an open only to read values
        // skips it.
        let hdf5 = match file.format() {
            NcFormat::Nc4 | NcFormat::Nc4Classic if purpose == Purpose::Describe => {
                hdf5_reader::Hdf5File::from_storage(bytes.clone()).ok()
            }
            _ => None,
        };
        let mut file_paths = HashMap::new();
        let mut raw = raw_group(root, "/", &[], hdf5.as_ref(), &mut file_paths);
        name_phony_dims(&mut raw, &unlimited_axes(root, "/"));
        let enums = enum_paths(&raw, "/");
        let cf = CfFile::new(format, "pure", raw);
        Ok(PureReader {
            cf,
            file,
            bytes,
            file_paths,
            enums,
        })
    }

    fn file_path<'a>(&'a self, path: &'a str) -> &'a str {
        self.file_paths.get(path).map_or(path, String::as_str)
    }

    fn variable(&self, path: &str) -> Result<&NcVariable> {
        self.file
            .variable(self.file_path(path))
            .map_err(|e| read_error(path, e))
    }

    fn slice<T: NcReadable>(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<T>> {
        let selection = NcSliceInfo {
            selections: start
                .iter()
                .zip(count)
                .map(|(&s, &c)| NcSliceInfoElem::Slice {
                    start: s,
                    end: s + c,
                    step: 1,
                })
                .collect(),
        };
        let file_path = self.file_path(path);
        // Chunked NetCDF-4 variables inflate their chunks on all cores when we have threads.
        #[cfg(feature = "native")]
        let array = self
            .file
            .read_variable_slice_parallel::<T>(file_path, &selection);
        #[cfg(not(feature = "native"))]
        let array = self.file.read_variable_slice::<T>(file_path, &selection);
        let array = array.map_err(|e| read_error(path, e))?;
        // The arrays come out C-ordered and owning exactly their elements: take the buffer.
        if array.is_standard_layout() {
            let len = array.len();
            let (mut values, offset) = array.into_raw_vec_and_offset();
            values.drain(..offset.unwrap_or(0));
            values.truncate(len);
            return Ok(values);
        }
        Ok(array.iter().cloned().collect())
    }

    /// All the bytes of a classic `char` variable, read from the file layout: netcdf-reader
    /// only hands them out decoded and lossily (as UTF-8), which would break `_Encoding`.
    fn classic_chars(&self, path: &str, var: &NcVariable) -> Result<Vec<u8>> {
        let classic = self
            .file
            .as_classic()
            .ok_or_else(|| CoreError::Read(format!("{path}: not a classic file")))?;
        let shape = var.shape();
        let read = |offset: u64, len: u64| -> Result<Vec<u8>> {
            let len =
                usize::try_from(len).map_err(|_| CoreError::Read(format!("{path}: too large")))?;
            let buffer = self
                .bytes
                .read_range(offset, len)
                .map_err(|e| read_error(path, e))?;
            Ok(buffer.as_ref().to_vec())
        };
        if !var.is_record_var {
            return read(var.data_offset, shape.iter().product());
        }
        // Record variables interleave: record r of every record variable, then record r + 1.
        let stride =
            netcdf_reader::classic::data::compute_record_stride(&classic.root_group().variables)
                .map_err(|e| read_error(path, e))?;
        let record_len = shape[1..].iter().product::<u64>();
        let mut out = Vec::new();
        for record in 0..shape[0] {
            out.extend(read(var.data_offset + record * stride, record_len)?);
        }
        Ok(out)
    }
}

impl NcReader for PureReader {
    fn meta(&self) -> &FileMeta {
        &self.cf.meta
    }

    fn read(&self, path: &str, start: &[u64], count: &[u64]) -> Result<ArrayData> {
        cf_view::guard(path, || self.cf.read(self, path, start, count))
    }
}

impl RawSource for PureReader {
    fn read_numeric(
        &self,
        path: &str,
        nc_type: NcType,
        start: &[u64],
        count: &[u64],
    ) -> Result<ArrayData> {
        if self.enums.contains(path) {
            return Ok(cf_view::numeric_by_type!(nc_type, path, |T| self
                .slice::<EnumValue<T>>(path, start, count)?
                .into_iter()
                .map(|e| e.0)
                .collect()));
        }
        Ok(cf_view::numeric_by_type!(nc_type, path, |T| self.slice::<T>(path, start, count)?))
    }

    // netcdf-reader reads text variables only whole; they are small (names, labels, times as
    // text), so we read them whole and cut the hyperslab out.
    fn read_chars(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<u8>> {
        let var = self.variable(path)?;
        let all = if self.file.as_classic().is_some() {
            self.classic_chars(path, var)?
        } else {
            self.file
                .read_variable_raw_bytes(self.file_path(path))
                .map_err(|e| read_error(path, e))?
        };
        Ok(cf_view::hyperslab(&all, &var.shape(), start, count))
    }

    fn read_strings(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<String>> {
        let var = self.variable(path)?;
        let all = self
            .file
            .read_variable_as_strings(self.file_path(path))
            .map_err(|e| read_error(path, e))?;
        Ok(cf_view::hyperslab(&all, &var.shape(), start, count))
    }

    /// Stored records of a compound or opaque variable.
    fn read_records(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<u8>> {
        let records = self.slice::<StoredRecord>(path, start, count)?;
        Ok(records.into_iter().flat_map(|r| r.0).collect())
    }
}

/// The paths of the enum variables of a group tree.
fn enum_paths(g: &RawGroup, path: &str) -> std::collections::HashSet<String> {
    let prefix = path.trim_end_matches('/');
    let mut out: std::collections::HashSet<String> = g
        .vars
        .iter()
        .filter(|v| v.enum_members.is_some())
        .map(|v| format!("{prefix}/{}", v.name))
        .collect();
    for child in &g.groups {
        out.extend(enum_paths(child, &format!("{prefix}/{}", child.name)));
    }
    out
}

/// An integer of an enum-typed dataset: HDF5 stores enum values as their base integers, which
/// the integer types refuse to decode from an enum datatype. Classic files have no enums.
#[derive(Clone, Copy, Default)]
struct EnumValue<T>(T);

impl<T: netcdf_reader::classic::data::NcReadType + Copy> netcdf_reader::classic::data::NcReadType
    for EnumValue<T>
{
    fn nc_type() -> netcdf_reader::NcType {
        T::nc_type()
    }
    fn from_be_bytes(bytes: &[u8]) -> netcdf_reader::error::Result<Self> {
        T::from_be_bytes(bytes).map(EnumValue)
    }
    fn element_size() -> usize {
        T::element_size()
    }
}

fn enum_base(dtype: &hdf5_reader::Datatype) -> &hdf5_reader::Datatype {
    match dtype {
        hdf5_reader::Datatype::Enum { base, .. } => base,
        other => other,
    }
}

impl<T: hdf5_reader::H5Type + Copy> hdf5_reader::H5Type for EnumValue<T> {
    fn hdf5_type() -> hdf5_reader::Datatype {
        T::hdf5_type()
    }
    fn from_bytes(bytes: &[u8], dtype: &hdf5_reader::Datatype) -> hdf5_reader::error::Result<Self> {
        T::from_bytes(bytes, enum_base(dtype)).map(EnumValue)
    }
    fn element_size(dtype: &hdf5_reader::Datatype) -> usize {
        T::element_size(enum_base(dtype))
    }
    fn decode_vec(
        raw: &[u8],
        dtype: &hdf5_reader::Datatype,
        count: usize,
    ) -> Option<hdf5_reader::error::Result<Vec<Self>>> {
        T::decode_vec(raw, enum_base(dtype), count)
            .map(|r| r.map(|v| v.into_iter().map(EnumValue).collect()))
    }
}

/// One element of a compound or opaque dataset, as a stored record ([`crate::record`]): the
/// compound's numeric fields little-endian in order, without the file's padding; an opaque
/// value's bytes as they are.
#[derive(Clone, Default)]
struct StoredRecord(Vec<u8>);

impl hdf5_reader::H5Type for StoredRecord {
    fn hdf5_type() -> hdf5_reader::Datatype {
        hdf5_reader::Datatype::Opaque {
            size: 0,
            tag: String::new(),
        }
    }
    fn from_bytes(bytes: &[u8], dtype: &hdf5_reader::Datatype) -> hdf5_reader::error::Result<Self> {
        use hdf5_reader::Datatype as D;
        let invalid = |what: String| hdf5_reader::error::Error::InvalidData(what);
        let size = Self::element_size(dtype);
        if bytes.len() < size {
            return Err(invalid(format!(
                "a record of {size} bytes, got {}",
                bytes.len()
            )));
        }
        match dtype {
            D::Opaque { .. } => Ok(StoredRecord(bytes[..size].to_vec())),
            D::Compound { fields, .. } => {
                let mut out = Vec::with_capacity(size);
                for f in fields {
                    let (len, order) = match &f.datatype {
                        D::FixedPoint {
                            size, byte_order, ..
                        }
                        | D::FloatingPoint { size, byte_order } => (*size as usize, *byte_order),
                        other => return Err(invalid(format!("field {} is {other:?}", f.name))),
                    };
                    let at = f.byte_offset as usize;
                    let field = bytes
                        .get(at..at + len)
                        .ok_or_else(|| invalid(format!("field {} overruns the record", f.name)))?;
                    record::put_field(&mut out, field, order == hdf5_reader::ByteOrder::BigEndian);
                }
                Ok(StoredRecord(out))
            }
            other => Err(invalid(format!("{other:?} is not a record type"))),
        }
    }
    fn element_size(dtype: &hdf5_reader::Datatype) -> usize {
        match dtype {
            hdf5_reader::Datatype::Compound { size, .. }
            | hdf5_reader::Datatype::Opaque { size, .. } => *size as usize,
            _ => 0,
        }
    }
}

/// Classic files have no user-defined types: never called.
impl netcdf_reader::classic::data::NcReadType for StoredRecord {
    fn nc_type() -> netcdf_reader::NcType {
        netcdf_reader::NcType::Opaque {
            size: 0,
            tag: String::new(),
        }
    }
    fn from_be_bytes(_bytes: &[u8]) -> netcdf_reader::error::Result<Self> {
        Err(netcdf_reader::Error::InvalidData(
            "classic files have no records".into(),
        ))
    }
    fn element_size() -> usize {
        0
    }
}

fn read_error(what: &str, err: impl std::fmt::Display) -> CoreError {
    let err = err.to_string();
    let hint = if err.contains("magic") {
        " (not a NetCDF file: no CDF or HDF5 signature)"
    } else if ["end of file", "end of data", "out of bounds", "EOF"]
        .iter()
        .any(|m| err.contains(m))
    {
        " (the file looks truncated)"
    } else {
        ""
    };
    CoreError::Read(format!("{what}: {err}{hint}"))
}

fn nc_type(dtype: &netcdf_reader::NcType) -> Option<NcType> {
    use netcdf_reader::NcType as T;
    Some(match dtype {
        T::Byte => NcType::Byte,
        T::UByte => NcType::UByte,
        T::Char => NcType::Char,
        T::Short => NcType::Short,
        T::UShort => NcType::UShort,
        T::Int => NcType::Int,
        T::UInt => NcType::UInt,
        T::Int64 => NcType::Int64,
        T::UInt64 => NcType::UInt64,
        T::Float => NcType::Float,
        T::Double => NcType::Double,
        T::String => NcType::String,
        // User-defined types: enums, records (record_type) and the rest are handled apart.
        _ => return None,
    })
}

/// A compound of numbers or an opaque type, which the reader reads as stored records
/// ([`crate::record`]).
fn record_type(dtype: &netcdf_reader::NcType) -> Option<(u32, RawRecord)> {
    use netcdf_reader::NcType as T;
    match dtype {
        T::Compound { fields, .. } => {
            let fields = fields
                .iter()
                .map(|f| {
                    let dtype = nc_type(&f.dtype)?.dtype();
                    dtype.is_numeric().then(|| RecordField {
                        name: f.name.clone(),
                        dtype,
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            let size = u32::try_from(record::packed_size(&fields)).ok()?;
            (size > 0).then(|| {
                let kind = describe_type(dtype);
                (size, RawRecord { kind, fields })
            })
        }
        T::Opaque { size, .. } if *size > 0 => Some((
            *size,
            RawRecord {
                kind: describe_type(dtype),
                fields: vec![],
            },
        )),
        _ => None,
    }
}

/// An enum of integers, which the reader stores as its base integers.
fn readable_enum(dtype: &netcdf_reader::NcType) -> bool {
    matches!(dtype, netcdf_reader::NcType::Enum { base, members }
        if nc_type(base).is_some_and(|t| t.dtype().is_integer())
            && members.iter().all(|m| m.value.as_i128().is_some()))
}

/// A user-defined type, described for the error that names it (the file's type name is not in
/// netcdf-reader's model).
fn describe_type(dtype: &netcdf_reader::NcType) -> String {
    use netcdf_reader::NcType as T;
    match dtype {
        T::Compound { fields, .. } => format!(
            "compound {{{}}}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.name, describe_type(&f.dtype)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        T::Enum { base, .. } => format!("enum of {}", describe_type(base)),
        T::Opaque { size, .. } => format!("opaque ({size} bytes)"),
        T::VLen { base } => format!("vlen of {}", describe_type(base)),
        T::Array { base, dims } => format!("array {dims:?} of {}", describe_type(base)),
        other => nc_type(other).map_or_else(|| format!("{other:?}"), |t| t.name().to_string()),
    }
}

fn attrs(list: &[netcdf_reader::NcAttribute]) -> Vec<Attr> {
    list.iter()
        .filter_map(|a| {
            cf_view::attr_from_pure(&a.value).map(|value| Attr {
                name: a.name.clone(),
                value,
            })
        })
        .collect()
}

fn raw_group(
    group: &NcGroup,
    path: &str,
    parent_dims: &[NcDimension],
    hdf5: Option<&hdf5_reader::Hdf5File>,
    file_paths: &mut HashMap<String, String>,
) -> RawGroup {
    let prefix = path.trim_end_matches('/');
    let vars = group
        .variables
        .iter()
        .filter_map(|var| {
            let (nc_type, enum_members, record) = match &var.dtype {
                netcdf_reader::NcType::Enum { base, members } => (
                    nc_type(base).filter(|t| t.dtype().is_integer())?,
                    Some(
                        members
                            .iter()
                            .map(|m| Some((m.name.clone(), m.value.as_i128()?)))
                            .collect::<Option<Vec<_>>>()?,
                    ),
                    None,
                ),
                other => match (nc_type(other), record_type(other)) {
                    (Some(t), _) => (t, None, None),
                    (None, Some((size, record))) => (NcType::Record(size), None, Some(record)),
                    (None, None) => return None,
                },
            };
            let name = var
                .name
                .strip_prefix(NON_COORD_PREFIX)
                .unwrap_or(&var.name)
                .to_string();
            let file_path = format!("{prefix}/{}", var.name);
            if name != var.name {
                file_paths.insert(format!("{prefix}/{name}"), file_path.clone());
            }
            let dataset = hdf5.and_then(|h| Some((h, h.dataset(&file_path).ok()?)));
            let mut attrs = attrs(&var.attributes);
            if let Some((h, dataset)) = &dataset {
                creation_order(&mut attrs, h, dataset.address());
            }
            Some(RawVar {
                name,
                nc_type,
                dims: var.dimensions.iter().map(|d| d.name.clone()).collect(),
                shape: var.shape(),
                attrs,
                encoding: dataset.map(|(h, d)| encoding(h, &d)).unwrap_or_default(),
                enum_members,
                record,
            })
        })
        .collect();
    let mut group_attrs = attrs(&group.attributes);
    if let Some(h) = hdf5 {
        let address = if path == "/" {
            h.root_group()
        } else {
            h.group(path)
        }
        .map(|g| g.address());
        if let Ok(address) = address {
            creation_order(&mut group_attrs, h, address);
        }
    }
    let unsupported = group
        .variables
        .iter()
        .filter(|var| {
            nc_type(&var.dtype).is_none()
                && !readable_enum(&var.dtype)
                && record_type(&var.dtype).is_none()
        })
        .map(|var| RawUnsupported {
            name: var.name.clone(),
            nc_type: describe_type(&var.dtype),
            dims: var.dimensions.iter().map(|d| d.name.clone()).collect(),
            shape: var.shape(),
        })
        .collect();
    let dims = own_dims(&group.dimensions, parent_dims);
    RawGroup {
        unsupported,
        name: group.name.clone(),
        dims: dims
            .iter()
            .map(|d| DimMeta {
                name: d.name.clone(),
                len: d.size,
                unlimited: d.is_unlimited,
            })
            .collect(),
        vars,
        attrs: group_attrs,
        groups: group
            .groups
            .iter()
            .map(|child| {
                let child_path = format!("{prefix}/{}", child.name);
                raw_group(child, &child_path, &group.dimensions, hdf5, file_paths)
            })
            .collect(),
    }
}

/// Name the axes of datasets without dimension scales (plain HDF5) as netCDF-C does, so that
/// both readers, xarray and every tool built on netCDF-C agree: `phony_dim_N`, where N is the
/// file-wide count of dimensions made before it. netCDF-C numbers them depth first: a group's
/// subgroups (in name order, the order it iterates a group that does not track creation order)
/// before its own datasets (in name order). An axis reuses a phony dimension of its own group
/// with its length that the dataset does not already use, else a new one is made.
fn name_phony_dims(root: &mut RawGroup, unlimited: &HashMap<String, Vec<bool>>) {
    fn walk(
        g: &mut RawGroup,
        path: &str,
        visible: &[String],
        unlimited: &HashMap<String, Vec<bool>>,
        next_id: &mut usize,
    ) {
        *next_id += g.dims.len();
        let visible: Vec<String> = visible
            .iter()
            .cloned()
            .chain(g.dims.iter().map(|d| d.name.clone()))
            .collect();
        let mut children: Vec<&mut RawGroup> = g.groups.iter_mut().collect();
        children.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        for child in children {
            let child_path = format!("{}/{}", path.trim_end_matches('/'), child.name);
            walk(child, &child_path, &visible, unlimited, next_id);
        }
        // (length, unlimited, name): netCDF-C shares a phony dimension between axes of one
        // length only when both are unlimited or both are not.
        let mut phony: Vec<(u64, bool, String)> = Vec::new();
        // Every dataset takes part, those of types zarrio does not store too (netCDF-C gives
        // them phony dimensions like any other).
        let mut datasets: Vec<(&str, &mut Vec<String>, &[u64])> = g
            .vars
            .iter_mut()
            .map(|v| (v.name.as_str(), &mut v.dims, v.shape.as_slice()))
            .chain(
                g.unsupported
                    .iter_mut()
                    .map(|u| (u.name.as_str(), &mut u.dims, u.shape.as_slice())),
            )
            .collect();
        datasets.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (name, dims, shape) in datasets {
            let axes = unlimited.get(&format!("{}/{name}", path.trim_end_matches('/')));
            let mut used: Vec<String> = Vec::new();
            for d in 0..dims.len() {
                if !visible.contains(&dims[d]) {
                    let len = shape[d];
                    let unl = axes.and_then(|a| a.get(d)).copied().unwrap_or(false);
                    let found = phony
                        .iter()
                        .find(|(l, u, n)| *l == len && *u == unl && !used.contains(n));
                    let name = match found {
                        Some((_, _, n)) => n.clone(),
                        None => {
                            let n = format!("phony_dim_{next_id}");
                            *next_id += 1;
                            phony.push((len, unl, n.clone()));
                            n
                        }
                    };
                    dims[d] = name;
                }
                used.push(dims[d].clone());
            }
        }
        // netCDF-C lists them as the group's dimensions, after its real ones.
        g.dims
            .extend(phony.into_iter().map(|(len, unlimited, name)| DimMeta {
                name,
                len,
                unlimited,
            }));
    }
    walk(root, "/", &[], unlimited, &mut 0);
}

/// Which axes of each dataset (by path) can grow: phony dimensions are shared only between axes
/// alike in that.
fn unlimited_axes(group: &NcGroup, path: &str) -> HashMap<String, Vec<bool>> {
    let prefix = path.trim_end_matches('/');
    let mut out: HashMap<String, Vec<bool>> = group
        .variables
        .iter()
        .map(|v| {
            let name = v.name.strip_prefix(NON_COORD_PREFIX).unwrap_or(&v.name);
            (
                format!("{prefix}/{name}"),
                v.dimensions.iter().map(|d| d.is_unlimited).collect(),
            )
        })
        .collect();
    for child in &group.groups {
        out.extend(unlimited_axes(child, &format!("{prefix}/{}", child.name)));
    }
    out
}

/// The dimensions a group defines. netcdf-reader lists every dimension visible in a group: its
/// own, then the visible ones of its parent that it doesn't shadow; NetCDF lists only its own.
fn own_dims<'a>(visible: &'a [NcDimension], parent_visible: &[NcDimension]) -> &'a [NcDimension] {
    (0..=visible.len())
        .map(|k| &visible[..k])
        .find(|own| {
            let inherited = parent_visible
                .iter()
                .filter(|d| own.iter().all(|o| o.name != d.name));
            inherited.eq(visible[own.len()..].iter())
        })
        .unwrap_or(visible)
}

/// Put attributes in creation order, the order netcdf-c and netCDF4-python list them in.
/// hdf5-reader returns compact attributes in the order their messages sit in the object header,
/// where HDF5 places them wherever there is room; netcdf-c has HDF5 track the creation order,
/// which a version-2 header records next to each message.
fn creation_order(attrs: &mut [Attr], hdf5: &hdf5_reader::Hdf5File, address: u64) {
    let order = attribute_creation_indexes(hdf5, address).unwrap_or_default();
    if !order.is_empty() {
        attrs.sort_by_key(|a| order.get(&a.name).copied().unwrap_or(u16::MAX));
    }
}

/// Attribute name → creation index, from the attribute messages of a version-2 object header
/// and its continuation chunks. `None` when the header is not version 2 or does not track
/// creation order; dense attribute storage (no attribute messages) gives an empty map, and
/// hdf5-reader already reads it in creation order.
fn attribute_creation_indexes(
    hdf5: &hdf5_reader::Hdf5File,
    address: u64,
) -> Option<HashMap<String, u16>> {
    let storage = hdf5.storage();
    let read = |offset: u64, len: u64| -> Option<Vec<u8>> {
        let len = len.min(storage.len().checked_sub(offset)?);
        Some(
            storage
                .read_range(offset, usize::try_from(len).ok()?)
                .ok()?
                .as_ref()
                .to_vec(),
        )
    };
    let uint = |bytes: &[u8]| {
        bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    let (offset_size, length_size) = (
        usize::from(hdf5.superblock().offset_size),
        usize::from(hdf5.superblock().length_size),
    );

    // Prefix: "OHDR", version 2, flags, optional times (16) and phase change (4), chunk 0 size.
    let head = read(address, 34)?;
    let flags = *head.get(5)?;
    if head.get(..5)? != b"OHDR\x02" || flags & 0x04 == 0 {
        return None;
    }
    let mut pos =
        6 + if flags & 0x20 != 0 { 16 } else { 0 } + if flags & 0x10 != 0 { 4 } else { 0 };
    let width = 1usize << (flags & 0x03);
    let chunk0_size = uint(head.get(pos..pos + width)?);
    pos += width;

    let mut order = HashMap::new();
    let mut blocks = vec![read(address + pos as u64, chunk0_size)?];
    let mut visited = std::collections::HashSet::new();
    while let Some(block) = blocks.pop() {
        // Each message: type (1), size (2), flags (1), creation index (2), data.
        let mut p = 0;
        while p + 6 <= block.len() {
            let kind = block[p];
            let size = usize::from(u16::from_le_bytes([block[p + 1], block[p + 2]]));
            let shared = block[p + 3] & 0x02 != 0;
            let index = u16::from_le_bytes([block[p + 4], block[p + 5]]);
            let data = block.get(p + 6..p + 6 + size)?;
            p += 6 + size;
            match kind {
                0x0C if !shared => {
                    if let Some(name) = attribute_message_name(data) {
                        order.insert(name, index);
                    }
                }
                // Continuation: "OCHK", messages, checksum (4).
                0x10 => {
                    let offset = uint(data.get(..offset_size)?);
                    let len = uint(data.get(offset_size..offset_size + length_size)?);
                    if visited.insert(offset) {
                        let chunk = read(offset, len)?;
                        if chunk.len() >= 8 && chunk.starts_with(b"OCHK") {
                            blocks.push(chunk[4..chunk.len() - 4].to_vec());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Some(order)
}

/// The name in an attribute message (versions 1 to 3).
fn attribute_message_name(data: &[u8]) -> Option<String> {
    let start = match data.first()? {
        1 | 2 => 8,
        3 => 9,
        _ => return None,
    };
    let len = usize::from(u16::from_le_bytes([*data.get(2)?, *data.get(3)?]));
    let name = data.get(start..start + len)?;
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    String::from_utf8(name[..end].to_vec()).ok()
}

/// Chunk shape and filter pipeline of the HDF5 dataset behind a variable.
fn encoding(hdf5: &hdf5_reader::Hdf5File, dataset: &hdf5_reader::Dataset) -> SourceEncoding {
    let filters = hdf5
        .get_or_parse_header(dataset.address())
        .ok()
        .and_then(|header| {
            header.messages.iter().find_map(|m| match m {
                HdfMessage::FilterPipeline(p) => Some(p.filters.iter().map(filter_name).collect()),
                _ => None,
            })
        })
        .unwrap_or_default();
    SourceEncoding {
        chunks: dataset
            .chunks()
            .map(|c| c.into_iter().map(u64::from).collect()),
        filters,
    }
}

/// A filter as `analyze` shows it: the HDF5 registered name, with the level where it has one.
fn filter_name(filter: &hdf5_reader::messages::filter_pipeline::FilterDescription) -> String {
    let level = filter.client_data.first();
    match (filter.id, level) {
        (1, Some(level)) => format!("zlib({level})"),
        (1, None) => "zlib".into(),
        (2, _) => "shuffle".into(),
        (3, _) => "fletcher32".into(),
        (4, _) => "szip".into(),
        (5, _) => "nbit".into(),
        (6, _) => "scaleoffset".into(),
        (307, Some(level)) => format!("bzip2({level})"),
        (32001, _) => "blosc".into(),
        (32004, _) => "lz4".into(),
        (32015, Some(level)) => format!("zstd({level})"),
        (id, _) => filter.name.clone().unwrap_or_else(|| format!("filter{id}")),
    }
}
