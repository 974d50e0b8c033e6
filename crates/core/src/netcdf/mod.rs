//! Reading NetCDF: one [`NcReader`] interface over two implementations.
//!
//! - [`pure`]: the pure-Rust `netcdf-reader`/`hdf5-reader` (classic, 64-bit offset, CDF-5,
//!   NetCDF-4/HDF5), from a path (memory-mapped) or from bytes. The only reader in WebAssembly.
//! - [`libnc`] (feature `libnetcdf`): netcdf-c + HDF5 through the `netcdf` crate, linked statically.
//!
//! Both produce the same [`FileMeta`] and the same [`ArrayData`] for the same file; the CF rules
//! that change what a variable *is* (char arrays become text, `_Unsigned` makes integers unsigned)
//! are applied here, once, in [`cf_view`], so every caller sees the same model.

pub mod cf_view;
#[cfg(feature = "libnetcdf")]
pub mod libnc;
pub mod pure;
pub mod range;

pub use range::ByteSource;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ArrayData, DType, Result};

/// Which implementation to open a file with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ReaderKind {
    /// The fastest correct reader for this build (see `open_path`).
    Auto,
    Pure,
    Libnetcdf,
}

/// One attribute value. Serialised as `{"type":"text","value":"..."}` or
/// `{"type":"float32","value":[1.5,"NaN"]}` (non-finite floats as the strings "NaN",
/// "Infinity", "-Infinity", since JSON has no such numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum AttrValue {
    Text(String),
    /// A list of strings (NetCDF-4 string attributes with several values).
    Texts(Vec<String>),
    Int8(Vec<i64>),
    Uint8(Vec<i64>),
    Int16(Vec<i64>),
    Uint16(Vec<i64>),
    Int32(Vec<i64>),
    Uint32(Vec<i64>),
    Int64(Vec<i64>),
    Uint64(Vec<u64>),
    Float32(Vec<JsonFloat>),
    Float64(Vec<JsonFloat>),
    /// Values of a compound type of numbers, each as an object of its fields in order
    /// (non-finite floats as "NaN", "Infinity", "-Infinity").
    Records(
        #[ts(type = "Array<Record<string, number | JsonFloat>>")]
        Vec<serde_json::Map<String, serde_json::Value>>,
    ),
}

/// A float that survives JSON: finite values as numbers, others as strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonFloat(pub f64);

impl Serialize for JsonFloat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if v == f64::INFINITY {
            s.serialize_str("Infinity")
        } else if v == f64::NEG_INFINITY {
            s.serialize_str("-Infinity")
        } else {
            s.serialize_f64(v)
        }
    }
}

impl<'de> Deserialize<'de> for JsonFloat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Num(f64),
            Text(String),
        }
        Ok(JsonFloat(match Repr::deserialize(d)? {
            Repr::Num(v) => v,
            Repr::Text(t) => match t.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => return Err(serde::de::Error::custom(format!("not a float: {other}"))),
            },
        }))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Attr {
    pub name: String,
    pub value: AttrValue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DimMeta {
    pub name: String,
    pub len: u64,
    pub unlimited: bool,
}

/// How the source stores a variable (for `analyze`; never needed to read it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, TS)]
pub struct SourceEncoding {
    /// HDF5 chunk shape, when chunked.
    pub chunks: Option<Vec<u64>>,
    /// Filters in pipeline order, e.g. `["shuffle", "zlib(1)"]`.
    pub filters: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct VarMeta {
    pub name: String,
    /// Full path: `/name` at the root, `/group/sub/name` in groups.
    pub path: String,
    /// The type zarrio stores: `_Unsigned` applied, `char` arrays as [`DType::Str`].
    pub dtype: DType,
    /// The NetCDF type name as in the file (`char`, `short`, `float`, `string`, ...).
    pub nc_type: String,
    /// Dimension names (for char arrays, without the trailing character dimension).
    pub dims: Vec<String>,
    pub shape: Vec<u64>,
    /// For char arrays: the character dimension that was collapsed into text.
    pub char_dim: Option<String>,
    pub attrs: Vec<Attr>,
    pub encoding: SourceEncoding,
    /// For a compound record ([`DType::Record`]): its fields in the stored order. Empty for
    /// every other type, opaque records included.
    #[serde(default)]
    pub fields: Vec<crate::record::RecordField>,
}

/// A variable of a type zarrio does not store (a NetCDF-4 vlen, a compound with text, array or
/// nested fields, a `char` array read character by character). It stays in the model so that no caller can leave it out without saying so:
/// converting a file that holds one is refused unless the user drops it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UnsupportedVar {
    pub name: String,
    pub path: String,
    /// The kind and, when the file names it, the type's name: `compound BinListType`.
    pub nc_type: String,
    pub dims: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GroupMeta {
    pub name: String,
    /// `/` for the root, `/a/b` below it.
    pub path: String,
    pub dims: Vec<DimMeta>,
    pub vars: Vec<VarMeta>,
    /// Variables of types zarrio does not store, see [`UnsupportedVar`].
    #[serde(default)]
    pub unsupported: Vec<UnsupportedVar>,
    pub attrs: Vec<Attr>,
    pub groups: Vec<GroupMeta>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FileMeta {
    /// `classic`, `64bit_offset`, `cdf5`, `netcdf4`, `netcdf4_classic`.
    pub format: String,
    /// Which implementation read it: `pure` or `libnetcdf`.
    pub reader: String,
    pub root: GroupMeta,
}

impl FileMeta {
    /// Find a variable by its full path.
    pub fn var(&self, path: &str) -> Option<&VarMeta> {
        fn walk<'a>(g: &'a GroupMeta, path: &str) -> Option<&'a VarMeta> {
            g.vars
                .iter()
                .find(|v| v.path == path)
                .or_else(|| g.groups.iter().find_map(|c| walk(c, path)))
        }
        walk(&self.root, path)
    }
}

/// A NetCDF file opened for reading. Implementations are safe to share across threads.
pub trait NcReader: Send + Sync {
    fn meta(&self) -> &FileMeta;

    /// Read the hyperslab `start`/`count` (over [`VarMeta::dims`]) of the variable at `path`,
    /// C order, with the CF view applied (`_Unsigned`, char arrays as text). A scalar variable
    /// takes empty `start`/`count`.
    fn read(&self, path: &str, start: &[u64], count: &[u64]) -> Result<ArrayData>;
}

/// Open a file by path. `Auto` picks the pure-Rust reader (it inflates HDF5 chunks on all cores;
/// libnetcdf serialises every call behind one lock) and falls back to libnetcdf, when built in,
/// for files the pure reader refuses.
pub fn open_path(path: &str, kind: ReaderKind) -> Result<Box<dyn NcReader>> {
    open_path_for(path, kind, Purpose::Describe)
}

/// What a file is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Its whole description ([`NcReader::meta`] in full: attribute order, chunk layout).
    Describe,
    /// Reading values of a file already described: the pure reader skips the second pass over
    /// the HDF5 metadata that only the description needs (a third of an open's cost). The
    /// description it gives may then lack attribute order and chunk layout.
    Read,
}

/// [`open_path`] for a [`Purpose`].
pub fn open_path_for(path: &str, kind: ReaderKind, purpose: Purpose) -> Result<Box<dyn NcReader>> {
    match kind {
        ReaderKind::Pure => Ok(Box::new(pure::PureReader::open_path(path, purpose)?)),
        #[cfg(feature = "libnetcdf")]
        ReaderKind::Libnetcdf => Ok(Box::new(libnc::LibReader::open_path(path)?)),
        #[cfg(not(feature = "libnetcdf"))]
        ReaderKind::Libnetcdf => Err(crate::CoreError::Unsupported(
            "this build has no libnetcdf reader (WebAssembly uses the pure-Rust reader)".into(),
        )),
        ReaderKind::Auto => match pure::PureReader::open_path(path, purpose) {
            Ok(r) => Ok(Box::new(r)),
            #[cfg(feature = "libnetcdf")]
            Err(pure_err) => libnc::LibReader::open_path(path)
                .map(|r| Box::new(r) as Box<dyn NcReader>)
                .map_err(|_| pure_err),
            #[cfg(not(feature = "libnetcdf"))]
            Err(e) => Err(e),
        },
    }
}

/// Open a file from bytes (always the pure-Rust reader); `what` names it in errors.
pub fn open_bytes(what: &str, bytes: Vec<u8>) -> Result<Box<dyn NcReader>> {
    Ok(Box::new(pure::PureReader::open_bytes(what, bytes)?))
}

/// Open a file the host reads by range (always the pure-Rust reader); `what` names it in errors.
pub fn open_source(
    what: &str,
    source: Box<dyn ByteSource>,
    purpose: Purpose,
) -> Result<Box<dyn NcReader>> {
    Ok(Box::new(pure::PureReader::open_source(
        what, source, purpose,
    )?))
}
