//! The indicators of record sets that each lose a few records of a user's
//! table: what assortativity needs of an ego's neighbours, which lose their
//! unreciprocated records with the ego's network.
//!
//! Indicators are functions of one period's records and the user's home,
//! so a period that loses no record keeps the values it has in the whole
//! table: each table's periods are evaluated once, and a set only
//! evaluates again the periods it takes records from (all of them when it
//! moves the home). The user-level values then come from the period values
//! as for any user.

use std::ops::Range;

use anyhow::Result;
use polars::prelude::Column;
use rayon::prelude::*;

use crate::load::UserTable;
use crate::options::IndicatorOptions;
use crate::periods::{per_user, user_columns, Pass, PassValues, PeriodValues, Scratch, UserPart};
use crate::queries::spatial;

/// The records of `bases[base]` where `keep` is true.
pub struct Subset<'a> {
    pub base: usize,
    pub keep: &'a [bool],
}

/// A whole table's home and its period rows under every pass.
struct Base {
    home: Option<u32>,
    rows: Vec<PassValues>,
}

/// The columns of a run of sets, one row per set.
pub struct Columns {
    /// For each pass, its user-level columns (see [`user_columns`]).
    pub passes: Vec<Vec<Column>>,
    /// `churn_rate__mean` and `churn_rate__std`.
    pub churn: Vec<Column>,
    pub has_home: Vec<bool>,
}

/// Evaluates every pass over each set of `sets`, in parts of about equal
/// numbers of sets, in parallel; each part's columns hold its sets in order.
pub fn evaluate(
    bases: &[&UserTable],
    sets: &[Subset],
    passes: &[Pass],
    opts: &IndicatorOptions,
) -> Result<Vec<Columns>> {
    let n_stats = opts.stat_count();
    // Filtered tables are numbered afresh, so their correspondent numbers
    // stay below their table's.
    let contacts = bases
        .iter()
        .flat_map(|t| t.records.iter().filter_map(|r| r.corr()))
        .max()
        .map_or(0, |c| c as usize + 1);

    let evaluated: Vec<Base> = bases
        .par_iter()
        .map_init(
            || Scratch::new(contacts),
            |scratch, table| -> Result<Base> {
                let home = spatial::home(&table.records);
                let part = UserPart::of(table, 0..table.len(), home);
                let mut rows = Vec::with_capacity(passes.len());
                for pass in passes {
                    let mut values = PassValues::new(pass, n_stats)?;
                    scratch.user_pass(0, &part, pass, &mut values, n_stats);
                    rows.push(values);
                }
                Ok(Base { home, rows })
            },
        )
        .collect::<Result<_>>()?;

    let parts = 8 * rayon::current_num_threads();
    let per_part = sets.len().div_ceil(parts).max(1);
    let ranges: Vec<Range<usize>> =
        (0..sets.len()).step_by(per_part).map(|s| s..(s + per_part).min(sets.len())).collect();
    ranges
        .into_par_iter()
        .map(|range| {
            let mut part = Part::new(passes, n_stats, contacts)?;
            for (user, set) in sets[range.clone()].iter().enumerate() {
                part.add(user as u32, bases[set.base], &evaluated[set.base], set.keep, passes, n_stats);
            }
            Ok(part.finish(passes, opts, range.len()))
        })
        .collect()
}

/// The period rows of a run of sets, and their churn distances.
struct Part {
    scratch: Scratch,
    rows: Vec<PassValues>,
    /// Rows of the periods evaluated again for the current set.
    fresh: Vec<PassValues>,
    churn_user: Vec<u32>,
    churn: Vec<Option<f64>>,
    buf: Vec<f64>,
    has_home: Vec<bool>,
}

impl Part {
    fn new(passes: &[Pass], n_stats: usize, contacts: usize) -> Result<Part> {
        let empty = || passes.iter().map(|p| PassValues::new(p, n_stats)).collect::<Result<Vec<_>>>();
        Ok(Part {
            scratch: Scratch::new(contacts),
            rows: empty()?,
            fresh: empty()?,
            churn_user: Vec::new(),
            churn: Vec::new(),
            buf: Vec::new(),
            has_home: Vec::new(),
        })
    }

    /// Adds the rows of set number `user`: the records of `table` (whose
    /// rows are `base`) where `keep` is true.
    fn add(
        &mut self,
        user: u32,
        table: &UserTable,
        base: &Base,
        keep: &[bool],
        passes: &[Pass],
        n_stats: usize,
    ) {
        if keep.iter().all(|&k| k) {
            for (rows, base_rows) in self.rows.iter_mut().zip(&base.rows) {
                for row in 0..base_rows.out_user.len() {
                    rows.push_row(user, base_rows, row);
                }
            }
            self.add_churn(user, &table.records);
            self.has_home.push(base.home.is_some());
            return;
        }

        // Numbered afresh like any loaded table: churn_rate adds up in
        // position order.
        let filtered = table.filter(keep);
        let home = spatial::home(&filtered.records);
        self.add_churn(user, &filtered.records);
        self.has_home.push(home.is_some());

        if !same_place(table, base.home, &filtered, keep, home) {
            let part = UserPart::of(&filtered, 0..filtered.len(), home);
            for (pass, rows) in passes.iter().zip(&mut self.rows) {
                self.scratch.user_pass(user, &part, pass, rows, n_stats);
            }
            return;
        }

        // The periods that lose records, as runs of the filtered table (a
        // run is missing when its period lost every record).
        let mut touched: Vec<i64> = Vec::new();
        for (i, _) in keep.iter().enumerate().filter(|(_, k)| !**k) {
            if !touched.contains(&table.periods[i]) {
                touched.push(table.periods[i]);
            }
        }
        let runs: Vec<Range<usize>> =
            runs(&filtered.periods).filter(|r| touched.contains(&filtered.periods[r.start])).collect();

        for (p, pass) in passes.iter().enumerate() {
            let fresh = &mut self.fresh[p];
            fresh.clear();
            for run in &runs {
                let part = UserPart::of(&filtered, run.clone(), home);
                self.scratch.user_pass(user, &part, pass, fresh, n_stats);
            }

            // Periods in the whole table's order: each untouched one with its
            // row there, each touched one with its new row, if any.
            let (base_rows, rows) = (&base.rows[p], &mut self.rows[p]);
            let (mut b, mut f) = (0, 0);
            for run in runs_of(table) {
                let key = table.periods[run.start];
                if b < base_rows.out_period.len() && base_rows.out_period[b] == key {
                    if !touched.contains(&key) {
                        rows.push_row(user, base_rows, b);
                    }
                    b += 1;
                }
                if touched.contains(&key) && f < fresh.out_period.len() && fresh.out_period[f] == key {
                    rows.push_row(user, fresh, f);
                    f += 1;
                }
            }
        }
    }

    fn add_churn(&mut self, user: u32, records: &[crate::queries::Record]) {
        self.buf.clear();
        spatial::churn_distances(records, &mut self.buf);
        self.churn_user.extend(std::iter::repeat_n(user, self.buf.len()));
        self.churn.extend(self.buf.iter().map(|&d| Some(d)));
    }

    fn finish(self, passes: &[Pass], opts: &IndicatorOptions, users: usize) -> Columns {
        let churn = PeriodValues { name: "churn_rate".into(), integer: false, values: self.churn };
        Columns {
            passes: user_columns(passes, self.rows, opts, users),
            churn: per_user(&self.churn_user, vec![churn], users, false),
            has_home: self.has_home,
        }
    }
}

/// Whether the filtered table's home is the whole table's: the same
/// position, told through a record of it (the tables number positions
/// apart).
fn same_place(
    table: &UserTable,
    home: Option<u32>,
    filtered: &UserTable,
    keep: &[bool],
    new: Option<u32>,
) -> bool {
    let (Some(home), Some(new)) = (home, new) else {
        return home.is_none() && new.is_none();
    };
    let Some(j) = filtered.records.iter().position(|r| r.pos == new) else {
        return false;
    };
    // The j-th kept record of the whole table.
    let i = keep.iter().enumerate().filter(|(_, k)| **k).nth(j).map(|(i, _)| i);
    i.is_some_and(|i| table.records[i].pos == home)
}

/// The runs of equal period keys.
fn runs(periods: &[i64]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= periods.len() {
            return None;
        }
        let end = start + periods[start..].iter().take_while(|&&p| p == periods[start]).count();
        let run = start..end;
        start = end;
        Some(run)
    })
}

fn runs_of(table: &UserTable) -> impl Iterator<Item = Range<usize>> + '_ {
    runs(&table.periods)
}
