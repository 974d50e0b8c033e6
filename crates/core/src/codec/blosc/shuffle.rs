//! Blosc's pre-filters, applied to one block at a time. Both group equal-significance parts of
//! the elements together, so smooth data becomes long runs the inner codec compresses well.
//!
//! - Byte shuffle: byte `j` of element `i` moves to `j * n + i` (`n` elements). Bytes of a
//!   trailing partial element stay where they are.
//! - Bit shuffle: bit `b` of byte `j` of element `i` moves to bit row `8 * j + b`, position `i`
//!   (rows of `n / 8` bytes, least significant bit first). Only applied when `n` is a multiple
//!   of 8; otherwise the block is left as is. Trailing partial-element bytes stay in place.
//!
//! All four functions take `dst.len() == src.len()`.

pub fn shuffle(typesize: usize, src: &[u8], dst: &mut [u8]) {
    // Constant element sizes let the compiler unroll the common cases.
    match typesize {
        2 => shuffle_rows(2, src, dst),
        4 => shuffle_rows(4, src, dst),
        8 => shuffle_rows(8, src, dst),
        t => shuffle_rows(t, src, dst),
    }
}

pub fn unshuffle(typesize: usize, src: &[u8], dst: &mut [u8]) {
    match typesize {
        2 => unshuffle_rows(2, src, dst),
        4 => unshuffle_rows(4, src, dst),
        8 => unshuffle_rows(8, src, dst),
        t => unshuffle_rows(t, src, dst),
    }
}

#[inline(always)]
fn shuffle_rows(typesize: usize, src: &[u8], dst: &mut [u8]) {
    let n = src.len() / typesize;
    let body = n * typesize;
    if n > 0 {
        for (j, row) in dst[..body].chunks_exact_mut(n).enumerate() {
            for (d, element) in row.iter_mut().zip(src.chunks_exact(typesize)) {
                *d = element[j];
            }
        }
    }
    dst[body..].copy_from_slice(&src[body..]);
}

#[inline(always)]
fn unshuffle_rows(typesize: usize, src: &[u8], dst: &mut [u8]) {
    let n = src.len() / typesize;
    let body = n * typesize;
    if n > 0 {
        for (j, row) in src[..body].chunks_exact(n).enumerate() {
            for (element, s) in dst.chunks_exact_mut(typesize).zip(row) {
                element[j] = *s;
            }
        }
    }
    dst[body..].copy_from_slice(&src[body..]);
}

pub fn bitshuffle(typesize: usize, src: &[u8], dst: &mut [u8]) {
    let n = src.len() / typesize;
    if !n.is_multiple_of(8) {
        dst.copy_from_slice(src);
        return;
    }
    let body = n * typesize;
    let row_len = n / 8;
    // One group of 8 elements gives one byte to each of the 8 * typesize bit rows.
    for (k, group) in src[..body].chunks_exact(8 * typesize).enumerate() {
        for j in 0..typesize {
            let bytes: [u8; 8] = std::array::from_fn(|m| group[m * typesize + j]);
            let bits = transpose_bits(u64::from_le_bytes(bytes)).to_le_bytes();
            for (b, byte) in bits.into_iter().enumerate() {
                dst[(8 * j + b) * row_len + k] = byte;
            }
        }
    }
    dst[body..].copy_from_slice(&src[body..]);
}

pub fn bitunshuffle(typesize: usize, src: &[u8], dst: &mut [u8]) {
    let n = src.len() / typesize;
    if !n.is_multiple_of(8) {
        dst.copy_from_slice(src);
        return;
    }
    let body = n * typesize;
    let row_len = n / 8;
    for (k, group) in dst[..body].chunks_exact_mut(8 * typesize).enumerate() {
        for j in 0..typesize {
            let rows: [u8; 8] = std::array::from_fn(|b| src[(8 * j + b) * row_len + k]);
            let bytes = transpose_bits(u64::from_le_bytes(rows)).to_le_bytes();
            for (m, byte) in bytes.into_iter().enumerate() {
                group[m * typesize + j] = byte;
            }
        }
    }
    dst[body..].copy_from_slice(&src[body..]);
}

/// Transpose an 8×8 bit matrix held as byte `r`, bit `c` (bit `8r + c` of the word): afterwards
/// bit `c` of byte `r` holds what was bit `r` of byte `c`. Three rounds swap 1×1, 2×2 and 4×4
/// sub-blocks across the diagonal.
fn transpose_bits(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^ t ^ (t << 28)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s as u8
            })
            .collect()
    }

    /// The definitions in the module docs, bit by bit.
    fn naive_bitshuffle(typesize: usize, src: &[u8]) -> Vec<u8> {
        let n = src.len() / typesize;
        if !n.is_multiple_of(8) {
            return src.to_vec();
        }
        let mut dst = src.to_vec();
        dst[..n * typesize].fill(0);
        for i in 0..n {
            for j in 0..typesize {
                for b in 0..8 {
                    let bit = (src[i * typesize + j] >> b) & 1;
                    let row = 8 * j + b;
                    dst[row * (n / 8) + i / 8] |= bit << (i % 8);
                }
            }
        }
        dst
    }

    fn naive_shuffle(typesize: usize, src: &[u8]) -> Vec<u8> {
        let n = src.len() / typesize;
        let mut dst = src.to_vec();
        for i in 0..n {
            for j in 0..typesize {
                dst[j * n + i] = src[i * typesize + j];
            }
        }
        dst
    }

    const CASES: [(usize, usize); 10] = [
        (1, 0),
        (1, 64),
        (2, 7),
        (2, 256),
        (3, 100),
        (4, 4096 + 3),
        (4, 4 * 8 * 37),
        (8, 8 * 8 * 5 + 5),
        (16, 16 * 24),
        (7, 7 * 16 + 2),
    ];

    #[test]
    fn byte_shuffle_matches_definition_and_inverts() {
        for (typesize, len) in CASES {
            let src = bytes(len, len as u64);
            let mut shuffled = vec![0; len];
            shuffle(typesize, &src, &mut shuffled);
            assert_eq!(shuffled, naive_shuffle(typesize, &src), "{typesize} {len}");
            let mut back = vec![0; len];
            unshuffle(typesize, &shuffled, &mut back);
            assert_eq!(back, src, "{typesize} {len}");
        }
    }

    #[test]
    fn bit_shuffle_matches_definition_and_inverts() {
        for (typesize, len) in CASES {
            let src = bytes(len, 7 + len as u64);
            let mut shuffled = vec![0; len];
            bitshuffle(typesize, &src, &mut shuffled);
            assert_eq!(
                shuffled,
                naive_bitshuffle(typesize, &src),
                "{typesize} {len}"
            );
            let mut back = vec![0; len];
            bitunshuffle(typesize, &shuffled, &mut back);
            assert_eq!(back, src, "{typesize} {len}");
        }
    }

    #[test]
    fn transpose_moves_each_bit_across_the_diagonal() {
        for r in 0..8 {
            for c in 0..8 {
                assert_eq!(transpose_bits(1 << (8 * r + c)), 1 << (8 * c + r));
            }
        }
    }
}
