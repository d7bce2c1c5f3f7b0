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
fn py_pow(x: f64, n: f64) -> f64 {
    x.powf(black_box(n))
}

fn seq_sum(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |acc, v| acc + v)
}

/// bandicoot's `moment`: zero for fewer than two values.
fn moment(data: &[f64], mean: f64, n: f64) -> f64 {
    if data.len() <= 1 {
        return 0.0;
    }
    seq_sum(data.iter().map(|x| py_pow(x - mean, n))) / data.len() as f64
}

/// bandicoot's `summary_stats` on a distribution; `None` when it is empty.
/// Sorts `data` in place, as the reference sorts before summing.
pub fn summary(data: &mut [f64]) -> Option<Summary> {
    if data.is_empty() {
        return None;
    }
    data.sort_by(f64::total_cmp);

    let len = data.len();
    let mean = seq_sum(data.iter().copied()) / len as f64;
    let m2 = moment(data, mean, 2.0);
    let std = py_pow(m2, 0.5);
    let median = (data[len / 2] + data[(len - 1) / 2]) / 2.0;
    let skewness = if m2 != 0.0 { moment(data, mean, 3.0) / py_pow(m2, 1.5) } else { 0.0 };
    let kurtosis = if m2 != 0.0 { moment(data, mean, 4.0) / py_pow(m2, 2.0) } else { 0.0 };

    Some([mean, std, median, skewness, kurtosis, data[0], data[len - 1]])
}

/// Mean and population std of a scalar across periods, as bandicoot's
/// `mean` and `std` compute them; `None` for no value.
pub fn mean_std(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let mean = seq_sum(values.iter().copied()) / values.len() as f64;
    (Some(mean), Some(py_pow(moment(values, mean, 2.0), 0.5)))
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
    weights.sort_by(|a, b| b.total_cmp(a));
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
        assert_eq!(summary(&mut [1.0, 0.0]), Some([0.5, 0.5, 0.5, 0.0, 1.0, 0.0, 1.0]));

        // summary_stats([137, 542]) -> mean 339.5, std 202.5, median 339.5.
        let s = summary(&mut [542.0, 137.0]).unwrap();
        assert_eq!(&s[..3], &[339.5, 202.5, 339.5]);

        // bandicoot.helper.maths.summary_stats([1, 2, 10]), bit for bit.
        let s = summary(&mut [10.0, 1.0, 2.0]).unwrap();
        assert_eq!(
            s,
            [4.333333333333333, 4.0276819911981905, 2.0, 0.6745554845457661, 1.5000000000000004, 1.0, 10.0]
        );
    }

    #[test]
    fn a_single_value_has_zero_spread() {
        assert_eq!(summary(&mut [7.0]), Some([7.0, 0.0, 7.0, 0.0, 0.0, 7.0, 7.0]));
        assert_eq!(summary(&mut []), None);
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
