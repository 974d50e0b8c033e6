//! Blosc1 frames in Rust alone: the WebAssembly build's Blosc, and a second implementation the
//! native build checks c-blosc against. Frames follow c-blosc's layout rules ([`super::frame`])
//! so that c-blosc, numcodecs and zarr-python read them; the compressed bytes inside may differ
//! from c-blosc's where the inner codec is a different implementation (LZ4, zlib, BloscLZ).

use super::frame::{self, corrupt, Filter, Header, Settings, HEADER_LEN};
use super::inner::{Decoder, Encoder};
use crate::codec::shuffle;
use crate::codec::{BloscCname, Shuffle};
use crate::Result;

/// Same arguments and output format as [`super::compress`].
pub fn compress(
    input: &[u8],
    cname: BloscCname,
    clevel: u8,
    shuffle: Shuffle,
    typesize: usize,
    blocksize: usize,
) -> Result<Vec<u8>> {
    let settings = Settings::new(input.len(), cname, clevel, shuffle, typesize, blocksize)?;
    let mut header = Header::for_compression(&settings, input.len());
    let compressed = if header.memcpyed() {
        None
    } else {
        compress_blocks(input, &header, &settings)?
    };
    let mut out = compressed.unwrap_or_else(|| {
        header.set_memcpyed();
        let mut out = Vec::with_capacity(HEADER_LEN + input.len());
        out.resize(HEADER_LEN, 0);
        out.extend_from_slice(input);
        out
    });
    header.cbytes = out.len();
    header.write(&mut out[..HEADER_LEN]);
    Ok(out)
}

/// The header, block starts and blocks, or `None` when they would not be smaller than a plain
/// copy (c-blosc's limit: the input plus the header).
fn compress_blocks(input: &[u8], header: &Header, settings: &Settings) -> Result<Option<Vec<u8>>> {
    let max_len = input.len() + HEADER_LEN;
    let mut encoder = Encoder::new(settings.cname, settings.clevel)?;
    let mut out = Vec::with_capacity(max_len);
    out.resize(header.block_data_start(), 0);
    let mut filtered = vec![0u8; header.blocksize];
    for (j, block) in input.chunks(header.blocksize).enumerate() {
        let start = out.len() as u32;
        out[HEADER_LEN + 4 * j..][..4].copy_from_slice(&start.to_le_bytes());
        let filtered = &mut filtered[..block.len()];
        let src = match header.filter(block.len()) {
            Filter::None => block,
            Filter::Byte => {
                shuffle::shuffle(header.typesize, block, filtered);
                &*filtered
            }
            Filter::Bit => {
                shuffle::bitshuffle(header.typesize, block, filtered);
                &*filtered
            }
        };
        let split_len = block.len() / header.nsplits(block.len());
        for split in src.chunks(split_len) {
            let size_at = out.len();
            out.extend_from_slice(&[0; 4]);
            let Some(room) = max_len.checked_sub(out.len()).filter(|&room| room > 0) else {
                return Ok(None);
            };
            // A compressed split must be shorter than the raw one: equal sizes mean "raw".
            let limit = room.min(split.len() - 1);
            let size = if encoder.compress_append(split, &mut out, limit)? {
                out.len() - size_at - 4
            } else if split.len() <= room {
                out.extend_from_slice(split);
                split.len()
            } else {
                return Ok(None);
            };
            out[size_at..size_at + 4].copy_from_slice(&(size as u32).to_le_bytes());
        }
    }
    Ok(Some(out))
}

/// Decode any Blosc1 frame c-blosc 1.x writes (except snappy's), checking every offset and size
/// against the frame: corrupt input gives an error, never a panic or a read out of bounds.
pub fn decompress(input: &[u8]) -> Result<Vec<u8>> {
    let header = Header::parse(input)?;
    let frame = &input[..header.cbytes];
    if header.nbytes == 0 {
        return Ok(Vec::new());
    }
    if header.memcpyed() {
        return Ok(frame[HEADER_LEN..].to_vec());
    }
    let mut decoder = Decoder::new(header.format()?)?;
    let mut out = vec![0u8; header.nbytes];
    let mut filtered = Vec::new();
    for (j, block) in out.chunks_mut(header.blocksize).enumerate() {
        let start = frame::read_u32(frame, HEADER_LEN + 4 * j).expect("checked by Header::parse");
        let filter = header.filter(block.len());
        let target = if filter == Filter::None {
            &mut *block
        } else {
            filtered.resize(block.len(), 0);
            &mut filtered[..]
        };
        let nsplits = header.nsplits(target.len());
        if target.len() % nsplits != 0 {
            return Err(corrupt(format!(
                "a block of {} bytes cannot hold {nsplits} equal splits",
                target.len()
            )));
        }
        let mut pos = start as usize;
        for split in target.chunks_mut(target.len() / nsplits) {
            let size = frame::read_u32(frame, pos)
                .ok_or_else(|| corrupt(format!("block {j}: split size past the end")))?
                as usize;
            pos += 4;
            let data = frame.get(pos..pos.saturating_add(size)).ok_or_else(|| {
                corrupt(format!(
                    "block {j}: a split of {size} bytes runs past the end"
                ))
            })?;
            if size == split.len() {
                split.copy_from_slice(data);
            } else {
                decoder.decompress(data, split)?;
            }
            pos += size;
        }
        match filter {
            Filter::None => {}
            Filter::Byte => shuffle::unshuffle(header.typesize, &filtered, block),
            Filter::Bit => shuffle::bitunshuffle(header.typesize, &filtered, block),
        }
    }
    Ok(out)
}
