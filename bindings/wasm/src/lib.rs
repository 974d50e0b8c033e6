//! wasm-bindgen binding of zarrio-core: the same surface as the Node-API addon, synchronous
//! (the TypeScript backend wraps results in promises). WebAssembly has no file system: files
//! arrive as bytes, or the host reads them by range ([`HostFile`]). Glue only.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use zarrio_core::api;

fn err(e: zarrio_core::CoreError) -> JsError {
    JsError::new(&api::error_text(&e))
}

fn idx(v: &[f64]) -> Result<Vec<u64>, JsError> {
    api::indices(v).map_err(err)
}

/// Numbers as a JS array (as napi hands out `Vec<f64>`), not a Float64Array.
fn js_numbers(v: &[u64]) -> Array {
    v.iter().map(|&x| JsValue::from(x as f64)).collect()
}

/// Grid coordinates given as JS arrays of numbers.
fn grid_coords(coords: &[Array]) -> Result<Vec<Vec<u64>>, JsError> {
    coords
        .iter()
        .map(|c| {
            idx(&c
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN))
                .collect::<Vec<_>>())
        })
        .collect()
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    Reflect::set(obj, &JsValue::from_str(key), &value.into())
        .expect("setting a plain object's key");
}

#[wasm_bindgen]
pub struct NcDataset {
    /// `None` once closed.
    inner: Option<api::Dataset>,
}

impl NcDataset {
    fn wrap(inner: api::Dataset) -> NcDataset {
        NcDataset { inner: Some(inner) }
    }

    fn open_inner(&self) -> Result<&api::Dataset, JsError> {
        self.inner
            .as_ref()
            .ok_or_else(|| err(api::released("dataset")))
    }
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
            .map(NcDataset::wrap)
            .map_err(err)
    }

    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<NcDataset, JsError> {
        api::Dataset::open_bytes(bytes)
            .map(NcDataset::wrap)
            .map_err(err)
    }

    /// Open a file read whole from `path` into module memory; the path names it in errors.
    #[wasm_bindgen(js_name = fromFileBytes)]
    pub fn from_file_bytes(path: &str, bytes: FileBytes) -> Result<NcDataset, JsError> {
        api::Dataset::open_named_bytes(path, bytes.bytes)
            .map(NcDataset::wrap)
            .map_err(err)
    }

    pub fn meta(&self) -> Result<String, JsError> {
        Ok(self.open_inner()?.meta_json())
    }

    /// A digest (hex) of a whole variable's values (meant for small variables: coordinates, masks).
    pub fn digest(&self, path: &str) -> Result<String, JsError> {
        self.open_inner()?.digest(path).map_err(err)
    }

    /// Release the file.
    pub fn close(&mut self) {
        self.inner = None;
    }

    pub fn read(&self, path: &str, start: &[f64], count: &[f64]) -> Result<Slab, JsError> {
        self.open_inner()?
            .read(path, &idx(start)?, &idx(count)?)
            .map(Slab::wrap)
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
        self.open_inner()?
            .stats_json(path, &idx(start)?, &idx(count)?, missing)
            .map_err(err)
    }
}

#[wasm_bindgen]
pub struct Slab {
    /// `None` once released.
    inner: Option<api::Slab>,
}

impl Slab {
    fn wrap(inner: api::Slab) -> Slab {
        Slab { inner: Some(inner) }
    }

    fn slab(&self) -> Result<&api::Slab, JsError> {
        self.inner
            .as_ref()
            .ok_or_else(|| err(api::released("slab")))
    }
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
        let part = part.slab()?;
        let gather = self
            .inner
            .as_mut()
            .ok_or_else(|| err(api::released("gather")))?;
        gather.put(part, &idx(origin)?).map_err(err)
    }

    pub fn finish(&mut self) -> Result<Slab, JsError> {
        let gather = self
            .inner
            .take()
            .ok_or_else(|| err(api::released("gather")))?;
        gather.finish().map(Slab::wrap).map_err(err)
    }

    /// Free what was gathered now.
    pub fn abandon(&mut self) {
        self.inner = None;
    }
}

#[wasm_bindgen]
impl Slab {
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(dtype: &str, shape: &[f64], bytes: &[u8]) -> Result<Slab, JsError> {
        api::Slab::from_bytes(dtype, idx(shape)?, bytes)
            .map(Slab::wrap)
            .map_err(err)
    }

    #[wasm_bindgen(js_name = fromStrings)]
    pub fn from_strings(shape: &[f64], strings: Vec<String>) -> Result<Slab, JsError> {
        api::Slab::from_strings(idx(shape)?, strings)
            .map(Slab::wrap)
            .map_err(err)
    }

    #[wasm_bindgen(getter)]
    pub fn dtype(&self) -> Result<String, JsError> {
        Ok(self.slab()?.dtype())
    }

    #[wasm_bindgen(getter, unchecked_return_type = "number[]")]
    pub fn shape(&self) -> Result<Array, JsError> {
        Ok(js_numbers(self.slab()?.shape()))
    }

    /// Free the values now.
    pub fn release(&mut self) {
        self.inner = None;
    }

    /// Little-endian bytes of the values (undefined for text).
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Result<Option<Vec<u8>>, JsError> {
        Ok(self.slab()?.to_bytes())
    }

    #[wasm_bindgen(js_name = toStrings)]
    pub fn to_strings(&self) -> Result<Option<Vec<String>>, JsError> {
        Ok(self.slab()?.to_strings())
    }

    pub fn stats(&self, missing: &[f64]) -> Result<String, JsError> {
        Ok(self.slab()?.stats_json(missing))
    }

    /// Pack to integers: `{ slab, report }` (the packed slab and the report JSON).
    #[wasm_bindgen(unchecked_return_type = "{ slab: Slab; report: string }")]
    pub fn pack(&self, params: &str, missing: &[f64], policy: &str) -> Result<Object, JsError> {
        let (slab, report) = self.slab()?.pack(params, missing, policy).map_err(err)?;
        let out = Object::new();
        set(&out, "slab", Slab::wrap(slab));
        set(&out, "report", report);
        Ok(out)
    }

    /// Decode the file's own CF encoding into floats (`decoding`: JSON of the core's `Decoding`).
    pub fn decode(&self, decoding: &str) -> Result<Slab, JsError> {
        self.slab()?.decode(decoding).map(Slab::wrap).map_err(err)
    }

    /// Encode as the box at `origin` of the array `spec`:
    /// `{ chunks: [{ coords, bytes }], partial, rawBytes }`, as the Node-API addon returns it.
    #[wasm_bindgen(
        unchecked_return_type = "{ chunks: { coords: number[]; bytes: Uint8Array }[]; partial: number[][]; rawBytes: number }"
    )]
    pub fn encode(&self, spec: &str, origin: &[f64]) -> Result<Object, JsError> {
        let out = self.slab()?.encode(spec, &idx(origin)?).map_err(err)?;
        let chunks: Array = out
            .chunks
            .into_iter()
            .map(|c| {
                let chunk = Object::new();
                set(&chunk, "coords", js_numbers(&c.coords));
                set(&chunk, "bytes", Uint8Array::from(&c.bytes[..]));
                JsValue::from(chunk)
            })
            .collect();
        let result = Object::new();
        set(&result, "chunks", chunks);
        set(
            &result,
            "partial",
            out.partial
                .iter()
                .map(|c| JsValue::from(js_numbers(c)))
                .collect::<Array>(),
        );
        set(&result, "rawBytes", out.raw_bytes as f64);
        Ok(result)
    }

    /// Merge this slab's part of chunk `coords` into the stored bytes (or fill) and re-encode.
    pub fn merge(
        &self,
        spec: &str,
        origin: &[f64],
        coords: &[f64],
        existing: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, JsError> {
        self.slab()?
            .merge(spec, &idx(origin)?, &idx(coords)?, existing.as_deref())
            .map_err(err)
    }
}

#[wasm_bindgen(js_name = packParams)]
pub fn pack_params(min: f64, max: f64, bits: u8, source: &str) -> Result<String, JsError> {
    api::pack_params_json(min, max, bits, source).map_err(err)
}

#[wasm_bindgen(js_name = packParamsStored)]
pub fn pack_params_stored(
    stored: &str,
    scale: f64,
    offset: f64,
    fill: f64,
) -> Result<String, JsError> {
    api::pack_params_stored_json(stored, scale, offset, fill).map_err(err)
}

#[wasm_bindgen(js_name = chunksInRegion)]
pub fn chunks_in_region(spec: &str, origin: &[f64], shape: &[f64]) -> Result<String, JsError> {
    api::chunks_in_region_json(spec, &idx(origin)?, &idx(shape)?).map_err(err)
}

/// Assemble a box of an array from stored chunks (`chunks[i]` for `coords[i]`, null = fill).
#[wasm_bindgen(js_name = readRegion)]
pub fn read_region(
    spec: &str,
    origin: &[f64],
    shape: &[f64],
    #[wasm_bindgen(unchecked_param_type = "number[][]")] coords: Vec<Array>,
    #[wasm_bindgen(unchecked_param_type = "(Uint8Array | null)[]")] chunks: Vec<JsValue>,
) -> Result<Slab, JsError> {
    let coords = grid_coords(&coords)?;
    let chunks: Vec<Option<Vec<u8>>> = chunks
        .iter()
        .map(|c| (!c.is_null() && !c.is_undefined()).then(|| Uint8Array::new(c).to_vec()))
        .collect();
    let views: Vec<Option<&[u8]>> = chunks.iter().map(|c| c.as_deref()).collect();
    api::read_region(spec, &idx(origin)?, &idx(shape)?, &coords, &views)
        .map(Slab::wrap)
        .map_err(err)
}

/// The inner chunks of a stored shard never written (JSON `number[][]`); throws on a damaged
/// shard index.
#[wasm_bindgen(js_name = shardGaps)]
pub fn shard_gaps(spec: &str, coords: &[f64], bytes: &[u8]) -> Result<String, JsError> {
    api::shard_gaps_json(spec, &idx(coords)?, bytes).map_err(err)
}

/// How to store shard `coords` from inner chunks encoded apart (`innerCoords[i]`, of
/// `sizes[i]` bytes): `{ order, index }`, the chunks in `order`, then `index`.
#[wasm_bindgen(js_name = shardPieces, unchecked_return_type = "{ order: number[]; index: Uint8Array }")]
pub fn shard_pieces(
    spec: &str,
    coords: &[f64],
    #[wasm_bindgen(js_name = innerCoords, unchecked_param_type = "number[][]")] inner_coords: Vec<
        Array,
    >,
    sizes: &[f64],
) -> Result<Object, JsError> {
    let inner_coords = grid_coords(&inner_coords)?;
    let sizes: Vec<usize> = idx(sizes)?.into_iter().map(|n| n as usize).collect();
    let pieces = api::shard_pieces(spec, &idx(coords)?, &inner_coords, &sizes).map_err(err)?;
    let result = Object::new();
    set(
        &result,
        "order",
        pieces
            .order
            .iter()
            .map(|&i| JsValue::from(i as f64))
            .collect::<Array>(),
    );
    set(&result, "index", Uint8Array::from(&pieces.index[..]));
    Ok(result)
}

/// Which build this is, for `zarrio --version` (JSON of the core's `BuildInfo`).
#[wasm_bindgen(js_name = buildInfo)]
pub fn build_info() -> String {
    api::build_info_json()
}
