//! Region → encoded chunks: the hot path of every write.
//!
//! A *region* is a box of the array (for example one file's time steps) with its data in one
//! C-ordered buffer, already in the stored type (packed if packing is on). Each chunk the region
//! covers completely is assembled and encoded here, in parallel on native builds. A chunk the
//! region covers only partly cannot be written without what is already stored: it is returned as
//! *partial*, and the caller, holding that chunk's lock, passes the stored bytes to
//! [`merge_chunk`].

use std::cell::Cell;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::codec::Pipeline;
use crate::grid::{
    copy_block, copy_data, fill_outside, is_contiguous, offset_in, Block, ChunkGrid,
};
use crate::netcdf::JsonFloat;
use crate::{ArrayData, CoreError, DType, Result};

/// What the encoder needs to know about one Zarr array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ArraySpec {
    pub shape: Vec<u64>,
    pub chunks: Vec<u64>,
    /// The stored element type.
    pub dtype: DType,
    /// Fill value for elements no data covers (NaN for floats). Ignored for text ("").
    pub fill: JsonFloat,
    #[serde(default)]
    pub pipeline: Pipeline,
}

impl ArraySpec {
    pub fn grid(&self) -> Result<ChunkGrid> {
        ChunkGrid::new(self.shape.clone(), self.chunks.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedChunk {
    pub coords: Vec<u64>,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RegionEncoding {
    /// Chunks the region covers completely, ready to store.
    pub chunks: Vec<EncodedChunk>,
    /// Chunks the region covers partly: merge each with what is stored ([`merge_chunk`]).
    pub partial: Vec<Vec<u64>>,
    /// Uncompressed bytes of the encoded chunks (full chunk shape).
    pub raw_bytes: u64,
}

fn check_data(spec: &ArraySpec, region: &Block, data: &ArrayData) -> Result<()> {
    if data.dtype() != spec.dtype {
        return Err(CoreError::Invalid(format!(
            "data is {}, the array stores {}",
            data.dtype().name(),
            spec.dtype.name()
        )));
    }
    if data.len() as u64 != region.len() {
        return Err(CoreError::Invalid(format!(
            "region {:?} holds {} elements, the buffer has {}",
            region.shape,
            region.len(),
            data.len()
        )));
    }
    Ok(())
}

/// Build one chunk: start from `base` (the stored chunk) or the fill value, then copy in the
/// region's part.
fn assemble(
    spec: &ArraySpec,
    grid: &ChunkGrid,
    coords: &[u64],
    region: &Block,
    data: &ArrayData,
    base: Option<ArrayData>,
) -> Result<ArrayData> {
    let chunk_box = grid.chunk_block(coords);
    let inside = grid.chunk_block_in_array(coords);
    let mut chunk = match base {
        Some(b) => b,
        None => ArrayData::filled(spec.dtype, grid.chunk_len(), spec.fill.0),
    };
    let Some(part) = region.intersect(&inside) else {
        return Ok(chunk);
    };
    copy_data(data, region, &mut chunk, &chunk_box, &part)?;
    Ok(chunk)
}

/// Encode every chunk `region` covers completely; list the ones it covers partly.
pub fn encode_region(spec: &ArraySpec, region: &Block, data: &ArrayData) -> Result<RegionEncoding> {
    check_data(spec, region, data)?;
    let grid = spec.grid()?;
    let refs = grid.chunks_in_region(region)?;
    let (full, partial): (Vec<_>, Vec<_>) = refs.into_iter().partition(|r| r.full);
    let size = spec.dtype.size();
    let encoded = crate::par_map(&full, |r| -> Result<EncodedChunk> {
        let chunk_box = grid.chunk_block(&r.coords);
        let inside = grid.chunk_block_in_array(&r.coords);
        let bytes = match data.as_bytes() {
            // An interior chunk that is one contiguous run of the region's buffer is compressed
            // straight from it.
            Some(raw) if inside == chunk_box && is_contiguous(region, &chunk_box) => {
                let start = offset_in(region, &chunk_box) * size;
                spec.pipeline
                    .encode_bytes(&raw[start..start + grid.chunk_len() * size], size)?
            }
            // Other numeric chunks are laid out in this thread's scratch buffer first.
            Some(_) => with_scratch(grid.chunk_len() * size, |buf| {
                lay_out_full_chunk(spec, &chunk_box, &inside, region, data, buf);
                spec.pipeline.encode_bytes(buf, size)
            })?,
            None => spec
                .pipeline
                .encode(&assemble(spec, &grid, &r.coords, region, data, None)?)?,
        };
        Ok(EncodedChunk {
            coords: r.coords.clone(),
            bytes,
        })
    });
    let chunks = encoded.into_iter().collect::<Result<Vec<_>>>()?;
    let raw_bytes = (chunks.len() * grid.chunk_len() * size.max(1)) as u64;
    Ok(RegionEncoding {
        chunks,
        partial: partial.into_iter().map(|r| r.coords).collect(),
        raw_bytes,
    })
}

/// Write a chunk the region covers completely (`inside`: its part within the array) into `buf`,
/// the chunk's little-endian bytes: the region's values, and the fill value in the padding of an
/// edge chunk. Every byte of `buf` is written, so it may hold anything before.
fn lay_out_full_chunk(
    spec: &ArraySpec,
    chunk_box: &Block,
    inside: &Block,
    region: &Block,
    data: &ArrayData,
    buf: &mut [u8],
) {
    let fill = spec.fill.0;
    macro_rules! lay_out {
        ($($v:ident: $t:ty),*) => {
            match data {
                $(ArrayData::$v(src) => {
                    let dst: &mut [$t] = bytemuck::cast_slice_mut(buf);
                    fill_outside(dst, &chunk_box.shape, &inside.shape, fill as $t);
                    copy_block(src, region, dst, chunk_box, inside);
                })*
                ArrayData::Record { size, bytes: src } => {
                    // Records are bytes along one more axis; edge padding is zero bytes.
                    let size = u64::from(*size);
                    let (chunk_box, inside) = (chunk_box.with_record(size), inside.with_record(size));
                    fill_outside(buf, &chunk_box.shape, &inside.shape, 0u8);
                    copy_block(src, &region.with_record(size), buf, &chunk_box, &inside);
                }
                ArrayData::Str(_) => unreachable!("text has no byte layout"),
            }
        };
    }
    lay_out!(Int8: i8, Uint8: u8, Int16: i16, Uint16: u16, Int32: i32, Uint32: u32, Int64: i64,
        Uint64: u64, Float32: f32, Float64: f64);
}

/// Run `f` on a buffer of `len` bytes (8-byte aligned, contents arbitrary) that the calling
/// thread keeps for its next chunk: a fresh chunk-sized buffer per chunk costs a page fault per
/// 4 KiB on first touch, more than laying the chunk out. A thread keeps one buffer of at most
/// 64 MiB; larger ones are freed after use.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    const KEEP: usize = 64 << 20;
    thread_local! {
        static SCRATCH: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
    }
    let words = len.div_ceil(8);
    // Taken out while in use, so a nested call (none today) would simply get its own.
    let mut buf = SCRATCH.take();
    if buf.len() < words {
        buf.resize(words, 0);
    }
    let out = f(&mut bytemuck::cast_slice_mut(&mut buf[..words])[..len]);
    if buf.len() * 8 <= KEEP {
        SCRATCH.set(buf);
    }
    out
}

/// Merge the region's part of chunk `coords` into the stored chunk (`existing`, or fill when
/// nothing is stored yet) and encode the result.
pub fn merge_chunk(
    spec: &ArraySpec,
    region: &Block,
    data: &ArrayData,
    coords: &[u64],
    existing: Option<&[u8]>,
) -> Result<Vec<u8>> {
    check_data(spec, region, data)?;
    let grid = spec.grid()?;
    let base = existing
        .map(|bytes| spec.pipeline.decode(bytes, spec.dtype, grid.chunk_len()))
        .transpose()?;
    spec.pipeline
        .encode(&assemble(spec, &grid, coords, region, data, base)?)
}

/// Decode a stored chunk to its elements (full chunk shape).
pub fn decode_chunk(spec: &ArraySpec, bytes: &[u8]) -> Result<ArrayData> {
    spec.pipeline
        .decode(bytes, spec.dtype, spec.grid()?.chunk_len())
}

/// Read the box `region` of the array from its chunks: `fetch(coords)` returns the stored bytes
/// of a chunk, or `None` when it was never written (fill). The inverse of [`encode_region`].
pub fn read_region(
    spec: &ArraySpec,
    region: &Block,
    mut fetch: impl FnMut(&[u64]) -> Result<Option<Vec<u8>>>,
) -> Result<ArrayData> {
    let grid = spec.grid()?;
    let mut out = ArrayData::filled(spec.dtype, region.len() as usize, spec.fill.0);
    for r in grid.chunks_in_region(region)? {
        let Some(bytes) = fetch(&r.coords)? else {
            continue;
        };
        let chunk = decode_chunk(spec, &bytes)?;
        let chunk_box = grid.chunk_block(&r.coords);
        let part = region
            .intersect(&grid.chunk_block_in_array(&r.coords))
            .expect("touches");
        copy_data(&chunk, &chunk_box, &mut out, region, &part)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{BloscCname, Compressor, Shuffle};

    fn spec(shape: &[u64], chunks: &[u64], compressor: Option<Compressor>) -> ArraySpec {
        ArraySpec {
            shape: shape.to_vec(),
            chunks: chunks.to_vec(),
            dtype: DType::Float32,
            fill: JsonFloat(f64::NAN),
            pipeline: Pipeline { compressor },
        }
    }

    fn blk(origin: &[u64], shape: &[u64]) -> Block {
        Block {
            origin: origin.to_vec(),
            shape: shape.to_vec(),
        }
    }

    fn ramp(n: usize) -> ArrayData {
        ArrayData::Float32((0..n).map(|i| i as f32).collect())
    }

    /// Encode the whole array, then read every element back through the chunks.
    #[test]
    fn whole_array_roundtrip_with_edges() {
        for compressor in [
            None,
            Some(Compressor::Zstd { level: 3 }),
            Some(Compressor::Blosc {
                cname: BloscCname::Lz4,
                clevel: 5,
                shuffle: Shuffle::Byte,
                blocksize: 0,
            }),
        ] {
            let s = spec(&[5, 7, 3], &[2, 3, 3], compressor);
            let region = blk(&[0, 0, 0], &[5, 7, 3]);
            let data = ramp(105);
            let enc = encode_region(&s, &region, &data).unwrap();
            assert!(enc.partial.is_empty());
            assert_eq!(enc.chunks.len(), 3 * 3);
            let stored: std::collections::HashMap<Vec<u64>, Vec<u8>> = enc
                .chunks
                .into_iter()
                .map(|c| (c.coords, c.bytes))
                .collect();
            let back = read_region(&s, &region, |c| Ok(stored.get(c).cloned())).unwrap();
            assert_eq!(back, data);
            // Edge chunk (2, 2, 0) holds row 4, cols 6, padded with NaN.
            let edge = decode_chunk(&s, &stored[&vec![2, 2, 0]]).unwrap();
            let ArrayData::Float32(v) = edge else {
                panic!()
            };
            assert_eq!(v[0], (4 * 21 + 6 * 3) as f32);
            assert!(v[3].is_nan() && v[17].is_nan());
        }
    }

    /// Chunks laid out in a reused scratch buffer never show what an earlier, larger chunk left
    /// there: every element is the region's value or, past the array's edge, the fill value.
    #[test]
    fn scratch_reuse_leaves_no_stale_values() {
        // Chunks of 8x4 out of an 8x8 region are not contiguous: both go through the scratch.
        let big = spec(&[8, 8], &[8, 4], None);
        let region = blk(&[0, 0], &[8, 8]);
        let ones = ArrayData::Float32(vec![1.0; 64]);
        encode_region(&big, &region, &ones).unwrap();
        // 5x6 array in 4x4 chunks: chunk (1, 1) holds 1x2 values and 14 fill elements.
        let s = spec(&[5, 6], &[4, 4], None);
        let data = ramp(30);
        for _ in 0..3 {
            let enc = encode_region(&s, &blk(&[0, 0], &[5, 6]), &data).unwrap();
            let stored: std::collections::HashMap<_, _> = enc
                .chunks
                .into_iter()
                .map(|c| (c.coords, c.bytes))
                .collect();
            let edge = decode_chunk(&s, &stored[&vec![1, 1]]).unwrap();
            let ArrayData::Float32(v) = edge else {
                panic!()
            };
            assert_eq!((v[0], v[1]), (28.0, 29.0));
            assert!(v[2..].iter().all(|x| x.is_nan()), "{v:?}");
            let back = read_region(&s, &blk(&[0, 0], &[5, 6]), |c| Ok(stored.get(c).cloned()));
            assert_eq!(back.unwrap(), data);
            encode_region(&big, &region, &ones).unwrap();
        }
    }

    /// Two writers share chunk row 1 (rows 2-3): each writes its half through merge_chunk.
    #[test]
    fn partial_chunks_merge_without_loss() {
        let s = spec(&[6, 4], &[4, 4], Some(Compressor::Zstd { level: 1 }));
        let a = blk(&[0, 0], &[3, 4]);
        let b = blk(&[3, 0], &[3, 4]);
        let all = ramp(24);
        let ArrayData::Float32(v) = &all else {
            unreachable!()
        };
        let da = ArrayData::Float32(v[..12].to_vec());
        let db = ArrayData::Float32(v[12..].to_vec());
        let mut store: std::collections::HashMap<Vec<u64>, Vec<u8>> = Default::default();
        for (region, data) in [(&b, &db), (&a, &da)] {
            let enc = encode_region(&s, region, data).unwrap();
            for c in enc.chunks {
                store.insert(c.coords, c.bytes);
            }
            for coords in enc.partial {
                let merged = merge_chunk(
                    &s,
                    region,
                    data,
                    &coords,
                    store.get(&coords).map(|v| v.as_slice()),
                )
                .unwrap();
                store.insert(coords, merged);
            }
        }
        let back = read_region(&s, &blk(&[0, 0], &[6, 4]), |c| Ok(store.get(c).cloned())).unwrap();
        assert_eq!(back, all);
    }

    #[test]
    fn unwritten_chunks_read_as_fill() {
        let s = spec(&[4, 2], &[2, 2], None);
        let back = read_region(&s, &blk(&[0, 0], &[4, 2]), |_| Ok(None)).unwrap();
        let ArrayData::Float32(v) = back else {
            panic!()
        };
        assert!(v.iter().all(|x| x.is_nan()));
    }

    #[test]
    fn text_chunks_roundtrip() {
        let s = ArraySpec {
            shape: vec![3],
            chunks: vec![2],
            dtype: DType::Str,
            fill: JsonFloat(0.0),
            pipeline: Pipeline {
                compressor: Some(Compressor::Gzip { level: 5 }),
            },
        };
        let data = ArrayData::Str(vec!["Brest".into(), "Île d'Yeu".into(), "".into()]);
        let region = blk(&[0], &[3]);
        let enc = encode_region(&s, &region, &data).unwrap();
        let stored: std::collections::HashMap<_, _> = enc
            .chunks
            .into_iter()
            .map(|c| (c.coords, c.bytes))
            .collect();
        assert_eq!(
            read_region(&s, &region, |c| Ok(stored.get(c).cloned())).unwrap(),
            data
        );
    }

    #[test]
    fn refuses_mismatched_buffers() {
        let s = spec(&[4], &[2], None);
        assert!(encode_region(&s, &blk(&[0], &[4]), &ramp(3)).is_err());
        assert!(encode_region(&s, &blk(&[0], &[4]), &ArrayData::Float64(vec![0.0; 4])).is_err());
        assert!(encode_region(&s, &blk(&[2], &[4]), &ramp(4)).is_err());
    }
}
