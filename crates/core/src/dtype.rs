//! Element types: the one list of types zarrio moves, with their names.

use serde::{Deserialize, Serialize};

/// An element type: a number, text (NetCDF char arrays and strings, [`DType::Str`]) or a
/// fixed-size record of bytes (NetCDF-4 compound and opaque types, [`DType::Record`]).
///
/// Names: the lowercase numeric names ("float32", "int16", ...), "str", and "record<N>" for a
/// record of N bytes ("record16").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
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
    /// A record of this many bytes, stored as they are: the fields of a compound packed in
    /// order, little-endian ([`crate::record`]), or an opaque value's bytes.
    Record(u32),
}

const NUMERIC: [(DType, &str); 10] = [
    (DType::Int8, "int8"),
    (DType::Uint8, "uint8"),
    (DType::Int16, "int16"),
    (DType::Uint16, "uint16"),
    (DType::Int32, "int32"),
    (DType::Uint32, "uint32"),
    (DType::Int64, "int64"),
    (DType::Uint64, "uint64"),
    (DType::Float32, "float32"),
    (DType::Float64, "float64"),
];

impl DType {
    /// Bytes per element; 0 for variable-length text.
    pub fn size(self) -> usize {
        match self {
            DType::Int8 | DType::Uint8 => 1,
            DType::Int16 | DType::Uint16 => 2,
            DType::Int32 | DType::Uint32 | DType::Float32 => 4,
            DType::Int64 | DType::Uint64 | DType::Float64 => 8,
            DType::Str => 0,
            DType::Record(n) => n as usize,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    pub fn is_integer(self) -> bool {
        !self.is_float() && self.is_numeric()
    }

    /// A number: not text, not a record.
    pub fn is_numeric(self) -> bool {
        !matches!(self, DType::Str | DType::Record(_))
    }

    /// Parse a name ("float32", "int16", "str", "record16").
    pub fn parse(name: &str) -> Option<DType> {
        if name == "str" {
            return Some(DType::Str);
        }
        if let Some(n) = name.strip_prefix("record") {
            return n.parse().ok().filter(|&n| n > 0).map(DType::Record);
        }
        NUMERIC.iter().find(|(_, n)| *n == name).map(|(d, _)| *d)
    }

    pub fn name(self) -> String {
        match self {
            DType::Str => "str".into(),
            DType::Record(n) => format!("record{n}"),
            numeric => NUMERIC
                .iter()
                .find(|(d, _)| *d == numeric)
                .map(|(_, n)| (*n).to_string())
                .expect("every numeric type is listed"),
        }
    }
}

impl From<DType> for String {
    fn from(d: DType) -> String {
        d.name()
    }
}

impl TryFrom<String> for DType {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<DType, String> {
        DType::parse(&s).ok_or_else(|| format!("unknown element type '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in NUMERIC
            .iter()
            .map(|(d, _)| *d)
            .chain([DType::Str, DType::Record(16)])
        {
            assert_eq!(DType::parse(&d.name()), Some(d));
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(serde_json::from_str::<DType>(&json).unwrap(), d);
        }
        assert_eq!(
            serde_json::to_string(&DType::Record(12)).unwrap(),
            "\"record12\""
        );
        assert_eq!(DType::parse("record0"), None);
        assert_eq!(DType::parse("float16"), None);
    }
}
