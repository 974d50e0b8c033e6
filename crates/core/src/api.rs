//! The surface the bindings expose, identical for napi and wasm-bindgen. Specs cross the
//! boundary as JSON (cheap next to the megabytes of data each call moves); data stays in Rust
//! inside [`Slab`]s until it leaves as encoded chunks.

use std::sync::Arc;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use ts_rs::TS;

use crate::encode::{self, ArraySpec, RegionEncoding};
use crate::gather;
use crate::grid::Block;
use crate::netcdf::{self, NcReader, ReaderKind};
use crate::pack::{self, OutOfRange, PackParams, PackReport};
use crate::stats::{self, Stats};
use crate::{ArrayData, CoreError, DType, Result};

fn parse<T: for<'de> Deserialize<'de>>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| CoreError::Invalid(format!("bad {what} JSON: {e}")))
}

/// A name of one of the core's enums (`"pure"`, `"clip"`), checked against the enum.
fn parse_name<T: DeserializeOwned>(what: &str, name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|e| CoreError::Invalid(format!("bad {what}: {e}")))
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

/// Indices as JavaScript holds them (numbers) → `u64`, refusing what is not a whole number in
/// the range JavaScript represents exactly.
pub fn indices(values: &[f64]) -> Result<Vec<u64>> {
    values
        .iter()
        .map(|&x| {
            if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_991.0 {
                Ok(x as u64)
            } else {
                Err(CoreError::Invalid(format!("{x} is not an index")))
            }
        })
        .collect()
}

/// `u64` indices → JavaScript numbers (every index the core hands out is below 2^53).
pub fn numbers(values: &[u64]) -> Vec<f64> {
    values.iter().map(|&x| x as f64).collect()
}

/// A handle used after the caller gave it up (`what`: "dataset", "slab", "gather").
pub fn released(what: &str) -> CoreError {
    CoreError::Invalid(format!("the {what} was released"))
}

/// An open NetCDF file.
pub struct Dataset {
    reader: Arc<dyn NcReader>,
}

impl Dataset {
    /// `kind`: "auto", "pure" or "libnetcdf".
    pub fn open_path(path: &str, kind: &str) -> Result<Dataset> {
        let kind: ReaderKind = parse_name("reader kind", kind)?;
        Ok(Dataset {
            reader: netcdf::open_path(path, kind)?.into(),
        })
    }

    /// Open again, to read values, a file whose description the caller already holds (see
    /// [`netcdf::Purpose::Read`]): cheaper than [`Dataset::open_path`].
    pub fn reopen_path(path: &str, kind: &str) -> Result<Dataset> {
        let kind: ReaderKind = parse_name("reader kind", kind)?;
        Ok(Dataset {
            reader: netcdf::open_path_for(path, kind, netcdf::Purpose::Read)?.into(),
        })
    }

    /// Open a file held in memory that has no name of its own ("NetCDF bytes" in errors).
    pub fn open_bytes(bytes: Vec<u8>) -> Result<Dataset> {
        Self::open_named_bytes("NetCDF bytes", bytes)
    }

    /// Open a file held in memory that was read from `what` (its path names it in errors, as
    /// when the file is opened by path or read by range).
    pub fn open_named_bytes(what: &str, bytes: Vec<u8>) -> Result<Dataset> {
        Ok(Dataset {
            reader: netcdf::open_bytes(what, bytes)?.into(),
        })
    }

    /// Open a file the host reads by range (see [`netcdf::ByteSource`]); `what` names it in
    /// errors, `reopen` says the caller holds its description already ([`Dataset::reopen_path`]).
    pub fn open_source(
        what: &str,
        source: Box<dyn netcdf::ByteSource>,
        reopen: bool,
    ) -> Result<Dataset> {
        let purpose = if reopen {
            netcdf::Purpose::Read
        } else {
            netcdf::Purpose::Describe
        };
        Ok(Dataset {
            reader: netcdf::open_source(what, source, purpose)?.into(),
        })
    }

    /// The file's [`netcdf::FileMeta`] as JSON.
    pub fn meta_json(&self) -> String {
        to_json(self.reader.meta())
    }

    /// Read a hyperslab into a [`Slab`] (on the core's worker threads, see [`crate::on_workers`]).
    pub fn read(&self, path: &str, start: &[u64], count: &[u64]) -> Result<Slab> {
        let data = crate::on_workers(|| self.reader.read(path, start, count))?;
        Ok(Slab::new(data, count.to_vec()))
    }

    /// The digest ([`ArrayData::digest`], hex) of the whole variable at `path` as
    /// [`Dataset::read`] gives it, read on the calling thread: the small variables the files of
    /// a series must share (coordinates, masks) are compared by it, without a trip to the
    /// workers or their values crossing the boundary.
    pub fn digest(&self, path: &str) -> Result<String> {
        let var = self
            .reader
            .meta()
            .var(path)
            .ok_or_else(|| CoreError::NotFound(format!("variable {path}")))?;
        let data = self
            .reader
            .read(path, &vec![0; var.shape.len()], &var.shape)?;
        Ok(format!("{:016x}", data.digest()))
    }

    /// [`Stats`] of a hyperslab as JSON, without keeping its values: read, scanned and freed on
    /// the core's worker threads (a range pass over whole files holds one box at a time).
    pub fn stats_json(
        &self,
        path: &str,
        start: &[u64],
        count: &[u64],
        missing: &[f64],
    ) -> Result<String> {
        crate::on_workers(|| {
            let data = self.reader.read(path, start, count)?;
            Ok(to_json(&stats::stats(&data, missing)))
        })
    }

    /// A handle that can move to a worker thread.
    pub fn share(&self) -> Dataset {
        Dataset {
            reader: self.reader.clone(),
        }
    }
}

/// A C-ordered N-d block of values held in Rust.
#[derive(Clone)]
pub struct Slab {
    data: Arc<ArrayData>,
    shape: Vec<u64>,
}

impl Slab {
    pub fn new(data: ArrayData, shape: Vec<u64>) -> Slab {
        Slab {
            data: Arc::new(data),
            shape,
        }
    }

    /// A slab from little-endian bytes of `dtype` (numbers made on the JS side: time axes,
    /// coordinates).
    pub fn from_bytes(dtype: &str, shape: Vec<u64>, bytes: &[u8]) -> Result<Slab> {
        let dtype = DType::parse(dtype)
            .ok_or_else(|| CoreError::Invalid(format!("unknown dtype {dtype}")))?;
        let data = ArrayData::from_le_bytes(dtype, bytes)?;
        Slab::checked(data, shape)
    }

    pub fn from_strings(shape: Vec<u64>, strings: Vec<String>) -> Result<Slab> {
        Slab::checked(ArrayData::Str(strings), shape)
    }

    fn checked(data: ArrayData, shape: Vec<u64>) -> Result<Slab> {
        let n: u64 = shape.iter().product();
        if n != data.len() as u64 {
            return Err(CoreError::Invalid(format!(
                "shape {shape:?} needs {n} elements, got {}",
                data.len()
            )));
        }
        Ok(Slab::new(data, shape))
    }

    pub fn dtype(&self) -> String {
        self.data.dtype().name()
    }

    pub fn shape(&self) -> &[u64] {
        &self.shape
    }

    pub fn data(&self) -> &ArrayData {
        &self.data
    }

    /// The values as little-endian bytes; `None` for text.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        self.data.as_bytes().map(<[u8]>::to_vec)
    }

    pub fn to_strings(&self) -> Option<Vec<String>> {
        match &*self.data {
            ArrayData::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// [`Stats`] as JSON.
    pub fn stats_json(&self, missing: &[f64]) -> String {
        to_json(&stats::stats(&self.data, missing))
    }

    pub fn stats(&self, missing: &[f64]) -> Stats {
        stats::stats(&self.data, missing)
    }

    /// Pack with `params_json` ([`PackParams`]); `policy` is "error", "clip" or "fill".
    /// Returns the packed slab and the [`PackReport`] as JSON.
    pub fn pack(&self, params_json: &str, missing: &[f64], policy: &str) -> Result<(Slab, String)> {
        let params: PackParams = parse("packing parameters", params_json)?;
        let policy: OutOfRange = parse_name("out-of-range policy", policy)?;
        let (packed, report): (ArrayData, PackReport) =
            crate::on_workers(|| pack::pack(&self.data, &params, missing, policy))?;
        Ok((Slab::new(packed, self.shape.clone()), to_json(&report)))
    }

    /// Decode with `decoding_json` ([`pack::Decoding`]): the file's own packing and missing
    /// markers undone, into float32/float64.
    pub fn decode(&self, decoding_json: &str) -> Result<Slab> {
        let decoding: pack::Decoding = parse("decoding", decoding_json)?;
        let data = crate::on_workers(|| pack::decode(&self.data, &decoding))?;
        Ok(Slab::new(data, self.shape.clone()))
    }

    /// Encode the slab as the box starting at `origin` of the array `spec_json` ([`ArraySpec`]).
    pub fn encode(&self, spec_json: &str, origin: &[u64]) -> Result<RegionEncoding> {
        let spec: ArraySpec = parse("array spec", spec_json)?;
        crate::on_workers(|| encode::encode_region(&spec, &self.block(origin), &self.data))
    }

    /// Merge this slab's part of chunk `coords` into the stored chunk bytes and re-encode.
    pub fn merge(
        &self,
        spec_json: &str,
        origin: &[u64],
        coords: &[u64],
        existing: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        let spec: ArraySpec = parse("array spec", spec_json)?;
        crate::on_workers(|| {
            encode::merge_chunk(&spec, &self.block(origin), &self.data, coords, existing)
        })
    }

    fn block(&self, origin: &[u64]) -> Block {
        Block {
            origin: origin.to_vec(),
            shape: self.shape.clone(),
        }
    }
}

/// A slab assembled from parts (the same variable's steps from consecutive files), see
/// [`crate::gather`].
pub struct SlabGather {
    inner: gather::Gather,
}

impl SlabGather {
    pub fn new(dtype: &str, shape: Vec<u64>) -> Result<SlabGather> {
        let dtype = DType::parse(dtype)
            .ok_or_else(|| CoreError::Invalid(format!("unknown dtype {dtype}")))?;
        Ok(SlabGather {
            inner: gather::Gather::new(dtype, shape),
        })
    }

    /// Copy `part` into the gathered box at `origin`.
    pub fn put(&mut self, part: &Slab, origin: &[u64]) -> Result<()> {
        self.inner.put(&part.data, &part.shape, origin)
    }

    /// The gathered slab; an error unless the parts covered the whole box.
    pub fn finish(self) -> Result<Slab> {
        let (data, shape) = self.inner.finish()?;
        Ok(Slab::new(data, shape))
    }
}

/// [`PackParams`] for a range, as JSON. `source` is the float type being packed.
pub fn pack_params_json(min: f64, max: f64, bits: u8, source: &str) -> Result<String> {
    let source = DType::parse(source)
        .ok_or_else(|| CoreError::Invalid(format!("unknown dtype {source}")))?;
    Ok(to_json(&PackParams::for_range(min, max, bits, source)?))
}

/// [`PackParams`] of values already packed as `stored` integers ([`PackParams::for_stored`]), as
/// JSON.
pub fn pack_params_stored_json(stored: &str, scale: f64, offset: f64, fill: f64) -> Result<String> {
    let stored = DType::parse(stored)
        .ok_or_else(|| CoreError::Invalid(format!("unknown dtype {stored}")))?;
    Ok(to_json(&PackParams::for_stored(
        stored, scale, offset, fill,
    )?))
}

/// The stored objects (chunks, or shards when sharded) a box of an array touches
/// ([`chunks_in_region_json`]).
#[derive(Debug, Serialize, TS)]
pub struct ChunksInRegion {
    /// Grid coordinates of each chunk.
    pub chunks: Vec<Vec<u64>>,
    /// Whether the box covers each chunk completely.
    pub full: Vec<bool>,
}

/// The stored objects a box of the array touches, with whether each is covered completely, as JSON
/// ([`ChunksInRegion`]).
pub fn chunks_in_region_json(spec_json: &str, origin: &[u64], shape: &[u64]) -> Result<String> {
    let spec: ArraySpec = parse("array spec", spec_json)?;
    let refs = spec.store_grid()?.chunks_in_region(&Block {
        origin: origin.to_vec(),
        shape: shape.to_vec(),
    })?;
    Ok(to_json(&ChunksInRegion {
        full: refs.iter().map(|r| r.full).collect(),
        chunks: refs.into_iter().map(|r| r.coords).collect(),
    }))
}

/// Assemble the box `origin`/`shape` of an array from stored chunks; `chunks[i]` holds the bytes
/// of the chunk at `coords[i]`, or `None` where nothing is stored (fill).
pub fn read_region(
    spec_json: &str,
    origin: &[u64],
    shape: &[u64],
    coords: &[Vec<u64>],
    chunks: &[Option<&[u8]>],
) -> Result<Slab> {
    let spec: ArraySpec = parse("array spec", spec_json)?;
    let region = Block {
        origin: origin.to_vec(),
        shape: shape.to_vec(),
    };
    let data = encode::read_region(&spec, &region, |c| {
        Ok(coords
            .iter()
            .position(|k| k.as_slice() == c)
            .and_then(|i| chunks[i].map(<[u8]>::to_vec)))
    })?;
    Ok(Slab::new(data, shape.to_vec()))
}

/// The inner chunks of stored shard `coords` that were never written (grid coordinates of the
/// inner chunks, inside the array); an error when the shard's index is damaged. Empty for an
/// unsharded array.
/// As JSON (`number[][]`).
pub fn shard_gaps_json(spec_json: &str, coords: &[u64], bytes: &[u8]) -> Result<String> {
    let spec: ArraySpec = parse("array spec", spec_json)?;
    Ok(to_json(&encode::unwritten_inner_chunks(
        &spec, coords, bytes,
    )?))
}

/// How to store shard `coords` from inner chunks encoded apart (`inner_coords[i]`, of
/// `sizes[i]` bytes), see [`encode::shard_pieces`].
pub fn shard_pieces(
    spec_json: &str,
    coords: &[u64],
    inner_coords: &[Vec<u64>],
    sizes: &[usize],
) -> Result<encode::ShardPieces> {
    let spec: ArraySpec = parse("array spec", spec_json)?;
    if inner_coords.len() != sizes.len() {
        return Err(CoreError::Invalid(format!(
            "{} chunk coordinates for {} chunk sizes",
            inner_coords.len(),
            sizes.len()
        )));
    }
    let pairs: Vec<(Vec<u64>, usize)> = inner_coords
        .iter()
        .cloned()
        .zip(sizes.iter().copied())
        .collect();
    encode::shard_pieces(&spec, coords, &pairs)
}

/// The text of an error as it crosses to JavaScript: `[zarrio:<kind>] <message>`, the kind one
/// of [`crate::error::ErrorKind`]'s names. `ts/errors.ts` (`fromCore`) reads the kind back and
/// picks the error class from its table; the prefix never reaches a user.
pub fn error_text(e: &CoreError) -> String {
    format!("{}{}] {}", ERROR_PREFIX, e.kind().name(), e)
}

/// What starts the text of every error the core throws to JavaScript ([`error_text`]).
pub const ERROR_PREFIX: &str = "[zarrio:";

/// Which build this is, for `zarrio --version`.
#[derive(Debug, Serialize, TS)]
pub struct BuildInfo {
    #[ts(type = "\"native\" | \"wasm\"")]
    pub backend: &'static str,
    /// The core's version.
    pub core: &'static str,
    /// Whether the libnetcdf reader is built in.
    pub libnetcdf: bool,
}

/// [`BuildInfo`] of this build, as JSON.
pub fn build_info_json() -> String {
    to_json(&BuildInfo {
        backend: if cfg!(target_arch = "wasm32") {
            "wasm"
        } else {
            "native"
        },
        core: env!("CARGO_PKG_VERSION"),
        libnetcdf: cfg!(feature = "libnetcdf"),
    })
}
