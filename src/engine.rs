//! Runs the indicator registry over the records of many users at once:
//! one group-by per user and period for each filter combination and
//! level, summary statistics of distributions, then mean and std across
//! periods. The result is one row per user, one column per flattened key.

use anyhow::{Context, Result};
use polars::prelude::*;
use rayon::prelude::*;

use crate::load::UserTable;
use crate::options::{GroupBy, IndicatorOptions};
use crate::periods::{self, Chunk, PeriodValues};
use crate::queries::{recharges, Compute, Indicator, Interaction, Level, Shape};
use crate::stats::{self, STAT_NAMES};
use crate::subsets::{self, Subset};

/// Filters of one part of the week and one part of the day.
fn combo_filter(part_of_week: &str, part_of_day: &str) -> Expr {
    let week = match part_of_week {
        "weekday" => col("weekend").not(),
        "weekend" => col("weekend"),
        _ => lit(true),
    };
    let day = match part_of_day {
        "day" => col("night").not(),
        "night" => col("night"),
        _ => lit(true),
    };
    week.and(day)
}

/// The flattened key of an indicator under one filter combination.
fn base_key(
    ind: &Indicator,
    part_of_week: &str,
    part_of_day: &str,
    interaction: Option<Interaction>,
) -> String {
    match interaction {
        Some(i) => format!("{}__{part_of_week}__{part_of_day}__{}", ind.name, i.name()),
        None => format!("{}__{part_of_week}__{part_of_day}", ind.name),
    }
}

/// The per-period value columns an indicator yields once summarised.
pub(crate) fn value_columns(ind: &Indicator, base: &str, opts: &IndicatorOptions) -> Vec<String> {
    match ind.shape {
        Shape::Scalar => vec![base.to_string()],
        Shape::Distribution => {
            STAT_NAMES[..opts.stat_count()].iter().map(|s| format!("{base}__{s}")).collect()
        }
    }
}

/// The final columns of one value column: mean and std across periods,
/// or the value itself without grouping.
fn final_columns(value: &str, opts: &IndicatorOptions) -> Vec<String> {
    match opts.groupby {
        GroupBy::None => vec![value.to_string()],
        _ => vec![format!("{value}__mean"), format!("{value}__std")],
    }
}

/// The columns of one indicator under every filter combination.
fn columns_of(ind: &Indicator, opts: &IndicatorOptions, out: &mut Vec<String>) {
    for pw in opts.parts_of_week() {
        for pd in opts.parts_of_day() {
            let interactions: Vec<Option<Interaction>> = if ind.interactions.is_empty() {
                vec![None]
            } else {
                ind.interactions.iter().copied().map(Some).collect()
            };
            for i in interactions {
                for v in value_columns(ind, &base_key(ind, pw, pd, i), opts) {
                    out.extend(final_columns(&v, opts));
                }
            }
        }
    }
}

/// Every indicator column of a run, in the reference's output order: the
/// records' indicators, churn_rate, then the recharge indicators when the
/// run reads recharges.
pub fn indicator_columns(registry: &[Indicator], opts: &IndicatorOptions, recharges: bool) -> Vec<String> {
    let mut out = Vec::new();
    for ind in registry.iter().filter(|ind| ind.level != Level::Recharges) {
        columns_of(ind, opts, &mut out);
    }
    out.push("churn_rate__mean".into());
    out.push("churn_rate__std".into());
    if recharges {
        for ind in registry.iter().filter(|ind| ind.level == Level::Recharges) {
            columns_of(ind, opts, &mut out);
        }
    }
    out
}

/// Replaces each list column of distributions by its summary statistics.
fn summarise(mut df: DataFrame, lists: &[String], opts: &IndicatorOptions) -> Result<DataFrame> {
    let n_stats = opts.stat_count();
    for name in lists {
        // Read the lists through their offsets into one buffer of values,
        // rather than as one series per group.
        let lists = df.column(name)?.list()?.rechunk();
        let inner = lists.get_inner();
        let inner = inner.f64()?;
        let mut out: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(df.height()); n_stats];
        let mut buf = Vec::new();
        let present = lists.is_not_null();
        // One chunk after rechunking (none for an empty frame).
        if let Some(array) = lists.downcast_iter().next() {
            let offsets = array.offsets().as_slice();
            for i in 0..present.len() {
                buf.clear();
                if present.get(i) == Some(true) {
                    let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                    buf.extend((start..end).filter_map(|j| inner.get(j)));
                }
                let summary = stats::summary(&mut buf, n_stats);
                for (k, slot) in out.iter_mut().enumerate() {
                    slot.push(summary.map(|s| s[k]));
                }
            }
        }
        df = df.drop(name)?;
        for (k, values) in out.into_iter().enumerate() {
            df.with_column(Column::new(format!("{name}__{}", STAT_NAMES[k]).into(), values))?;
        }
    }
    Ok(df)
}

/// One row per user number below `users` (`user`, then the columns of
/// [`periods::per_user`]) from a per-period frame (`user`, `period` and the
/// `values` columns, in any row order).
fn user_level(
    periods: DataFrame,
    values: &[String],
    users: usize,
    opts: &IndicatorOptions,
) -> Result<DataFrame> {
    let periods = periods.sort(["user", "period"], SortMultipleOptions::default())?;
    let rows_user: Vec<u32> = periods.column("user")?.u32()?.into_no_null_iter().collect();
    let mut named = Vec::with_capacity(values.len());
    for v in values {
        let column = periods.column(v)?;
        let integer = column.dtype() == &DataType::Int64;
        let x = column.cast(&DataType::Float64)?;
        named.push(PeriodValues { name: v.clone(), integer, values: x.f64()?.iter().collect() });
    }
    let mut columns = vec![Column::new("user".into(), (0..users as u32).collect::<Vec<_>>())];
    columns.extend(periods::per_user(&rows_user, named, users, opts.groupby == GroupBy::None));
    Ok(DataFrame::new(users, columns)?)
}

/// The recharge indicators of one filter combination, with their keys.
struct Group<'a> {
    indicators: Vec<(&'a Indicator, String)>,
}

impl<'a> Group<'a> {
    fn exprs(&self, level: Level) -> Vec<Expr> {
        self.indicators
            .iter()
            .filter(|(ind, _)| ind.level == level)
            .filter_map(|(ind, key)| match ind.compute {
                Compute::Expr(expr) => Some((ind, key, expr)),
                _ => None,
            })
            .map(|(ind, key, expr)| {
                let e = expr();
                let e = match (ind.shape, ind.integer) {
                    (Shape::Distribution, _) => e.cast(DataType::Float64),
                    (Shape::Scalar, true) => e.cast(DataType::Int64),
                    (Shape::Scalar, false) => e.cast(DataType::Float64),
                };
                e.alias(key.as_str())
            })
            .collect()
    }
}

fn keys() -> [Expr; 2] {
    [col("user"), col("period")]
}

/// Computes every indicator for the users of `frames`.
///
/// `tables` holds each user's valid records, in time order; users are
/// numbered by their position there. `recharges`, when the run reads them, holds the rows of
/// [`crate::recharges::chunk_frame`] for the same user numbers.
/// Returns one row per user with `user`, `has_home`, and
/// [`indicator_columns`]; users without recharges have nulls there.
pub fn compute(
    tables: &[UserTable],
    recharges: Option<DataFrame>,
    registry: &[Indicator],
    opts: &IndicatorOptions,
) -> Result<DataFrame> {
    let chunk = Chunk::new(tables);
    let has_home = chunk.has_home();
    let users = (0..has_home.len() as u32).collect::<Vec<_>>();
    let mut columns = vec![Column::new("user".into(), users), Column::new("has_home".into(), has_home)];

    // Every pass over parts of the chunk's users, small enough that the
    // worker pool stays busy to the end; the parts' columns are then put
    // end to end.
    let passes = passes(registry, opts);
    let ranges = chunk.user_ranges(8 * rayon::current_num_threads());
    let evaluated: Vec<Vec<Vec<Column>>> = ranges
        .par_iter()
        .map(|users| periods::evaluate(&chunk, &passes, opts, users.clone()))
        .collect::<Result<_>>()
        .context("computing the indicators of records")?;
    columns.extend(end_to_end(evaluated)?);
    columns.extend(chunk.churn());

    let users = columns[0].len();
    let result = DataFrame::new(users, columns)?;
    let mut order = vec!["user".to_string(), "has_home".to_string()];
    order.extend(indicator_columns(registry, opts, recharges.is_some()));
    let Some(recharges) = &recharges else {
        // Every column is in user order already.
        return result.select(order).map_err(anyhow::Error::from).context("assembling indicators");
    };

    // Joins may reorder rows.
    let result = recharge_indicators(result.lazy(), recharges, users, registry, opts)?;
    result
        .select(order.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .sort(["user"], SortMultipleOptions::default())
        .collect()
        .map_err(anyhow::Error::from)
        .context("assembling indicators")
}

/// Computes every indicator of records (no recharges) for record sets that
/// each keep some records of one of `bases` (see [`subsets`]): one row per
/// set, numbered by position, with the columns of [`compute`].
pub fn compute_subsets(
    bases: &[&UserTable],
    sets: &[Subset],
    registry: &[Indicator],
    opts: &IndicatorOptions,
) -> Result<DataFrame> {
    let passes = passes(registry, opts);
    let parts =
        subsets::evaluate(bases, sets, &passes, opts).context("computing the indicators of records")?;
    let has_home: Vec<bool> = parts.iter().flat_map(|p| p.has_home.iter().copied()).collect();
    let users = (0..has_home.len() as u32).collect::<Vec<_>>();
    let mut columns = vec![Column::new("user".into(), users), Column::new("has_home".into(), has_home)];
    let (passes, churn): (Vec<_>, Vec<_>) = parts.into_iter().map(|p| (p.passes, vec![p.churn])).unzip();
    columns.extend(end_to_end(passes)?);
    columns.extend(end_to_end(churn)?);

    let mut order = vec!["user".to_string(), "has_home".to_string()];
    order.extend(indicator_columns(registry, opts, false));
    let height = columns[0].len();
    DataFrame::new(height, columns)?
        .select(order)
        .map_err(anyhow::Error::from)
        .context("assembling indicators")
}

/// Every filter combination: the individual family one interaction set at
/// a time, then the spatial family on all records of the combination. Each
/// is one independent pass over a user's records.
fn passes<'a>(registry: &'a [Indicator], opts: &'a IndicatorOptions) -> Vec<periods::Pass<'a>> {
    let sets = [Interaction::Call, Interaction::Text, Interaction::CallAndText].map(Some);
    let mut passes = Vec::new();
    for part_of_week in opts.parts_of_week() {
        for part_of_day in opts.parts_of_day() {
            for interaction in sets.into_iter().chain([None]) {
                let indicators: Vec<(&Indicator, String)> = registry
                    .iter()
                    .filter(|ind| match interaction {
                        Some(set) => ind.interactions.contains(&set),
                        None => ind.level == Level::Places,
                    })
                    .map(|ind| (ind, base_key(ind, part_of_week, part_of_day, interaction)))
                    .collect();
                if !indicators.is_empty() {
                    passes.push(periods::Pass { part_of_week, part_of_day, interaction, indicators });
                }
            }
        }
    }
    passes
}

/// The columns of parts of the users (each part: a list of column groups),
/// put end to end group by group.
fn end_to_end(parts: Vec<Vec<Vec<Column>>>) -> Result<Vec<Column>> {
    let mut parts = parts.into_iter();
    let Some(mut groups) = parts.next() else {
        return Ok(Vec::new());
    };
    for part in parts {
        for (group, more) in groups.iter_mut().zip(part) {
            for (column, more) in group.iter_mut().zip(&more) {
                column.append(more)?;
            }
        }
    }
    Ok(groups.into_iter().flatten().collect())
}

/// Joins the recharge family: per period of the recharges themselves (not
/// of the records), under every filter combination, as the reference
/// groups and splits recharges like records.
fn recharge_indicators(
    mut result: LazyFrame,
    recharges: &DataFrame,
    users: usize,
    registry: &[Indicator],
    opts: &IndicatorOptions,
) -> Result<LazyFrame> {
    for pw in opts.parts_of_week() {
        for pd in opts.parts_of_day() {
            let group = Group {
                indicators: registry
                    .iter()
                    .filter(|ind| ind.level == Level::Recharges)
                    .map(|ind| (ind, base_key(ind, pw, pd, None)))
                    .collect(),
            };
            let filtered = recharges.clone().lazy().filter(combo_filter(pw, pd));
            let periods = recharges::recharge_features(filtered)
                .group_by(keys())
                .agg(group.exprs(Level::Recharges))
                .collect()
                .map_err(anyhow::Error::from)
                .with_context(|| format!("computing {pw}/{pd} recharge indicators"))?;
            result = join_user_level(result, periods, &group, users, opts)?;
        }
    }
    Ok(result)
}

/// Summarises one per-period frame and joins its user-level columns.
fn join_user_level(
    result: LazyFrame,
    periods: DataFrame,
    group: &Group,
    users: usize,
    opts: &IndicatorOptions,
) -> Result<LazyFrame> {
    let lists: Vec<String> = group
        .indicators
        .iter()
        .filter(|(ind, _)| ind.shape == Shape::Distribution)
        .map(|(_, key)| key.clone())
        .collect();
    let periods = summarise(periods, &lists, opts)?;
    let values: Vec<String> =
        group.indicators.iter().flat_map(|(ind, key)| value_columns(ind, key, opts)).collect();
    let user_level = user_level(periods, &values, users, opts)?;
    Ok(result.join(user_level.lazy(), [col("user")], [col("user")], JoinArgs::new(JoinType::Left)))
}
