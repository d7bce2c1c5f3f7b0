//! Summary statistics computed with the reference's arithmetic, operation
//! for operation (sorted data, sequential sums, `pow` from the C library),
//! so that degenerate cases such as a variance that is zero only up to
//! rounding give the same skewness and kurtosis as bandicoot.

use std::hint::black_box;

/// The seven statistics of a distribution, in the reference's key order.
pub const STAT_NAMES: [&str; 7] = ["mean", "std", "median", "skewness", "kurtosis", "min", "max"];

/// The statistics that the `default` summary keeps.
pub const DEFAULT_STATS: usize = 2;

/// mean, std, median, skewness, kurtosis, min, max of one distribution.
pub type Summary = [f64; 7];

/// `x ** n` as Python computes it: through libm's `pow`, which the
/// compiler must not turn into multiplications that round differently.
pub fn py_pow(x: f64, n: f64) -> f64 {
    x.powf(black_box(n))
}

/// Whether libm's `pow` must return `p` for an exact power `p + err`.
///
/// glibc's `pow` computes `exp(y * log(x))`; its source bounds the error
/// by 0.509 ULP for the `exp` step plus `|y * log(x)| * 1.3 * 2^-68 * 2^53`
/// ULP for the `log` step, 0.54 ULP over the whole range. The doubles
/// next to `p` are at least one ULP from it, so when `err` is under
/// `1 - bound` of the smaller neighbouring gap (less a margin), they are
/// farther from the exact power than `pow` can be, and `p` is the only
/// double `pow` can return. For results within 1e±20, where
/// `|y * log(x)| = |log(p)| <= 46.1`, the bound is 0.511 ULP; elsewhere
/// in the normal range the general 0.54 holds. Out of it, say no.
#[inline(always)]
fn pow_is(p: f64, err: f64) -> bool {
    let magnitude = p.abs();
    if !(1e-290..1e290).contains(&magnitude) {
        return false;
    }
    let bits = magnitude.to_bits();
    let gap = (f64::from_bits(bits + 1) - magnitude).min(magnitude - f64::from_bits(bits - 1));
    let threshold = if (1e-20..1e20).contains(&magnitude) { 0.48 } else { 0.44 };
    err.abs() < threshold * gap
}

/// The double nearest to `p + err`, with what is left over (`err` small
/// beside `p`, so a fast two-sum is exact). A product of rounded factors,
/// as `x * x * x`, can be more than half an ULP from the exact power: the
/// nearest double is then another one, which `pow` returns.
#[inline(always)]
fn renormalised(p: f64, err: f64) -> (f64, f64) {
    let nearest = p + err;
    (nearest, err - (nearest - p))
}

/// `x ** n` for n = 2, 3 or 4, equal to [`py_pow`] bit for bit, mostly
/// without calling `pow`: the moments of every distribution call it once
/// per value, and it dominated their cost.
///
/// The product is computed with its rounding error, exactly up to about
/// 2^-105 relative, through fused multiply-adds; [`pow_is`] decides
/// whether `pow` could return anything else (near a rounding tie, or out
/// of the safe exponent range), and only then is `pow` asked.
#[inline(always)]
pub fn py_pow_int(x: f64, n: u32) -> f64 {
    match n {
        2..=4 => power_of(x, n, powers(x)[n as usize - 2]),
        _ => py_pow(x, n as f64),
    }
}

/// `x ** n` from its product and rounding error (one of [`powers`]).
#[inline(always)]
fn power_of(x: f64, n: u32, (p, err): (f64, f64)) -> f64 {
    // Zero deviations are common (equal values): a product of zeros is
    // pow's zero, sign included.
    if x == 0.0 {
        return p;
    }
    product_or_pow(x, n as f64, p, err)
}

/// `x * x`, `x * x * x` and `x * x * x * x` as rounded products, each
/// with its rounding error (exact up to about 2^-105 relative), the square
/// and its error shared by the three.
#[inline(always)]
fn powers(x: f64) -> [(f64, f64); 3] {
    let p2 = x * x;
    let e2 = x.mul_add(x, -p2);
    let (p3, p4) = (p2 * x, p2 * p2);
    [(p2, e2), (p3, p2.mul_add(x, -p3) + e2 * x), (p4, p2.mul_add(p2, -p4) + 2.0 * p2 * e2)]
}

/// `x ** y` from a product `p` of rounded factors and its error `err`:
/// the nearest double to `p + err` where [`pow_is`] says `pow` can only
/// return it, `pow` itself otherwise.
#[inline(always)]
fn product_or_pow(x: f64, y: f64, p: f64, err: f64) -> f64 {
    let (p, err) = renormalised(p, err);
    match pow_is(p, err) {
        true => p,
        false => py_pow(x, y),
    }
}

/// `x ** 0.5` and `x ** 1.5` (`three_halves`), equal to [`py_pow`] bit for
/// bit by the same argument as [`py_pow_int`]: the rounded `sqrt` (or its
/// product with `x`) is `pow`'s result whenever [`pow_is`] says so. The
/// exact square root is `s + r / 2s` up to a second-order term, where
/// `r = x - s*s` comes exactly from a fused multiply-add.
#[inline(always)]
pub fn py_pow_half(x: f64, three_halves: bool) -> f64 {
    let y = if three_halves { 1.5 } else { 0.5 };
    // A zero variance is common (one value, or equal values); `pow` of a
    // zero to a positive non-integer power is +0.
    if x == 0.0 {
        return 0.0;
    }
    if !(1e-290..1e290).contains(&x) {
        return py_pow(x, y);
    }
    let s = x.sqrt();
    let sqrt_err = (-s).mul_add(s, x) / (2.0 * s);
    let (p, err) = match three_halves {
        false => (s, sqrt_err),
        true => {
            let p = x * s;
            (p, x.mul_add(s, -p) + x * sqrt_err)
        }
    };
    product_or_pow(x, y, p, err)
}

#[inline(always)]
fn seq_sum(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |acc, v| acc + v)
}

// The sums below are plain loops rather than iterator folds: a fold is a
// function of the standard library that the optimiser may leave out of
// line, and so compiled without the fused multiply-add of the functions
// that call it (see `summary_with_fma`).

/// [`seq_sum`] of a slice.
#[inline(always)]
fn slice_sum(values: &[f64]) -> f64 {
    let mut total = 0.0;
    for &v in values {
        total += v;
    }
    total
}

/// bandicoot's `moment`: zero for fewer than two values.
#[inline(always)]
fn moment(data: &[f64], mean: f64, n: u32) -> f64 {
    if data.len() <= 1 {
        return 0.0;
    }
    let mut total = 0.0;
    for &x in data {
        total += py_pow_int(x - mean, n);
    }
    total / data.len() as f64
}

/// The second, third and fourth [`moment`]s in one pass over the data:
/// each sum in the reference's order, each power as [`py_pow_int`] gives
/// it, the square and its rounding error shared by the three.
#[inline(always)]
fn moments(data: &[f64], mean: f64) -> [f64; 3] {
    if data.len() <= 1 {
        return [0.0; 3];
    }
    let (mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0);
    for &x in data {
        let d = x - mean;
        let [p2, p3, p4] = powers(d);
        s2 += power_of(d, 2, p2);
        s3 += power_of(d, 3, p3);
        s4 += power_of(d, 4, p4);
    }
    let n = data.len() as f64;
    [s2 / n, s3 / n, s4 / n]
}

/// bandicoot's `summary_stats` on a distribution; `None` when it is empty.
/// Sorts `data` in place, as the reference sorts before summing. Only the
/// first `wanted` statistics (of [`STAT_NAMES`]) are computed; the others
/// are NaN.
pub fn summary(data: &mut [f64], wanted: usize) -> Option<Summary> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the instructions.
        return unsafe { summary_with_fma(data, wanted) };
    }
    summary_of(data, wanted)
}

/// [`summary`] with the CPU's fused multiply-add: the portable build calls
/// a library routine for each `mul_add` of the powers. Both round exactly
/// once, so the results are the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn summary_with_fma(data: &mut [f64], wanted: usize) -> Option<Summary> {
    summary_of(data, wanted)
}

#[inline(always)]
fn summary_of(data: &mut [f64], wanted: usize) -> Option<Summary> {
    if data.is_empty() {
        return None;
    }
    // Unstable: values equal under the total order are the same bits.
    data.sort_unstable_by(f64::total_cmp);

    let len = data.len();
    let mean = slice_sum(data) / len as f64;
    if wanted <= DEFAULT_STATS {
        // The moments beyond the second are most of the cost.
        let nan = f64::NAN;
        return Some([mean, py_pow_half(moment(data, mean, 2), false), nan, nan, nan, nan, nan]);
    }
    let [m2, m3, m4] = moments(data, mean);
    let std = py_pow_half(m2, false);
    let median = (data[len / 2] + data[(len - 1) / 2]) / 2.0;
    let skewness = if m2 != 0.0 { m3 / py_pow_half(m2, true) } else { 0.0 };
    let kurtosis = if m2 != 0.0 { m4 / py_pow_int(m2, 2) } else { 0.0 };

    Some([mean, std, median, skewness, kurtosis, data[0], data[len - 1]])
}

/// Mean and population std of a scalar across periods, as bandicoot's
/// `mean` and `std` compute them; `None` for no value.
pub fn mean_std(values: &[f64]) -> (Option<f64>, Option<f64>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the instructions.
        return unsafe { mean_std_with_fma(values) };
    }
    mean_std_of(values)
}

/// [`mean_std`] with the CPU's fused multiply-add (see [`summary_with_fma`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn mean_std_with_fma(values: &[f64]) -> (Option<f64>, Option<f64>) {
    mean_std_of(values)
}

#[inline(always)]
fn mean_std_of(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let mean = slice_sum(values) / values.len() as f64;
    (Some(mean), Some(py_pow_half(moment(values, mean, 2), false)))
}

/// bandicoot's `entropy` of counts (natural logarithm), summed in the
/// order given, which is the order in which contacts first appear.
pub fn entropy(counts: &[f64]) -> Option<f64> {
    if counts.is_empty() {
        return None;
    }
    let n = seq_sum(counts.iter().copied());
    Some(-seq_sum(counts.iter().map(|c| {
        let f = c / n;
        f * f.ln()
    })))
}

/// The number of items, heaviest first, whose weights reach
/// `ceil(total * share)`: bandicoot's Pareto count.
pub fn pareto_count(weights: &mut [f64], share: f64) -> usize {
    let mut target = (seq_sum(weights.iter().copied()) * share).ceil();
    weights.sort_unstable_by(|a, b| b.total_cmp(a));
    let mut used = 0;
    while target > 0.0 && used < weights.len() {
        target -= weights[used];
        used += 1;
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_bandicoot_summary_stats() {
        // summary_stats([0, 1]) in bandicoot: mean 0.5, std 0.5, median 0.5,
        // skewness 0.0, kurtosis 1.0, min 0, max 1.
        assert_eq!(summary(&mut [1.0, 0.0], 7), Some([0.5, 0.5, 0.5, 0.0, 1.0, 0.0, 1.0]));

        // summary_stats([137, 542]) -> mean 339.5, std 202.5, median 339.5.
        let s = summary(&mut [542.0, 137.0], 7).unwrap();
        assert_eq!(&s[..3], &[339.5, 202.5, 339.5]);

        // bandicoot.helper.maths.summary_stats([1, 2, 10]), bit for bit.
        let s = summary(&mut [10.0, 1.0, 2.0], 7).unwrap();
        assert_eq!(
            s,
            [4.333333333333333, 4.0276819911981905, 2.0, 0.6745554845457661, 1.5000000000000004, 1.0, 10.0]
        );
        // The default statistics alone: the same mean and std, nothing else.
        let s = summary(&mut [10.0, 1.0, 2.0], DEFAULT_STATS).unwrap();
        assert_eq!(&s[..2], &[4.333333333333333, 4.0276819911981905]);
        assert!(s[2..].iter().all(|v| v.is_nan()));
    }

    /// Doubles spread over many magnitudes, both signs, and the kinds of
    /// deviations moments see (differences of close values, tiny spreads).
    fn varied(count: usize) -> Vec<f64> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|i| {
                let r = next();
                match i % 4 {
                    // Any finite double.
                    0 => f64::from_bits(r & 0x7FEF_FFFF_FFFF_FFFF) * if r >> 63 == 1 { -1.0 } else { 1.0 },
                    // Moderate values with full mantissas.
                    1 => (r >> 11) as f64 / (1u64 << 53) as f64 * 1e4 - 5e3,
                    // Deviations from a mean of small integers.
                    2 => (r % 1000) as f64 - (r % 997) as f64 / 7.0,
                    // Tiny deviations, as from a mean of equal values.
                    _ => ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1e-16,
                }
            })
            .collect()
    }

    #[test]
    fn integer_and_half_powers_equal_libm_pow_bit_for_bit() {
        let values = varied(2_000_000);
        for n in [2, 3, 4] {
            for &x in &values {
                let (fast, libm) = (py_pow_int(x, n), py_pow(x, n as f64));
                assert!(fast.to_bits() == libm.to_bits(), "{x:e} ** {n}: {fast:e} against pow's {libm:e}");
            }
        }
        for &x in &values {
            for (three_halves, y) in [(false, 0.5), (true, 1.5)] {
                let (fast, libm) = (py_pow_half(x.abs(), three_halves), py_pow(x.abs(), y));
                assert!(
                    fast.to_bits() == libm.to_bits(),
                    "{:e} ** {y}: {fast:e} against pow's {libm:e}",
                    x.abs()
                );
            }
        }
        for (zero, three_halves, y) in
            [(0.0f64, false, 0.5), (-0.0, false, 0.5), (0.0, true, 1.5), (-0.0, true, 1.5)]
        {
            assert_eq!(py_pow_half(zero, three_halves).to_bits(), py_pow(zero, y).to_bits());
        }
        assert_eq!(py_pow_half(2.25, true), 3.375);
        // Exact and special cases.
        assert_eq!(py_pow_int(3.0, 3), 27.0);
        for n in [2, 3, 4] {
            for zero in [0.0f64, -0.0] {
                assert_eq!(py_pow_int(zero, n).to_bits(), py_pow(zero, n as f64).to_bits());
            }
        }
        assert_eq!(py_pow_int(1e200, 2), f64::INFINITY);
        assert!(py_pow_int(f64::NAN, 2).is_nan());
    }

    #[test]
    fn moments_in_one_pass_equal_each_moment_alone() {
        let values = varied(200_000);
        for window in values.chunks(1000).chain([&values[..1], &[3.0, 3.0, 3.0][..]]) {
            // Deviations of both magnitudes: around the mean, and around a
            // mean far from the data.
            for mean in [seq_sum(window.iter().copied()) / window.len() as f64, 12.5] {
                let fused = moments(window, mean);
                let alone = [2, 3, 4].map(|n| moment(window, mean, n));
                assert_eq!(fused.map(f64::to_bits), alone.map(f64::to_bits), "mean {mean:e}");
            }
        }
    }

    #[test]
    fn pow_is_says_yes_below_its_threshold_of_the_smaller_gap() {
        for &x in &varied(100_000) {
            let m = x.abs();
            if !(1e-290..1e290).contains(&m) {
                continue;
            }
            let bits = m.to_bits();
            let neighbours = (f64::from_bits(bits + 1) - m).min(m - f64::from_bits(bits - 1));
            // pow_is says yes exactly below the threshold times that gap.
            let threshold = if (1e-20..1e20).contains(&m) { 0.48 } else { 0.44 };
            let limit = threshold * neighbours;
            assert!(pow_is(x, 0.999 * limit) && !pow_is(x, limit), "{x:e}");
        }
        // Just above a power of two the gap below is half the one above.
        for (power_of_two, threshold) in
            [(1.0, 0.48), (0.5, 0.48), (1024.0, 0.48), (2f64.powi(-900), 0.44), (2f64.powi(900), 0.44)]
        {
            let gap = power_of_two - f64::from_bits(f64::to_bits(power_of_two) - 1);
            assert_eq!(gap * 2.0, f64::from_bits(f64::to_bits(power_of_two) + 1) - power_of_two);
            assert!(pow_is(power_of_two, 0.99 * threshold * gap), "{power_of_two:e}");
            assert!(!pow_is(power_of_two, 1.01 * threshold * gap), "{power_of_two:e}");
        }
    }

    #[test]
    fn the_fused_multiply_add_of_the_cpu_gives_the_same_bits() {
        let values = varied(100_000);
        for window in values.chunks(37) {
            let dispatched = summary(&mut window.to_vec(), 7).unwrap();
            let portable = summary_of(&mut window.to_vec(), 7).unwrap();
            assert_eq!(dispatched.map(f64::to_bits), portable.map(f64::to_bits));
            let (mean, std) = mean_std(window);
            assert_eq!((mean, std), mean_std_of(window));
        }
    }

    #[test]
    fn a_single_value_has_zero_spread() {
        assert_eq!(summary(&mut [7.0], 7), Some([7.0, 0.0, 7.0, 0.0, 0.0, 7.0, 7.0]));
        assert_eq!(summary(&mut [], 7), None);
    }

    #[test]
    fn entropy_and_pareto() {
        // entropy([1, 1]) == log(2); entropy([]) is None.
        assert_eq!(entropy(&[1.0, 1.0]), Some(std::f64::consts::LN_2));
        assert_eq!(entropy(&[]), None);
        // Weights 5, 3, 1, 1: target ceil(8.0) = 8 needs the two heaviest.
        assert_eq!(pareto_count(&mut [1.0, 5.0, 1.0, 3.0], 0.8), 2);
        // A zero total needs nobody.
        assert_eq!(pareto_count(&mut [0.0, 0.0], 0.8), 0);
    }
}
