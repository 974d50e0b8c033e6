//! Files read by range from a host that holds them: the pure reader's storage when the core
//! cannot open the file itself (WebAssembly has no file system: the host reads a file
//! descriptor, a `Blob`, an object store). Memory then stays bounded by what is read at once, not
//! by the file's size: a file larger than WebAssembly's 4 GiB of memory converts.
//!
//! Parsing HDF5 metadata makes many small reads, and each one crosses to the host; they are
//! served from a small cache of blocks. Reads larger than a block (chunks of data) go straight to
//! the host and are not kept: each slab is read once.

use std::sync::{Arc, Mutex};

use netcdf_reader::{Storage, StorageBuffer};

use crate::Result;

/// A file's bytes, read by range. The host must return exactly `len` bytes from `offset`
/// (callers never read past [`ByteSource::size`]).
pub trait ByteSource: Send + Sync {
    /// The file's size in bytes.
    fn size(&self) -> u64;
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>>;
}

/// Reads up to this size go through the block cache.
const BLOCK: usize = 64 << 10;
/// Blocks kept (4 MiB per open file).
const BLOCKS: usize = 64;

pub(crate) struct RangeStorage {
    source: Box<dyn ByteSource>,
    /// Most recently used last.
    blocks: Mutex<Vec<(u64, Arc<[u8]>)>>,
}

impl RangeStorage {
    pub(crate) fn new(source: Box<dyn ByteSource>) -> RangeStorage {
        RangeStorage {
            source,
            blocks: Mutex::new(Vec::new()),
        }
    }

    fn read(&self, offset: u64, len: usize) -> hdf5_reader::error::Result<Vec<u8>> {
        let bytes = self
            .source
            .read_at(offset, len)
            .map_err(|e| hdf5_reader::error::Error::Other(e.to_string()))?;
        if bytes.len() != len {
            return Err(hdf5_reader::error::Error::Other(format!(
                "the host returned {} bytes for a read of {len} at {offset}",
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    fn block(&self, index: u64) -> hdf5_reader::error::Result<Arc<[u8]>> {
        let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = blocks.iter().position(|(i, _)| *i == index) {
            let hit = blocks.remove(at);
            let bytes = hit.1.clone();
            blocks.push(hit);
            return Ok(bytes);
        }
        let start = index * BLOCK as u64;
        let len = (self.source.size() - start).min(BLOCK as u64) as usize;
        let bytes: Arc<[u8]> = self.read(start, len)?.into();
        if blocks.len() == BLOCKS {
            blocks.remove(0);
        }
        blocks.push((index, bytes.clone()));
        Ok(bytes)
    }
}

impl Storage for RangeStorage {
    fn len(&self) -> u64 {
        self.source.size()
    }

    fn read_range(&self, offset: u64, len: usize) -> hdf5_reader::error::Result<StorageBuffer> {
        let end = offset
            .checked_add(len as u64)
            .filter(|&end| end <= self.source.size())
            .ok_or(hdf5_reader::error::Error::OffsetOutOfBounds(offset))?;
        if len == 0 {
            return Ok(StorageBuffer::from_vec(Vec::new()));
        }
        let (first, last) = (offset / BLOCK as u64, (end - 1) / BLOCK as u64);
        if len > BLOCK || first != last {
            return Ok(StorageBuffer::from_vec(self.read(offset, len)?));
        }
        let block = self.block(first)?;
        let at = (offset - first * BLOCK as u64) as usize;
        Ok(StorageBuffer::from_vec(block[at..at + len].to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counted(Vec<u8>, Arc<AtomicUsize>);

    impl ByteSource for Counted {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }
        fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
            self.1.fetch_add(1, Ordering::Relaxed);
            Ok(self.0[offset as usize..offset as usize + len].to_vec())
        }
    }

    #[test]
    fn small_reads_share_blocks_large_ones_go_straight() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let calls = Arc::new(AtomicUsize::new(0));
        let storage = RangeStorage::new(Box::new(Counted(data.clone(), calls.clone())));
        for (offset, len) in [
            (10u64, 8usize),
            (100, 50),
            (65_530, 10),
            (70_000, 8),
            (0, 200_000),
        ] {
            let got = storage.read_range(offset, len).unwrap();
            assert_eq!(got.as_ref(), &data[offset as usize..offset as usize + len]);
        }
        // Block 0 once, the read across blocks 0/1 straight, block 1 once, the large read straight.
        assert_eq!(calls.load(Ordering::Relaxed), 4);
        assert!(storage.read_range(299_999, 2).is_err());
        assert_eq!(
            storage.read_range(299_999, 1).unwrap().as_ref(),
            &data[299_999..]
        );
    }
}
