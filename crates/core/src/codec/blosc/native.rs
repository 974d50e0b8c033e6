//! c-blosc 1.21 (built from source by `blosc-src`): the native build's Blosc, the reference
//! implementation numcodecs itself wraps.
//!
//! Only the context API is used: it keeps no global state, so calls are safe from any number of
//! rayon threads. Each call uses one internal thread, which also makes the output deterministic
//! (with more, c-blosc writes blocks in completion order).

use std::ffi::{c_char, c_int, c_void, CStr};

// Links the static c-blosc library; its own bindings are not used.
use blosc_src as _;

use super::frame::{Header, Settings, HEADER_LEN};
use crate::codec::{BloscCname, Shuffle};
use crate::{CoreError, Result};

extern "C" {
    fn blosc_compress_ctx(
        clevel: c_int,
        doshuffle: c_int,
        typesize: usize,
        nbytes: usize,
        src: *const c_void,
        dest: *mut c_void,
        destsize: usize,
        compressor: *const c_char,
        blocksize: usize,
        numinternalthreads: c_int,
    ) -> c_int;

    fn blosc_decompress_ctx(
        src: *const c_void,
        dest: *mut c_void,
        destsize: usize,
        numinternalthreads: c_int,
    ) -> c_int;
}

/// Same arguments and output format as [`super::compress`].
pub fn compress(
    input: &[u8],
    cname: BloscCname,
    clevel: u8,
    shuffle: Shuffle,
    typesize: usize,
    blocksize: usize,
) -> Result<Vec<u8>> {
    let s = Settings::new(input.len(), cname, clevel, shuffle, typesize, blocksize)?;
    let compressor: &CStr = match s.cname {
        BloscCname::Blosclz => c"blosclz",
        BloscCname::Lz4 => c"lz4",
        BloscCname::Lz4hc => c"lz4hc",
        BloscCname::Zlib => c"zlib",
        BloscCname::Zstd => c"zstd",
    };
    let doshuffle = match s.shuffle {
        Shuffle::None => 0,
        Shuffle::Byte => 1,
        Shuffle::Bit => 2,
    };
    // With room for a plain copy, c-blosc always succeeds (it falls back to one). The room is
    // left uninitialised: zeroing it would touch every page of a buffer the frame mostly leaves
    // unused.
    let capacity = input.len() + HEADER_LEN;
    let mut out: Vec<u8> = Vec::with_capacity(capacity);
    // SAFETY: `input` is valid for its length and `out` for `capacity` bytes; c-blosc writes at
    // most `destsize` bytes and keeps no pointer after returning.
    let written = unsafe {
        blosc_compress_ctx(
            c_int::from(s.clevel),
            doshuffle,
            s.typesize,
            input.len(),
            input.as_ptr().cast(),
            out.as_mut_ptr().cast(),
            capacity,
            compressor.as_ptr(),
            s.blocksize,
            1,
        )
    };
    if written <= 0 || written as usize > capacity {
        return Err(CoreError::Codec(format!(
            "c-blosc failed to compress {} bytes (code {written})",
            input.len()
        )));
    }
    // SAFETY: c-blosc initialised the first `written` bytes (checked to be within capacity).
    unsafe { out.set_len(written as usize) };
    // Give back the untouched tail (glibc shrinks in place, without a copy).
    out.shrink_to_fit();
    Ok(out)
}

/// Decode a Blosc1 frame with c-blosc.
pub fn decompress(input: &[u8]) -> Result<Vec<u8>> {
    // c-blosc trusts the header's frame length: check it against the buffer first.
    let header = Header::parse(input)?;
    let mut out = vec![0u8; header.nbytes];
    // SAFETY: the frame's `cbytes` bytes are inside `input` (checked above), which is all
    // c-blosc reads; it writes at most `destsize` bytes into `out`.
    let written = unsafe {
        blosc_decompress_ctx(input.as_ptr().cast(), out.as_mut_ptr().cast(), out.len(), 1)
    };
    if written < 0 || written as usize != header.nbytes {
        return Err(CoreError::Codec(format!(
            "corrupt blosc frame: c-blosc could not decode it (code {written})"
        )));
    }
    Ok(out)
}
