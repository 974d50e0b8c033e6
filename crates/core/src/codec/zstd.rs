//! Bare zstd frames (numcodecs `Zstd`, zarr v3 `zstd`). Frames record their content size, as
//! numcodecs writes them; frames without one (streaming writers) are read too.

use std::io::Read;

use crate::{CoreError, Result};

/// One frame. The crate's `compress` returns a vector with room for the worst case (about the
/// chunk's raw size), which an encoded chunk would keep until freed: the tail is given back
/// (shrunk in place, no copy).
pub fn compress(input: &[u8], level: i32) -> Result<Vec<u8>> {
    let mut out =
        zstd::bulk::compress(input, level).map_err(|e| CoreError::Codec(format!("zstd: {e}")))?;
    out.shrink_to_fit();
    Ok(out)
}

pub fn decompress(input: &[u8]) -> Result<Vec<u8>> {
    let corrupt = |e: std::io::Error| CoreError::Codec(format!("corrupt zstd data: {e}"));
    match zstd::zstd_safe::get_frame_content_size(input) {
        Ok(Some(size)) => {
            let size = usize::try_from(size)
                .map_err(|_| CoreError::Codec(format!("zstd frame of {size} bytes")))?;
            let mut out = vec![0u8; size];
            let written = zstd::bulk::decompress_to_buffer(input, &mut out[..]).map_err(corrupt)?;
            if written != size {
                return Err(CoreError::Codec(format!(
                    "corrupt zstd data: {written} bytes decoded, the frame says {size}"
                )));
            }
            Ok(out)
        }
        Ok(None) => {
            let mut out = Vec::new();
            zstd::stream::Decoder::new(input)
                .map_err(corrupt)?
                .read_to_end(&mut out)
                .map_err(corrupt)?;
            Ok(out)
        }
        Err(_) => Err(CoreError::Codec(
            "corrupt zstd data: no valid zstd frame header".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i / 7 % 251) as u8).collect()
    }

    #[test]
    fn round_trips_with_content_size() {
        for len in [0, 1, 1000, 1 << 20] {
            let data = sample(len);
            for level in [-5, 1, 3, 19] {
                let frame = compress(&data, level).unwrap();
                assert_eq!(
                    zstd::zstd_safe::get_frame_content_size(&frame).ok(),
                    Some(Some(len as u64))
                );
                assert_eq!(decompress(&frame).unwrap(), data, "{len} {level}");
            }
        }
        assert!(compress(&[7u8; 100_000], 3).unwrap().len() < 100);
    }

    #[test]
    fn reads_streamed_frames_without_content_size() {
        let data = sample(300_000);
        let mut encoder = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        encoder.write_all(&data).unwrap();
        let frame = encoder.finish().unwrap();
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&frame).ok(),
            Some(None)
        );
        assert_eq!(decompress(&frame).unwrap(), data);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let frame = compress(&sample(10_000), 3).unwrap();
        assert!(decompress(&[]).is_err());
        assert!(decompress(b"not zstd at all").is_err());
        assert!(decompress(&frame[..frame.len() - 3]).is_err());
        let mut bad_magic = frame.clone();
        bad_magic[0] ^= 0xFF;
        assert!(decompress(&bad_magic).is_err());
    }
}
