//! The shuffle pre-filters: blosc applies them to one block at a time, HDF5's shuffle filter
//! (the byte shuffle, filter 2) to a whole chunk. Both group equal-significance parts of the
//! elements together, so smooth data becomes long runs the inner codec compresses well.
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

/// The inverse of [`shuffle`]. Reading NetCDF-4 files runs it over every byte of every shuffled
/// variable, so the common element sizes (2, 4, 8) take a vector path where the target has one.
pub fn unshuffle(typesize: usize, src: &[u8], dst: &mut [u8]) {
    if typesize <= 1 {
        dst.copy_from_slice(src);
        return;
    }
    let n = src.len() / typesize;
    let from = vector::unshuffle(typesize, src, dst, n);
    match typesize {
        2 => unshuffle_rows(2, src, dst, from),
        4 => unshuffle_rows(4, src, dst, from),
        8 => unshuffle_rows(8, src, dst, from),
        t => unshuffle_rows(t, src, dst, from),
    }
}

/// Unshuffle elements `from..n` (the ones a vector path left) and the trailing bytes.
#[inline(always)]
fn unshuffle_rows(typesize: usize, src: &[u8], dst: &mut [u8], from: usize) {
    let n = src.len() / typesize;
    let body = n * typesize;
    if n > from {
        for (j, row) in src[..body].chunks_exact(n).enumerate() {
            for (element, s) in dst[from * typesize..body]
                .chunks_exact_mut(typesize)
                .zip(&row[from..])
            {
                element[j] = *s;
            }
        }
    }
    dst[body..].copy_from_slice(&src[body..]);
}

/// SSE2 (part of every x86-64 CPU): 16 elements at a time, the rows interleaved by unpacking
/// bytes, then pairs, then quads (for 8-byte elements).
#[cfg(target_arch = "x86_64")]
mod vector {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_storeu_si128, _mm_unpackhi_epi16, _mm_unpackhi_epi32,
        _mm_unpackhi_epi8, _mm_unpacklo_epi16, _mm_unpacklo_epi32, _mm_unpacklo_epi8,
    };

    /// Unshuffle the first elements of `src` (`n` of `typesize` bytes, rows of `n` bytes) into
    /// `dst`, 16 at a time; returns how many were done (0 for element sizes without a path).
    pub fn unshuffle(typesize: usize, src: &[u8], dst: &mut [u8], n: usize) -> usize {
        let blocks = n / 16;
        assert!(src.len() >= n * typesize && dst.len() >= n * typesize);
        let rows: [*const u8; 8] = std::array::from_fn(|j| {
            // Row `j` starts at `j * n`; rows past `typesize` are never read.
            src[(j * n).min(src.len())..].as_ptr()
        });
        let out = dst.as_mut_ptr();
        // SAFETY: every load reads 16 bytes of row j < typesize at offset i + 16 <= n, inside
        // src[j * n..(j + 1) * n]; every store writes 16 bytes at most typesize * (i + 16) <=
        // typesize * n bytes into dst; SSE2 is always there on x86-64.
        unsafe {
            let load = |j: usize, i: usize| _mm_loadu_si128(rows[j].add(i).cast::<__m128i>());
            let store = |at: usize, v: __m128i| _mm_storeu_si128(out.add(at).cast::<__m128i>(), v);
            match typesize {
                2 => {
                    for i in (0..blocks * 16).step_by(16) {
                        let (a, b) = (load(0, i), load(1, i));
                        store(2 * i, _mm_unpacklo_epi8(a, b));
                        store(2 * i + 16, _mm_unpackhi_epi8(a, b));
                    }
                }
                4 => {
                    for i in (0..blocks * 16).step_by(16) {
                        let (a, b, c, d) = (load(0, i), load(1, i), load(2, i), load(3, i));
                        let (ab_lo, ab_hi) = (_mm_unpacklo_epi8(a, b), _mm_unpackhi_epi8(a, b));
                        let (cd_lo, cd_hi) = (_mm_unpacklo_epi8(c, d), _mm_unpackhi_epi8(c, d));
                        store(4 * i, _mm_unpacklo_epi16(ab_lo, cd_lo));
                        store(4 * i + 16, _mm_unpackhi_epi16(ab_lo, cd_lo));
                        store(4 * i + 32, _mm_unpacklo_epi16(ab_hi, cd_hi));
                        store(4 * i + 48, _mm_unpackhi_epi16(ab_hi, cd_hi));
                    }
                }
                8 => {
                    for i in (0..blocks * 16).step_by(16) {
                        let r: [__m128i; 8] = std::array::from_fn(|j| load(j, i));
                        // Byte pairs (0 1), (2 3), (4 5), (6 7) of elements 0-7 and 8-15.
                        let p: [__m128i; 8] = std::array::from_fn(|k| {
                            let (x, y) = (r[2 * (k / 2)], r[2 * (k / 2) + 1]);
                            if k % 2 == 0 {
                                _mm_unpacklo_epi8(x, y)
                            } else {
                                _mm_unpackhi_epi8(x, y)
                            }
                        });
                        // Bytes 0-3 and 4-7 of elements 0-3, 4-7, 8-11, 12-15.
                        let q = |x: __m128i, y: __m128i| {
                            (_mm_unpacklo_epi16(x, y), _mm_unpackhi_epi16(x, y))
                        };
                        let (lo0, lo1) = q(p[0], p[2]);
                        let (lo2, lo3) = q(p[1], p[3]);
                        let (hi0, hi1) = q(p[4], p[6]);
                        let (hi2, hi3) = q(p[5], p[7]);
                        for (m, (lo, hi)) in [(lo0, hi0), (lo1, hi1), (lo2, hi2), (lo3, hi3)]
                            .into_iter()
                            .enumerate()
                        {
                            store(8 * i + 32 * m, _mm_unpacklo_epi32(lo, hi));
                            store(8 * i + 32 * m + 16, _mm_unpackhi_epi32(lo, hi));
                        }
                    }
                }
                _ => return 0,
            }
        }
        blocks * 16
    }
}

/// No vector path on this target: everything goes through the scalar loop.
#[cfg(not(target_arch = "x86_64"))]
mod vector {
    pub fn unshuffle(_typesize: usize, _src: &[u8], _dst: &mut [u8], _n: usize) -> usize {
        0
    }
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

    const CASES: [(usize, usize); 14] = [
        (2, 2 * 16 * 9 + 2 * 5 + 1),
        (4, 4 * 16 * 9 + 4 * 7 + 3),
        (8, 8 * 16 * 9 + 8 * 15 + 7),
        (8, 8 * 16),
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
