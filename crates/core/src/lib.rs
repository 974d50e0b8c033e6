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
pub mod gather;
pub mod grid;
pub mod netcdf;
pub mod pack;
pub mod record;
pub mod stats;
pub mod ts_types;

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

/// Call `f` on matching parts of `input` and `output` (`part` elements each, the last ones
/// shorter), on all cores when the build has threads; the results in order.
pub fn par_parts<A: Sync, B: Send, R: Send>(
    input: &[A],
    output: &mut [B],
    part: usize,
    f: impl Fn(&[A], &mut [B]) -> R + Sync + Send,
) -> Vec<R> {
    #[cfg(feature = "native")]
    {
        use rayon::prelude::*;
        input
            .par_chunks(part)
            .zip(output.par_chunks_mut(part))
            .map(|(a, b)| f(a, b))
            .collect()
    }
    #[cfg(not(feature = "native"))]
    {
        input
            .chunks(part)
            .zip(output.chunks_mut(part))
            .map(|(a, b)| f(a, b))
            .collect()
    }
}

/// Run `f` on one of the threads `par_map` uses, the caller waiting; inline where there are no
/// threads (wasm32) or when already on one. The bindings call into the core from their own
/// thread pools (libuv's, four threads or more); running each call's work here keeps the large
/// buffers it allocates on the few threads that do all the heavy work, so the allocator does
/// not keep a separate stock of freed megabytes for every thread that ever touched one.
pub fn on_workers<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    #[cfg(feature = "native")]
    {
        // From outside the pool, rayon runs the whole `join` on a worker thread.
        rayon::join(f, || ()).0
    }
    #[cfg(not(feature = "native"))]
    {
        f()
    }
}
