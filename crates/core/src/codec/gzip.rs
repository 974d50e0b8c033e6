//! gzip members (numcodecs `GZip`, zarr v3 `gzip`). The header carries no file name and a zero
//! modification time, so the same chunk always gives the same bytes.

use std::io::{Read, Write};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::{CoreError, Result};

/// `level` is 0 (stored) to 9.
pub fn compress(input: &[u8], level: u32) -> Result<Vec<u8>> {
    if level > 9 {
        return Err(CoreError::Codec(format!(
            "gzip level must be 0 to 9, got {level}"
        )));
    }
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(input.len() / 2 + 64),
        Compression::new(level),
    );
    encoder
        .write_all(input)
        .and_then(|()| encoder.finish())
        .map_err(|e| CoreError::Codec(format!("gzip: {e}")))
}

/// Concatenated members decode to the concatenation of their contents, as Python's `gzip`
/// (which numcodecs uses) reads them.
pub fn decompress(input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 4);
    MultiGzDecoder::new(input)
        .read_to_end(&mut out)
        .map_err(|e| CoreError::Codec(format!("corrupt gzip data: {e}")))?;
    Ok(out)
}

/// A zlib stream (HDF5's deflate filter), decoded into a buffer that grows with what it holds.
/// The output size is not known here: reserving for the worst case (1032:1) asks WebAssembly for
/// gigabytes per megabyte of input, which it cannot give and never gives back.
pub fn inflate_zlib(input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len().saturating_mul(4).max(4096));
    flate2::bufread::ZlibDecoder::new(input)
        .read_to_end(&mut out)
        .map_err(|e| CoreError::Codec(format!("corrupt deflate data: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * i / 13 % 256) as u8).collect()
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        for len in [0, 1, 777, 300_000] {
            let data = sample(len);
            for level in [0, 1, 5, 9] {
                let member = compress(&data, level).unwrap();
                assert_eq!(&member[..2], &[0x1f, 0x8b], "gzip magic");
                assert_eq!(&member[4..8], &[0, 0, 0, 0], "zero mtime");
                assert_eq!(compress(&data, level).unwrap(), member);
                assert_eq!(decompress(&member).unwrap(), data, "{len} {level}");
            }
        }
    }

    #[test]
    fn reads_concatenated_members() {
        let joined = [compress(b"abc", 5).unwrap(), compress(b"def", 1).unwrap()].concat();
        assert_eq!(decompress(&joined).unwrap(), b"abcdef");
    }

    #[test]
    fn bad_level_and_corrupt_input_are_errors() {
        assert!(compress(b"x", 10).is_err());
        let member = compress(&sample(5000), 6).unwrap();
        assert!(decompress(&member[..member.len() - 4]).is_err());
        assert!(decompress(b"plain text").is_err());
        let mut flipped = member.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        assert!(decompress(&flipped).is_err());
    }
}
