//! The core's error type. Each variant says what failed; callers add the file and variable.

use thiserror::Error;

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

impl CoreError {
    /// A short stable name for the kind, used by the bindings to pick the JS error class.
    pub fn kind(&self) -> &'static str {
        match self {
            CoreError::Read(_) => "read",
            CoreError::NotFound(_) => "not_found",
            CoreError::Invalid(_) => "invalid",
            CoreError::RangeExceeded(_) => "range_exceeded",
            CoreError::Codec(_) => "codec",
            CoreError::Unsupported(_) => "unsupported",
        }
    }
}

pub type Result<T> = std::result::Result<T, CoreError>;
