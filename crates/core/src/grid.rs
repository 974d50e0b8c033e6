//! The regular chunk grid of a Zarr array, and moving N-d blocks between buffers.
//!
//! Every chunk is stored at the full chunk shape, edge chunks included; the part of an edge chunk
//! outside the array holds the fill value. All buffers are C-ordered.

use serde::{Deserialize, Serialize};

use crate::{ArrayData, CoreError, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkGrid {
    pub shape: Vec<u64>,
    pub chunks: Vec<u64>,
}

/// A chunk touched by a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRef {
    /// Index of the chunk in the grid.
    pub coords: Vec<u64>,
    /// Whether the region covers every element of this chunk that lies inside the array, so the
    /// chunk can be written without reading what is stored.
    pub full: bool,
}

/// An axis-aligned box: `origin` and `shape` in some coordinate system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub origin: Vec<u64>,
    pub shape: Vec<u64>,
}

impl Block {
    pub fn len(&self) -> u64 {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The overlap with another box, if any.
    pub fn intersect(&self, other: &Block) -> Option<Block> {
        let mut origin = Vec::with_capacity(self.origin.len());
        let mut shape = Vec::with_capacity(self.origin.len());
        for d in 0..self.origin.len() {
            let lo = self.origin[d].max(other.origin[d]);
            let hi = (self.origin[d] + self.shape[d]).min(other.origin[d] + other.shape[d]);
            if hi <= lo {
                return None;
            }
            origin.push(lo);
            shape.push(hi - lo);
        }
        Some(Block { origin, shape })
    }

    /// The same box over the bytes of records of `size` bytes: one more, innermost axis.
    pub fn with_record(&self, size: u64) -> Block {
        let mut b = self.clone();
        b.origin.push(0);
        b.shape.push(size);
        b
    }
}

impl ChunkGrid {
    pub fn new(shape: Vec<u64>, chunks: Vec<u64>) -> Result<ChunkGrid> {
        if shape.len() != chunks.len() {
            return Err(CoreError::Invalid(format!(
                "chunk shape {chunks:?} has {} dimensions, the array {shape:?} has {}",
                chunks.len(),
                shape.len()
            )));
        }
        if let Some(d) = chunks.iter().position(|&c| c == 0) {
            return Err(CoreError::Invalid(format!("chunk size 0 in dimension {d}")));
        }
        Ok(ChunkGrid { shape, chunks })
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Elements in one (full-shape) chunk.
    pub fn chunk_len(&self) -> usize {
        self.chunks.iter().product::<u64>() as usize
    }

    /// Number of chunks along each dimension.
    pub fn grid_shape(&self) -> Vec<u64> {
        self.shape
            .iter()
            .zip(&self.chunks)
            .map(|(&s, &c)| s.div_ceil(c))
            .collect()
    }

    /// The chunk's box in array coordinates (full chunk shape, may reach past the array).
    pub fn chunk_block(&self, coords: &[u64]) -> Block {
        Block {
            origin: coords
                .iter()
                .zip(&self.chunks)
                .map(|(&i, &c)| i * c)
                .collect(),
            shape: self.chunks.clone(),
        }
    }

    /// The part of the chunk that lies inside the array.
    pub fn chunk_block_in_array(&self, coords: &[u64]) -> Block {
        let b = self.chunk_block(coords);
        let shape = b
            .origin
            .iter()
            .zip(&b.shape)
            .zip(&self.shape)
            .map(|((&o, &c), &s)| c.min(s.saturating_sub(o)))
            .collect();
        Block {
            origin: b.origin,
            shape,
        }
    }

    /// Check that a region lies inside the array.
    pub fn check_region(&self, region: &Block) -> Result<()> {
        if region.origin.len() != self.ndim() || region.shape.len() != self.ndim() {
            return Err(CoreError::Invalid(format!(
                "region has {} dimensions, the array has {}",
                region.origin.len(),
                self.ndim()
            )));
        }
        for d in 0..self.ndim() {
            if region.origin[d] + region.shape[d] > self.shape[d] {
                return Err(CoreError::Invalid(format!(
                    "region {}..{} in dimension {d} is past the array's length {}",
                    region.origin[d],
                    region.origin[d] + region.shape[d],
                    self.shape[d]
                )));
            }
        }
        Ok(())
    }

    /// Every chunk the region touches, C order, each marked full or partial.
    pub fn chunks_in_region(&self, region: &Block) -> Result<Vec<ChunkRef>> {
        self.check_region(region)?;
        if region.is_empty() {
            return Ok(Vec::new());
        }
        let first: Vec<u64> = region
            .origin
            .iter()
            .zip(&self.chunks)
            .map(|(&o, &c)| o / c)
            .collect();
        let last: Vec<u64> = (0..self.ndim())
            .map(|d| (region.origin[d] + region.shape[d] - 1) / self.chunks[d])
            .collect();
        let mut out = Vec::new();
        let mut coords = first.clone();
        loop {
            let inside = self.chunk_block_in_array(&coords);
            let covered = region.intersect(&inside).expect("chunk touches the region");
            out.push(ChunkRef {
                full: covered == inside,
                coords: coords.clone(),
            });
            // Advance like an odometer, last dimension fastest.
            let mut d = self.ndim();
            loop {
                if d == 0 {
                    return Ok(out);
                }
                d -= 1;
                if coords[d] < last[d] {
                    coords[d] += 1;
                    break;
                }
                coords[d] = first[d];
            }
        }
    }
}

/// Copy `block` (array coordinates) from `src` (a buffer holding the box `src_box`) into `dst`
/// (a buffer holding `dst_box`). Rows along the last dimension are copied whole.
pub fn copy_block<T: Clone>(
    src: &[T],
    src_box: &Block,
    dst: &mut [T],
    dst_box: &Block,
    block: &Block,
) {
    let nd = block.shape.len();
    if block.is_empty() {
        return;
    }
    if nd == 0 {
        dst[0] = src[0].clone();
        return;
    }
    let strides = |shape: &[u64]| {
        let mut s = vec![1u64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            s[d] = s[d + 1] * shape[d + 1];
        }
        s
    };
    let (ss, ds) = (strides(&src_box.shape), strides(&dst_box.shape));
    let row = block.shape[nd - 1] as usize;
    let mut idx = vec![0u64; nd - 1];
    loop {
        let (mut so, mut dof) = (0u64, 0u64);
        for d in 0..nd {
            let a = block.origin[d] + if d < nd - 1 { idx[d] } else { 0 };
            so += (a - src_box.origin[d]) * ss[d];
            dof += (a - dst_box.origin[d]) * ds[d];
        }
        let (so, dof) = (so as usize, dof as usize);
        dst[dof..dof + row].clone_from_slice(&src[so..so + row]);
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < block.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// [`copy_block`] between two buffers of the same element type, whatever it is. Records copy
/// as bytes, each record one row along an extra innermost axis of its size.
pub fn copy_data(
    src: &ArrayData,
    src_box: &Block,
    dst: &mut ArrayData,
    dst_box: &Block,
    block: &Block,
) -> Result<()> {
    macro_rules! same {
        ($($v:ident),*) => {
            match (src, dst) {
                $((ArrayData::$v(s), ArrayData::$v(d)) => copy_block(s, src_box, d, dst_box, block),)*
                (ArrayData::Record { size, bytes: s }, ArrayData::Record { size: to, bytes: d })
                    if size == to =>
                {
                    let size = u64::from(*size);
                    copy_block(s, &src_box.with_record(size), d, &dst_box.with_record(size), &block.with_record(size))
                }
                (s, d) => {
                    return Err(CoreError::Invalid(format!(
                        "cannot copy {} into {}",
                        s.dtype().name(),
                        d.dtype().name()
                    )))
                }
            }
        };
    }
    same!(Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64, Float32, Float64, Str);
    Ok(())
}

/// Set every element of a C-ordered buffer of shape `shape` that lies outside the box of shape
/// `inside` at the same origin to `value` (the padding of an edge chunk), leaving the rest
/// untouched: rows are filled from where `inside` ends along the last dimension, whole rows
/// past it along any other.
pub fn fill_outside<T: Copy>(buf: &mut [T], shape: &[u64], inside: &[u64], value: T) {
    let nd = shape.len();
    if nd == 0 || shape == inside {
        return;
    }
    let row = shape[nd - 1] as usize;
    let kept = inside[nd - 1].min(shape[nd - 1]) as usize;
    let mut idx = vec![0u64; nd - 1];
    for r in buf.chunks_exact_mut(row) {
        let row_inside = idx.iter().zip(inside).all(|(&i, &n)| i < n);
        r[if row_inside { kept } else { 0 }..].fill(value);
        for d in (0..nd - 1).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Whether `block` is one contiguous run inside a buffer holding `outer`.
pub fn is_contiguous(outer: &Block, block: &Block) -> bool {
    // Leading dimensions of length 1 don't break contiguity; the next one may be partial; all
    // dimensions after it must span the whole buffer.
    let nd = block.shape.len();
    let mut d = 0;
    while d < nd && block.shape[d] == 1 {
        d += 1;
    }
    (d + 1..nd).all(|k| block.shape[k] == outer.shape[k] && block.origin[k] == outer.origin[k])
}

/// Offset (in elements) of `block`'s first element inside a buffer holding `outer`.
pub fn offset_in(outer: &Block, block: &Block) -> usize {
    let mut off = 0u64;
    let mut stride = 1u64;
    for d in (0..outer.shape.len()).rev() {
        off += (block.origin[d] - outer.origin[d]) * stride;
        stride *= outer.shape[d];
    }
    off as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blk(origin: &[u64], shape: &[u64]) -> Block {
        Block {
            origin: origin.to_vec(),
            shape: shape.to_vec(),
        }
    }

    #[test]
    fn edge_chunks_are_counted() {
        let g = ChunkGrid::new(vec![10, 7], vec![4, 3]).unwrap();
        assert_eq!(g.grid_shape(), vec![3, 3]);
        assert_eq!(g.chunk_block_in_array(&[2, 2]), blk(&[8, 6], &[2, 1]));
    }

    #[test]
    fn full_and_partial_chunks() {
        let g = ChunkGrid::new(vec![10, 7], vec![4, 3]).unwrap();
        // Rows 2..10: chunk row 0 is partial (rows 0-1 missing), rows 1 and 2 full (2 is the edge).
        let refs = g.chunks_in_region(&blk(&[2, 0], &[8, 7])).unwrap();
        assert_eq!(refs.len(), 9);
        assert!(refs.iter().filter(|r| r.coords[0] == 0).all(|r| !r.full));
        assert!(refs.iter().filter(|r| r.coords[0] > 0).all(|r| r.full));
        assert!(g.chunks_in_region(&blk(&[8, 0], &[3, 7])).is_err());
        assert!(ChunkGrid::new(vec![3], vec![0]).is_err());
    }

    #[test]
    fn copies_blocks_between_boxes() {
        // A 3x4 source at origin (1,1); copy its middle 2x2 into a 4x4 destination at origin (0,0).
        let src: Vec<i32> = (0..12).collect();
        let mut dst = vec![-1; 16];
        copy_block(
            &src,
            &blk(&[1, 1], &[3, 4]),
            &mut dst,
            &blk(&[0, 0], &[4, 4]),
            &blk(&[2, 2], &[2, 2]),
        );
        assert_eq!(dst[2 * 4 + 2], 5);
        assert_eq!(dst[2 * 4 + 3], 6);
        assert_eq!(dst[3 * 4 + 2], 9);
        assert_eq!(dst[3 * 4 + 3], 10);
        assert_eq!(dst.iter().filter(|&&v| v == -1).count(), 12);
    }

    #[test]
    fn fills_only_the_padding() {
        // A 3x4 chunk whose first 2x3 elements are inside the array.
        let mut buf = vec![1; 12];
        fill_outside(&mut buf, &[3, 4], &[2, 3], 0);
        assert_eq!(buf, [1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
        let mut whole = vec![1; 6];
        fill_outside(&mut whole, &[2, 3], &[2, 3], 0);
        assert_eq!(whole, [1; 6]);
        let mut deep = vec![1; 8];
        fill_outside(&mut deep, &[2, 2, 2], &[1, 2, 1], 0);
        assert_eq!(deep, [1, 0, 1, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn contiguity() {
        let outer = blk(&[0, 0, 0], &[10, 4, 5]);
        assert!(is_contiguous(&outer, &blk(&[2, 0, 0], &[3, 4, 5])));
        assert!(is_contiguous(&outer, &blk(&[2, 1, 0], &[1, 2, 5])));
        assert!(!is_contiguous(&outer, &blk(&[2, 0, 0], &[3, 2, 5])));
        assert_eq!(offset_in(&outer, &blk(&[2, 1, 0], &[1, 2, 5])), 2 * 20 + 5);
    }
}
