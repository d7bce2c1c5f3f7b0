//! The spatial family: indicators of the places a user was seen at,
//! computed on positions binned by half hour, and churn_rate.

use polars::prelude::*;

use super::{entropy, in_order, pareto_count, Compute, Indicator, Level, Shape};

/// Mean Earth radius of the reference's great-circle distance, in km.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// One position per half-hour bin: the most frequent position among the
/// bin's records, the earliest on ties. Input: records sorted by user and
/// time, with `user`, `period`, `bin`, `pos`, `lat`, `lon` and `idx` (the
/// record's rank in time order); output: one row per bin with those
/// columns and `first`, the bin's first record of the chosen position.
///
/// A bin's records are consecutive, so one pass over them does what a
/// group-by and a sort would, without their cost.
pub fn binned_positions(records: LazyFrame) -> PolarsResult<LazyFrame> {
    let df = records
        .select([col("user"), col("period"), col("bin"), col("pos"), col("lat"), col("lon"), col("idx")])
        .collect()?;
    let user = df.column("user")?.u32()?;
    let period = df.column("period")?.i64()?;
    let bin = df.column("bin")?.i64()?;
    let pos = df.column("pos")?.u32()?;
    let lat = df.column("lat")?.f64()?;
    let lon = df.column("lon")?.f64()?;
    let idx = df.column("idx")?.u32()?;

    let mut out_user = Vec::new();
    let mut out_period = Vec::new();
    let mut out_bin = Vec::new();
    let mut out_pos = Vec::new();
    let mut out_lat = Vec::new();
    let mut out_lon = Vec::new();
    let mut out_first = Vec::new();

    // (position, count, first record, row of the first record)
    let mut seen: Vec<(u32, u32, u32, usize)> = Vec::new();
    let n = df.height();
    let mut start = 0;
    while start < n {
        let key = (user.get(start), bin.get(start));
        let mut end = start;
        seen.clear();
        while end < n && (user.get(end), bin.get(end)) == key {
            let p = pos.get(end).unwrap_or(0);
            match seen.iter_mut().find(|s| s.0 == p) {
                Some(s) => s.1 += 1,
                None => seen.push((p, 1, idx.get(end).unwrap_or(0), end)),
            }
            end += 1;
        }
        // The first position with the highest count: `seen` is in order of
        // first appearance, and max_by_key keeps the last of equals.
        let best = seen.iter().rev().max_by_key(|s| s.1).expect("a bin has records");
        out_user.push(key.0.unwrap_or(0));
        out_period.push(period.get(start).unwrap_or(0));
        out_bin.push(key.1.unwrap_or(0));
        out_pos.push(best.0);
        out_lat.push(lat.get(best.3));
        out_lon.push(lon.get(best.3));
        out_first.push(best.2);
        start = end;
    }

    let bins = DataFrame::new(
        out_user.len(),
        vec![
            Column::new("user".into(), out_user),
            Column::new("period".into(), out_period),
            Column::new("bin".into(), out_bin),
            Column::new("pos".into(), out_pos),
            Column::new("lat".into(), out_lat),
            Column::new("lon".into(), out_lon),
            Column::new("first".into(), out_first),
        ],
    )?;
    Ok(bins.lazy())
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
pub fn home(records: LazyFrame) -> PolarsResult<LazyFrame> {
    Ok(places(binned_positions(records.filter(col("night")))?)
        .group_by([col("user"), col("pos")])
        .agg([col("n").sum(), col("first").min()])
        .sort_by_exprs(
            [col("user"), col("n"), col("first")],
            SortMultipleOptions::default().with_order_descending_multi([false, true, false]),
        )
        .unique_stable(Some(cols(["user"])), UniqueKeepStrategy::First)
        .select([col("user"), col("pos").alias("home")]))
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
        compute: Compute::Expr(expr),
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

/// churn_rate's input: each user's binned positions counted per ISO week
/// (whatever the run's grouping): `user`, `period` (the week), `pos`, `n`.
pub fn weekly_places(records: LazyFrame) -> PolarsResult<LazyFrame> {
    let weekly = records.with_column((col("day") - lit(4)).floor_div(lit(7)).alias("period"));
    Ok(places(binned_positions(weekly)?)
        .select([col("user"), col("period"), col("pos"), col("n")])
        .sort(["user", "period", "pos"], SortMultipleOptions::default()))
}

/// churn_rate's distances: the cosine distance between the position
/// frequencies of each pair of consecutive weeks with records, summed in
/// position order so that the result is the same on every run. One row per
/// user and pair: `user`, `period` (the pair's rank), `churn_rate`; the
/// engine reports their mean and std.
pub fn churn_distances(weekly: &DataFrame) -> PolarsResult<DataFrame> {
    let users = weekly.column("user")?.u32()?;
    let weeks = weekly.column("period")?.i64()?;
    let positions = weekly.column("pos")?.u32()?;
    let counts = weekly.column("n")?.cast(&DataType::Float64)?;
    let counts = counts.f64()?;

    // Each user's weeks, each week its (position, frequency) in position order.
    let (mut out_user, mut out_pair, mut out_distance) = (Vec::new(), Vec::new(), Vec::new());
    let mut current: Vec<Vec<(u32, f64)>> = Vec::new();
    let mut flush = |user: Option<u32>, weeks: &mut Vec<Vec<(u32, f64)>>| {
        if let Some(user) = user {
            for (pair, w) in weeks.windows(2).enumerate() {
                out_user.push(user);
                out_pair.push(pair as i64);
                out_distance.push(cosine_distance(&w[0], &w[1]));
            }
        }
        weeks.clear();
    };
    let mut last: Option<(u32, i64)> = None;
    for i in 0..weekly.height() {
        let (user, week) = (users.get(i).unwrap_or(0), weeks.get(i).unwrap_or(0));
        if last.map(|(u, _)| u) != Some(user) {
            flush(last.map(|(u, _)| u), &mut current);
        }
        if last != Some((user, week)) {
            current.push(Vec::new());
        }
        current
            .last_mut()
            .expect("a week")
            .push((positions.get(i).unwrap_or(0), counts.get(i).unwrap_or(0.0)));
        last = Some((user, week));
    }
    flush(last.map(|(u, _)| u), &mut current);
    DataFrame::new(
        out_user.len(),
        vec![
            Column::new("user".into(), out_user),
            Column::new("period".into(), out_pair),
            Column::new("churn_rate".into(), out_distance),
        ],
    )
}

/// 1 - cos of two weeks' position frequencies (counts over the week's total).
fn cosine_distance(a: &[(u32, f64)], b: &[(u32, f64)]) -> f64 {
    let total = |w: &[(u32, f64)]| w.iter().fold(0.0, |s, (_, n)| s + n);
    let (ta, tb) = (total(a), total(b));
    let norm = |w: &[(u32, f64)], t: f64| w.iter().fold(0.0, |s, (_, n)| s + (n / t) * (n / t)).sqrt();
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += (a[i].1 / ta) * (b[j].1 / tb);
                i += 1;
                j += 1;
            }
        }
    }
    1.0 - dot / (norm(a, ta) * norm(b, tb))
}
