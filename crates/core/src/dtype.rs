//! Element types: the one list of numeric types zarrio moves, with their Zarr spellings.

use serde::{Deserialize, Serialize};

/// A numeric element type. Text (NetCDF char arrays and strings) is [`DType::Str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    Int8,
    Uint8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Uint64,
    Float32,
    Float64,
    /// Variable-length UTF-8 text (NetCDF `string`, and `char` arrays collapsed along their
    /// last dimension).
    Str,
}

impl DType {
    /// Bytes per element; 0 for variable-length text.
    pub fn size(self) -> usize {
        match self {
            DType::Int8 | DType::Uint8 => 1,
            DType::Int16 | DType::Uint16 => 2,
            DType::Int32 | DType::Uint32 | DType::Float32 => 4,
            DType::Int64 | DType::Uint64 | DType::Float64 => 8,
            DType::Str => 0,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    pub fn is_integer(self) -> bool {
        !self.is_float() && self != DType::Str
    }

    /// Parse the lowercase names used in JSON specs ("float32", "int16", ...).
    pub fn parse(name: &str) -> Option<DType> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::Int8 => "int8",
            DType::Uint8 => "uint8",
            DType::Int16 => "int16",
            DType::Uint16 => "uint16",
            DType::Int32 => "int32",
            DType::Uint32 => "uint32",
            DType::Int64 => "int64",
            DType::Uint64 => "uint64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Str => "str",
        }
    }
}
