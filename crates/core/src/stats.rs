//! Value statistics of a buffer: the range packing needs and the figures `analyze` prints.

use serde::{Deserialize, Serialize};

use crate::{with_numeric, ArrayData};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Elements looked at.
    pub count: u64,
    /// NaN elements (floats only).
    pub nan: u64,
    /// Elements equal to one of the caller's missing values (`_FillValue`, `missing_value`).
    pub missing: u64,
    /// Smallest and largest valid value; `None` when there is none.
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Stats {
    fn empty() -> Stats {
        Stats {
            count: 0,
            nan: 0,
            missing: 0,
            min: None,
            max: None,
        }
    }

    /// Combine with the statistics of another part of the same variable.
    pub fn merge(&self, other: &Stats) -> Stats {
        let pick = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
            (Some(x), Some(y)) => Some(f(x, y)),
            (x, None) => x,
            (None, y) => y,
        };
        Stats {
            count: self.count + other.count,
            nan: self.nan + other.nan,
            missing: self.missing + other.missing,
            min: pick(self.min, other.min, f64::min),
            max: pick(self.max, other.max, f64::max),
        }
    }
}

/// Statistics of `data`, NaN and `missing` values excluded from the range. Text has none.
pub fn stats(data: &ArrayData, missing: &[f64]) -> Stats {
    const PART: usize = 1 << 20;
    with_numeric!(data, v => {
        let parts: Vec<&[_]> = v.chunks(PART).collect();
        crate::par_map(&parts, |part| {
            let mut s = Stats::empty();
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &x in part.iter() {
                #[allow(clippy::unnecessary_cast)]
                let x = x as f64;
                if x.is_nan() {
                    s.nan += 1;
                } else if missing.contains(&x) {
                    s.missing += 1;
                } else {
                    lo = lo.min(x);
                    hi = hi.max(x);
                }
            }
            s.count = part.len() as u64;
            if lo <= hi {
                s.min = Some(lo);
                s.max = Some(hi);
            }
            s
        })
        .iter()
        .fold(Stats::empty(), |acc, s| acc.merge(s))
    }, s => Stats { count: s.len() as u64, ..Stats::empty() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_nan_and_missing() {
        let d = ArrayData::Float32(vec![f32::NAN, -999.0, 3.0, -2.5, 10.0]);
        let s = stats(&d, &[-999.0]);
        assert_eq!((s.count, s.nan, s.missing), (5, 1, 1));
        assert_eq!((s.min, s.max), (Some(-2.5), Some(10.0)));
    }

    #[test]
    fn all_missing_has_no_range() {
        let s = stats(&ArrayData::Float64(vec![f64::NAN; 3]), &[]);
        assert_eq!((s.min, s.max, s.nan), (None, None, 3));
    }

    #[test]
    fn large_buffers_merge_parts() {
        let v: Vec<f64> = (0..(3 << 20)).map(|i| i as f64).collect();
        let s = stats(&ArrayData::Float64(v), &[]);
        assert_eq!((s.min, s.max), (Some(0.0), Some(((3 << 20) - 1) as f64)));
    }
}
