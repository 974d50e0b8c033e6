//! The Blosc1 frame and c-blosc 1.21's rules for laying one out: the only place these live.
//!
//! A frame is a 16-byte header, then (unless the frame is a plain copy) a table of `u32` block
//! starts, then each block as one or more "splits", each a `u32` compressed size followed by
//! that many bytes. All integers are little-endian.
//!
//! ```text
//! 0        1          2      3         4..8     8..12      12..16
//! version  versionlz  flags  typesize  nbytes   blocksize  cbytes
//! ```
//!
//! Flags: bit 0 byte shuffle, bit 1 plain copy ("memcpyed": the input follows the header as
//! is), bit 2 bit shuffle, bit 3 reserved, bit 4 "don't split", bits 5-7 the inner codec.
//! A split whose compressed size equals its raw size is stored raw.

use crate::codec::{BloscCname, Shuffle};
use crate::{CoreError, Result};

pub const HEADER_LEN: usize = 16;
/// The only frame version c-blosc 1.x reads or writes.
const VERSION: u8 = 2;
/// Every inner codec's format version is 1 in c-blosc 1.x.
const VERSION_LZ: u8 = 1;
/// Inputs smaller than this are stored as a plain copy.
const MIN_BUFFERSIZE: usize = 128;
/// Blocks are split per byte of the element only for element sizes up to this.
const MAX_SPLITS: usize = 16;
/// c-blosc's assumed L1 cache size, the unit of its block sizes.
const L1: usize = 32 * 1024;
/// Larger element sizes are treated as 1, as c-blosc does.
const MAX_TYPESIZE: usize = 255;
/// Sizes are `int32` in the header, and a frame is at most its input plus the header.
const MAX_BUFFERSIZE: usize = i32::MAX as usize - HEADER_LEN;
const MAX_BLOCKSIZE: usize = (i32::MAX as usize - MAX_TYPESIZE * 4) / 3;

const BYTE_SHUFFLE: u8 = 0x01;
const MEMCPYED: u8 = 0x02;
const BIT_SHUFFLE: u8 = 0x04;
const RESERVED: u8 = 0x08;
const DONT_SPLIT: u8 = 0x10;
const FORMAT_SHIFT: u8 = 5;

/// The inner codec's stream format, as the header names it (lz4 and lz4hc share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Blosclz,
    Lz4,
    Zlib,
    Zstd,
}

impl Format {
    fn of(cname: BloscCname) -> Format {
        match cname {
            BloscCname::Blosclz => Format::Blosclz,
            BloscCname::Lz4 | BloscCname::Lz4hc => Format::Lz4,
            BloscCname::Zlib => Format::Zlib,
            BloscCname::Zstd => Format::Zstd,
        }
    }

    fn id(self) -> u8 {
        match self {
            Format::Blosclz => 0,
            Format::Lz4 => 1,
            Format::Zlib => 3,
            Format::Zstd => 4,
        }
    }
}

/// Compression arguments, checked and normalised the way c-blosc normalises them.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub cname: BloscCname,
    pub clevel: u8,
    pub shuffle: Shuffle,
    pub typesize: usize,
    /// Requested block size; 0 lets the rules below choose.
    pub blocksize: usize,
}

impl Settings {
    pub fn new(
        nbytes: usize,
        cname: BloscCname,
        clevel: u8,
        shuffle: Shuffle,
        typesize: usize,
        blocksize: usize,
    ) -> Result<Settings> {
        if clevel > 9 {
            return Err(CoreError::Codec(format!(
                "blosc clevel must be 0 to 9, got {clevel}"
            )));
        }
        if typesize == 0 {
            return Err(CoreError::Codec("blosc typesize must be at least 1".into()));
        }
        if nbytes > MAX_BUFFERSIZE {
            return Err(CoreError::Codec(format!(
                "blosc cannot compress {nbytes} bytes in one frame (limit {MAX_BUFFERSIZE})"
            )));
        }
        Ok(Settings {
            cname,
            clevel,
            shuffle,
            typesize: if typesize > MAX_TYPESIZE { 1 } else { typesize },
            // c-blosc takes the block size as an int32; anything larger means its maximum.
            blocksize: blocksize.min(MAX_BLOCKSIZE),
        })
    }
}

/// How a block's bytes are rearranged before the inner codec sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    None,
    Byte,
    Bit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    versionlz: u8,
    flags: u8,
    pub typesize: usize,
    pub nbytes: usize,
    pub blocksize: usize,
    pub cbytes: usize,
}

impl Header {
    /// The header c-blosc would write for `nbytes` of input, before it knows `cbytes`.
    pub fn for_compression(s: &Settings, nbytes: usize) -> Header {
        let blocksize = compute_blocksize(s, nbytes);
        let mut flags = Format::of(s.cname).id() << FORMAT_SHIFT;
        flags |= match s.shuffle {
            Shuffle::None => 0,
            Shuffle::Byte => BYTE_SHUFFLE,
            Shuffle::Bit => BIT_SHUFFLE,
        };
        if !splits_blocks(s.cname, s.typesize, blocksize) {
            flags |= DONT_SPLIT;
        }
        if s.clevel == 0 || nbytes < MIN_BUFFERSIZE {
            flags |= MEMCPYED;
        }
        Header {
            versionlz: VERSION_LZ,
            flags,
            typesize: s.typesize,
            nbytes,
            blocksize,
            cbytes: 0,
        }
    }

    /// Read and check a frame's header, so that walking the frame by it stays in bounds of
    /// `frame[..cbytes]`. Bytes after `cbytes` are ignored, as c-blosc ignores them.
    pub fn parse(frame: &[u8]) -> Result<Header> {
        if frame.len() < HEADER_LEN {
            return Err(corrupt(format!(
                "{} bytes is shorter than the 16-byte header",
                frame.len()
            )));
        }
        let int32 = |at: usize, what: &str| -> Result<usize> {
            let v = read_u32(frame, at).expect("header is 16 bytes");
            if v > i32::MAX as u32 {
                return Err(corrupt(format!("{what} {v} does not fit an int32")));
            }
            Ok(v as usize)
        };
        let header = Header {
            versionlz: frame[1],
            flags: frame[2],
            typesize: frame[3] as usize,
            nbytes: int32(4, "nbytes")?,
            blocksize: int32(8, "blocksize")?,
            cbytes: int32(12, "cbytes")?,
        };
        if frame[0] != VERSION {
            return Err(corrupt(format!(
                "format version {} (only version {VERSION}, Blosc1, is supported)",
                frame[0]
            )));
        }
        if header.cbytes < HEADER_LEN || header.cbytes > frame.len() {
            return Err(corrupt(format!(
                "header says the frame is {} bytes, {} are present",
                header.cbytes,
                frame.len()
            )));
        }
        if header.nbytes == 0 {
            return Ok(header);
        }
        if header.flags & RESERVED != 0 {
            return Err(corrupt("reserved flag bit 3 is set".into()));
        }
        if header.typesize == 0 {
            return Err(corrupt("typesize is 0".into()));
        }
        if header.blocksize == 0
            || header.blocksize > header.nbytes
            || header.blocksize > MAX_BLOCKSIZE
        {
            return Err(corrupt(format!(
                "blocksize {} for {} bytes",
                header.blocksize, header.nbytes
            )));
        }
        if header.memcpyed() {
            if header.cbytes != header.nbytes + HEADER_LEN {
                return Err(corrupt(format!(
                    "plain copy of {} bytes in a {}-byte frame",
                    header.nbytes, header.cbytes
                )));
            }
        } else {
            header.format()?;
            if header.versionlz != VERSION_LZ {
                return Err(corrupt(format!(
                    "inner codec format version {}",
                    header.versionlz
                )));
            }
            if header.block_data_start() > header.cbytes {
                return Err(corrupt(format!(
                    "{} block starts do not fit in {} bytes",
                    header.nblocks(),
                    header.cbytes
                )));
            }
        }
        Ok(header)
    }

    pub fn write(&self, out: &mut [u8]) {
        out[0] = VERSION;
        out[1] = self.versionlz;
        out[2] = self.flags;
        // Settings caps the typesize at 255.
        out[3] = self.typesize as u8;
        // Settings caps all sizes below i32::MAX.
        out[4..8].copy_from_slice(&(self.nbytes as u32).to_le_bytes());
        out[8..12].copy_from_slice(&(self.blocksize as u32).to_le_bytes());
        out[12..16].copy_from_slice(&(self.cbytes as u32).to_le_bytes());
    }

    pub fn memcpyed(&self) -> bool {
        self.flags & MEMCPYED != 0
    }

    /// Turn the frame into a plain copy: c-blosc's fallback when compression does not pay.
    pub fn set_memcpyed(&mut self) {
        self.flags |= MEMCPYED;
    }

    pub fn format(&self) -> Result<Format> {
        match self.flags >> FORMAT_SHIFT {
            0 => Ok(Format::Blosclz),
            1 => Ok(Format::Lz4),
            3 => Ok(Format::Zlib),
            4 => Ok(Format::Zstd),
            2 => Err(CoreError::Unsupported(
                "blosc frames compressed with snappy".into(),
            )),
            other => Err(corrupt(format!("unknown inner codec {other}"))),
        }
    }

    pub fn nblocks(&self) -> usize {
        self.nbytes.div_ceil(self.blocksize)
    }

    /// Where the block starts table ends and block data begins.
    pub fn block_data_start(&self) -> usize {
        HEADER_LEN + 4 * self.nblocks()
    }

    /// Into how many equal splits a block of `len` bytes is cut. The last block, when shorter
    /// than the others, is never split. Readers must also check the size conditions, as c-blosc
    /// wrote frames before the "don't split" flag existed.
    pub fn nsplits(&self, len: usize) -> usize {
        let whole = len == self.blocksize;
        if self.flags & DONT_SPLIT == 0
            && whole
            && self.typesize <= MAX_SPLITS
            && len / self.typesize >= MIN_BUFFERSIZE
        {
            self.typesize
        } else {
            1
        }
    }

    /// The filter applied to a block of `len` bytes (byte shuffle needs elements of 2 bytes or
    /// more, bit shuffle at least one whole element).
    pub fn filter(&self, len: usize) -> Filter {
        if self.flags & BYTE_SHUFFLE != 0 && self.typesize > 1 {
            Filter::Byte
        } else if self.flags & BIT_SHUFFLE != 0 && len >= self.typesize {
            Filter::Bit
        } else {
            Filter::None
        }
    }
}

/// c-blosc's block size: a multiple of the element size, larger for higher levels and for
/// codecs built for ratio, enlarged for codecs that split blocks, never above the input.
fn compute_blocksize(s: &Settings, nbytes: usize) -> usize {
    if nbytes < s.typesize {
        return 1;
    }
    let for_ratio = matches!(
        s.cname,
        BloscCname::Lz4hc | BloscCname::Zlib | BloscCname::Zstd
    );
    let mut blocksize = nbytes;
    if s.blocksize != 0 {
        blocksize = s.blocksize.clamp(MIN_BUFFERSIZE, MAX_BLOCKSIZE);
    } else if nbytes >= L1 {
        let base = if for_ratio { 2 * L1 } else { L1 };
        blocksize = match s.clevel {
            0 => base / 4,
            1 => base / 2,
            2 => base,
            3 => base * 2,
            4 | 5 => base * 4,
            6..=8 => base * 8,
            _ => base * if for_ratio { 16 } else { 8 },
        };
    }
    if s.clevel > 0 && splits_blocks(s.cname, s.typesize, blocksize) {
        // Each split stays between 64 KiB / typesize and 256 KiB, a block at most 1 MiB.
        blocksize = (blocksize.min(1 << 18) * s.typesize).clamp(1 << 16, 1 << 20);
    }
    blocksize = blocksize.min(nbytes);
    if blocksize > s.typesize {
        blocksize = blocksize / s.typesize * s.typesize;
    }
    blocksize
}

/// c-blosc's default ("forward compatible") split mode: split every codec but zstd, when each
/// split gets at least 128 elements.
fn splits_blocks(cname: BloscCname, typesize: usize, blocksize: usize) -> bool {
    cname != BloscCname::Zstd && typesize <= MAX_SPLITS && blocksize / typesize >= MIN_BUFFERSIZE
}

pub fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub fn corrupt(what: String) -> CoreError {
    CoreError::Codec(format!("corrupt blosc frame: {what}"))
}
