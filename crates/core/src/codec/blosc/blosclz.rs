//! BloscLZ, c-blosc's own LZ77 codec (a FastLZ descendant), written from its stream format.
//!
//! A stream is a sequence of instructions, each starting with a control byte `ctrl`:
//! - `ctrl < 32`: a literal run; the next `ctrl + 1` bytes are copied.
//! - otherwise a match of `(ctrl >> 5) + 2` bytes (3 to 8). A length code of 7 continues in
//!   the following bytes: each is added, and a byte of 255 means another one follows. Then a
//!   byte `lo`: the match starts `((ctrl & 31) << 8 | lo) + 1` bytes back (1 to 8191), except
//!   when `ctrl & 31 == 31` and `lo == 255`, where two more bytes hold a big-endian `d` and the
//!   match starts `d + 8192` bytes back.
//!
//! The first byte of a stream is a literal run whose top three bits are a marker (c-blosc sets
//! bit 5) that readers ignore. c-blosc's reader needs the stream to end with a literal run.

use crate::{CoreError, Result};

const MAX_LITERAL_RUN: usize = 32;
const MAX_NEAR_OFFSET: usize = 8191;
const MAX_FAR_OFFSET: usize = MAX_NEAR_OFFSET + 1 + 0xFFFF;
/// Matches are found by hashing 4-byte sequences.
const MIN_MATCH: usize = 4;
/// A far match costs two more bytes; shorter ones don't beat literals by enough.
const MIN_FAR_MATCH: usize = 6;
const MARKER: u8 = 1 << 5;

/// Compress `src` into `dst`; `None` when the stream would not fit in `dst`.
///
/// Greedy matching over a hash table of `2^hash_log` recent positions; after a run of misses
/// the scan takes longer steps, so incompressible data costs little.
pub fn compress(src: &[u8], dst: &mut [u8], hash_log: u32) -> Option<usize> {
    debug_assert!(!src.is_empty(), "blosc never compresses an empty split");
    let mut out = Output { buf: dst, pos: 0 };
    let mut table = vec![0u32; 1 << hash_log];
    // Matches end before the last byte, so the stream ends with a literal run.
    let match_end = src.len().saturating_sub(1);
    let mut anchor = 0;
    let mut ip = 0;
    let mut misses = 0;
    while ip + MIN_MATCH <= match_end {
        let seq = read_u32(src, ip);
        let slot = (seq.wrapping_mul(2_654_435_761) >> (32 - hash_log)) as usize;
        // Positions are stored plus one so that 0 means empty.
        let candidate = table[slot] as usize;
        table[slot] = (ip + 1) as u32;
        if candidate != 0 {
            let candidate = candidate - 1;
            let offset = ip - candidate;
            if offset <= MAX_FAR_OFFSET && read_u32(src, candidate) == seq {
                let len =
                    MIN_MATCH + common_len(src, candidate + MIN_MATCH, ip + MIN_MATCH, match_end);
                if offset <= MAX_NEAR_OFFSET || len >= MIN_FAR_MATCH {
                    out.literals(&src[anchor..ip])?;
                    out.matched(len, offset)?;
                    ip += len;
                    anchor = ip;
                    misses = 0;
                    continue;
                }
            }
        }
        misses += 1;
        ip += 1 + (misses >> 6);
    }
    out.literals(&src[anchor..])?;
    out.buf[0] |= MARKER;
    Some(out.pos)
}

/// Decompress a whole stream into `dst`, which it must fill exactly.
pub fn decompress(src: &[u8], dst: &mut [u8]) -> Result<()> {
    let mut input = Input { src, pos: 0 };
    let mut ctrl = input.byte()? & 31;
    let mut op = 0;
    loop {
        if ctrl < 32 {
            let run = ctrl + 1;
            dst.get_mut(op..op + run)
                .ok_or_else(|| corrupt("output overflow"))?
                .copy_from_slice(input.take(run)?);
            op += run;
        } else {
            let mut len = (ctrl >> 5) + 2;
            if ctrl >> 5 == 7 {
                loop {
                    let more = input.byte()?;
                    len += more;
                    if more != 255 {
                        break;
                    }
                }
            }
            let lo = input.byte()?;
            let hi = ctrl & 31;
            let offset = if hi == 31 && lo == 255 {
                let far = input.take(2)?;
                ((far[0] as usize) << 8 | far[1] as usize) + MAX_NEAR_OFFSET + 1
            } else {
                (hi << 8 | lo) + 1
            };
            if offset > op {
                return Err(corrupt("match before the start"));
            }
            if op + len > dst.len() {
                return Err(corrupt("output overflow"));
            }
            copy_match(dst, op, offset, len);
            op += len;
        }
        if input.pos == src.len() {
            break;
        }
        ctrl = input.byte()?;
    }
    if op != dst.len() {
        return Err(corrupt(&format!(
            "{op} bytes decoded, expected {}",
            dst.len()
        )));
    }
    Ok(())
}

fn corrupt(what: &str) -> CoreError {
    CoreError::Codec(format!("corrupt blosclz stream: {what}"))
}

struct Input<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let bytes = self
            .src
            .get(self.pos..self.pos + n)
            .ok_or_else(|| corrupt("truncated"))?;
        self.pos += n;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<usize> {
        Ok(self.take(1)?[0] as usize)
    }
}

/// LZ77 copy of `len` bytes from `offset` back, overlap included: the source repeats with
/// period `offset`, so copies from the match start can double in size while staying aligned.
fn copy_match(dst: &mut [u8], op: usize, offset: usize, len: usize) {
    let start = op - offset;
    let mut copied = 0;
    while copied < len {
        let n = (len - copied).min(offset + copied);
        dst.copy_within(start..start + n, op + copied);
        copied += n;
    }
}

struct Output<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Output<'_> {
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        self.buf
            .get_mut(self.pos..self.pos + bytes.len())?
            .copy_from_slice(bytes);
        self.pos += bytes.len();
        Some(())
    }

    fn literals(&mut self, bytes: &[u8]) -> Option<()> {
        for run in bytes.chunks(MAX_LITERAL_RUN) {
            self.put(&[(run.len() - 1) as u8])?;
            self.put(run)?;
        }
        Some(())
    }

    fn matched(&mut self, len: usize, offset: usize) -> Option<()> {
        let code = len - 2;
        let biased = offset - 1;
        let (hi, lo) = if offset <= MAX_NEAR_OFFSET {
            (biased >> 8, biased & 255)
        } else {
            (31, 255)
        };
        if code < 7 {
            self.put(&[(code << 5 | hi) as u8])?;
        } else {
            self.put(&[(7 << 5 | hi) as u8])?;
            let mut rest = code - 7;
            while rest >= 255 {
                self.put(&[255])?;
                rest -= 255;
            }
            self.put(&[rest as u8])?;
        }
        self.put(&[lo as u8])?;
        if offset > MAX_NEAR_OFFSET {
            let far = (offset - MAX_NEAR_OFFSET - 1) as u16;
            self.put(&far.to_be_bytes())?;
        }
        Some(())
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// How many bytes from `a` and `b` (`a < b`) agree, not reading at or past `end`.
fn common_len(src: &[u8], a: usize, b: usize, end: usize) -> usize {
    let mut n = 0;
    while b + n + 8 <= end {
        let x = u64::from_le_bytes(src[a + n..a + n + 8].try_into().expect("8 bytes"))
            ^ u64::from_le_bytes(src[b + n..b + n + 8].try_into().expect("8 bytes"));
        if x != 0 {
            return n + (x.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while b + n < end && src[a + n] == src[b + n] {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(src: &[u8]) -> usize {
        let mut packed = vec![0; src.len() * 2 + 64];
        let n = compress(src, &mut packed, 14).expect("fits in twice the input");
        let mut back = vec![0; src.len()];
        decompress(&packed[..n], &mut back).unwrap();
        assert_eq!(back, src);
        n
    }

    #[test]
    fn round_trips_runs_near_and_far_matches() {
        assert_eq!(round_trip(&[42]), 2);
        round_trip(b"abcabcabcabcabcabcabcabcabcabcabcabcabcabc");
        // A long run: one long match with continuation bytes.
        let zeros = vec![0u8; 100_000];
        assert!(round_trip(&zeros) < 500);
        // A random block repeated 20 000 bytes later: far matches.
        let mut s = 1u32;
        let noise: Vec<u8> = (0..20_000)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (s >> 16) as u8
            })
            .collect();
        let twice = [noise.as_slice(), noise.as_slice()].concat();
        // Literals alone would take 41 250 bytes.
        let n = round_trip(&twice);
        assert!(n < 30_000, "far match not used: {n} bytes");
    }

    #[test]
    fn gives_up_when_output_is_too_small() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let mut small = vec![0; 100];
        assert_eq!(compress(&data, &mut small, 12), None);
    }

    #[test]
    fn hand_written_stream_decodes() {
        // Literal "ab" (with c-blosc's marker), match of 4 bytes at offset 2, literal "c".
        let stream = [MARKER | 1, b'a', b'b', 2 << 5, 1, 0, b'c'];
        let mut out = [0u8; 7];
        decompress(&stream, &mut out).unwrap();
        assert_eq!(&out, b"abababc");
    }

    #[test]
    fn corrupt_streams_are_errors() {
        let mut out = [0u8; 16];
        // Empty, truncated literal, match reaching before the start, too much output, too
        // little output.
        for stream in [
            &[][..],
            &[5, 1, 2],
            &[0, b'a', 3 << 5, 9, 0, b'x'],
            &[31; 40],
            &[0, b'a'],
        ] {
            assert!(decompress(stream, &mut out).is_err(), "{stream:?}");
        }
    }
}
