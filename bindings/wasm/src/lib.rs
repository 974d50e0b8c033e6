//! wasm-bindgen binding of zarrio-core: the same surface as the Node-API addon, synchronous
//! (the TypeScript backend wraps results in promises). WebAssembly has no file system: files
//! arrive as bytes, or the host reads them by range ([`HostFile`]). Glue only.

use wasm_bindgen::prelude::*;
use zarrio_core::api;

fn err(e: zarrio_core::CoreError) -> JsError {
    JsError::new(&api::error_message(&e))
}

fn idx(v: &[f64]) -> Result<Vec<u64>, JsError> {
    v.iter()
        .map(|&x| {
            if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_991.0 {
                Ok(x as u64)
            } else {
                Err(JsError::new(&format!(
                    "ZARRIO_INVALID: {x} is not an index"
                )))
            }
        })
        .collect()
}

fn nums(v: &[u64]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

#[wasm_bindgen]
pub struct NcDataset {
    inner: api::Dataset,
}

/// A file's bytes filled piece by piece from JS straight into module memory, so a file is not
/// also held whole in a JS buffer on its way in.
#[wasm_bindgen]
pub struct FileBytes {
    bytes: Vec<u8>,
}

#[wasm_bindgen]
impl FileBytes {
    #[wasm_bindgen(constructor)]
    pub fn new(capacity: usize) -> FileBytes {
        FileBytes {
            bytes: Vec::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, piece: &[u8]) {
        self.bytes.extend_from_slice(piece);
    }
}

#[wasm_bindgen]
extern "C" {
    /// A file the host reads by range: `{ size: number, read(offset, len): Uint8Array }`.
    pub type HostFile;
    #[wasm_bindgen(method, getter)]
    fn size(this: &HostFile) -> f64;
    #[wasm_bindgen(method, catch)]
    fn read(this: &HostFile, offset: f64, len: usize) -> Result<Vec<u8>, JsValue>;
}

/// [`HostFile`] as the core's byte source.
struct HostSource(HostFile);

// SAFETY: this module is built for wasm32-unknown-unknown without threads: the JS object is only
// ever touched from the one thread there is.
unsafe impl Send for HostSource {}
unsafe impl Sync for HostSource {}

impl zarrio_core::netcdf::ByteSource for HostSource {
    fn size(&self) -> u64 {
        self.0.size() as u64
    }
    fn read_at(&self, offset: u64, len: usize) -> zarrio_core::Result<Vec<u8>> {
        self.0.read(offset as f64, len).map_err(|e| {
            zarrio_core::CoreError::Read(format!(
                "reading {len} bytes at {offset}: {}",
                e.as_string().unwrap_or_else(|| format!("{e:?}"))
            ))
        })
    }
}

#[wasm_bindgen]
impl NcDataset {
    /// Open a file the host reads by range; `reopen` when its description is known already.
    #[wasm_bindgen(js_name = fromHost)]
    pub fn from_host(what: &str, file: HostFile, reopen: bool) -> Result<NcDataset, JsError> {
        api::Dataset::open_source(what, Box::new(HostSource(file)), reopen)
            .map(|inner| NcDataset { inner })
            .map_err(err)
    }

    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<NcDataset, JsError> {
        api::Dataset::open_bytes(bytes)
            .map(|inner| NcDataset { inner })
            .map_err(err)
    }

    #[wasm_bindgen(js_name = fromFileBytes)]
    pub fn from_file_bytes(bytes: FileBytes) -> Result<NcDataset, JsError> {
        Self::from_bytes(bytes.bytes)
    }

    pub fn meta(&self) -> String {
        self.inner.meta_json()
    }

    pub fn read(&self, path: &str, start: &[f64], count: &[f64]) -> Result<Slab, JsError> {
        self.inner
            .read(path, &idx(start)?, &idx(count)?)
            .map(|inner| Slab { inner })
            .map_err(err)
    }

    /// Statistics of a hyperslab (JSON), without keeping its values.
    pub fn stats(
        &self,
        path: &str,
        start: &[f64],
        count: &[f64],
        missing: &[f64],
    ) -> Result<String, JsError> {
        self.inner
            .stats_json(path, &idx(start)?, &idx(count)?, missing)
            .map_err(err)
    }
}

#[wasm_bindgen]
pub struct Slab {
    inner: api::Slab,
}

/// A slab assembled from parts (consecutive files' steps of one variable).
#[wasm_bindgen]
pub struct SlabGather {
    inner: Option<api::SlabGather>,
}

#[wasm_bindgen]
impl SlabGather {
    #[wasm_bindgen(constructor)]
    pub fn new(dtype: &str, shape: &[f64]) -> Result<SlabGather, JsError> {
        let inner = api::SlabGather::new(dtype, idx(shape)?).map_err(err)?;
        Ok(SlabGather { inner: Some(inner) })
    }

    pub fn put(&mut self, part: &Slab, origin: &[f64]) -> Result<(), JsError> {
        let gather = self.inner.as_mut().ok_or_else(finished)?;
        gather.put(&part.inner, &idx(origin)?).map_err(err)
    }

    pub fn finish(&mut self) -> Result<Slab, JsError> {
        let inner = self
            .inner
            .take()
            .ok_or_else(finished)?
            .finish()
            .map_err(err)?;
        Ok(Slab { inner })
    }
}

fn finished() -> JsError {
    JsError::new("ZARRIO_INVALID: the gather was finished")
}

/// One encoded region: chunk coordinates flattened (`ndim` numbers per chunk), chunk bytes in
/// the same order.
#[wasm_bindgen]
pub struct RegionEncoding {
    ndim: usize,
    coords: Vec<f64>,
    chunks: Vec<Vec<u8>>,
    partial: Vec<f64>,
    raw_bytes: f64,
}

#[wasm_bindgen]
impl RegionEncoding {
    pub fn ndim(&self) -> usize {
        self.ndim
    }
    pub fn coords(&self) -> Vec<f64> {
        self.coords.clone()
    }
    pub fn count(&self) -> usize {
        self.chunks.len()
    }
    /// Chunk `i`'s bytes (moved out: each chunk can be taken once).
    pub fn take(&mut self, i: usize) -> Vec<u8> {
        std::mem::take(&mut self.chunks[i])
    }
    pub fn partial(&self) -> Vec<f64> {
        self.partial.clone()
    }
    #[wasm_bindgen(js_name = rawBytes)]
    pub fn raw_bytes(&self) -> f64 {
        self.raw_bytes
    }
}

#[wasm_bindgen]
impl Slab {
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(dtype: &str, shape: &[f64], bytes: &[u8]) -> Result<Slab, JsError> {
        api::Slab::from_bytes(dtype, idx(shape)?, bytes)
            .map(|inner| Slab { inner })
            .map_err(err)
    }

    #[wasm_bindgen(js_name = fromStrings)]
    pub fn from_strings(shape: &[f64], strings: Vec<String>) -> Result<Slab, JsError> {
        api::Slab::from_strings(idx(shape)?, strings)
            .map(|inner| Slab { inner })
            .map_err(err)
    }

    #[wasm_bindgen(getter)]
    pub fn dtype(&self) -> String {
        self.inner.dtype().to_string()
    }

    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<f64> {
        nums(self.inner.shape())
    }

    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        self.inner.to_bytes()
    }

    #[wasm_bindgen(js_name = toStrings)]
    pub fn to_strings(&self) -> Option<Vec<String>> {
        self.inner.to_strings()
    }

    pub fn stats(&self, missing: &[f64]) -> String {
        self.inner.stats_json(missing)
    }

    /// Pack to integers: the packed slab and the report JSON.
    pub fn pack(&self, params: &str, missing: &[f64], policy: &str) -> Result<PackResult, JsError> {
        let (slab, report) = self.inner.pack(params, missing, policy).map_err(err)?;
        Ok(PackResult {
            slab: Some(Slab { inner: slab }),
            report,
        })
    }

    /// Decode the file's own CF encoding into floats (`decoding`: JSON of the core's `Decoding`).
    pub fn decode(&self, decoding: &str) -> Result<Slab, JsError> {
        Ok(Slab {
            inner: self.inner.decode(decoding).map_err(err)?,
        })
    }

    pub fn encode(&self, spec: &str, origin: &[f64]) -> Result<RegionEncoding, JsError> {
        let out = self.inner.encode(spec, &idx(origin)?).map_err(err)?;
        let ndim = self.inner.shape().len();
        Ok(RegionEncoding {
            ndim,
            coords: out.chunks.iter().flat_map(|c| nums(&c.coords)).collect(),
            chunks: out.chunks.into_iter().map(|c| c.bytes).collect(),
            partial: out.partial.iter().flat_map(|c| nums(c)).collect(),
            raw_bytes: out.raw_bytes as f64,
        })
    }

    pub fn merge(
        &self,
        spec: &str,
        origin: &[f64],
        coords: &[f64],
        existing: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, JsError> {
        self.inner
            .merge(spec, &idx(origin)?, &idx(coords)?, existing.as_deref())
            .map_err(err)
    }
}

#[wasm_bindgen]
pub struct PackResult {
    slab: Option<Slab>,
    report: String,
}

#[wasm_bindgen]
impl PackResult {
    /// The packed slab (taken once).
    pub fn slab(&mut self) -> Option<Slab> {
        self.slab.take()
    }
    pub fn report(&self) -> String {
        self.report.clone()
    }
}

#[wasm_bindgen(js_name = packParams)]
pub fn pack_params(min: f64, max: f64, bits: u8, source: &str) -> Result<String, JsError> {
    api::pack_params_json(min, max, bits, source).map_err(err)
}

#[wasm_bindgen(js_name = chunksInRegion)]
pub fn chunks_in_region(spec: &str, origin: &[f64], shape: &[f64]) -> Result<String, JsError> {
    api::chunks_in_region_json(spec, &idx(origin)?, &idx(shape)?).map_err(err)
}

/// Assemble a box from stored chunks: `coords` flattened (`origin.length` numbers per chunk);
/// the chunks' bytes concatenated in `data`, `lengths[i]` bytes each, -1 where nothing is stored.
#[wasm_bindgen(js_name = readRegion)]
pub fn read_region(
    spec: &str,
    origin: &[f64],
    shape: &[f64],
    coords: &[f64],
    lengths: &[f64],
    data: &[u8],
) -> Result<Slab, JsError> {
    let coords: Vec<Vec<u64>> = if origin.is_empty() {
        // A scalar array has one chunk, at no coordinates.
        vec![Vec::new(); lengths.len()]
    } else {
        coords
            .chunks(origin.len())
            .map(idx)
            .collect::<Result<_, _>>()?
    };
    let mut views: Vec<Option<&[u8]>> = Vec::with_capacity(lengths.len());
    let mut at = 0usize;
    for &len in lengths {
        if len < 0.0 {
            views.push(None);
        } else {
            let end = at + len as usize;
            let part = data
                .get(at..end)
                .ok_or_else(|| JsError::new("ZARRIO_INVALID: chunk lengths exceed the data"))?;
            views.push(Some(part));
            at = end;
        }
    }
    api::read_region(spec, &idx(origin)?, &idx(shape)?, &coords, &views)
        .map(|inner| Slab { inner })
        .map_err(err)
}

/// Which build this is, for `zarrio --version`.
#[wasm_bindgen(js_name = buildInfo)]
pub fn build_info() -> String {
    format!(
        "{{\"backend\":\"wasm\",\"core\":\"{}\",\"libnetcdf\":false}}",
        env!("CARGO_PKG_VERSION")
    )
}
