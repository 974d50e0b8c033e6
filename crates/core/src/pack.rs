//! CF packing: floats stored as 8/16/32-bit integers with `scale_factor` and `add_offset`.
//!
//! The formula, in one place:
//!
//! ```text
//!   packed   = round((value - add_offset) / scale_factor)      (f64 arithmetic, ties away from 0)
//!   unpacked = packed * scale_factor + add_offset               (what xarray / CF readers do)
//! ```
//!
//! For `bits` = n the integer range is [-2^(n-1), 2^(n-1) - 1]. The lowest value -2^(n-1) is
//! reserved for `_FillValue` (NaN, the source's fill/missing values, and out-of-range values under
//! the `Fill` policy go there); a real maximum therefore never reads back as missing. The range
//! [min, max] maps onto [-2^(n-1) + 1, 2^(n-1) - 1], which is symmetric around 0, so
//!
//! ```text
//!   scale_factor = (max - min) / (2^n - 2)
//!   add_offset   = (min + max) / 2
//! ```
//!
//! and every value in [min, max] unpacks to within `scale_factor / 2` of itself. When the
//! attributes are stored as float32 (8/16-bit packing of float32 data), the float32-rounded
//! scale and offset are the ones used to pack, so readers unpack with exactly the numbers we
//! packed with. Arithmetic is always f64 (float32 arithmetic breaks 32-bit packing).

use std::mem::MaybeUninit;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::data::AsF64;
use crate::{with_numeric, ArrayData, CoreError, DType, Result};

/// What to do with a value outside the packing range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, TS)]
#[serde(rename_all = "lowercase")]
pub enum OutOfRange {
    /// Refuse the whole write ([`CoreError::RangeExceeded`]), naming the first such value.
    #[default]
    Error,
    /// Store the nearest end of the range.
    Clip,
    /// Store `_FillValue` (reads back as missing).
    Fill,
}

/// Everything needed to pack and to describe the packing in CF attributes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct PackParams {
    pub bits: u8,
    pub scale_factor: f64,
    pub add_offset: f64,
    /// The integer `_FillValue` (always the lowest value of the type).
    pub fill: i64,
    /// The type `scale_factor`/`add_offset` are stored as (float32 or float64); it is also the
    /// type CF readers unpack to.
    pub attr_dtype: DType,
    /// The range the parameters were made for.
    pub min: f64,
    pub max: f64,
}

impl PackParams {
    /// Parameters mapping [min, max] onto `bits`-bit integers. `source` is the float type being
    /// packed: float32 data packed to 8 or 16 bits keeps float32 attributes, anything else uses
    /// float64 (a float32 scale cannot address 2^32 steps).
    pub fn for_range(min: f64, max: f64, bits: u8, source: DType) -> Result<PackParams> {
        if !matches!(bits, 8 | 16 | 32) {
            return Err(CoreError::Invalid(format!(
                "packing bits must be 8, 16 or 32, not {bits}"
            )));
        }
        if !min.is_finite() || !max.is_finite() || min > max {
            return Err(CoreError::Invalid(format!(
                "packing range [{min}, {max}] is not a finite, ordered range"
            )));
        }
        let attr_dtype = if source == DType::Float32 && bits < 32 {
            DType::Float32
        } else {
            DType::Float64
        };
        let (lo, hi) = packed_bounds(bits);
        let steps = (hi - lo) as f64;
        let mut scale = if max > min { (max - min) / steps } else { 1.0 };
        let mut offset = (min + max) / 2.0;
        if attr_dtype == DType::Float32 {
            scale = scale as f32 as f64;
            offset = offset as f32 as f64;
            // Rounding to float32 may move an end one step past the usable range: widen the
            // scale by one float32 ulp at a time until both ends fit.
            let fits = |s: f64| {
                ((max - offset) / s).round() <= hi as f64
                    && ((min - offset) / s).round() >= lo as f64
            };
            while !fits(scale) {
                scale = next_up_f32(scale as f32) as f64;
            }
        }
        Ok(PackParams {
            bits,
            scale_factor: scale,
            add_offset: offset,
            fill: lo - 1,
            attr_dtype,
            min,
            max,
        })
    }

    /// The parameters of values already packed (an archive's integers with `scale_factor`,
    /// `add_offset` and an integer `_FillValue`, written by zarrio or another tool), so that
    /// decoded data packs exactly as they were packed. Its range is what the integers can
    /// address, [-2^(n-1) + 1, 2^(n-1) - 1] steps about the offset; a fill inside that range (as
    /// other tools may keep it) is skipped by [`pack`] like any other value equal to `fill`.
    pub fn for_stored(stored: DType, scale: f64, offset: f64, fill: f64) -> Result<PackParams> {
        let bits = match stored {
            DType::Int8 => 8,
            DType::Int16 => 16,
            DType::Int32 => 32,
            other => {
                return Err(CoreError::Invalid(format!(
                    "packed values are int8, int16 or int32, not {}",
                    other.name()
                )))
            }
        };
        if !scale.is_finite() || scale == 0.0 || !offset.is_finite() {
            return Err(CoreError::Invalid(format!(
                "scale_factor {scale} and add_offset {offset} do not describe a packing"
            )));
        }
        if fill.fract() != 0.0 || !fill.is_finite() {
            return Err(CoreError::Invalid(format!(
                "packed to int{bits} with _FillValue {fill}, which is not an integer"
            )));
        }
        let (_, hi) = packed_bounds(bits);
        let reach = hi as f64 * scale.abs();
        Ok(PackParams {
            bits,
            scale_factor: scale,
            add_offset: offset,
            fill: fill as i64,
            attr_dtype: DType::Float64,
            min: offset - reach,
            max: offset + reach,
        })
    }

    /// The integer type the packed values are stored as.
    pub fn packed_dtype(&self) -> DType {
        match self.bits {
            8 => DType::Int8,
            16 => DType::Int16,
            _ => DType::Int32,
        }
    }

    /// The value a packed integer stands for.
    pub fn unpack_value(&self, packed: i64) -> f64 {
        packed as f64 * self.scale_factor + self.add_offset
    }
}

fn next_up_f32(v: f32) -> f32 {
    f32::from_bits(v.to_bits() + 1)
}

/// The usable packed range for `bits`: [-2^(n-1) + 1, 2^(n-1) - 1] (the lowest is the fill).
fn packed_bounds(bits: u8) -> (i64, i64) {
    let half = 1i64 << (bits - 1);
    (-half + 1, half - 1)
}

/// What happened while packing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct PackReport {
    /// Values stored as `_FillValue` because they were NaN or the source's missing values.
    pub missing: u64,
    /// Values outside the range (clipped or filled, per the policy).
    pub out_of_range: u64,
    /// The first out-of-range value seen, for messages.
    pub first_out_of_range: Option<f64>,
}

/// Pack float data. `missing` lists source values that mean "no data" (`_FillValue`,
/// `missing_value`); they and NaN become `params.fill`.
pub fn pack(
    data: &ArrayData,
    params: &PackParams,
    missing: &[f64],
    policy: OutOfRange,
) -> Result<(ArrayData, PackReport)> {
    match data {
        ArrayData::Float32(v) => pack_typed(v, params, missing, policy),
        ArrayData::Float64(v) => pack_typed(v, params, missing, policy),
        other => Err(CoreError::Invalid(format!(
            "only float data is packed, not {}",
            other.dtype().name()
        ))),
    }
}

fn pack_typed<F: Copy + Into<f64> + Send + Sync>(
    values: &[F],
    params: &PackParams,
    missing: &[f64],
    policy: OutOfRange,
) -> Result<(ArrayData, PackReport)> {
    Ok(match params.bits {
        8 => {
            let (v, r) = pack_into::<F, i8>(values, params, missing, policy)?;
            (ArrayData::Int8(v), r)
        }
        16 => {
            let (v, r) = pack_into::<F, i16>(values, params, missing, policy)?;
            (ArrayData::Int16(v), r)
        }
        _ => {
            let (v, r) = pack_into::<F, i32>(values, params, missing, policy)?;
            (ArrayData::Int32(v), r)
        }
    })
}

/// Pack straight into the stored integer type, in parts processed in parallel on native builds.
fn pack_into<F, T>(
    values: &[F],
    params: &PackParams,
    missing: &[f64],
    policy: OutOfRange,
) -> Result<(Vec<T>, PackReport)>
where
    F: Copy + Into<f64> + Send + Sync,
    T: Copy + Send + TryFrom<i64>,
{
    const PART: usize = 1 << 18;
    let mut out: Vec<T> = Vec::with_capacity(values.len());
    let parts = crate::par_parts(
        values,
        &mut out.spare_capacity_mut()[..values.len()],
        PART,
        |part, dst| pack_part::<F, T>(part, dst, params, missing, policy),
    );
    let mut report = PackReport::default();
    for part in parts {
        let r = part?;
        report.missing += r.missing;
        report.out_of_range += r.out_of_range;
        report.first_out_of_range = report.first_out_of_range.or(r.first_out_of_range);
    }
    // SAFETY: every part succeeded, and a part that succeeds writes each of its elements.
    unsafe { out.set_len(values.len()) };
    Ok((out, report))
}

/// `q.round()` (ties away from zero) as an integer when |q| < 2^62; `None` beyond, and for NaN.
/// The same number as `round` gives, without a call into libm per value: the fraction of a
/// double is exact, so comparing it with ±0.5 decides the tie exactly.
#[inline]
fn round_half_away(q: f64) -> Option<i64> {
    if q.is_nan() || q.abs() >= 4_611_686_018_427_387_904.0 {
        return None;
    }
    let t = q as i64;
    let frac = q - t as f64;
    Some(t + i64::from(frac >= 0.5) - i64::from(frac <= -0.5))
}

/// Pack `values` into `out` (the same length). On success every element of `out` is written.
fn pack_part<F, T>(
    values: &[F],
    out: &mut [MaybeUninit<T>],
    params: &PackParams,
    missing: &[f64],
    policy: OutOfRange,
) -> Result<PackReport>
where
    F: Copy + Into<f64>,
    T: Copy + TryFrom<i64>,
{
    let (mut lo, mut hi) = packed_bounds(params.bits);
    // Parameters read back from an archive another tool packed may keep a fill value inside the
    // usable range (ERA5's -32767): no real value is ever stored as it.
    if params.fill == lo {
        lo += 1;
    } else if params.fill == hi {
        hi -= 1;
    }
    // Every value written below lies in [fill, hi] or [lo, hi], which fit T by construction.
    let cast = |p: i64| T::try_from(p).unwrap_or_else(|_| unreachable!("{p} fits by construction"));
    let fill = cast(params.fill);
    let (offset, scale) = (params.add_offset, params.scale_factor);
    let mut report = PackReport::default();
    for (o, &x) in out.iter_mut().zip(values) {
        let x: f64 = x.into();
        if x.is_nan() || missing.contains(&x) {
            report.missing += 1;
            o.write(fill);
            continue;
        }
        let q = (x - offset) / scale;
        match round_half_away(q) {
            Some(p) if (lo..=hi).contains(&p) && p != params.fill => {
                o.write(cast(p));
            }
            _ => {
                report.out_of_range += 1;
                report.first_out_of_range.get_or_insert(x);
                o.write(match policy {
                    OutOfRange::Error => {
                        return Err(CoreError::RangeExceeded(format!(
                            "value {x} is outside the packing range [{}, {}] ({}-bit)",
                            params.min, params.max, params.bits
                        )))
                    }
                    OutOfRange::Clip => cast(if q < 0.0 { lo } else { hi }),
                    OutOfRange::Fill => fill,
                });
            }
        }
    }
    Ok(report)
}

/// How a source stores a variable under CF, as xarray decodes it: stored values equal to one of
/// `missing` (`_FillValue`, `missing_value`) are missing; the others stand for
/// `stored * scale_factor + add_offset`, computed in `dtype` (float32 or float64) step by step
/// as numpy does (each step rounded to `dtype`), so decoded values are bit for bit xarray's.
/// Integers without missing markers or scaling are not decoded by xarray: they may only be
/// widened to an integer `dtype` that holds every one of them (int16 and int32 files of one
/// series give an int32 array, as numpy's concatenation does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Decoding {
    #[serde(default)]
    pub missing: Vec<f64>,
    pub scale_factor: Option<f64>,
    pub add_offset: Option<f64>,
    /// The type the values decode to: float32 or float64, or a wider integer type for integers
    /// without missing markers or scaling.
    pub dtype: DType,
    /// What a missing value becomes: NaN when `None`, else this number (an archive whose
    /// `_FillValue` is a number, such as -9999).
    pub fill: Option<f64>,
    /// The float type each step is computed in when narrower than `dtype`: a file xarray
    /// decodes to float32 (16-bit integers, float32 `scale_factor`) joined into a float64
    /// archive is decoded in float32 and widened, as xarray's concatenation widens it.
    #[serde(default)]
    pub via: Option<DType>,
}

/// Decode stored values into floats ([`Decoding`]): the one place where a file's own packing
/// and missing markers are undone, so that files encoded differently can share one archive.
pub fn decode(data: &ArrayData, d: &Decoding) -> Result<ArrayData> {
    match d.dtype {
        to if to.is_integer() => {
            if !d.missing.is_empty() || d.scale_factor.is_some() || d.add_offset.is_some() {
                return Err(CoreError::Invalid(format!(
                    "values with missing markers or scaling decode to floats, not {}",
                    to.name()
                )));
            }
            widen(data, to)
        }
        DType::Float32 => {
            with_numeric!(data, v => Ok(ArrayData::Float32(decode_into(v, d, |x: f64| x as f32))),
            o => Err(CoreError::Invalid(format!("{} has no CF decoding", o.dtype().name()))))
        }
        DType::Float64 if d.via == Some(DType::Float32) => {
            with_numeric!(data, v => Ok(ArrayData::Float64(decode_into(v, d, |x: f64| f64::from(x as f32)))),
            o => Err(CoreError::Invalid(format!("{} has no CF decoding", o.dtype().name()))))
        }
        DType::Float64 => {
            with_numeric!(data, v => Ok(ArrayData::Float64(decode_into(v, d, |x: f64| x))),
            o => Err(CoreError::Invalid(format!("{} has no CF decoding", o.dtype().name()))))
        }
        other => Err(CoreError::Invalid(format!(
            "values decode to float32 or float64, not {}",
            other.name()
        ))),
    }
}

/// Integers as the wider integer type `to`; a value `to` cannot hold is an error, never wrapped.
fn widen(data: &ArrayData, to: DType) -> Result<ArrayData> {
    fn each<T: Copy + Into<i128>>(v: &[T]) -> Box<dyn Iterator<Item = i128> + '_> {
        Box::new(v.iter().map(|&x| x.into()))
    }
    let values = match data {
        ArrayData::Int8(v) => each(v),
        ArrayData::Uint8(v) => each(v),
        ArrayData::Int16(v) => each(v),
        ArrayData::Uint16(v) => each(v),
        ArrayData::Int32(v) => each(v),
        ArrayData::Uint32(v) => each(v),
        ArrayData::Int64(v) => each(v),
        ArrayData::Uint64(v) => each(v),
        other => {
            return Err(CoreError::Invalid(format!(
                "{} values cannot be widened to {}",
                other.dtype().name(),
                to.name()
            )))
        }
    };
    macro_rules! into {
        ($variant:ident, $t:ty) => {
            ArrayData::$variant(
                values
                    .map(|x| {
                        <$t>::try_from(x).map_err(|_| {
                            CoreError::Invalid(format!("{x} does not fit in {}", to.name()))
                        })
                    })
                    .collect::<Result<Vec<$t>>>()?,
            )
        };
    }
    Ok(match to {
        DType::Int8 => into!(Int8, i8),
        DType::Uint8 => into!(Uint8, u8),
        DType::Int16 => into!(Int16, i16),
        DType::Uint16 => into!(Uint16, u16),
        DType::Int32 => into!(Int32, i32),
        DType::Uint32 => into!(Uint32, u32),
        DType::Int64 => into!(Int64, i64),
        DType::Uint64 => into!(Uint64, u64),
        other => return Err(CoreError::Invalid(format!("{} is not an integer type", other.name()))),
    })
}

/// Decode into `F` (f32 or f64); `round` rounds an f64 to `F`. For f32, an f64 operation
/// rounded to f32 equals numpy's float32 operation (double rounding is harmless for one `*` or
/// `+` of floats from a 24-bit mantissa).
fn decode_into<T: AsF64 + Sync, F: Copy + Send + Sync + Into<f64>>(
    values: &[T],
    d: &Decoding,
    round: impl Fn(f64) -> F + Sync + Send,
) -> Vec<F> {
    const PART: usize = 1 << 18;
    let fill = round(d.fill.unwrap_or(f64::NAN));
    let mut out: Vec<F> = Vec::with_capacity(values.len());
    crate::par_parts(
        values,
        &mut out.spare_capacity_mut()[..values.len()],
        PART,
        |part, dst| {
            for (o, &x) in dst.iter_mut().zip(part) {
                let x = x.as_f64();
                if x.is_nan() || d.missing.contains(&x) {
                    o.write(fill);
                    continue;
                }
                let mut y = round(x);
                if let Some(s) = d.scale_factor {
                    y = round(y.into() * s);
                }
                if let Some(a) = d.add_offset {
                    y = round(y.into() + a);
                }
                o.write(y);
            }
        },
    );
    // SAFETY: every part writes each of its elements.
    unsafe { out.set_len(values.len()) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(min: f64, max: f64, bits: u8, source: DType, values: &[f64]) {
        let p = PackParams::for_range(min, max, bits, source).unwrap();
        let data = ArrayData::Float64(values.to_vec());
        let (packed, report) = pack(&data, &p, &[], OutOfRange::Error).unwrap();
        assert_eq!(report.out_of_range, 0);
        let ints: Vec<i64> = match packed {
            ArrayData::Int8(v) => v.into_iter().map(i64::from).collect(),
            ArrayData::Int16(v) => v.into_iter().map(i64::from).collect(),
            ArrayData::Int32(v) => v.into_iter().map(i64::from).collect(),
            _ => unreachable!(),
        };
        for (&x, &q) in values.iter().zip(&ints) {
            assert_ne!(q, p.fill, "{x} must not become the fill value");
            // Unpack the way a float32 reader would when attributes are float32.
            let back = if p.attr_dtype == DType::Float32 {
                (q as f32 * p.scale_factor as f32 + p.add_offset as f32) as f64
            } else {
                p.unpack_value(q)
            };
            let tol = p.scale_factor / 2.0 + x.abs() * f32::EPSILON as f64 * 2.0;
            assert!((back - x).abs() <= tol, "{x} -> {q} -> {back} (tol {tol})");
        }
    }

    #[test]
    fn stored_packing_packs_as_it_was_packed() {
        // Parameters made for a range, read back from what an archive stores, pack alike.
        let made = PackParams::for_range(-5.0, 40.0, 16, DType::Float64).unwrap();
        let stored = PackParams::for_stored(
            DType::Int16,
            made.scale_factor,
            made.add_offset,
            made.fill as f64,
        )
        .unwrap();
        assert_eq!(stored.fill, made.fill);
        assert!((stored.min - made.min).abs() < made.scale_factor);
        assert!((stored.max - made.max).abs() < made.scale_factor);
        let data = ArrayData::Float64(vec![-5.0, 0.0, 12.345, 40.0, f64::NAN]);
        let (a, _) = pack(&data, &made, &[], OutOfRange::Error).unwrap();
        let (b, _) = pack(&data, &stored, &[], OutOfRange::Error).unwrap();
        assert_eq!(a, b);
        // A negative scale (another tool's) still reaches both ways.
        let neg = PackParams::for_stored(DType::Int8, -0.5, 10.0, -128.0).unwrap();
        assert_eq!((neg.min, neg.max), (10.0 - 63.5, 10.0 + 63.5));
        assert!(PackParams::for_stored(DType::Float32, 1.0, 0.0, 0.0).is_err());
        assert!(PackParams::for_stored(DType::Int16, 1.0, 0.0, 0.5).is_err());
        assert!(PackParams::for_stored(DType::Int16, 0.0, 0.0, -32768.0).is_err());
    }

    #[test]
    fn ends_and_middle_survive_every_width() {
        for bits in [8, 16, 32] {
            let vals: Vec<f64> = (0..=1000).map(|i| -50.0 + i as f64 * 0.1).collect();
            roundtrip(-50.0, 50.0, bits, DType::Float64, &vals);
            roundtrip(-50.0, 50.0, bits, DType::Float32, &vals);
        }
    }

    #[test]
    fn rounding_is_round_half_away_from_zero() {
        let mut qs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
        ];
        qs.extend([
            -0.49999999999999994,
            32766.5,
            -32767.5,
            4503599627370495.5,
            1e18,
            -1e18,
        ]);
        qs.extend((0..10_000).map(|i| (i as f64 - 5000.0) * 0.137 + 0.5));
        for q in qs {
            assert_eq!(round_half_away(q), Some(q.round() as i64), "{q}");
        }
        for q in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e19, -1e19] {
            assert_eq!(round_half_away(q), None, "{q}");
        }
    }

    #[test]
    fn step_matches_reference_tool_for_16_bits() {
        let p = PackParams::for_range(-50.0, 50.0, 16, DType::Float64).unwrap();
        assert!((p.scale_factor - 100.0 / 65534.0).abs() < 1e-15);
        assert_eq!(p.fill, -32768);
    }

    #[test]
    fn thirty_two_bits_is_precise() {
        let p = PackParams::for_range(0.0, 1.0e6, 32, DType::Float32).unwrap();
        assert_eq!(p.attr_dtype, DType::Float64);
        assert!(p.scale_factor < 2.4e-4);
        roundtrip(
            0.0,
            1.0e6,
            32,
            DType::Float32,
            &[0.0, 0.5, 123456.789, 999999.999, 1.0e6],
        );
    }

    #[test]
    fn constant_data_packs_exactly() {
        roundtrip(7.25, 7.25, 16, DType::Float64, &[7.25, 7.25]);
    }

    #[test]
    fn nan_and_missing_become_fill() {
        let p = PackParams::for_range(0.0, 10.0, 8, DType::Float32).unwrap();
        let data = ArrayData::Float32(vec![f32::NAN, 1e20, 5.0]);
        let (packed, report) = pack(&data, &p, &[1e20f32 as f64], OutOfRange::Error).unwrap();
        assert_eq!(report.missing, 2);
        match packed {
            ArrayData::Int8(v) => {
                assert_eq!(v[0], -128);
                assert_eq!(v[1], -128);
                assert_ne!(v[2], -128);
            }
            _ => panic!("int8 expected"),
        }
    }

    #[test]
    fn out_of_range_never_wraps() {
        let p = PackParams::for_range(-50.0, 50.0, 16, DType::Float64).unwrap();
        let data = ArrayData::Float64(vec![51.0, -60.0, 0.0]);
        let err = pack(&data, &p, &[], OutOfRange::Error).unwrap_err();
        assert!(matches!(err, CoreError::RangeExceeded(ref m) if m.contains("51")));
        let (clipped, report) = pack(&data, &p, &[], OutOfRange::Clip).unwrap();
        assert_eq!(report.out_of_range, 2);
        assert_eq!(report.first_out_of_range, Some(51.0));
        assert_eq!(clipped, ArrayData::Int16(vec![32767, -32767, 0]));
        let (filled, _) = pack(&data, &p, &[], OutOfRange::Fill).unwrap();
        assert_eq!(filled, ArrayData::Int16(vec![-32768, -32768, 0]));
    }

    #[test]
    fn refuses_bad_parameters() {
        assert!(PackParams::for_range(0.0, 1.0, 12, DType::Float32).is_err());
        assert!(PackParams::for_range(1.0, 0.0, 16, DType::Float32).is_err());
        assert!(PackParams::for_range(f64::NAN, 0.0, 16, DType::Float32).is_err());
    }

    #[test]
    fn integers_widen_exactly_and_never_wrap() {
        let d = Decoding {
            missing: vec![],
            scale_factor: None,
            add_offset: None,
            dtype: DType::Int32,
            fill: None,
            via: None,
        };
        let out = decode(&ArrayData::Int16(vec![i16::MIN, -1, 0, i16::MAX]), &d).unwrap();
        assert_eq!(out, ArrayData::Int32(vec![-32768, -1, 0, 32767]));
        let out = decode(&ArrayData::Uint16(vec![0, u16::MAX]), &d).unwrap();
        assert_eq!(out, ArrayData::Int32(vec![0, 65535]));
        let to_i16 = Decoding { dtype: DType::Int16, ..d.clone() };
        let err = decode(&ArrayData::Uint16(vec![1, 40000]), &to_i16).unwrap_err();
        assert!(err.to_string().contains("40000 does not fit in int16"), "{err}");
        assert!(decode(&ArrayData::Float32(vec![1.0]), &d).is_err());
        let masked = Decoding { missing: vec![-1.0], ..d };
        assert!(decode(&ArrayData::Int16(vec![1]), &masked).is_err());
    }

    #[test]
    fn decode_masks_then_scales_in_the_decoded_type() {
        let d = Decoding {
            missing: vec![-32767.0],
            scale_factor: Some(0.001),
            add_offset: Some(20.0),
            dtype: DType::Float32,
            fill: None,
            via: None,
        };
        let out = decode(&ArrayData::Int16(vec![-32767, 0, 1000, -5000]), &d).unwrap();
        match out {
            ArrayData::Float32(v) => {
                assert!(v[0].is_nan());
                assert_eq!(v[1], 20.0);
                // numpy: float32(float32(1000) * 0.001) + 20.0, rounded to float32 each step
                assert_eq!(v[2], ((1000f32 as f64 * 0.001) as f32 as f64 + 20.0) as f32);
                assert_eq!(
                    v[3],
                    ((-5000f32 as f64 * 0.001) as f32 as f64 + 20.0) as f32
                );
            }
            other => panic!("float32 expected, got {other:?}"),
        }
        let d = Decoding {
            missing: vec![-999.0, 1e20],
            scale_factor: None,
            add_offset: None,
            dtype: DType::Float64,
            fill: Some(-9999.0),
            via: None,
        };
        let out = decode(&ArrayData::Float64(vec![-999.0, 1e20, 3.5, f64::NAN]), &d).unwrap();
        assert_eq!(
            out,
            ArrayData::Float64(vec![-9999.0, -9999.0, 3.5, -9999.0])
        );
    }

    #[test]
    fn decode_via_float32_into_float64_is_the_float32_result_widened() {
        // int16 with float32 scale_factor/add_offset (as a file stores them) in a float64 archive.
        let (s, a) = (f64::from(0.01f32), f64::from(250.0f32));
        let d = Decoding {
            missing: vec![],
            scale_factor: Some(s),
            add_offset: Some(a),
            dtype: DType::Float64,
            fill: None,
            via: Some(DType::Float32),
        };
        let raw = [706i16, -1, 12345];
        let out = decode(&ArrayData::Int16(raw.to_vec()), &d).unwrap();
        let expect: Vec<f64> = raw
            .iter()
            .map(|&x| f64::from(f32::from(x) * 0.01f32 + 250.0f32))
            .collect();
        assert_eq!(out, ArrayData::Float64(expect.clone()));
        // Computed in float64 instead, the values would differ from xarray's.
        let wide = decode(&ArrayData::Int16(raw.to_vec()), &Decoding { via: None, ..d }).unwrap();
        assert_ne!(wide, ArrayData::Float64(expect));
    }

    #[test]
    fn a_fill_inside_the_range_is_never_a_value() {
        let mut p = PackParams::for_range(-10.0, 10.0, 16, DType::Float64).unwrap();
        p.fill = -32767;
        let (packed, _) = pack(
            &ArrayData::Float64(vec![-10.0, 0.0]),
            &p,
            &[],
            OutOfRange::Clip,
        )
        .unwrap();
        assert_eq!(packed, ArrayData::Int16(vec![-32766, 0]));
    }
}
