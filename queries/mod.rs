//! The indicator definitions: one module per family, each indicator a
//! small function of Polars expressions, and [`registry`], the one list
//! that says which indicators a run computes and in which order they are
//! reported.
//!
//! An indicator is evaluated once per user and period: the individual
//! family as a function of the period's records (an
//! [`individual::Period`]), the spatial and recharge families as Polars
//! aggregations in a group-by over the rows of their [`Level`]. A scalar
//! gives one value per period; a distribution gives the values whose
//! summary statistics the engine reports. Across periods, the engine
//! reports mean and std.
//!
//! To add an indicator: write its function or expression in the family
//! module, then add one [`Indicator`] line to that module's list.

pub mod individual;
pub mod recharges;
pub mod spatial;

use polars::prelude::*;

/// Which records an indicator of the individual family sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Call,
    Text,
    CallAndText,
}

impl Interaction {
    /// The key under which the reference reports this interaction.
    pub fn name(self) -> &'static str {
        match self {
            Interaction::Call => "call",
            Interaction::Text => "text",
            Interaction::CallAndText => "callandtext",
        }
    }
}

/// The rows an indicator aggregates, per user and period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The records of one interaction set: an [`individual::Period`].
    Records,
    /// One row per position of the half-hour-binned positions: `n` bins,
    /// `lat`, `lon`, and `home` (true at the user's home, null without one).
    Places,
    /// One row per recharge, sorted by time, with `amount` and the columns
    /// of [`recharges::recharge_features`].
    Recharges,
}

/// How an indicator is evaluated per user and period.
#[derive(Clone, Copy)]
pub enum Compute {
    /// A Polars aggregation over the rows of the indicator's level.
    Expr(fn() -> Expr),
    /// A number from one period of records.
    Scalar(fn(&individual::Period) -> Option<f64>),
    /// The values of a distribution from one period of records.
    Values(fn(&individual::Period, &mut Vec<f64>)),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One number per period.
    Scalar,
    /// A list of numbers per period, reported through summary statistics.
    Distribution,
}

/// One indicator of the registry.
pub struct Indicator {
    /// The key the reference uses.
    pub name: &'static str,
    pub level: Level,
    pub shape: Shape,
    /// The interaction keys it is reported under; empty for the spatial
    /// family, which has no interaction key.
    pub interactions: &'static [Interaction],
    /// The per-period evaluation.
    pub compute: Compute,
    /// Whether a single period's value is an integer count.
    pub integer: bool,
}

/// Every individual, spatial and recharge indicator, in the reference's
/// order. churn_rate, which works on weeks whatever the grouping, comes
/// between the spatial and the recharge ones; the recharge ones are
/// computed only when the run reads recharges.
pub fn registry() -> Vec<Indicator> {
    let mut all = individual::indicators();
    all.extend(spatial::indicators());
    all.extend(recharges::indicators());
    all
}

/// A column in order of first appearance (`first`): float sums then add up
/// in one fixed order, whatever order the group-by gathered the rows in.
pub fn in_order(name: &str) -> Expr {
    col(name).sort_by([col("first")], SortMultipleOptions::default())
}

/// Shannon entropy (natural log) of the weights in column `weights`.
pub fn entropy(weights: &str) -> Expr {
    let w = in_order(weights).cast(DataType::Float64);
    let p = w.clone() / w.sum();
    -(p.clone() * p.log(lit(std::f64::consts::E))).sum()
}

/// How many items, heaviest first, it takes to reach 80% of the total
/// weight (rounded up), as the reference counts its Pareto shares.
pub fn pareto_count(weights: &str) -> Expr {
    let w = col(weights).cast(DataType::Float64);
    let sorted = w.clone().sort(SortOptions::default().with_order_descending(true));
    let before = sorted.clone().cum_sum(false) - sorted;
    let target = (w.sum() * lit(0.8)).ceil();
    before.lt(target).sum()
}
