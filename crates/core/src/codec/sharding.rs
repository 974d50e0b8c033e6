//! The Zarr v3 `sharding_indexed` codec: many inner chunks in one stored object (a *shard*).
//!
//! A shard is the encoded inner chunks, back to back, followed by the index (`index_location`
//! "end"): for every inner chunk of the shard, in C order, its byte offset and length as two
//! little-endian `u64`, then the CRC-32C of those index bytes (index codecs `bytes` + `crc32c`,
//! zarr-python's default). An inner chunk that was never written is left out and its entry is
//! all ones (`u64::MAX`, `u64::MAX`); readers see the fill value there.
//!
//! Which inner chunks belong to which shard (the two grids) is [`ShardGrid`]; the chunk
//! encoding itself is [`super::Pipeline`]'s, the same as for an unsharded array.

use crate::grid::{Block, ChunkGrid};
use crate::{CoreError, Result};

/// Index entry of an inner chunk that is not in the shard.
const EMPTY: u64 = u64::MAX;

/// Bytes of the index of a shard of `n` inner chunks: 16 per entry and the 4-byte checksum.
pub fn index_len(n: usize) -> usize {
    n * 16 + 4
}

/// CRC-32C (Castagnoli), as the v3 `crc32c` codec computes it.
pub fn crc32c(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0x82F6_3B78 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8)
    })
}

/// How a shard is stored: which inner chunks, in which order, then the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The slots (positions in the shard's C order) of the inner chunks written, in the order
    /// their bytes are stored, back to back from offset 0.
    pub order: Vec<usize>,
    /// The index that follows them: the shard's last bytes.
    pub index: Vec<u8>,
}

/// The layout of a shard whose inner chunks have these encoded sizes (`None`: not written), in
/// the shard's C order. Inner chunks are stored in that order.
pub fn layout(sizes: &[Option<usize>]) -> Layout {
    let mut order = Vec::new();
    let mut index = Vec::with_capacity(index_len(sizes.len()));
    let mut at = 0u64;
    for (slot, size) in sizes.iter().enumerate() {
        let (offset, len) = match size {
            Some(n) => {
                order.push(slot);
                let entry = (at, *n as u64);
                at += *n as u64;
                entry
            }
            None => (EMPTY, EMPTY),
        };
        index.extend_from_slice(&offset.to_le_bytes());
        index.extend_from_slice(&len.to_le_bytes());
    }
    let sum = crc32c(&index);
    index.extend_from_slice(&sum.to_le_bytes());
    Layout { order, index }
}

/// One shard's bytes from its inner chunks (`None`: not written), in the shard's C order.
pub fn build<B: AsRef<[u8]>>(inner: &[Option<B>]) -> Vec<u8> {
    let sizes: Vec<Option<usize>> = inner
        .iter()
        .map(|c| c.as_ref().map(|b| b.as_ref().len()))
        .collect();
    let Layout { order, index } = layout(&sizes);
    let data: usize = sizes.iter().flatten().sum();
    let mut out = Vec::with_capacity(data + index.len());
    for slot in order {
        out.extend_from_slice(inner[slot].as_ref().map_or(&[][..], |b| b.as_ref()));
    }
    out.extend_from_slice(&index);
    out
}

/// The inner chunks of a stored shard of `n` inner chunks (`None`: not written), refusing a shard
/// whose index is cut short, fails its checksum or points outside the shard.
pub fn parse(bytes: &[u8], n: usize) -> Result<Vec<Option<&[u8]>>> {
    let len = index_len(n);
    if bytes.len() < len {
        return Err(CoreError::Codec(format!(
            "shard of {} bytes is shorter than its index ({len} bytes for {n} inner chunks)",
            bytes.len()
        )));
    }
    let (data, tail) = bytes.split_at(bytes.len() - len);
    let (index, sum) = tail.split_at(n * 16);
    let stored = u32::from_le_bytes(sum.try_into().expect("4 bytes"));
    if crc32c(index) != stored {
        return Err(CoreError::Codec(format!(
            "shard index checksum mismatch (stored {stored:#010x}, computed {:#010x})",
            crc32c(index)
        )));
    }
    index
        .chunks_exact(16)
        .enumerate()
        .map(|(i, e)| {
            let offset = u64::from_le_bytes(e[..8].try_into().expect("8 bytes"));
            let size = u64::from_le_bytes(e[8..].try_into().expect("8 bytes"));
            match (offset, size) {
                (EMPTY, EMPTY) => Ok(None),
                _ if offset
                    .checked_add(size)
                    .is_some_and(|end| end <= data.len() as u64) =>
                {
                    Ok(Some(&data[offset as usize..(offset + size) as usize]))
                }
                _ => Err(CoreError::Codec(format!(
                    "shard index entry {i} (offset {offset}, {size} bytes) lies outside the \
                     shard's {} data bytes",
                    data.len()
                ))),
            }
        })
        .collect()
}

/// The two grids of a sharded array: shards (the stored objects) and the inner chunks in them.
#[derive(Debug, Clone)]
pub struct ShardGrid {
    /// The grid of shards.
    pub shards: ChunkGrid,
    /// The grid of inner chunks over the whole array.
    pub inner: ChunkGrid,
    /// Inner chunks along each dimension of a shard.
    per_shard: Vec<u64>,
}

impl ShardGrid {
    pub fn new(shape: &[u64], shards: &[u64], chunks: &[u64]) -> Result<ShardGrid> {
        let shard_grid = ChunkGrid::new(shape.to_vec(), shards.to_vec())?;
        let inner = ChunkGrid::new(shape.to_vec(), chunks.to_vec())?;
        if let Some(d) = (0..shards.len()).find(|&d| shards[d] % chunks[d] != 0) {
            return Err(CoreError::Invalid(format!(
                "shard shape {shards:?} is not a multiple of the chunk shape {chunks:?} \
                 (dimension {d})"
            )));
        }
        let per_shard = shards.iter().zip(chunks).map(|(s, c)| s / c).collect();
        Ok(ShardGrid {
            shards: shard_grid,
            inner,
            per_shard,
        })
    }

    /// Inner chunks in one shard (index entries).
    pub fn per_shard(&self) -> usize {
        self.per_shard.iter().product::<u64>() as usize
    }

    /// The inner chunks of shard `shard`, in the index's C order: each one's grid coordinates,
    /// or `None` where it lies wholly past the array's end (an edge shard's padding).
    pub fn inner_chunks(&self, shard: &[u64]) -> Vec<Option<Vec<u64>>> {
        let grid = self.inner.grid_shape();
        let n = self.per_shard();
        let mut out = Vec::with_capacity(n);
        let mut local = vec![0u64; self.per_shard.len()];
        for _ in 0..n {
            let coords: Vec<u64> = (0..local.len())
                .map(|d| shard[d] * self.per_shard[d] + local[d])
                .collect();
            out.push(
                coords
                    .iter()
                    .zip(&grid)
                    .all(|(c, g)| c < g)
                    .then_some(coords),
            );
            for d in (0..local.len()).rev() {
                local[d] += 1;
                if local[d] < self.per_shard[d] {
                    break;
                }
                local[d] = 0;
            }
        }
        out
    }

    /// Where inner chunk `inner` sits in shard `shard`'s index; `None` when it is not in that
    /// shard or lies past the array.
    pub fn local_index(&self, shard: &[u64], inner: &[u64]) -> Option<usize> {
        let grid = self.inner.grid_shape();
        if inner.len() != shard.len() || inner.iter().zip(&grid).any(|(c, g)| c >= g) {
            return None;
        }
        let mut index = 0usize;
        for d in 0..inner.len() {
            let first = shard[d] * self.per_shard[d];
            if inner[d] < first || inner[d] >= first + self.per_shard[d] {
                return None;
            }
            index = index * self.per_shard[d] as usize + (inner[d] - first) as usize;
        }
        Some(index)
    }

    /// The part of shard `shard` inside the array.
    pub fn shard_in_array(&self, shard: &[u64]) -> Block {
        self.shards.chunk_block_in_array(shard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        // The check value of CRC-32C (RFC 3720, B.4).
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
    }

    #[test]
    fn build_and_parse_with_empty_chunks() {
        let inner = [
            Some(vec![1u8, 2, 3]),
            None,
            Some(vec![]),
            Some(vec![9u8; 5]),
        ];
        let shard = build(&inner);
        assert_eq!(shard.len(), 8 + index_len(4));
        let back = parse(&shard, 4).unwrap();
        assert_eq!(back[0], Some(&[1u8, 2, 3][..]));
        assert_eq!(back[1], None);
        assert_eq!(back[2], Some(&[][..]));
        assert_eq!(back[3], Some(&[9u8; 5][..]));
        // The empty entry is all ones.
        let entry = &shard[8 + 16..8 + 32];
        assert!(entry.iter().all(|&b| b == 0xff));
    }

    #[test]
    fn refuses_damaged_shards() {
        let shard = build(&[Some(vec![7u8; 10]), None]);
        let mut flipped = shard.clone();
        let at = shard.len() - 10;
        flipped[at] ^= 1;
        assert!(parse(&flipped, 2)
            .unwrap_err()
            .to_string()
            .contains("checksum"));
        assert!(parse(&shard[..20], 2)
            .unwrap_err()
            .to_string()
            .contains("shorter"));
        // An index that points past the data, with a valid checksum.
        let mut index = Vec::new();
        for v in [0u64, 99, EMPTY, EMPTY] {
            index.extend_from_slice(&v.to_le_bytes());
        }
        let mut bad = vec![0u8; 10];
        bad.extend_from_slice(&index);
        bad.extend_from_slice(&crc32c(&index).to_le_bytes());
        assert!(parse(&bad, 2).unwrap_err().to_string().contains("outside"));
    }

    #[test]
    fn inner_chunks_of_an_edge_shard() {
        // 10 x 7 array, shards 4 x 4, chunks 2 x 2: shard (2, 1) covers rows 8-9 and cols 4-6.
        let g = ShardGrid::new(&[10, 7], &[4, 4], &[2, 2]).unwrap();
        assert_eq!(g.per_shard(), 4);
        let inner = g.inner_chunks(&[2, 1]);
        assert_eq!(inner, vec![Some(vec![4, 2]), Some(vec![4, 3]), None, None]);
        assert_eq!(g.local_index(&[2, 1], &[4, 3]), Some(1));
        assert_eq!(g.local_index(&[2, 1], &[5, 3]), None, "past the array");
        assert_eq!(g.local_index(&[1, 1], &[4, 3]), None, "another shard");
        let inner = g.inner_chunks(&[1, 0]);
        for (i, c) in inner.iter().enumerate() {
            assert_eq!(g.local_index(&[1, 0], c.as_ref().unwrap()), Some(i));
        }
        assert!(ShardGrid::new(&[10], &[5], &[2]).is_err());
    }
}
