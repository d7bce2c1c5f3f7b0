//! The statistics of `_aggregate_stats.json`: for every column of the
//! summary table but user_id, what the reference computes with Python's
//! `statistics` module over the cells that `float()` reads (mean, sample
//! std, min, max, median and their number n), for columns with at least two
//! such cells.
//!
//! Python's mean and stdev are exact: the sum and the sum of squared
//! deviations are fractions, rounded once at the end (stdev as a correctly
//! rounded square root). Here they are carried as pairs of floats, about
//! 106 bits, which round to the same float unless the exact result lies
//! within about 2^-100 (relative) of a halfway point between two floats.

use anyhow::Result;
use polars::prelude::*;
use rayon::prelude::*;

use crate::load::parse_py_float;

/// What the reference reports of one column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
    pub median: f64,
    pub n: usize,
}

/// The `indicators` object of `_aggregate_stats.json`: the columns of
/// `table` but user_id, in table order, each with at least two numbers.
/// A statistic that is not finite is null, as serde_json writes it.
pub fn indicators(table: &DataFrame) -> Result<serde_json::Map<String, serde_json::Value>> {
    let columns: Vec<&Column> = table.columns().iter().filter(|c| c.name() != "user_id").collect();
    let aggregates: Vec<Option<Aggregate>> = columns
        .par_iter()
        .map(|c| Ok(numbers(c)?.and_then(|values| Aggregate::of(&values))))
        .collect::<Result<_>>()?;

    let mut out = serde_json::Map::new();
    for (column, aggregate) in columns.iter().zip(aggregates) {
        let Some(a) = aggregate else { continue };
        let mut entry = serde_json::Map::new();
        for (stat, value) in
            [("mean", a.mean), ("std", a.std), ("min", a.min), ("max", a.max), ("median", a.median)]
        {
            entry.insert(stat.into(), serde_json::json!(value));
        }
        entry.insert("n".into(), serde_json::json!(a.n));
        out.insert(column.name().to_string(), serde_json::Value::Object(entry));
    }
    Ok(out)
}

/// The cells of a column that the reference's `float()` reads, in row
/// order: numbers as they are, booleans as 1 and 0 (the reference holds
/// Python bools), and text that reads as a number (attributes such as an
/// age are text). None for a column of another type.
fn numbers(column: &Column) -> Result<Option<Vec<f64>>> {
    let values = match column.dtype() {
        DataType::Float64 => column.f64()?.iter().flatten().collect(),
        DataType::Int64 => column.i64()?.iter().flatten().map(|v| v as f64).collect(),
        DataType::Boolean => column.bool()?.iter().flatten().map(|b| if b { 1.0 } else { 0.0 }).collect(),
        DataType::String => column.str()?.iter().flatten().filter_map(parse_py_float).collect(),
        _ => return Ok(None),
    };
    Ok(Some(values))
}

impl Aggregate {
    /// The statistics of `values` in the reference's order of rows; None
    /// for fewer than two values.
    ///
    /// The reference fails on a column holding an infinity or a NaN (its
    /// stdev takes the fraction of every value); here its mean is Python's
    /// (not finite) and its std NaN, and its median sorts NaN last.
    pub fn of(values: &[f64]) -> Option<Aggregate> {
        let n = values.len();
        if n < 2 {
            return None;
        }

        // Python's min and max keep the first value unless a later one
        // compares below (above) it: which zero, or a leading NaN, is kept.
        let mut min = values[0];
        let mut max = values[0];
        for &x in &values[1..] {
            if x < min {
                min = x;
            }
            if x > max {
                max = x;
            }
        }

        let (mean, std) = if values.iter().all(|x| x.is_finite()) {
            mean_and_std(values)
        } else {
            // The finite values do not change a sum that is not finite.
            let total: f64 = values.iter().filter(|x| !x.is_finite()).sum();
            (total / n as f64, f64::NAN)
        };
        Some(Aggregate { mean, std, min, max, median: median(values), n })
    }
}

/// Python's `statistics.mean` and `statistics.stdev` of finite values, at
/// least two.
fn mean_and_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;

    // Scaled by a power of two (exactly), the largest magnitude is near 1:
    // squares can then neither overflow nor vanish.
    let largest = values.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let exponent = if largest > 0.0 { binary_exponent(largest) } else { 0 };
    let down = power_of_two(-exponent);
    let up = power_of_two(exponent);

    let mut sum = Sum2::default();
    for &x in values {
        sum.add(x * down);
    }
    let (sum_hi, sum_lo) = sum.value();
    let (mean_hi, mean_lo) = divide(sum_hi, sum_lo, n);

    let mut squares = Sum2::default();
    for &x in values {
        // x - mean as a normalized pair, so that the square of its low
        // part is negligible even where x and the mean's high part agree.
        let (high, error) = two_sum(x * down, -mean_hi);
        let (d, d_lo) = two_sum(high, error - mean_lo);
        let (square, error) = two_product(d, d);
        squares.add(square);
        squares.add_error(error + 2.0 * d * d_lo);
    }
    let (ss_hi, ss_lo) = squares.value();
    let (var_hi, var_lo) = divide(ss_hi, ss_lo, n - 1.0);
    let std = if var_hi > 0.0 {
        // One Newton step from the float root: sqrt(v) + (v - s^2) / 2s.
        let root = var_hi.sqrt();
        let (square, error) = two_product(root, root);
        let residual = (var_hi - square) - error + var_lo;
        root + residual / (2.0 * root)
    } else {
        0.0
    };

    // A fraction has no negative zero.
    let mean = (mean_hi + mean_lo) * up;
    (if mean == 0.0 { 0.0 } else { mean }, std * up)
}

/// Python's `statistics.median`: the middle value of `sorted(values)`, or
/// the float mean of the two middle ones.
fn median(values: &[f64]) -> f64 {
    let n = values.len();
    let mut scratch = values.to_vec();
    let upper = n / 2;
    let (below, &mut at, _) = scratch.select_nth_unstable_by(upper, f64::total_cmp);
    let high = in_python_order(values, upper, at);
    if n % 2 == 1 {
        return high;
    }
    let before = below.iter().copied().max_by(f64::total_cmp).unwrap_or(at);
    (in_python_order(values, upper - 1, before) + high) / 2.0
}

/// The value at `rank` of Python's `sorted(values)`, given `found`, the one
/// at `rank` in the total order of floats. They differ only in zeros:
/// Python's sort is stable and 0.0 equals -0.0, so within the run of zeros
/// they keep their input order, where the total order puts -0.0 first.
fn in_python_order(values: &[f64], rank: usize, found: f64) -> f64 {
    if found != 0.0 {
        return found;
    }
    let before_zeros = values.iter().filter(|x| x.total_cmp(&-0.0).is_lt()).count();
    values.iter().copied().filter(|&x| x == 0.0).nth(rank - before_zeros).unwrap_or(found)
}

/// `a + b` and its rounding error, both exact (Knuth's TwoSum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let sum = a + b;
    let a_part = sum - b;
    let b_part = sum - a_part;
    (sum, (a - a_part) + (b - b_part))
}

/// `a * b` and its rounding error, both exact but for overflow (Dekker's
/// product on Veltkamp's halves). A fused multiply-add would do, but
/// without the target feature it is a slow library call.
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let product = a * b;
    let (a_hi, a_lo) = halves(a);
    let (b_hi, b_lo) = halves(b);
    let error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo;
    (product, error)
}

/// `a` as the sum of two floats of 26 significant bits or fewer, whose
/// products are exact.
fn halves(a: f64) -> (f64, f64) {
    let scaled = 134_217_729.0 * a; // 2^27 + 1
    let hi = scaled - (scaled - a);
    (hi, a - hi)
}

/// A sum of floats as accurate as if they had twice their precision
/// (Ogita, Rump and Oishi's Sum2): a running float sum and the sum of its
/// exact rounding errors.
#[derive(Default)]
struct Sum2 {
    sum: f64,
    errors: f64,
}

impl Sum2 {
    fn add(&mut self, x: f64) {
        let (sum, error) = two_sum(self.sum, x);
        self.sum = sum;
        self.errors += error;
    }

    /// Adds a term too small to change the running float sum.
    fn add_error(&mut self, x: f64) {
        self.errors += x;
    }

    /// The sum as a normalized pair: high float, low correction.
    fn value(&self) -> (f64, f64) {
        two_sum(self.sum, self.errors)
    }
}

/// (hi + lo) / d as a pair whose sum is the correctly rounded quotient
/// (but near a halfway point): the float quotient, then the exact remainder
/// of the division divided in turn.
fn divide(hi: f64, lo: f64, d: f64) -> (f64, f64) {
    let q = hi / d;
    let (product, error) = two_product(q, d);
    let remainder = (hi - product) - error;
    (q, (remainder + lo) / d)
}

/// The exponent e of 2^e <= x < 2^(e+1) for a positive x (-1023 for
/// subnormals, which is near enough for scaling).
fn binary_exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

/// 2^e exactly, e kept within the normal range.
fn power_of_two(e: i32) -> f64 {
    let e = e.clamp(-1020, 1020);
    f64::from_bits(((e + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mean, std, median, min and max as Python's statistics module gives
    /// them (Python 3.11), bit for bit.
    fn assert_python(values: &[f64], mean: f64, std: f64, median: f64, min: f64, max: f64) {
        let a = Aggregate::of(values).unwrap();
        let got = [a.mean, a.std, a.median, a.min, a.max];
        let want = [mean, std, median, min, max];
        assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{values:?}: got {got:?}, want {want:?}");
        assert_eq!(a.n, values.len());
    }

    #[test]
    fn mean_and_std_are_pythons_exactly_rounded_ones() {
        // A plain float sum and two-pass std give 3.7695999999999996 and
        // 3.2978328186856287.
        assert_python(&[5.5, 7.884, 0.2, 0.601, 4.663], 3.7696, 3.297832818685629, 4.663, 0.2, 7.884);
        // The plain sum loses the 1.0 entirely: 0.75.
        assert_python(&[1e16, 1.0, -1e16, 3.0], 1.0, 8164965809277260.0, 2.0, -1e16, 1e16);
        // The exact mean 1 + 2^-53 is halfway between two floats: to even.
        assert_python(&[1.0, 1.0000000000000002], 1.0, 1.5700924586837752e-16, 1.0, 1.0, 1.0000000000000002);
        assert_python(
            &[1.0, 1.0, 1.0000000000000002],
            1.0,
            1.2819751242557092e-16,
            1.0,
            1.0,
            1.0000000000000002,
        );
        assert_python(
            &[0.1, 0.2, 0.3, 0.4, 0.7, 1.1, 2.5],
            0.7571428571428571,
            0.8403514004215594,
            0.4,
            0.1,
            2.5,
        );
        assert_python(&[3.0, 3.0, 3.0], 3.0, 0.0, 3.0, 3.0, 3.0);
    }

    #[test]
    fn extreme_magnitudes_neither_overflow_nor_vanish() {
        assert_python(&[1e300, 3e300], 2e300, 1.4142135623730952e300, 2e300, 1e300, 3e300);
        assert_python(&[5e-320, 1e-320, 2e-320], 2.6665e-320, 2.0815e-320, 2e-320, 1e-320, 5e-320);
    }

    #[test]
    fn zeros_keep_pythons_sign_and_order() {
        // sorted() is stable and 0.0 == -0.0: the middle zero is the one
        // in that place in input order; min and max keep the first zero.
        assert_python(&[0.0, -0.0, 1.0], 0.3333333333333333, 0.5773502691896257, -0.0, 0.0, 1.0);
        assert_python(&[-0.0, 0.0, 1.0], 0.3333333333333333, 0.5773502691896257, 0.0, -0.0, 1.0);
        assert_python(&[-0.0, 0.0, -0.0, 1.0], 0.25, 0.5, 0.0, -0.0, 1.0);
        // The exact mean of negative zeros is a positive zero; the median
        // is float arithmetic.
        assert_python(&[-0.0, -0.0], 0.0, 0.0, -0.0, -0.0, -0.0);
    }

    #[test]
    fn values_that_are_not_finite() {
        // Python: mean inf, min and max keep the first value unless a later
        // one compares below (above); its stdev raises.
        let a = Aggregate::of(&[1.0, f64::INFINITY, 2.0]).unwrap();
        assert_eq!((a.mean, a.min, a.max, a.median, a.n), (f64::INFINITY, 1.0, f64::INFINITY, 2.0, 3));
        assert!(a.std.is_nan());

        let a = Aggregate::of(&[f64::NAN, 1.0, 2.0]).unwrap();
        assert!(a.mean.is_nan() && a.std.is_nan() && a.min.is_nan() && a.max.is_nan());
        let a = Aggregate::of(&[1.0, f64::NAN, 2.0]).unwrap();
        assert_eq!((a.min, a.max, a.median), (1.0, 2.0, 2.0));

        assert_eq!(Aggregate::of(&[1.0]), None);
        assert_eq!(Aggregate::of(&[]), None);
    }

    /// Columns of every type a summary table holds, as the reference reads
    /// their cells; a statistic that is not finite is null.
    #[test]
    fn indicators_read_cells_as_the_reference_does() {
        let table = DataFrame::new(
            4,
            vec![
                Column::new("user_id".into(), ["7", "8", "9", "10"]),
                Column::new("record_count".into(), [Some(3i64), Some(10), None, Some(6)]),
                Column::new("flag".into(), [Some(true), Some(false), Some(true), None]),
                // "None", empty and words are not numbers; " 25 " is 25.0.
                Column::new("age".into(), [Some(" 25 "), Some("None"), Some("forty"), Some("31.5")]),
                Column::new("name".into(), [Some("a"), Some("b"), None, Some("c")]),
                Column::new("lone".into(), [Some(1.5f64), None, None, None]),
                Column::new("odd".into(), [Some(1.0f64), Some(f64::NAN), Some(2.0), None]),
            ],
        )
        .unwrap();
        let got = serde_json::Value::Object(indicators(&table).unwrap());
        // statistics.mean([3.0, 10.0, 6.0]) etc.
        let want = serde_json::json!({
            "record_count": {"mean": 6.333333333333333, "std": 3.511884584284246, "min": 3.0,
                             "max": 10.0, "median": 6.0, "n": 3},
            "flag": {"mean": 0.6666666666666666, "std": 0.5773502691896257, "min": 0.0,
                     "max": 1.0, "median": 1.0, "n": 3},
            "age": {"mean": 28.25, "std": 4.596194077712559, "min": 25.0, "max": 31.5,
                    "median": 28.25, "n": 2},
            "odd": {"mean": null, "std": null, "min": 1.0, "max": 2.0, "median": 2.0, "n": 3},
        });
        assert_eq!(got, want);
    }
}
