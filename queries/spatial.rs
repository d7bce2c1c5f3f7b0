//! The spatial family: indicators of the places a user was seen at,
//! computed on positions binned by half hour, and churn_rate.

use polars::prelude::*;

use super::{entropy, in_order, pareto_count, Indicator, Level, Shape};

/// Mean Earth radius of the reference's great-circle distance, in km.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// One position per half-hour bin: the most frequent position among the
/// bin's records, the earliest on ties. Input: records with `user`,
/// `period`, `bin`, `pos`, `lat`, `lon` and `idx` (the record's rank in
/// time order); output: one row per bin with those columns and `first`.
pub fn binned_positions(records: LazyFrame) -> LazyFrame {
    records
        .group_by([col("user"), col("period"), col("bin"), col("pos")])
        .agg([len().alias("count"), col("idx").min().alias("first"), col("lat").first(), col("lon").first()])
        .sort_by_exprs(
            [col("user"), col("bin"), col("count"), col("first")],
            SortMultipleOptions::default().with_order_descending_multi([false, false, true, false]),
        )
        .unique_stable(Some(cols(["user", "bin"])), UniqueKeepStrategy::First)
}

/// The places of binned positions: one row per user, period and position
/// with `n` (bins spent there), `lat`, `lon`, and `first` (its first bin).
///
/// Places come in order of first visit, the order in which the reference
/// counts them, so that sums over them add up in the same order.
pub fn places(bins: LazyFrame) -> LazyFrame {
    bins.group_by([col("user"), col("period"), col("pos")])
        .agg([len().alias("n"), col("lat").first(), col("lon").first(), col("first").min()])
        .sort(["user", "period", "first"], SortMultipleOptions::default())
}

/// Each user's home: the most frequent binned position among night
/// records, the first seen on ties. Users without night records have none.
pub fn home(records: LazyFrame) -> LazyFrame {
    places(binned_positions(records.filter(col("night"))))
        .group_by([col("user"), col("pos")])
        .agg([col("n").sum(), col("first").min()])
        .sort_by_exprs(
            [col("user"), col("n"), col("first")],
            SortMultipleOptions::default().with_order_descending_multi([false, true, false]),
        )
        .unique_stable(Some(cols(["user"])), UniqueKeepStrategy::First)
        .select([col("user"), col("pos").alias("home")])
}

fn number_of_antennas() -> Expr {
    len()
}

fn entropy_of_antennas() -> Expr {
    entropy("n")
}

/// Share of binned positions at home; null for a user without a home.
fn percent_at_home() -> Expr {
    let at_home = col("home").cast(DataType::Float64) * col("n").cast(DataType::Float64);
    when(col("home").is_null().any(true))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(at_home.sum() / col("n").sum().cast(DataType::Float64))
}

fn radians(degrees: Expr) -> Expr {
    degrees * lit(std::f64::consts::PI / 180.0)
}

/// Great-circle distance in km, haversine form as in the reference.
fn great_circle(lat1: Expr, lon1: Expr, lat2: Expr, lon2: Expr) -> Expr {
    let half_dlat = radians(lat1.clone() - lat2.clone()) / lit(2.0);
    let half_dlon = radians(lon1 - lon2) / lit(2.0);
    let a = half_dlat.sin().pow(2) + radians(lat1).cos() * radians(lat2).cos() * half_dlon.sin().pow(2);
    lit(EARTH_RADIUS_KM * 2.0) * a.sqrt().arcsin()
}

/// Root mean squared distance of located binned positions to their centre.
fn radius_of_gyration() -> Expr {
    let (lat, lon) = (in_order("lat"), in_order("lon"));
    let w = when(lat.clone().is_not_null()).then(in_order("n").cast(DataType::Float64)).otherwise(lit(0.0));
    let total = w.clone().sum();
    let centre_lat = (lat.clone() * w.clone()).sum() / total.clone();
    let centre_lon = (lon.clone() * w.clone()).sum() / total.clone();
    let d = great_circle(centre_lat, centre_lon, lat, lon);
    let r = ((w / total.clone()) * d.pow(2)).sum().sqrt();
    when(total.gt(lit(0.0))).then(r).otherwise(lit(NULL).cast(DataType::Float64))
}

fn frequent_antennas() -> Expr {
    pareto_count("n")
}

/// The spatial indicators, in the reference's order.
pub fn indicators() -> Vec<Indicator> {
    let spatial = |name, expr, integer| Indicator {
        name,
        level: Level::Places,
        shape: Shape::Scalar,
        interactions: &[],
        expr,
        empty: None,
        integer,
    };
    vec![
        spatial("number_of_antennas", number_of_antennas as fn() -> Expr, true),
        spatial("entropy_of_antennas", entropy_of_antennas, false),
        spatial("percent_at_home", percent_at_home, false),
        spatial("radius_of_gyration", radius_of_gyration, false),
        spatial("frequent_antennas", frequent_antennas, true),
    ]
}

/// churn_rate per user: the cosine distance between the position
/// frequencies of consecutive weeks with records (ISO weeks, whatever the
/// run's grouping), as `churn_rate__mean` and `churn_rate__std`.
pub fn churn_rate(records: LazyFrame) -> PolarsResult<LazyFrame> {
    let weekly = records.with_column((col("day") - lit(4)).floor_div(lit(7)).alias("period"));
    let freq = places(binned_positions(weekly)).with_column(
        (col("n").cast(DataType::Float64)
            / col("n").sum().over([col("user"), col("period")])?.cast(DataType::Float64))
        .alias("f"),
    );

    // Number the weeks of each user, then pair each week with the next.
    let weeks = freq
        .clone()
        .group_by([col("user"), col("period")])
        .agg([(col("f") * col("f")).sort_by([col("pos")], SortMultipleOptions::default()).sum().alias("sq")])
        .sort(["user", "period"], SortMultipleOptions::default())
        .with_column((col("period").cum_count(false).over([col("user")])? - lit(1)).alias("week"));
    let freq = freq.join(
        weeks.clone().select([col("user"), col("period"), col("week")]),
        [col("user"), col("period")],
        [col("user"), col("period")],
        JoinArgs::new(JoinType::Inner),
    );
    let next =
        weeks.clone().select([col("user"), (col("week") - lit(1)).alias("week"), col("sq").alias("sq_next")]);
    let pairs = weeks.join(
        next,
        [col("user"), col("week")],
        [col("user"), col("week")],
        JoinArgs::new(JoinType::Inner),
    );

    // The dot product over positions seen in both weeks.
    let shifted = freq.clone().select([
        col("user"),
        (col("week") - lit(1)).alias("week"),
        col("pos"),
        col("f").alias("f_next"),
    ]);
    let dots = freq
        .join(
            shifted,
            [col("user"), col("week"), col("pos")],
            [col("user"), col("week"), col("pos")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("user"), col("week")])
        .agg([(col("f") * col("f_next"))
            .sort_by([col("pos")], SortMultipleOptions::default())
            .sum()
            .alias("dot")]);

    let distance = lit(1.0) - col("dot").fill_null(lit(0.0)) / (col("sq").sqrt() * col("sq_next").sqrt());
    Ok(pairs
        .join(dots, [col("user"), col("week")], [col("user"), col("week")], JoinArgs::new(JoinType::Left))
        .group_by([col("user")])
        .agg([distance.clone().mean().alias("churn_rate__mean"), distance.std(0).alias("churn_rate__std")]))
}
