//! Records: the values of NetCDF-4 compound and opaque types, stored as fixed-size runs of bytes
//! ([`crate::DType::Record`]).
//!
//! A compound is stored with its fields in the type's order, each little-endian, with no padding
//! between them: the layout numpy gives a structured dtype built from its list of fields, which is
//! how Zarr v2 (`[["bin_num", "<u4"], ...]`) and zarr-python's v3 `structured` type describe it.
//! Files lay records out otherwise (HDF5 keeps the writer's offsets, padding and byte order;
//! netCDF-C hands them out in its in-memory layout), so each reader says where each field is and
//! the bytes are moved into the stored layout here, once. An opaque value is stored as its bytes.
//!
//! A compound whose fields are not all numbers (nested compounds, fixed-size arrays, characters,
//! strings) has no such layout here: readers leave it out of the model's records, and it is
//! refused by name like every other type zarrio cannot store.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{CoreError, DType, Result};

/// One field of a stored compound record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RecordField {
    pub name: String,
    /// A numeric type.
    #[ts(type = "NumericType")]
    pub dtype: DType,
}

/// The stored size of a compound of `fields`: the sum of the fields' sizes.
pub fn packed_size(fields: &[RecordField]) -> usize {
    fields.iter().map(|f| f.dtype.size()).sum()
}

/// Append one field's bytes to `out` little-endian (`bytes` in the source's byte order).
pub fn put_field(out: &mut Vec<u8>, bytes: &[u8], big_endian: bool) {
    if big_endian {
        out.extend(bytes.iter().rev());
    } else {
        out.extend_from_slice(bytes);
    }
}

/// Where one field of a source record is: its offset, its size and its byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldAt {
    pub offset: usize,
    pub size: usize,
    pub big_endian: bool,
}

/// How records laid out by a source (`size` bytes each, fields at [`FieldAt`]) become stored
/// records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repack {
    pub size: usize,
    /// In the stored order; empty for an opaque type (its bytes are kept as they are).
    pub fields: Vec<FieldAt>,
}

impl Repack {
    /// Stored records from `bytes`, whole source records back to back.
    pub fn apply(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        if self.size == 0 || !bytes.len().is_multiple_of(self.size) {
            return Err(CoreError::Read(format!(
                "{} bytes is not a whole number of {}-byte records",
                bytes.len(),
                self.size
            )));
        }
        if self.fields.is_empty() {
            return Ok(bytes.to_vec());
        }
        if let Some(f) = self.fields.iter().find(|f| f.offset + f.size > self.size) {
            return Err(CoreError::Read(format!(
                "a field at byte {} of {} bytes overruns a {}-byte record",
                f.offset, f.size, self.size
            )));
        }
        let stored: usize = self.fields.iter().map(|f| f.size).sum();
        let mut out = Vec::with_capacity(bytes.len() / self.size * stored);
        for record in bytes.chunks_exact(self.size) {
            for f in &self.fields {
                put_field(&mut out, &record[f.offset..f.offset + f.size], f.big_endian);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_dropped_and_byte_order_made_little() {
        // { u8 a; (3 bytes padding) u32 b (big-endian) } -> a, b little-endian in 5 bytes.
        let repack = Repack {
            size: 8,
            fields: vec![
                FieldAt {
                    offset: 0,
                    size: 1,
                    big_endian: false,
                },
                FieldAt {
                    offset: 4,
                    size: 4,
                    big_endian: true,
                },
            ],
        };
        let src = [
            7u8, 0xEE, 0xEE, 0xEE, 0, 0, 1, 2, 9, 0xEE, 0xEE, 0xEE, 0, 0, 0, 1,
        ];
        assert_eq!(
            repack.apply(&src).unwrap(),
            vec![7, 2, 1, 0, 0, 9, 1, 0, 0, 0]
        );
        assert!(repack.apply(&src[..7]).is_err());
    }

    #[test]
    fn opaque_kept_and_sizes() {
        let repack = Repack {
            size: 3,
            fields: vec![],
        };
        assert_eq!(
            repack.apply(&[1, 2, 3, 4, 5, 6]).unwrap(),
            vec![1, 2, 3, 4, 5, 6]
        );
        let fields = vec![
            RecordField {
                name: "a".into(),
                dtype: DType::Uint8,
            },
            RecordField {
                name: "b".into(),
                dtype: DType::Float64,
            },
        ];
        assert_eq!(packed_size(&fields), 9);
    }
}
