//! The codecs inside a Blosc frame, one split at a time, as c-blosc calls them: zstd and zlib
//! frames, raw LZ4 blocks (no size prefix) and BloscLZ streams.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::blosclz;
use super::frame::Format;
use crate::codec::BloscCname;
use crate::{CoreError, Result};

pub enum Encoder {
    Blosclz {
        hash_log: u32,
    },
    /// lz4_flex needs room for its worst case, more than the limit allows, so it writes here.
    Lz4 {
        scratch: Vec<u8>,
    },
    Zlib(Compress),
    Zstd(zstd::bulk::Compressor<'static>),
}

impl Encoder {
    /// `clevel` is 1 to 9 (level 0 frames are plain copies).
    pub fn new(cname: BloscCname, clevel: u8) -> Result<Encoder> {
        Ok(match cname {
            // A smaller table at the lowest levels trades ratio for speed, as c-blosc does.
            BloscCname::Blosclz => Encoder::Blosclz {
                hash_log: match clevel {
                    1 => 12,
                    2 => 13,
                    _ => 14,
                },
            },
            // lz4_flex has one level; lz4hc's streams are plain LZ4, which every reader takes.
            BloscCname::Lz4 | BloscCname::Lz4hc => Encoder::Lz4 {
                scratch: Vec::new(),
            },
            BloscCname::Zlib => Encoder::Zlib(Compress::new(Compression::new(clevel.into()), true)),
            BloscCname::Zstd => {
                Encoder::Zstd(zstd::bulk::Compressor::new(zstd_level(clevel)).map_err(zstd_error)?)
            }
        })
    }

    /// Append `src` compressed to `out` if that takes at most `limit` bytes; otherwise leave
    /// `out` as it was and return false.
    pub fn compress_append(&mut self, src: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<bool> {
        let start = out.len();
        let written = match self {
            Encoder::Blosclz { hash_log } => {
                out.resize(start + limit, 0);
                blosclz::compress(src, &mut out[start..], *hash_log)
            }
            Encoder::Lz4 { scratch } => {
                scratch.resize(lz4_flex::block::get_maximum_output_size(src.len()), 0);
                let n = lz4_flex::block::compress_into(src, scratch)
                    .map_err(|e| CoreError::Codec(format!("lz4: {e}")))?;
                (n <= limit).then(|| {
                    out.extend_from_slice(&scratch[..n]);
                    n
                })
            }
            Encoder::Zlib(z) => {
                out.resize(start + limit, 0);
                z.reset();
                let status = z
                    .compress(src, &mut out[start..], FlushCompress::Finish)
                    .map_err(|e| CoreError::Codec(format!("zlib: {e}")))?;
                (status == Status::StreamEnd).then_some(z.total_out() as usize)
            }
            Encoder::Zstd(z) => {
                // zstd writes into the spare capacity, which is left uninitialised: zeroing
                // `limit` bytes per split cost a memset of the whole input.
                out.reserve(limit);
                let mut at = std::io::Cursor::new(&mut *out);
                at.set_position(start as u64);
                // An error here means the frame did not fit in the room reserved.
                match z.compress_to_buffer(src, &mut at) {
                    Ok(n) if n <= limit && out.len() == start + n => Some(n),
                    _ => None,
                }
            }
        };
        out.truncate(start + written.unwrap_or(0));
        Ok(written.is_some())
    }
}

/// c-blosc's zstd levels: clevel N is zstd level 2N - 1, and 9 is zstd's maximum.
fn zstd_level(clevel: u8) -> i32 {
    if clevel < 9 {
        2 * i32::from(clevel) - 1
    } else {
        zstd::zstd_safe::max_c_level()
    }
}

pub enum Decoder {
    Blosclz,
    Lz4,
    Zlib(Decompress),
    Zstd(zstd::bulk::Decompressor<'static>),
}

impl Decoder {
    pub fn new(format: Format) -> Result<Decoder> {
        Ok(match format {
            Format::Blosclz => Decoder::Blosclz,
            Format::Lz4 => Decoder::Lz4,
            Format::Zlib => Decoder::Zlib(Decompress::new(true)),
            Format::Zstd => Decoder::Zstd(zstd::bulk::Decompressor::new().map_err(zstd_error)?),
        })
    }

    /// Decompress `src` into `dst`, which it must fill exactly.
    pub fn decompress(&mut self, src: &[u8], dst: &mut [u8]) -> Result<()> {
        let expected = dst.len();
        let n = match self {
            Decoder::Blosclz => return blosclz::decompress(src, dst),
            Decoder::Lz4 => lz4_flex::block::decompress_into(src, dst)
                .map_err(|e| CoreError::Codec(format!("corrupt blosc frame: lz4: {e}")))?,
            Decoder::Zlib(z) => {
                z.reset(true);
                let status = z
                    .decompress(src, dst, FlushDecompress::Finish)
                    .map_err(|e| CoreError::Codec(format!("corrupt blosc frame: zlib: {e}")))?;
                if status != Status::StreamEnd {
                    return Err(CoreError::Codec(
                        "corrupt blosc frame: zlib stream does not end where the split does".into(),
                    ));
                }
                z.total_out() as usize
            }
            Decoder::Zstd(z) => z
                .decompress_to_buffer(src, dst)
                .map_err(|e| CoreError::Codec(format!("corrupt blosc frame: zstd: {e}")))?,
        };
        if n != expected {
            return Err(CoreError::Codec(format!(
                "corrupt blosc frame: a split decoded to {n} bytes, expected {expected}"
            )));
        }
        Ok(())
    }
}

fn zstd_error(e: std::io::Error) -> CoreError {
    CoreError::Codec(format!("zstd: {e}"))
}
