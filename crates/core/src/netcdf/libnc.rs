//! [`LibReader`]: NetCDF through netcdf-c and HDF5 (the `netcdf` crate, both libraries built
//! statically from crate sources). The reference implementation, and the fallback for files
//! the pure-Rust reader refuses.
//!
//! Every libnetcdf call takes one process-wide lock (the `netcdf` crate's, shared with HDF5), so
//! reads through this reader are serialised across threads; a `netcdf::File` is only an id, so
//! sharing it needs nothing more.
//!
//! A file is open at most once in the process: readers of the same file share one handle (see
//! [`SharedHandle`]). HDF5 shares its metadata cache between handles to one file, and closing
//! the first handle leaves the other's cached fill values of string variables pointing at freed
//! memory: reading them crashed the process.

use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::mem::ManuallyDrop;
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};

use netcdf::types::{FloatType, IntType, NcVariableType};
use netcdf::{Extents, NcTypeDescriptor};

use super::cf_view::{
    self, CfFile, NcType, RawGroup, RawRecord, RawSource, RawUnsupported, RawVar,
};
use super::{Attr, DimMeta, FileMeta, NcReader, SourceEncoding};
use crate::record::{self, FieldAt, RecordField, Repack};
use crate::{ArrayData, CoreError, DType, Result};

pub struct LibReader {
    cf: CfFile,
    handle: Arc<SharedHandle>,
}

/// What identifies a file whatever path names it: device and inode where there are some.
#[derive(Clone, PartialEq, Eq, Hash)]
enum FileKey {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Path(std::path::PathBuf),
}

impl FileKey {
    fn of(path: &str) -> Result<FileKey> {
        let meta = std::fs::metadata(path).map_err(|e| CoreError::Read(format!("{path}: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok(FileKey::Inode(meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        {
            drop(meta);
            std::fs::canonicalize(path)
                .map(FileKey::Path)
                .map_err(|e| CoreError::Read(format!("{path}: {e}")))
        }
    }
}

/// The one libnetcdf handle of a file, shared by every reader of it; closed with the last one.
struct SharedHandle {
    key: FileKey,
    format: &'static str,
    file: ManuallyDrop<netcdf::File>,
}

/// The open handles, by file. Opening and closing happen under this lock, and an opener waits
/// for a handle that is being closed to be gone (see [`CLOSED`]), so a file never has two
/// handles, not even for the moment one is closed while another thread opens the file.
fn open_handles() -> MutexGuard<'static, HashMap<FileKey, Weak<SharedHandle>>> {
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

static OPEN: LazyLock<Mutex<HashMap<FileKey, Weak<SharedHandle>>>> =
    LazyLock::new(Default::default);
/// Signalled when a handle has been closed and its entry removed.
static CLOSED: Condvar = Condvar::new();

impl SharedHandle {
    fn open(path: &str) -> Result<Arc<SharedHandle>> {
        let key = FileKey::of(path)?;
        let mut open = open_handles();
        while let Some(entry) = open.get(&key) {
            if let Some(handle) = entry.upgrade() {
                return Ok(handle);
            }
            // Its last reader is gone and its drop is waiting for this lock to close it.
            open = CLOSED
                .wait(open)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        // The format first, on a handle closed before the one kept is opened.
        let format = format_of(path)?;
        let file = netcdf::open(path).map_err(|e| read_error(path, e))?;
        let handle = Arc::new(SharedHandle {
            key: key.clone(),
            format,
            file: ManuallyDrop::new(file),
        });
        open.insert(key, Arc::downgrade(&handle));
        Ok(handle)
    }
}

impl Drop for SharedHandle {
    fn drop(&mut self) {
        let mut open = open_handles();
        // SAFETY: dropped exactly once, here, with the registry locked: no other handle of this
        // file can be opened until it is closed and its entry gone.
        unsafe { ManuallyDrop::drop(&mut self.file) };
        open.remove(&self.key);
        CLOSED.notify_all();
    }
}

impl LibReader {
    pub fn open_path(path: &str) -> Result<LibReader> {
        // The netcdf crate unwraps some library errors; a corrupt file must not take the
        // process down with it.
        cf_view::guard(path, || {
            let handle = SharedHandle::open(path)?;
            if matches!(handle.format, "classic" | "64bit_offset" | "cdf5") {
                // netcdf-c takes a header cut short as one whose remaining lists are absent: a
                // truncated file opens with no variables. The classic header is small and fully
                // specified, so have the pure-Rust parser check it is all there.
                netcdf_reader::NcFile::open(path).map_err(|e| {
                    CoreError::Read(format!("{path}: incomplete or corrupt header: {e}"))
                })?;
            }
            let cf = CfFile::new(handle.format, "libnetcdf", raw_root(&handle.file));
            Ok(LibReader { cf, handle })
        })
    }

    fn variable(&self, path: &str) -> Result<netcdf::Variable<'_>> {
        self.handle
            .file
            .variable(path.trim_start_matches('/'))
            .ok_or_else(|| CoreError::NotFound(format!("variable {path}")))
    }

    fn values<T: NcTypeDescriptor + Copy>(
        &self,
        path: &str,
        start: &[u64],
        count: &[u64],
    ) -> Result<Vec<T>> {
        self.variable(path)?
            .get_values::<T, _>(extents(start, count))
            .map_err(|e| read_error(path, e))
    }
}

impl NcReader for LibReader {
    fn meta(&self) -> &FileMeta {
        &self.cf.meta
    }

    fn read(&self, path: &str, start: &[u64], count: &[u64]) -> Result<ArrayData> {
        cf_view::guard(path, || self.cf.read(self, path, start, count))
    }
}

impl RawSource for LibReader {
    fn read_numeric(
        &self,
        path: &str,
        nc_type: NcType,
        start: &[u64],
        count: &[u64],
    ) -> Result<ArrayData> {
        Ok(cf_view::numeric_by_type!(nc_type, path, |T| self.values::<T>(path, start, count)?))
    }

    fn read_chars(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<u8>> {
        self.variable(path)?
            .get_raw_values(extents(start, count))
            .map_err(|e| read_error(path, e))
    }

    fn read_records(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<u8>> {
        let var = self.variable(path)?;
        let (_, repack) = record_type(&var.vartype())
            .ok_or_else(|| CoreError::Read(format!("{path}: not a record variable")))?;
        let bytes = var
            .get_raw_values(extents(start, count))
            .map_err(|e| read_error(path, e))?;
        repack
            .apply(&bytes)
            .map_err(|e| CoreError::Read(format!("{path}: {e}")))
    }

    fn read_strings(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Vec<String>> {
        let var = self.variable(path)?;
        let len = count.iter().product::<u64>() as usize;
        // netcdf-c hands out one malloc'ed C string per element; we copy them and give them
        // back with nc_free_string.
        let mut pointers = vec![0usize; len];
        var.get_raw_values_into(
            bytemuck::cast_slice_mut(&mut pointers),
            extents(start, count),
        )
        .map_err(|e| read_error(path, e))?;
        let mut pointers: Vec<*mut c_char> =
            pointers.into_iter().map(|p| p as *mut c_char).collect();
        let strings = pointers
            .iter()
            .map(|&p| {
                if p.is_null() {
                    String::new()
                } else {
                    // SAFETY: netcdf-c filled `p` with a NUL-terminated string it allocated.
                    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
                }
            })
            .collect();
        let _lock = netcdf_sys::libnetcdf_lock.lock();
        // SAFETY: exactly the `len` pointers nc_get_vars allocated, freed once.
        unsafe { netcdf_sys::nc_free_string(len, pointers.as_mut_ptr()) };
        Ok(strings)
    }
}

/// netcdf-c's messages are terse ("NetCDF: HDF error"): say what they usually mean here.
fn read_error(what: &str, err: netcdf::Error) -> CoreError {
    let hint = match err {
        netcdf::Error::Netcdf(netcdf_sys::NC_ENOTNC) => " (not a NetCDF file)",
        netcdf::Error::Netcdf(netcdf_sys::NC_EHDFERR) => {
            " (a corrupt or truncated NetCDF-4/HDF5 file?)"
        }
        netcdf::Error::Netcdf(netcdf_sys::NC_EINVAL) => " (a corrupt or truncated file?)",
        netcdf::Error::Netcdf(netcdf_sys::NC_ENOFILTER) => {
            " (compressed with an HDF5 filter plugin this build lacks; set HDF5_PLUGIN_PATH)"
        }
        _ => "",
    };
    CoreError::Read(format!("{what}: {err}{hint}"))
}

fn extents(start: &[u64], count: &[u64]) -> Extents {
    if start.is_empty() {
        return Extents::All;
    }
    let to_usize = |v: &[u64]| v.iter().map(|&x| x as usize).collect::<Vec<_>>();
    (to_usize(start), to_usize(count))
        .try_into()
        .expect("start and count have the same length")
}

/// The file format, which the netcdf crate does not expose: ask netcdf-c on a handle of its own.
fn format_of(path: &str) -> Result<&'static str> {
    let c_path =
        CString::new(path).map_err(|_| CoreError::Read(format!("{path}: NUL in the path")))?;
    let (mut ncid, mut format) = (0, 0);
    let _lock = netcdf_sys::libnetcdf_lock.lock();
    // SAFETY: a valid C string and out-pointers to live integers; the library lock is held.
    let status = unsafe {
        let opened = netcdf_sys::nc_open(c_path.as_ptr(), netcdf_sys::NC_NOWRITE, &mut ncid);
        if opened == netcdf_sys::NC_NOERR {
            let status = netcdf_sys::nc_inq_format(ncid, &mut format);
            netcdf_sys::nc_close(ncid);
            status
        } else {
            opened
        }
    };
    if status != netcdf_sys::NC_NOERR {
        return Err(CoreError::Read(format!(
            "{path}: cannot tell the NetCDF format (netcdf-c error {status})"
        )));
    }
    Ok(match format {
        netcdf_sys::NC_FORMAT_CLASSIC => "classic",
        netcdf_sys::NC_FORMAT_64BIT_OFFSET => "64bit_offset",
        netcdf_sys::NC_FORMAT_64BIT_DATA => "cdf5",
        netcdf_sys::NC_FORMAT_NETCDF4 => "netcdf4",
        netcdf_sys::NC_FORMAT_NETCDF4_CLASSIC => "netcdf4_classic",
        other => {
            return Err(CoreError::Read(format!(
                "{path}: unknown NetCDF format {other}"
            )))
        }
    })
}

fn raw_root(file: &netcdf::File) -> RawGroup {
    match file.root() {
        Some(root) => raw_group(&root),
        // Classic files have no group API: the file is the root.
        None => RawGroup {
            name: "/".into(),
            dims: file.dimensions().map(|d| dim(&d)).collect(),
            vars: file.variables().filter_map(|v| raw_var(&v)).collect(),
            unsupported: file.variables().filter_map(|v| unsupported(&v)).collect(),
            attrs: attrs(file.attributes()),
            groups: Vec::new(),
        },
    }
}

fn raw_group(group: &netcdf::Group) -> RawGroup {
    RawGroup {
        name: group.name(),
        dims: group.dimensions().map(|d| dim(&d)).collect(),
        vars: group.variables().filter_map(|v| raw_var(&v)).collect(),
        unsupported: group.variables().filter_map(|v| unsupported(&v)).collect(),
        attrs: attrs(group.attributes()),
        groups: group.groups().map(|g| raw_group(&g)).collect(),
    }
}

fn dim(d: &netcdf::Dimension) -> DimMeta {
    DimMeta {
        name: d.name(),
        len: d.len() as u64,
        unlimited: d.is_unlimited(),
    }
}

fn attrs<'a>(list: impl Iterator<Item = netcdf::Attribute<'a>>) -> Vec<Attr> {
    // Attributes of user-defined types fail to read here: like the pure reader, skip them.
    list.filter_map(|a| {
        a.value().ok().map(|value| Attr {
            name: a.name().to_string(),
            value: cf_view::attr_from_libnc(value),
        })
    })
    .collect()
}

/// A variable of a user-defined type, described for the error that names it (in the words the
/// pure reader uses, so both readers describe a file alike).
fn unsupported(var: &netcdf::Variable) -> Option<RawUnsupported> {
    let kind = var.vartype();
    let user_defined = matches!(
        kind,
        NcVariableType::Compound(_)
            | NcVariableType::Opaque(_)
            | NcVariableType::Enum(_)
            | NcVariableType::Vlen(_)
    );
    if !user_defined || record_type(&kind).is_some() {
        return None;
    }
    let dims = var.dimensions();
    Some(RawUnsupported {
        name: var.name(),
        nc_type: describe_type(&kind),
        dims: dims.iter().map(|d| d.name()).collect(),
        shape: dims.iter().map(|d| d.len() as u64).collect(),
    })
}

fn describe_type(t: &NcVariableType) -> String {
    match t {
        NcVariableType::Compound(c) => format!(
            "compound {{{}}}",
            c.fields
                .iter()
                .map(|f| match &f.arraydims {
                    Some(dims) => format!(
                        "{}: array {dims:?} of {}",
                        f.name,
                        describe_type(&f.basetype)
                    ),
                    None => format!("{}: {}", f.name, describe_type(&f.basetype)),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        NcVariableType::Opaque(o) => format!("opaque ({} bytes)", o.size),
        NcVariableType::Enum(e) => {
            use netcdf::types::EnumTypeValues as V;
            let base = match e.fieldvalues {
                V::U8(_) => IntType::U8,
                V::U16(_) => IntType::U16,
                V::U32(_) => IntType::U32,
                V::U64(_) => IntType::U64,
                V::I8(_) => IntType::I8,
                V::I16(_) => IntType::I16,
                V::I32(_) => IntType::I32,
                V::I64(_) => IntType::I64,
            };
            format!("enum of {}", int_name(base))
        }
        NcVariableType::Vlen(v) => format!("vlen of {}", describe_type(&v.basetype)),
        NcVariableType::Int(i) => int_name(*i).to_string(),
        NcVariableType::Float(FloatType::F32) => "float".into(),
        NcVariableType::Float(FloatType::F64) => "double".into(),
        NcVariableType::Char => "char".into(),
        NcVariableType::String => "string".into(),
    }
}

fn int_name(t: IntType) -> &'static str {
    match t {
        IntType::I8 => "byte",
        IntType::U8 => "ubyte",
        IntType::I16 => "short",
        IntType::U16 => "ushort",
        IntType::I32 => "int",
        IntType::U32 => "uint",
        IntType::I64 => "int64",
        IntType::U64 => "uint64",
    }
}

fn raw_var(var: &netcdf::Variable) -> Option<RawVar> {
    let nc_type = match var.vartype() {
        NcVariableType::Int(IntType::I8) => NcType::Byte,
        NcVariableType::Int(IntType::U8) => NcType::UByte,
        NcVariableType::Int(IntType::I16) => NcType::Short,
        NcVariableType::Int(IntType::U16) => NcType::UShort,
        NcVariableType::Int(IntType::I32) => NcType::Int,
        NcVariableType::Int(IntType::U32) => NcType::UInt,
        NcVariableType::Int(IntType::I64) => NcType::Int64,
        NcVariableType::Int(IntType::U64) => NcType::UInt64,
        NcVariableType::Float(FloatType::F32) => NcType::Float,
        NcVariableType::Float(FloatType::F64) => NcType::Double,
        NcVariableType::Char => NcType::Char,
        NcVariableType::String => NcType::String,
        other => match record_type(&other) {
            Some((record, repack)) => {
                let size = if record.fields.is_empty() {
                    repack.size
                } else {
                    record::packed_size(&record.fields)
                };
                let size = u32::try_from(size).ok()?;
                return raw_var_of(var, NcType::Record(size), Some(record));
            }
            // Enum, vlen, compounds of anything but numbers: refused by name.
            None => return None,
        },
    };
    raw_var_of(var, nc_type, None)
}

/// A compound of numbers or an opaque type: how the pure reader describes it, and where
/// netcdf-c's in-memory layout puts each field (native byte order, its own offsets).
fn record_type(t: &NcVariableType) -> Option<(RawRecord, Repack)> {
    match t {
        NcVariableType::Compound(c) => {
            let mut fields = Vec::new();
            let mut at = Vec::new();
            for f in &c.fields {
                let dtype = match (&f.basetype, &f.arraydims) {
                    (NcVariableType::Int(i), None) => int_dtype(*i),
                    (NcVariableType::Float(FloatType::F32), None) => DType::Float32,
                    (NcVariableType::Float(FloatType::F64), None) => DType::Float64,
                    _ => return None,
                };
                fields.push(RecordField {
                    name: f.name.clone(),
                    dtype,
                });
                at.push(FieldAt {
                    offset: f.offset,
                    size: dtype.size(),
                    big_endian: cfg!(target_endian = "big"),
                });
            }
            (!fields.is_empty()).then(|| {
                (
                    RawRecord {
                        kind: describe_type(t),
                        fields,
                    },
                    Repack {
                        size: c.size,
                        fields: at,
                    },
                )
            })
        }
        NcVariableType::Opaque(o) if o.size > 0 => Some((
            RawRecord {
                kind: describe_type(t),
                fields: vec![],
            },
            Repack {
                size: o.size,
                fields: vec![],
            },
        )),
        _ => None,
    }
}

fn int_dtype(i: IntType) -> DType {
    match i {
        IntType::I8 => DType::Int8,
        IntType::U8 => DType::Uint8,
        IntType::I16 => DType::Int16,
        IntType::U16 => DType::Uint16,
        IntType::I32 => DType::Int32,
        IntType::U32 => DType::Uint32,
        IntType::I64 => DType::Int64,
        IntType::U64 => DType::Uint64,
    }
}

fn raw_var_of(
    var: &netcdf::Variable,
    nc_type: NcType,
    record: Option<RawRecord>,
) -> Option<RawVar> {
    let dims = var.dimensions();
    Some(RawVar {
        name: var.name(),
        nc_type,
        dims: dims.iter().map(|d| d.name()).collect(),
        shape: dims.iter().map(|d| d.len() as u64).collect(),
        attrs: attrs(var.attributes()),
        encoding: SourceEncoding {
            chunks: var
                .chunking()
                .ok()
                .flatten()
                .map(|c| c.into_iter().map(|n| n as u64).collect()),
            // The netcdf crate does not expose the filter pipeline.
            filters: Vec::new(),
        },
        // Enums are read by the pure-Rust reader; here they stay refused by name.
        enum_members: None,
        record,
    })
}
