//! One slab assembled from the parts of several reads: the time steps of consecutive files that
//! fill the same chunks, so each chunk is encoded and written once instead of once per file.
//!
//! Parts are placed by their origin inside the gathered box and must not overlap; the gathered
//! slab is handed out only once every element has been placed, so a planning mistake is an
//! error, never a chunk with uninitialised values.

use crate::grid::{copy_data, Block};
use crate::{ArrayData, CoreError, DType, Result};

pub struct Gather {
    data: ArrayData,
    shape: Vec<u64>,
    placed: u64,
}

impl Gather {
    /// An empty box of `shape` elements of `dtype` to place parts into.
    pub fn new(dtype: DType, shape: Vec<u64>) -> Gather {
        let len: u64 = shape.iter().product();
        Gather {
            data: ArrayData::filled(dtype, len as usize, 0.0),
            shape,
            placed: 0,
        }
    }

    /// Copy `part` (a C-ordered block of `part_shape`) into the box at `origin`.
    pub fn put(&mut self, part: &ArrayData, part_shape: &[u64], origin: &[u64]) -> Result<()> {
        if part.dtype() != self.data.dtype() {
            return Err(CoreError::Invalid(format!(
                "a part of type {} cannot join a slab of {}",
                part.dtype().name(),
                self.data.dtype().name()
            )));
        }
        let nd = self.shape.len();
        let fits = part_shape.len() == nd
            && origin.len() == nd
            && (0..nd).all(|d| origin[d] + part_shape[d] <= self.shape[d]);
        if !fits {
            return Err(CoreError::Invalid(format!(
                "a part of shape {part_shape:?} at {origin:?} does not fit in {:?}",
                self.shape
            )));
        }
        let whole = Block {
            origin: vec![0; nd],
            shape: self.shape.clone(),
        };
        let block = Block {
            origin: origin.to_vec(),
            shape: part_shape.to_vec(),
        };
        copy_data(part, &block, &mut self.data, &whole, &block)?;
        self.placed += block.len();
        Ok(())
    }

    /// The gathered values and their shape, once the parts cover the whole box.
    pub fn finish(self) -> Result<(ArrayData, Vec<u64>)> {
        let len: u64 = self.shape.iter().product();
        if self.placed != len {
            return Err(CoreError::Invalid(format!(
                "the parts placed cover {} of the {len} elements of {:?}",
                self.placed, self.shape
            )));
        }
        Ok((self.data, self.shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_parts_along_any_axis() {
        // Two 1×2×3 parts along axis 0, then two 2×1×3 parts along axis 1.
        let mut g = Gather::new(DType::Int16, vec![2, 2, 3]);
        g.put(&ArrayData::Int16((0..6).collect()), &[1, 2, 3], &[0, 0, 0])
            .unwrap();
        g.put(&ArrayData::Int16((6..12).collect()), &[1, 2, 3], &[1, 0, 0])
            .unwrap();
        let (data, shape) = g.finish().unwrap();
        assert_eq!(shape, vec![2, 2, 3]);
        assert_eq!(data, ArrayData::Int16((0..12).collect()));

        let mut g = Gather::new(DType::Int16, vec![2, 2, 3]);
        g.put(
            &ArrayData::Int16(vec![0, 1, 2, 6, 7, 8]),
            &[2, 1, 3],
            &[0, 0, 0],
        )
        .unwrap();
        g.put(
            &ArrayData::Int16(vec![3, 4, 5, 9, 10, 11]),
            &[2, 1, 3],
            &[0, 1, 0],
        )
        .unwrap();
        assert_eq!(g.finish().unwrap().0, ArrayData::Int16((0..12).collect()));
    }

    #[test]
    fn refuses_gaps_misfits_and_other_types() {
        let mut g = Gather::new(DType::Float32, vec![3, 2]);
        g.put(&ArrayData::Float32(vec![1.0; 2]), &[1, 2], &[0, 0])
            .unwrap();
        assert!(g
            .put(&ArrayData::Float32(vec![1.0; 4]), &[2, 2], &[2, 0])
            .is_err());
        assert!(g
            .put(&ArrayData::Float64(vec![1.0; 2]), &[1, 2], &[1, 0])
            .is_err());
        let err = g.finish().unwrap_err().to_string();
        assert!(err.contains("cover 2 of the 6"), "{err}");
    }
}
