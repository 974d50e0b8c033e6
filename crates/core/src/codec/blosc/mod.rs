//! Blosc1 frames, as numcodecs' `Blosc` and zarr's `blosc` codec read and write them.
//!
//! Native builds use c-blosc ([`native`]); builds without it (WebAssembly) use the Rust
//! implementation ([`pure`]), which writes frames c-blosc reads and reads frames c-blosc writes.
//! The frame layout rules both follow live in `frame`.

mod blosclz;
mod frame;
mod inner;
#[cfg(feature = "native")]
pub mod native;
pub mod pure;

#[cfg(test)]
mod tests;

use crate::codec::{BloscCname, Shuffle};
use crate::Result;

/// Compress `input` into one Blosc1 frame. `clevel` is 0 to 9 (0 stores a plain copy),
/// `typesize` the element size shuffles work by, `blocksize` 0 to let blosc choose.
pub fn compress(
    input: &[u8],
    cname: BloscCname,
    clevel: u8,
    shuffle: Shuffle,
    typesize: usize,
    blocksize: usize,
) -> Result<Vec<u8>> {
    #[cfg(feature = "native")]
    {
        native::compress(input, cname, clevel, shuffle, typesize, blocksize)
    }
    #[cfg(not(feature = "native"))]
    {
        pure::compress(input, cname, clevel, shuffle, typesize, blocksize)
    }
}

/// Decompress one Blosc1 frame. Bytes after the frame's own length are ignored.
pub fn decompress(input: &[u8]) -> Result<Vec<u8>> {
    #[cfg(feature = "native")]
    {
        native::decompress(input)
    }
    #[cfg(not(feature = "native"))]
    {
        pure::decompress(input)
    }
}
