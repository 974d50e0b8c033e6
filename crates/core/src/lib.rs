//! zarrio-core: the byte-level engine behind zarrio.
//!
//! Data flows one way through this crate:
//! `netcdf` (read a hyperslab into an [`ArrayData`]) → `pack` (optional CF packing to integers)
//! → `grid` (split the region into the array's chunks) → `codec` (serialise and compress each
//! chunk). [`encode`] ties the last three together. Nothing here knows about files of the Zarr
//! store, Node or JavaScript: the bindings hand buffers in and take encoded chunks out.

pub mod api;
pub mod codec;
pub mod data;
pub mod dtype;
pub mod encode;
pub mod error;
pub mod grid;
pub mod netcdf;
pub mod pack;
pub mod stats;

pub use data::ArrayData;
pub use dtype::DType;
pub use error::{CoreError, Result};

/// Run `f` over `items` on all cores when the build has threads, sequentially otherwise (wasm32).
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "native")]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "native"))]
    {
        items.iter().map(f).collect()
    }
}
