//! The recharge family: indicators of a user's top-ups, aggregated per
//! period and filter combination like the others, but over the recharges
//! frame ([`crate::recharges::chunk_frame`]), plus
//! [`average_balance`], one number per user over all its recharges.

use polars::prelude::*;

use super::{Compute, Indicator, Level, Shape};
use crate::calendar::SECONDS_PER_DAY;
use crate::recharges::Recharge;

/// The per-recharge columns the indicators use, on recharges sorted by
/// user and time: `gap`, the seconds since the previous recharge of the
/// same period (null for the first).
pub fn recharge_features(recharges: LazyFrame) -> LazyFrame {
    let same_period =
        col("user").eq(col("user").shift(lit(1))).and(col("period").eq(col("period").shift(lit(1))));
    recharges.with_column(
        when(same_period)
            .then((col("t") - col("t").shift(lit(1))).cast(DataType::Float64))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("gap"),
    )
}

fn amount_recharges() -> Expr {
    col("amount")
}

fn interevent_time_recharges() -> Expr {
    col("gap").drop_nulls()
}

/// The share of recharges, largest first, whose running total first
/// reaches 80% of the period's total. Running totals are summed in that
/// order, as the reference sums them, so the comparison is exact; all of
/// them when none reaches it (a negative total).
fn percent_pareto_recharges() -> Expr {
    let running = col("amount").sort(SortOptions::default().with_order_descending(true)).cum_sum(false);
    let reached = running.clone().gt_eq(lit(0.8) * running.last());
    let before = reached.cast(DataType::UInt32).cum_sum(false).eq(lit(0u32)).cast(DataType::Float64).sum();
    let n = len().cast(DataType::Float64);
    let used = when(before.clone().lt(n.clone())).then(before + lit(1.0)).otherwise(n.clone());
    used / n
}

fn number_of_recharges() -> Expr {
    len()
}

macro_rules! indicator {
    ($name:ident, $shape:ident, integer: $int:expr) => {
        Indicator {
            name: stringify!($name),
            level: Level::Recharges,
            shape: Shape::$shape,
            interactions: &[],
            compute: Compute::Expr($name),
            integer: $int,
        }
    };
}

/// The grouped recharge indicators, in the reference's order; they follow
/// churn_rate, and [`average_balance`] follows them.
pub fn indicators() -> Vec<Indicator> {
    vec![
        indicator!(amount_recharges, Distribution, integer: false),
        indicator!(interevent_time_recharges, Distribution, integer: false),
        indicator!(percent_pareto_recharges, Scalar, integer: false),
        indicator!(number_of_recharges, Scalar, integer: true),
    ]
}

/// The key of the per-user average balance, reported after the grouped
/// recharge indicators.
pub const AVERAGE_BALANCE: &str = "average_balance_recharges";

/// Whether a result key belongs to the recharge family, whose keys only
/// users with recharges have.
pub fn is_recharge_key(name: &str) -> bool {
    name == AVERAGE_BALANCE || indicators().iter().any(|i| i.name == name)
}

/// The average balance of recharges sorted by time, as the reference
/// estimates it: half of each recharge's amount when the next one comes a
/// whole day or more later (none otherwise), summed in time order, over
/// the span of the recharges capped at one day, which makes it the sum.
///
/// `None` when the recharges span less than a whole day (a single
/// recharge, or all within 24 hours): the sum is then 0 over a span of 0
/// days, where the reference divides by zero.
pub fn average_balance(recharges: &[Recharge]) -> Option<f64> {
    // Whole days between two recharges, as timedelta.days counts them.
    let days = |a: &Recharge, b: &Recharge| (b.t - a.t).div_euclid(SECONDS_PER_DAY);
    let (first, last) = (recharges.first()?, recharges.last()?);
    if days(first, last) < 1 {
        return None;
    }
    let mut balance = 0.0;
    for pair in recharges.windows(2) {
        let counted = days(&pair[0], &pair[1]).min(1) as f64;
        balance += pair[0].amount * counted / 2.0;
    }
    Some(balance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64, hour: i64, amount: f64) -> Recharge {
        Recharge { t: day * SECONDS_PER_DAY + hour * 3600, amount }
    }

    #[test]
    fn average_balance_counts_half_of_amounts_followed_a_day_later() {
        // The reference's sample user A: Jan 13 (12), Feb 1 (4), Feb 2 (4),
        // Feb 3 (2), Feb 3 (0): 12/2 + 4/2 + 4/2 + 0 (same day) = 10.
        let a = [at(0, 0, 12.0), at(19, 0, 4.0), at(20, 0, 4.0), at(21, 0, 2.0), at(21, 0, 0.0)];
        assert_eq!(average_balance(&a), Some(10.0));
        // 23 hours is not a day: only the second pair counts.
        let b = [at(0, 0, 5.0), at(0, 23, 3.0), at(2, 0, 1.0)];
        assert_eq!(average_balance(&b), Some(1.5));
        // Pairs under a day each, but a span of a day: the sum is 0.
        let c = [at(0, 0, 5.0), at(0, 20, 3.0), at(1, 10, 1.0)];
        assert_eq!(average_balance(&c), Some(0.0));
    }

    #[test]
    fn average_balance_under_a_day_is_none() {
        assert_eq!(average_balance(&[]), None);
        assert_eq!(average_balance(&[at(3, 12, 10.0)]), None);
        assert_eq!(average_balance(&[at(3, 0, 10.0), at(3, 23, 5.0)]), None);
    }
}
