//! The core's error type. Each variant says what failed; callers add the file and variable.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

#[derive(Debug, Error)]
pub enum CoreError {
    /// The NetCDF file could not be opened or parsed (corrupt, truncated, not NetCDF).
    #[error("cannot read NetCDF: {0}")]
    Read(String),
    /// A variable or group named by the caller is not in the file.
    #[error("not found: {0}")]
    NotFound(String),
    /// A request that does not fit the data (shapes, ranges, dtypes).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A value fell outside a manual packing range and the policy is to refuse.
    #[error("packing range exceeded: {0}")]
    RangeExceeded(String),
    /// A codec failed to compress or decompress.
    #[error("codec error: {0}")]
    Codec(String),
    /// A feature zarrio does not implement (for example a blosc frame compressed with snappy).
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// The kind of a [`CoreError`], as it crosses to JavaScript: the TypeScript layer maps each kind
/// to its error class in one table (`ts/errors.ts`), which the compiler checks is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "CoreErrorKind")]
pub enum ErrorKind {
    Read,
    NotFound,
    Invalid,
    RangeExceeded,
    Codec,
    Unsupported,
}

impl ErrorKind {
    /// The name JavaScript sees (`read`, `not_found`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Read => "read",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Invalid => "invalid",
            ErrorKind::RangeExceeded => "range_exceeded",
            ErrorKind::Codec => "codec",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

impl CoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoreError::Read(_) => ErrorKind::Read,
            CoreError::NotFound(_) => ErrorKind::NotFound,
            CoreError::Invalid(_) => ErrorKind::Invalid,
            CoreError::RangeExceeded(_) => ErrorKind::RangeExceeded,
            CoreError::Codec(_) => ErrorKind::Codec,
            CoreError::Unsupported(_) => ErrorKind::Unsupported,
        }
    }
}

pub type Result<T> = std::result::Result<T, CoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_their_serde_names() {
        for k in [
            ErrorKind::Read,
            ErrorKind::NotFound,
            ErrorKind::Invalid,
            ErrorKind::RangeExceeded,
            ErrorKind::Codec,
            ErrorKind::Unsupported,
        ] {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
    }
}
