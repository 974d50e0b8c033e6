//! Node-API binding of zarrio-core: typed arrays and Buffers in, Buffers out; reading and
//! encoding run as `AsyncTask`s on the libuv pool so the event loop keeps writing chunks while the
//! next slab is read and compressed. Glue only.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use zarrio_core::api;

fn err(e: zarrio_core::CoreError) -> Error {
    Error::from_reason(api::error_text(&e))
}

fn idx(v: &[f64]) -> Result<Vec<u64>> {
    api::indices(v).map_err(err)
}

#[napi]
pub struct NcDataset {
    /// `None` once closed: the file (and its memory map) is released even before JS collects
    /// this object. Reads already running keep their own handle.
    inner: Option<api::Dataset>,
}

impl NcDataset {
    fn open_inner(&self) -> Result<&api::Dataset> {
        self.inner
            .as_ref()
            .ok_or_else(|| err(api::released("dataset")))
    }
}

#[napi]
impl NcDataset {
    /// Open a NetCDF file by path with reader "auto", "pure" or "libnetcdf", off the main
    /// thread (many files are opened side by side).
    #[napi(ts_return_type = "Promise<NcDataset>")]
    pub fn open(path: String, reader: String) -> AsyncTask<OpenTask> {
        AsyncTask::new(OpenTask {
            path,
            reader,
            described: false,
        })
    }

    /// Open again, to read values, a file whose metadata the caller already holds (cheaper:
    /// what only the description needs is skipped).
    #[napi(ts_return_type = "Promise<NcDataset>")]
    pub fn reopen(path: String, reader: String) -> AsyncTask<OpenTask> {
        AsyncTask::new(OpenTask {
            path,
            reader,
            described: true,
        })
    }

    #[napi(factory)]
    pub fn from_bytes(bytes: &[u8]) -> Result<NcDataset> {
        api::Dataset::open_bytes(bytes.to_vec())
            .map(|inner| NcDataset { inner: Some(inner) })
            .map_err(err)
    }

    /// The file's metadata as JSON.
    #[napi]
    pub fn meta(&self) -> Result<String> {
        Ok(self.open_inner()?.meta_json())
    }

    /// A digest (hex) of a whole variable's values, read on the calling thread (meant for small
    /// variables: coordinates, masks).
    #[napi]
    pub fn digest(&self, path: String) -> Result<String> {
        self.open_inner()?.digest(&path).map_err(err)
    }

    /// Release the file.
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }

    /// Statistics of a hyperslab (JSON) off the main thread, without keeping its values.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn stats(
        &self,
        path: String,
        start: Vec<f64>,
        count: Vec<f64>,
        missing: Vec<f64>,
    ) -> Result<AsyncTask<StatsTask>> {
        Ok(AsyncTask::new(StatsTask {
            dataset: self.open_inner()?.share(),
            path,
            start: idx(&start)?,
            count: idx(&count)?,
            missing,
        }))
    }

    /// Read a hyperslab off the main thread.
    #[napi(ts_return_type = "Promise<Slab>")]
    pub fn read(
        &self,
        path: String,
        start: Vec<f64>,
        count: Vec<f64>,
    ) -> Result<AsyncTask<ReadTask>> {
        Ok(AsyncTask::new(ReadTask {
            dataset: self.open_inner()?.share(),
            path,
            start: idx(&start)?,
            count: idx(&count)?,
        }))
    }
}

pub struct OpenTask {
    path: String,
    reader: String,
    described: bool,
}

impl Task for OpenTask {
    type Output = api::Dataset;
    type JsValue = NcDataset;

    fn compute(&mut self) -> Result<api::Dataset> {
        if self.described {
            api::Dataset::reopen_path(&self.path, &self.reader).map_err(err)
        } else {
            api::Dataset::open_path(&self.path, &self.reader).map_err(err)
        }
    }

    fn resolve(&mut self, _env: Env, output: api::Dataset) -> Result<NcDataset> {
        Ok(NcDataset {
            inner: Some(output),
        })
    }
}

pub struct StatsTask {
    dataset: api::Dataset,
    path: String,
    start: Vec<u64>,
    count: Vec<u64>,
    missing: Vec<f64>,
}

impl Task for StatsTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        self.dataset
            .stats_json(&self.path, &self.start, &self.count, &self.missing)
            .map_err(err)
    }

    fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
        Ok(output)
    }
}

pub struct ReadTask {
    dataset: api::Dataset,
    path: String,
    start: Vec<u64>,
    count: Vec<u64>,
}

impl Task for ReadTask {
    type Output = api::Slab;
    type JsValue = Slab;

    fn compute(&mut self) -> Result<api::Slab> {
        self.dataset
            .read(&self.path, &self.start, &self.count)
            .map_err(err)
    }

    fn resolve(&mut self, _env: Env, output: api::Slab) -> Result<Slab> {
        Ok(Slab::wrap(output))
    }
}

#[napi(object)]
pub struct EncodedChunk {
    pub coords: Vec<f64>,
    pub bytes: Buffer,
}

#[napi(object)]
pub struct RegionEncoding {
    pub chunks: Vec<EncodedChunk>,
    pub partial: Vec<Vec<f64>>,
    pub raw_bytes: f64,
}

#[napi]
pub struct Slab {
    /// `None` once released: the values are freed at once instead of when JS collects the
    /// wrapper (V8 does not see the megabytes behind it, so it would collect late).
    inner: Option<api::Slab>,
}

impl Slab {
    fn wrap(inner: api::Slab) -> Slab {
        Slab { inner: Some(inner) }
    }

    fn slab(&self) -> Result<&api::Slab> {
        self.inner
            .as_ref()
            .ok_or_else(|| err(api::released("slab")))
    }
}

#[napi]
impl Slab {
    #[napi(factory)]
    pub fn from_bytes(dtype: String, shape: Vec<f64>, bytes: &[u8]) -> Result<Slab> {
        api::Slab::from_bytes(&dtype, idx(&shape)?, bytes)
            .map(Slab::wrap)
            .map_err(err)
    }

    #[napi(factory)]
    pub fn from_strings(shape: Vec<f64>, strings: Vec<String>) -> Result<Slab> {
        api::Slab::from_strings(idx(&shape)?, strings)
            .map(Slab::wrap)
            .map_err(err)
    }

    #[napi(getter)]
    pub fn dtype(&self) -> Result<String> {
        Ok(self.slab()?.dtype().to_string())
    }

    #[napi(getter)]
    pub fn shape(&self) -> Result<Vec<f64>> {
        Ok(api::numbers(self.slab()?.shape()))
    }

    /// Free the values now.
    #[napi]
    pub fn release(&mut self) {
        self.inner = None;
    }

    /// Little-endian bytes of the values (null for text).
    #[napi]
    pub fn to_bytes(&self) -> Result<Option<Buffer>> {
        Ok(self.slab()?.to_bytes().map(Buffer::from))
    }

    #[napi]
    pub fn to_strings(&self) -> Result<Option<Vec<String>>> {
        Ok(self.slab()?.to_strings())
    }

    #[napi]
    pub fn stats(&self, missing: Vec<f64>) -> Result<String> {
        Ok(self.slab()?.stats_json(&missing))
    }

    /// Pack to integers; returns the packed slab and the report JSON.
    #[napi(ts_return_type = "{ slab: Slab; report: string }")]
    pub fn pack(
        &self,
        env: Env,
        params: String,
        missing: Vec<f64>,
        policy: String,
    ) -> Result<Object<'_>> {
        let (slab, report) = self.slab()?.pack(&params, &missing, &policy).map_err(err)?;
        let mut out = Object::new(&env)?;
        out.set("slab", Slab::wrap(slab))?;
        out.set("report", report)?;
        Ok(out)
    }

    /// Decode the file's own CF encoding into floats (`decoding`: JSON of the core's `Decoding`).
    #[napi]
    pub fn decode(&self, decoding: String) -> Result<Slab> {
        Ok(Slab::wrap(self.slab()?.decode(&decoding).map_err(err)?))
    }

    /// Encode as the box at `origin` of the array `spec`, off the main thread.
    #[napi(ts_return_type = "Promise<RegionEncoding>")]
    pub fn encode(&self, spec: String, origin: Vec<f64>) -> Result<AsyncTask<EncodeTask>> {
        Ok(AsyncTask::new(EncodeTask {
            slab: self.slab()?.clone(),
            spec,
            origin: idx(&origin)?,
        }))
    }

    /// Merge this slab's part of chunk `coords` into the stored bytes (or fill) and re-encode.
    #[napi]
    pub fn merge(
        &self,
        spec: String,
        origin: Vec<f64>,
        coords: Vec<f64>,
        existing: Option<&[u8]>,
    ) -> Result<Buffer> {
        self.slab()?
            .merge(&spec, &idx(&origin)?, &idx(&coords)?, existing)
            .map(Buffer::from)
            .map_err(err)
    }
}

/// A slab assembled from parts (consecutive files' steps of one variable).
#[napi]
pub struct SlabGather {
    /// `None` once finished.
    inner: Option<api::SlabGather>,
}

#[napi]
impl SlabGather {
    #[napi(constructor)]
    pub fn new(dtype: String, shape: Vec<f64>) -> Result<SlabGather> {
        let inner = api::SlabGather::new(&dtype, idx(&shape)?).map_err(err)?;
        Ok(SlabGather { inner: Some(inner) })
    }

    #[napi]
    pub fn put(&mut self, part: &Slab, origin: Vec<f64>) -> Result<()> {
        let part = part.slab()?;
        self.inner
            .as_mut()
            .ok_or_else(|| err(api::released("gather")))?
            .put(part, &idx(&origin)?)
            .map_err(err)
    }

    #[napi]
    pub fn finish(&mut self) -> Result<Slab> {
        let inner = self
            .inner
            .take()
            .ok_or_else(|| err(api::released("gather")))?;
        inner.finish().map(Slab::wrap).map_err(err)
    }

    /// Free what was gathered now.
    #[napi]
    pub fn abandon(&mut self) {
        self.inner = None;
    }
}

pub struct EncodeTask {
    slab: api::Slab,
    spec: String,
    origin: Vec<u64>,
}

impl Task for EncodeTask {
    type Output = zarrio_core::encode::RegionEncoding;
    type JsValue = RegionEncoding;

    fn compute(&mut self) -> Result<Self::Output> {
        self.slab.encode(&self.spec, &self.origin).map_err(err)
    }

    fn resolve(&mut self, _env: Env, out: Self::Output) -> Result<RegionEncoding> {
        // Each chunk's bytes become the Buffer's memory, without a copy. V8 counts external
        // backing stores towards its external memory, so written chunks are collected as soon
        // as copied ones were (`--trace-gc` shows the same "external memory pressure" cycles).
        let chunks = out
            .chunks
            .into_iter()
            .map(|c| EncodedChunk {
                coords: api::numbers(&c.coords),
                bytes: c.bytes.into(),
            })
            .collect();
        Ok(RegionEncoding {
            raw_bytes: out.raw_bytes as f64,
            partial: out.partial.iter().map(|c| api::numbers(c)).collect(),
            chunks,
        })
    }
}

#[napi]
pub fn pack_params(min: f64, max: f64, bits: u8, source: String) -> Result<String> {
    api::pack_params_json(min, max, bits, &source).map_err(err)
}

#[napi]
pub fn pack_params_stored(stored: String, scale: f64, offset: f64, fill: f64) -> Result<String> {
    api::pack_params_stored_json(&stored, scale, offset, fill).map_err(err)
}

#[napi]
pub fn chunks_in_region(spec: String, origin: Vec<f64>, shape: Vec<f64>) -> Result<String> {
    api::chunks_in_region_json(&spec, &idx(&origin)?, &idx(&shape)?).map_err(err)
}

/// Assemble a box of an array from stored chunks (`chunks[i]` for `coords[i]`, null = fill).
#[napi]
pub fn read_region(
    spec: String,
    origin: Vec<f64>,
    shape: Vec<f64>,
    coords: Vec<Vec<f64>>,
    chunks: Vec<Option<Uint8Array>>,
) -> Result<Slab> {
    let coords = coords.iter().map(|c| idx(c)).collect::<Result<Vec<_>>>()?;
    let views: Vec<Option<&[u8]>> = chunks.iter().map(|c| c.as_deref()).collect();
    api::read_region(&spec, &idx(&origin)?, &idx(&shape)?, &coords, &views)
        .map(Slab::wrap)
        .map_err(err)
}

/// The inner chunks of a stored shard never written (JSON `number[][]`); throws on a damaged
/// shard index.
#[napi]
pub fn shard_gaps(spec: String, coords: Vec<f64>, bytes: Uint8Array) -> Result<String> {
    api::shard_gaps_json(&spec, &idx(&coords)?, &bytes).map_err(err)
}

/// A shard stored as pieces: the inner chunks given, in `order`, then `index`.
#[napi(object)]
pub struct ShardPieces {
    pub order: Vec<u32>,
    pub index: Buffer,
}

/// How to store shard `coords` from inner chunks encoded apart (`innerCoords[i]`, of
/// `sizes[i]` bytes).
#[napi]
pub fn shard_pieces(
    spec: String,
    coords: Vec<f64>,
    inner_coords: Vec<Vec<f64>>,
    sizes: Vec<f64>,
) -> Result<ShardPieces> {
    let inner_coords = inner_coords
        .iter()
        .map(|c| idx(c))
        .collect::<Result<Vec<_>>>()?;
    let sizes: Vec<usize> = idx(&sizes)?.into_iter().map(|n| n as usize).collect();
    let pieces = api::shard_pieces(&spec, &idx(&coords)?, &inner_coords, &sizes).map_err(err)?;
    Ok(ShardPieces {
        order: pieces.order.into_iter().map(|i| i as u32).collect(),
        index: pieces.index.into(),
    })
}

/// Which build this is, for `zarrio --version` (JSON of the core's `BuildInfo`).
#[napi]
pub fn build_info() -> String {
    api::build_info_json()
}

/// Free the memory behind Buffers this addon returned (encoded chunks, shard indexes) now: each
/// ArrayBuffer is detached, which runs its finalizer (the Rust `Vec` is dropped) on the next turn
/// of the event loop instead of at V8's next collection, which external memory alone triggers
/// only every ~64 MiB. The Buffers read as empty afterwards.
#[napi]
pub fn free_buffers(buffers: Vec<ArrayBuffer>) -> Result<()> {
    for b in buffers {
        b.detach()?;
    }
    Ok(())
}
