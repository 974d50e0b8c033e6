//! Chunk codecs: how one chunk's elements become the bytes stored under its key, and back.
//!
//! A chunk goes through two steps, the same in Zarr v2 and v3:
//! 1. array → bytes: numeric elements as little-endian bytes; text as `vlen-utf8` ([`vlen`]).
//! 2. bytes → bytes: an optional [`Compressor`] (blosc, zstd, gzip).
//!
//! [`shuffle`] is the byte and bit shuffle both blosc and HDF5's shuffle filter use.
//! [`sharding`] puts many encoded chunks in one stored object, with an index (Zarr v3).
//!
//! The Zarr metadata spelling of each codec lives in the TypeScript `ts/zarr/` layer; this module
//! only knows the byte formats.

pub mod blosc;
pub mod gzip;
pub mod sharding;
pub mod shuffle;
pub mod vlen;
pub mod zstd;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ArrayData, CoreError, DType, Result};

/// Blosc's inner compressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum BloscCname {
    Blosclz,
    Lz4,
    Lz4hc,
    Zlib,
    Zstd,
}

/// Blosc's pre-filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Shuffle {
    #[serde(alias = "noshuffle")]
    None,
    #[serde(alias = "shuffle")]
    Byte,
    #[serde(alias = "bitshuffle")]
    Bit,
}

/// A bytes → bytes compressor, as JSON: `{"id":"blosc","cname":"zstd","clevel":3,"shuffle":"byte"}`,
/// `{"id":"zstd","level":3}`, `{"id":"gzip","level":5}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "id", rename_all = "lowercase")]
pub enum Compressor {
    Blosc {
        cname: BloscCname,
        clevel: u8,
        shuffle: Shuffle,
        /// 0 lets blosc choose, as c-blosc does.
        #[serde(default)]
        blocksize: usize,
    },
    Zstd {
        level: i32,
    },
    Gzip {
        level: u32,
    },
}

impl Compressor {
    /// `typesize` is the element size blosc shuffles by (1 for text).
    pub fn compress(&self, input: &[u8], typesize: usize) -> Result<Vec<u8>> {
        match self {
            Compressor::Blosc {
                cname,
                clevel,
                shuffle,
                blocksize,
            } => blosc::compress(input, *cname, *clevel, *shuffle, typesize, *blocksize),
            Compressor::Zstd { level } => zstd::compress(input, *level),
            Compressor::Gzip { level } => gzip::compress(input, *level),
        }
    }

    pub fn decompress(&self, input: &[u8]) -> Result<Vec<u8>> {
        match self {
            Compressor::Blosc { .. } => blosc::decompress(input),
            Compressor::Zstd { .. } => zstd::decompress(input),
            Compressor::Gzip { .. } => gzip::decompress(input),
        }
    }
}

/// The full chunk pipeline of one array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, TS)]
pub struct Pipeline {
    #[serde(default)]
    pub compressor: Option<Compressor>,
}

impl Pipeline {
    /// Encode a whole chunk (all elements of the chunk's full shape, C order).
    pub fn encode(&self, chunk: &ArrayData) -> Result<Vec<u8>> {
        match chunk {
            ArrayData::Str(s) => self.encode_bytes(&vlen::encode(s), 1),
            other => self.encode_bytes(other.as_bytes().expect("numeric"), other.dtype().size()),
        }
    }

    /// Encode a chunk already laid out as little-endian elements of `typesize` bytes, straight
    /// from a borrowed buffer (no copy when the chunk is a contiguous run of a larger region).
    pub fn encode_bytes(&self, raw: &[u8], typesize: usize) -> Result<Vec<u8>> {
        match &self.compressor {
            Some(c) => c.compress(raw, typesize),
            None => Ok(raw.to_vec()),
        }
    }

    /// Decode a stored chunk of `len` elements of `dtype`.
    pub fn decode(&self, bytes: &[u8], dtype: DType, len: usize) -> Result<ArrayData> {
        let raw: std::borrow::Cow<[u8]> = match &self.compressor {
            Some(c) => std::borrow::Cow::Owned(c.decompress(bytes)?),
            None => std::borrow::Cow::Borrowed(bytes),
        };
        let data = match dtype {
            DType::Str => ArrayData::Str(vlen::decode(&raw)?),
            other => ArrayData::from_le_bytes(other, &raw)?,
        };
        if data.len() != len {
            return Err(CoreError::Codec(format!(
                "chunk holds {} elements, expected {}",
                data.len(),
                len
            )));
        }
        Ok(data)
    }
}
