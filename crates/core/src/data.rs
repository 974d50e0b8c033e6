//! [`ArrayData`]: a typed, C-ordered buffer of elements. Typed vectors keep every element
//! aligned, so views as bytes are free and packing never reinterprets unaligned memory.

use crate::dtype::DType;

#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    Int8(Vec<i8>),
    Uint8(Vec<u8>),
    Int16(Vec<i16>),
    Uint16(Vec<u16>),
    Int32(Vec<i32>),
    Uint32(Vec<u32>),
    Int64(Vec<i64>),
    Uint64(Vec<u64>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    Str(Vec<String>),
    /// Records of `size` bytes each, back to back (see [`DType::Record`]).
    Record {
        size: u32,
        bytes: Vec<u8>,
    },
}

/// Apply `$body` to the typed vector inside an [`ArrayData`] of a numeric type, binding it to
/// `$v`; anything else (text, records) goes to `$other`, with the data bound to `$o`.
#[macro_export]
macro_rules! with_numeric {
    ($data:expr, $v:ident => $body:expr, $o:ident => $other:expr) => {
        match $data {
            $crate::ArrayData::Int8($v) => $body,
            $crate::ArrayData::Uint8($v) => $body,
            $crate::ArrayData::Int16($v) => $body,
            $crate::ArrayData::Uint16($v) => $body,
            $crate::ArrayData::Int32($v) => $body,
            $crate::ArrayData::Uint32($v) => $body,
            $crate::ArrayData::Int64($v) => $body,
            $crate::ArrayData::Uint64($v) => $body,
            $crate::ArrayData::Float32($v) => $body,
            $crate::ArrayData::Float64($v) => $body,
            $o @ ($crate::ArrayData::Str(_) | $crate::ArrayData::Record { .. }) => $other,
        }
    };
}

impl ArrayData {
    pub fn dtype(&self) -> DType {
        match self {
            ArrayData::Int8(_) => DType::Int8,
            ArrayData::Uint8(_) => DType::Uint8,
            ArrayData::Int16(_) => DType::Int16,
            ArrayData::Uint16(_) => DType::Uint16,
            ArrayData::Int32(_) => DType::Int32,
            ArrayData::Uint32(_) => DType::Uint32,
            ArrayData::Int64(_) => DType::Int64,
            ArrayData::Uint64(_) => DType::Uint64,
            ArrayData::Float32(_) => DType::Float32,
            ArrayData::Float64(_) => DType::Float64,
            ArrayData::Str(_) => DType::Str,
            ArrayData::Record { size, .. } => DType::Record(*size),
        }
    }

    pub fn len(&self) -> usize {
        with_numeric!(self, v => v.len(), o => match o {
            ArrayData::Str(s) => s.len(),
            ArrayData::Record { size, bytes } => bytes.len() / *size as usize,
            _ => unreachable!(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as little-endian bytes (all supported targets are little-endian), records
    /// as they are. `None` for text, which has no fixed-size layout.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        with_numeric!(self, v => Some(bytemuck::cast_slice(v.as_slice())), o => match o {
            ArrayData::Record { bytes, .. } => Some(bytes.as_slice()),
            _ => None,
        })
    }

    /// A 64-bit digest of the values and their type: equal data give equal digests within one
    /// build (unequal ones collide with odds of about 2^-64). Files of a series compare what
    /// they must share (coordinates, masks) by it instead of moving the values.
    pub fn digest(&self) -> u64 {
        use std::hash::{DefaultHasher, Hasher};
        let mut h = DefaultHasher::new();
        h.write(self.dtype().name().as_bytes());
        h.write_usize(self.len());
        match self {
            ArrayData::Str(v) => {
                for s in v {
                    h.write_usize(s.len());
                    h.write(s.as_bytes());
                }
            }
            other => h.write(other.as_bytes().unwrap_or_default()),
        }
        h.finish()
    }

    /// A buffer of `len` elements of `dtype`, each set to `fill` (converted with `as`); records
    /// are all zero bytes (their fill value in Zarr).
    pub fn filled(dtype: DType, len: usize, fill: f64) -> ArrayData {
        match dtype {
            DType::Int8 => ArrayData::Int8(vec![fill as i8; len]),
            DType::Uint8 => ArrayData::Uint8(vec![fill as u8; len]),
            DType::Int16 => ArrayData::Int16(vec![fill as i16; len]),
            DType::Uint16 => ArrayData::Uint16(vec![fill as u16; len]),
            DType::Int32 => ArrayData::Int32(vec![fill as i32; len]),
            DType::Uint32 => ArrayData::Uint32(vec![fill as u32; len]),
            DType::Int64 => ArrayData::Int64(vec![fill as i64; len]),
            DType::Uint64 => ArrayData::Uint64(vec![fill as u64; len]),
            DType::Float32 => ArrayData::Float32(vec![fill as f32; len]),
            DType::Float64 => ArrayData::Float64(vec![fill; len]),
            DType::Str => ArrayData::Str(vec![String::new(); len]),
            DType::Record(size) => ArrayData::Record {
                size,
                bytes: vec![0; len * size as usize],
            },
        }
    }

    /// Decode little-endian bytes of `dtype` into a typed buffer (one copy, alignment-safe).
    pub fn from_le_bytes(dtype: DType, bytes: &[u8]) -> crate::Result<ArrayData> {
        fn cast<T: bytemuck::Pod>(bytes: &[u8]) -> crate::Result<Vec<T>> {
            let size = std::mem::size_of::<T>();
            if !bytes.len().is_multiple_of(size) {
                return Err(crate::CoreError::Invalid(format!(
                    "{} bytes is not a whole number of {}-byte elements",
                    bytes.len(),
                    size
                )));
            }
            Ok(bytemuck::pod_collect_to_vec(bytes))
        }
        Ok(match dtype {
            DType::Int8 => ArrayData::Int8(cast(bytes)?),
            DType::Uint8 => ArrayData::Uint8(bytes.to_vec()),
            DType::Int16 => ArrayData::Int16(cast(bytes)?),
            DType::Uint16 => ArrayData::Uint16(cast(bytes)?),
            DType::Int32 => ArrayData::Int32(cast(bytes)?),
            DType::Uint32 => ArrayData::Uint32(cast(bytes)?),
            DType::Int64 => ArrayData::Int64(cast(bytes)?),
            DType::Uint64 => ArrayData::Uint64(cast(bytes)?),
            DType::Float32 => ArrayData::Float32(cast(bytes)?),
            DType::Float64 => ArrayData::Float64(cast(bytes)?),
            DType::Record(size) => {
                if !bytes.len().is_multiple_of(size as usize) {
                    return Err(crate::CoreError::Invalid(format!(
                        "{} bytes is not a whole number of {size}-byte records",
                        bytes.len()
                    )));
                }
                ArrayData::Record {
                    size,
                    bytes: bytes.to_vec(),
                }
            }
            DType::Str => {
                return Err(crate::CoreError::Invalid(
                    "text has no fixed-size byte layout".into(),
                ))
            }
        })
    }
}

/// An element as the f64 every comparison and CF formula is computed in.
pub(crate) trait AsF64: Copy {
    fn as_f64(self) -> f64;
}

macro_rules! as_f64 {
    ($($t:ty),*) => {
        $(impl AsF64 for $t {
            #[inline(always)]
            #[allow(clippy::unnecessary_cast)]
            fn as_f64(self) -> f64 {
                self as f64
            }
        })*
    };
}
as_f64!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

#[cfg(test)]
mod tests {
    use super::ArrayData;

    #[test]
    fn digests_tell_values_and_types_apart() {
        let lat = ArrayData::Float32(vec![10.0, 20.0, 30.0]);
        assert_eq!(lat.digest(), lat.clone().digest());
        assert_ne!(
            lat.digest(),
            ArrayData::Float32(vec![10.5, 20.0, 30.0]).digest()
        );
        // The same bytes as another type, or one element fewer, are other values.
        assert_ne!(
            ArrayData::Int32(vec![1]).digest(),
            ArrayData::Uint32(vec![1]).digest()
        );
        assert_ne!(
            ArrayData::Uint8(vec![0, 0]).digest(),
            ArrayData::Uint8(vec![0]).digest()
        );
        // Text: where one string ends matters.
        let a = ArrayData::Str(vec!["ab".into(), "c".into()]);
        let b = ArrayData::Str(vec!["a".into(), "bc".into()]);
        assert_ne!(a.digest(), b.digest());
    }
}
