//! Region → encoded chunks: the hot path of every write.
//!
//! A *region* is a box of the array (for example one file's time steps) with its data in one
//! C-ordered buffer, already in the stored type (packed if packing is on). Each chunk the region
//! covers completely is assembled and encoded here, in parallel on native builds. A chunk the
//! region covers only partly cannot be written without what is already stored: it is returned as
//! *partial*, and the caller, holding that chunk's lock, passes the stored bytes to
//! [`merge_chunk`].
//!
//! A sharded array stores shards instead of chunks (see [`crate::codec::sharding`]): what is
//! written, returned as partial and merged is then a shard, while the encoding work is still per
//! inner chunk: the inner chunks of every shard a region covers are encoded in parallel, and a
//! merge re-encodes only the inner chunks the region touches, keeping the others' stored bytes.

use std::cell::Cell;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::codec::sharding::{self, ShardGrid};
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
    /// The shard shape when the array is sharded (a multiple of `chunks`): each stored object
    /// then holds one shard's inner chunks of shape `chunks` and an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub shards: Option<Vec<u64>>,
}

impl ArraySpec {
    /// The grid of (inner) chunks: the unit of encoding.
    pub fn grid(&self) -> Result<ChunkGrid> {
        ChunkGrid::new(self.shape.clone(), self.chunks.clone())
    }

    /// Both grids of a sharded array; `None` when it is not sharded.
    pub fn shard_grid(&self) -> Result<Option<ShardGrid>> {
        self.shards
            .as_ref()
            .map(|s| ShardGrid::new(&self.shape, s, &self.chunks))
            .transpose()
    }

    /// The grid of stored objects: shards when sharded, chunks otherwise. Keys, locks and
    /// "full or partial" are about this grid.
    pub fn store_grid(&self) -> Result<ChunkGrid> {
        Ok(match self.shard_grid()? {
            Some(g) => g.shards,
            None => self.grid()?,
        })
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

/// Encode every stored object (chunk, or shard when sharded) `region` covers completely; list
/// the ones it covers partly.
pub fn encode_region(spec: &ArraySpec, region: &Block, data: &ArrayData) -> Result<RegionEncoding> {
    check_data(spec, region, data)?;
    let grid = spec.grid()?;
    let size = spec.dtype.size().max(1);
    let Some(shards) = spec.shard_grid()? else {
        let refs = grid.chunks_in_region(region)?;
        let (full, partial): (Vec<_>, Vec<_>) = refs.into_iter().partition(|r| r.full);
        let encoded = crate::par_map(&full, |r| -> Result<EncodedChunk> {
            Ok(EncodedChunk {
                coords: r.coords.clone(),
                bytes: encode_full(spec, &grid, &r.coords, region, data)?,
            })
        });
        let chunks = encoded.into_iter().collect::<Result<Vec<_>>>()?;
        let raw_bytes = (chunks.len() * grid.chunk_len() * size) as u64;
        return Ok(RegionEncoding {
            chunks,
            partial: partial.into_iter().map(|r| r.coords).collect(),
            raw_bytes,
        });
    };
    let refs = shards.shards.chunks_in_region(region)?;
    let (full, partial): (Vec<_>, Vec<_>) = refs.into_iter().partition(|r| r.full);
    // The inner chunks of every shard covered completely, encoded on all cores at once (a slab
    // is often a single shard).
    let layouts: Vec<Vec<Option<Vec<u64>>>> = full
        .iter()
        .map(|r| shards.inner_chunks(&r.coords))
        .collect();
    let work: Vec<&Vec<u64>> = layouts.iter().flatten().flatten().collect();
    let mut encoded =
        crate::par_map(&work, |c| encode_full(spec, &grid, c, region, data)).into_iter();
    let mut chunks = Vec::with_capacity(full.len());
    for (r, layout) in full.iter().zip(&layouts) {
        let inner = layout
            .iter()
            .map(|c| {
                c.as_ref()
                    .map(|_| encoded.next().expect("one per inner chunk"))
                    .transpose()
            })
            .collect::<Result<Vec<_>>>()?;
        chunks.push(EncodedChunk {
            coords: r.coords.clone(),
            bytes: sharding::build(&inner),
        });
    }
    Ok(RegionEncoding {
        chunks,
        partial: partial.into_iter().map(|r| r.coords).collect(),
        raw_bytes: (work.len() * grid.chunk_len() * size) as u64,
    })
}

/// Encode chunk `coords`, which `region` covers completely.
fn encode_full(
    spec: &ArraySpec,
    grid: &ChunkGrid,
    coords: &[u64],
    region: &Block,
    data: &ArrayData,
) -> Result<Vec<u8>> {
    let size = spec.dtype.size();
    let chunk_box = grid.chunk_block(coords);
    let inside = grid.chunk_block_in_array(coords);
    match data.as_bytes() {
        // An interior chunk that is one contiguous run of the region's buffer is compressed
        // straight from it.
        Some(raw) if inside == chunk_box && is_contiguous(region, &chunk_box) => {
            let start = offset_in(region, &chunk_box) * size;
            spec.pipeline
                .encode_bytes(&raw[start..start + grid.chunk_len() * size], size)
        }
        // Other numeric chunks are laid out in this thread's scratch buffer first.
        Some(_) => with_scratch(grid.chunk_len() * size, |buf| {
            lay_out_full_chunk(spec, &chunk_box, &inside, region, data, buf);
            spec.pipeline.encode_bytes(buf, size)
        }),
        None => spec
            .pipeline
            .encode(&assemble(spec, grid, coords, region, data, None)?),
    }
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

/// How to store shard `coords` from inner chunks encoded apart (for example one source file's
/// steps each, encoded as they were read, so a shard spanning many files never holds all their
/// values at once, nor is copied into one buffer): `inner` pairs inner chunk coordinates with
/// their encoded sizes; chunks not given are left out of the shard.
pub fn shard_pieces(
    spec: &ArraySpec,
    coords: &[u64],
    inner: &[(Vec<u64>, usize)],
) -> Result<ShardPieces> {
    let shards = spec
        .shard_grid()?
        .ok_or_else(|| CoreError::Invalid("the array is not sharded".into()))?;
    let mut given: Vec<Option<usize>> = vec![None; shards.per_shard()];
    for (i, (c, _)) in inner.iter().enumerate() {
        let slot = shards.local_index(coords, c).ok_or_else(|| {
            CoreError::Invalid(format!("chunk {c:?} is not inside shard {coords:?}"))
        })?;
        if given[slot].replace(i).is_some() {
            return Err(CoreError::Invalid(format!("chunk {c:?} is given twice")));
        }
    }
    let sizes: Vec<Option<usize>> = given.iter().map(|g| g.map(|i| inner[i].1)).collect();
    let layout = sharding::layout(&sizes);
    Ok(ShardPieces {
        order: layout
            .order
            .iter()
            .map(|&slot| given[slot].unwrap())
            .collect(),
        index: layout.index,
    })
}

/// A shard stored as pieces: the given inner chunks in `order` (positions in the list given to
/// [`shard_pieces`]), back to back, then `index`. Joined, they are the shard's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardPieces {
    pub order: Vec<usize>,
    pub index: Vec<u8>,
}

/// Merge the region's part of stored object `coords` (a chunk, or a shard when sharded) into
/// what is stored (`existing`, or nothing yet) and encode the result. In a shard, only the inner
/// chunks the region touches are decoded and encoded again; the others keep their bytes.
pub fn merge_chunk(
    spec: &ArraySpec,
    region: &Block,
    data: &ArrayData,
    coords: &[u64],
    existing: Option<&[u8]>,
) -> Result<Vec<u8>> {
    check_data(spec, region, data)?;
    let grid = spec.grid()?;
    let Some(shards) = spec.shard_grid()? else {
        return merge_inner(spec, &grid, region, data, coords, existing);
    };
    let layout = shards.inner_chunks(coords);
    let stored = match existing {
        Some(bytes) => sharding::parse(bytes, layout.len())?,
        None => vec![None; layout.len()],
    };
    let slots: Vec<(Option<&Vec<u64>>, Option<&[u8]>)> =
        layout.iter().map(Option::as_ref).zip(stored).collect();
    let inner = crate::par_map(
        &slots,
        |&(c, old)| -> Result<Option<std::borrow::Cow<[u8]>>> {
            let Some(c) = c else { return Ok(None) };
            let inside = grid.chunk_block_in_array(c);
            Ok(match region.intersect(&inside) {
                None => old.map(std::borrow::Cow::Borrowed),
                Some(part) if part == inside => {
                    Some(encode_full(spec, &grid, c, region, data)?.into())
                }
                Some(_) => Some(merge_inner(spec, &grid, region, data, c, old)?.into()),
            })
        },
    );
    let inner = inner.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(sharding::build(&inner))
}

/// Merge the region's part of chunk `coords` into its stored bytes and encode it.
fn merge_inner(
    spec: &ArraySpec,
    grid: &ChunkGrid,
    region: &Block,
    data: &ArrayData,
    coords: &[u64],
    existing: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let base = existing
        .map(|bytes| spec.pipeline.decode(bytes, spec.dtype, grid.chunk_len()))
        .transpose()?;
    spec.pipeline
        .encode(&assemble(spec, grid, coords, region, data, base)?)
}

/// Decode a stored chunk to its elements (full chunk shape).
pub fn decode_chunk(spec: &ArraySpec, bytes: &[u8]) -> Result<ArrayData> {
    spec.pipeline
        .decode(bytes, spec.dtype, spec.grid()?.chunk_len())
}

/// Read the box `region` of the array from what is stored: `fetch(coords)` returns the bytes of
/// a stored object (a chunk, or a shard when sharded), or `None` when it was never written
/// (fill). The inverse of [`encode_region`].
pub fn read_region(
    spec: &ArraySpec,
    region: &Block,
    mut fetch: impl FnMut(&[u64]) -> Result<Option<Vec<u8>>>,
) -> Result<ArrayData> {
    let grid = spec.grid()?;
    let mut out = ArrayData::filled(spec.dtype, region.len() as usize, spec.fill.0);
    let copy_in = |coords: &[u64], bytes: &[u8], out: &mut ArrayData| -> Result<()> {
        let chunk = decode_chunk(spec, bytes)?;
        let chunk_box = grid.chunk_block(coords);
        let part = region
            .intersect(&grid.chunk_block_in_array(coords))
            .expect("touches");
        copy_data(&chunk, &chunk_box, out, region, &part)
    };
    let Some(shards) = spec.shard_grid()? else {
        for r in grid.chunks_in_region(region)? {
            if let Some(bytes) = fetch(&r.coords)? {
                copy_in(&r.coords, &bytes, &mut out)?;
            }
        }
        return Ok(out);
    };
    for r in shards.shards.chunks_in_region(region)? {
        let Some(bytes) = fetch(&r.coords)? else {
            continue;
        };
        let layout = shards.inner_chunks(&r.coords);
        for (c, stored) in layout.iter().zip(sharding::parse(&bytes, layout.len())?) {
            if let (Some(c), Some(stored)) = (c, stored) {
                if region.intersect(&grid.chunk_block_in_array(c)).is_some() {
                    copy_in(c, stored, &mut out)?;
                }
            }
        }
    }
    Ok(out)
}

/// The inner chunks of a stored shard that hold nothing (never written), as grid coordinates of
/// the inner chunks; an error when the shard's index is damaged. Nothing for an unsharded array.
pub fn unwritten_inner_chunks(
    spec: &ArraySpec,
    coords: &[u64],
    bytes: &[u8],
) -> Result<Vec<Vec<u64>>> {
    let Some(shards) = spec.shard_grid()? else {
        return Ok(Vec::new());
    };
    let layout = shards.inner_chunks(coords);
    let stored = sharding::parse(bytes, layout.len())?;
    Ok(layout
        .into_iter()
        .zip(stored)
        .filter_map(|(c, s)| match (c, s) {
            (Some(c), None) => Some(c),
            _ => None,
        })
        .collect())
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
            shards: None,
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
            shards: None,
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

    fn sharded(shape: &[u64], shards: &[u64], chunks: &[u64]) -> ArraySpec {
        ArraySpec {
            shards: Some(shards.to_vec()),
            ..spec(shape, chunks, Some(Compressor::Zstd { level: 1 }))
        }
    }

    /// A whole sharded array: one object per shard, edge shards with their padding chunks left
    /// out, read back element for element.
    #[test]
    fn sharded_roundtrip_with_edge_shards() {
        let s = sharded(&[10, 7], &[4, 4], &[2, 2]);
        let region = blk(&[0, 0], &[10, 7]);
        let data = ramp(70);
        let enc = encode_region(&s, &region, &data).unwrap();
        assert!(enc.partial.is_empty());
        assert_eq!(enc.chunks.len(), 3 * 2);
        // 5 x 4 inner chunks hold data; padding chunks of the edge shards are not encoded.
        assert_eq!(enc.raw_bytes, 20 * 4 * 4);
        let stored: std::collections::HashMap<_, _> = enc
            .chunks
            .into_iter()
            .map(|c| (c.coords, c.bytes))
            .collect();
        let edge = sharding::parse(&stored[&vec![2, 1]], 4).unwrap();
        assert!(edge[0].is_some() && edge[1].is_some() && edge[2].is_none() && edge[3].is_none());
        assert!(unwritten_inner_chunks(&s, &[2, 1], &stored[&vec![2, 1]])
            .unwrap()
            .is_empty());
        let back = read_region(&s, &region, |c| Ok(stored.get(c).cloned())).unwrap();
        assert_eq!(back, data);
        let part = read_region(&s, &blk(&[3, 2], &[6, 4]), |c| Ok(stored.get(c).cloned())).unwrap();
        let ArrayData::Float32(v) = part else {
            panic!()
        };
        assert_eq!(v[0], 23.0);
        assert_eq!(v[23], (8 * 7 + 5) as f32);
    }

    /// Three writers share shards along rows, misaligned to both chunks and shards, in any
    /// order: each merges its rows into the stored shard, and nothing is lost. Inner chunks no
    /// writer touched stay out of the shard until one does.
    #[test]
    fn shared_shards_merge_without_loss() {
        let s = sharded(&[11, 6], &[8, 6], &[2, 3]);
        let all = ramp(66);
        let ArrayData::Float32(v) = &all else {
            unreachable!()
        };
        let rows = [(0u64, 3u64), (3, 6), (9, 2)];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut store: std::collections::HashMap<Vec<u64>, Vec<u8>> = Default::default();
            for (n, &w) in order.iter().enumerate() {
                let (r0, nr) = rows[w];
                let region = blk(&[r0, 0], &[nr, 6]);
                let data =
                    ArrayData::Float32(v[(r0 * 6) as usize..((r0 + nr) * 6) as usize].to_vec());
                let enc = encode_region(&s, &region, &data).unwrap();
                for c in enc.chunks {
                    store.insert(c.coords, c.bytes);
                }
                for coords in enc.partial {
                    let merged = merge_chunk(
                        &s,
                        &region,
                        &data,
                        &coords,
                        store.get(&coords).map(|v| v.as_slice()),
                    )
                    .unwrap();
                    store.insert(coords, merged);
                }
                if n == 0 && w == 0 {
                    // Rows 0-2 touch inner chunk rows 0-1 of shard 0; rows 2-3 stay unwritten.
                    let missing = unwritten_inner_chunks(&s, &[0, 0], &store[&vec![0, 0]]).unwrap();
                    assert_eq!(
                        missing,
                        vec![vec![2, 0], vec![2, 1], vec![3, 0], vec![3, 1]]
                    );
                }
            }
            let back =
                read_region(&s, &blk(&[0, 0], &[11, 6]), |c| Ok(store.get(c).cloned())).unwrap();
            assert_eq!(back, all, "order {order:?}");
        }
    }

    /// A shard stored as pieces of inner chunks encoded apart (two parts along rows) is, joined,
    /// the shard encoding the whole region gives.
    #[test]
    fn shard_pieces_join_to_the_shard_of_the_whole() {
        let s = sharded(&[8, 6], &[8, 6], &[2, 3]);
        let inner = ArraySpec {
            shards: None,
            ..s.clone()
        };
        let all = ramp(48);
        let ArrayData::Float32(v) = &all else {
            unreachable!()
        };
        let mut parts = Vec::new();
        for (r0, nr) in [(0u64, 4u64), (4, 4)] {
            let data = ArrayData::Float32(v[(r0 * 6) as usize..((r0 + nr) * 6) as usize].to_vec());
            parts.extend(
                encode_region(&inner, &blk(&[r0, 0], &[nr, 6]), &data)
                    .unwrap()
                    .chunks,
            );
        }
        // Given in reverse: the pieces still come out in the shard's C order.
        parts.reverse();
        let given: Vec<(Vec<u64>, usize)> = parts
            .iter()
            .map(|c| (c.coords.clone(), c.bytes.len()))
            .collect();
        let pieces = shard_pieces(&s, &[0, 0], &given).unwrap();
        let mut shard: Vec<u8> = pieces
            .order
            .iter()
            .flat_map(|&i| parts[i].bytes.iter().copied())
            .collect();
        shard.extend_from_slice(&pieces.index);
        let whole = encode_region(&s, &blk(&[0, 0], &[8, 6]), &all).unwrap();
        assert_eq!(shard, whole.chunks[0].bytes);
        assert!(shard_pieces(&s, &[1, 0], &given).is_err());
        let twice = [given[0].clone(), given[0].clone()];
        assert!(shard_pieces(&s, &[0, 0], &twice).is_err());
    }

    #[test]
    fn refuses_shards_that_do_not_hold_whole_chunks() {
        let s = sharded(&[10], &[5], &[2]);
        assert!(encode_region(&s, &blk(&[0], &[10]), &ramp(10)).is_err());
    }

    #[test]
    fn refuses_mismatched_buffers() {
        let s = spec(&[4], &[2], None);
        assert!(encode_region(&s, &blk(&[0], &[4]), &ramp(3)).is_err());
        assert!(encode_region(&s, &blk(&[0], &[4]), &ArrayData::Float64(vec![0.0; 4])).is_err());
        assert!(encode_region(&s, &blk(&[2], &[4]), &ramp(4)).is_err());
    }
}
