//! The indicator values that assortativity compares: every ego's and
//! neighbour's indicators on bandicoot's default options (week, mean and
//! std, no splits), whatever the run's options.
//!
//! A neighbour's records depend on the ego (unreciprocated records with the
//! ego's network are removed), so values are kept per user and per set of
//! removed records, and each distinct set is computed once per run.

use std::borrow::Cow;
// Polars' hash map: its hasher is several times faster than the default one.
use polars::prelude::PlHashMap as HashMap;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::antennas::Antennas;
use crate::engine;
use crate::load::{LoadSpec, Loaded, UserTable};
use crate::network::Population;
use crate::options::{GroupBy, IndicatorOptions, Stats};
use crate::queries::Indicator;
use crate::subsets::Subset;
use crate::value::Key;
use crate::workers;

/// The options assortativity_indicators always uses.
pub const DEFAULT_OPTIONS: IndicatorOptions =
    IndicatorOptions { groupby: GroupBy::Week, split_week: false, split_day: false, stats: Stats::Default };

/// How many record sets one engine run takes.
const SLICE: usize = 1000;

/// A user with the ranks of the records it lost: the key of a record set.
pub type RecordSet = (u32, Vec<u32>);

/// A record set that assortativity needs: a user and the records it keeps
/// (in the network of an ego, or as the ego), with its key.
pub struct Wanted<'a> {
    pub user: u32,
    pub keep: &'a [bool],
    pub set: &'a RecordSet,
}

/// Indicator values in the order of [`Neighbours::keys`].
pub type Values = Arc<Vec<Option<f64>>>;

pub struct Neighbours {
    /// Shared, so that every ego's assortativity entries share their keys
    /// (and so their layout, which compares keys by address first).
    keys: Vec<Key>,
    cache: HashMap<RecordSet, Values>,
}

impl Neighbours {
    pub fn new(registry: &[Indicator]) -> Neighbours {
        Neighbours {
            keys: engine::indicator_columns(registry, &DEFAULT_OPTIONS, false)
                .into_iter()
                .map(Key::from)
                .collect(),
            cache: HashMap::default(),
        }
    }

    /// The flattened indicator keys, in the reference's order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Whether indicators computed on `opts` hold the values of these
    /// options: the same periods and filters, whatever the statistics
    /// (the default ones, mean and std, come first in the extended ones,
    /// computed alike).
    pub fn holds_values(opts: &IndicatorOptions) -> bool {
        opts.groupby == DEFAULT_OPTIONS.groupby && !opts.split_week && !opts.split_day
    }

    /// Takes the values of record sets that a run computed on options that
    /// [`Neighbours::holds_values`]: row `i` of `frame` holds the
    /// indicators of the record set `sets[i]`.
    pub fn seed(&mut self, sets: &[&RecordSet], frame: &DataFrame) -> Result<()> {
        if frame.height() != sets.len() {
            bail!("{} rows of indicators for {} record sets", frame.height(), sets.len());
        }
        let columns = self.columns_of(frame)?;
        for (row, &set) in sets.iter().enumerate() {
            let values = columns.iter().map(|c| c[row]).collect();
            self.cache.insert(set.clone(), Arc::new(values));
        }
        Ok(())
    }

    /// The columns of `frame` named by [`Neighbours::keys`], as floats.
    fn columns_of(&self, frame: &DataFrame) -> Result<Vec<Vec<Option<f64>>>> {
        let mut columns = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            let column = frame.column(key.as_ref())?.cast(&DataType::Float64)?;
            columns.push(column.f64()?.iter().collect::<Vec<_>>());
        }
        Ok(columns)
    }

    /// The values of a record set, once [`Neighbours::prepare`] has
    /// computed them.
    pub fn get(&self, set: &RecordSet) -> Option<&Values> {
        self.cache.get(set)
    }

    /// Computes, in one engine run, the values of every record set of
    /// `wanted` that is not known yet. User `u`'s records are those that
    /// `population` kept, or else those of `full_tables` (every valid
    /// record of some users, in weekly periods), or else its file's.
    pub fn prepare(
        &mut self,
        wanted: &[Wanted],
        full_tables: &HashMap<u32, UserTable>,
        population: &Population,
        antennas: Option<&Antennas>,
        registry: &[Indicator],
        threads: usize,
    ) -> Result<()> {
        let mut todo: Vec<(RecordSet, &Wanted)> = Vec::new();
        let mut queued = polars::prelude::PlHashSet::default();
        for item in wanted {
            if !self.cache.contains_key(item.set) && queued.insert(item.set) {
                todo.push((item.set.clone(), item));
            }
        }

        // In slices: the tables of every set at once would be large. A
        // slice evaluates the whole table of each user it takes sets of:
        // a user's sets go together, so that few users span two slices.
        todo.sort_by_key(|(set, _)| set.0);
        for slice in todo.chunks(SLICE) {
            self.compute(slice, full_tables, population, antennas, registry, threads)?;
        }
        Ok(())
    }

    fn compute(
        &mut self,
        todo: &[(RecordSet, &Wanted)],
        full_tables: &HashMap<u32, UserTable>,
        population: &Population,
        antennas: Option<&Antennas>,
        registry: &[Indicator],
        threads: usize,
    ) -> Result<()> {
        // Each user's valid records, kept or else loaded once for all its
        // record sets here; a set is then a filter of those records (its
        // mask ranks the valid records in time order, the table's order).
        let mut readers: Vec<u32> = todo
            .iter()
            .filter(|(_, item)| {
                population.table(item.user).is_none() && !full_tables.contains_key(&item.user)
            })
            .map(|(_, item)| item.user)
            .collect();
        readers.sort_unstable();
        readers.dedup();
        let read = workers::map(&readers, threads, |&user| -> Result<Option<UserTable>, String> {
            let spec = LoadSpec { antennas, groupby: GroupBy::Week, links: false, keep: None, full: false };
            match population.load(user, &spec) {
                Ok(Loaded::Records(records)) => Ok(Some(records.table)),
                Ok(Loaded::Empty) => Ok(None),
                Err(e) => Err(format!("{e:#}")),
            }
        });
        let mut full: HashMap<u32, Result<Option<Cow<UserTable>>, String>> =
            readers.into_iter().zip(read.into_iter().map(|r| r.map(|t| t.map(Cow::Owned)))).collect();
        for (_, item) in todo {
            if let Some(table) = population.table(item.user) {
                full.insert(item.user, Ok(table.map(Cow::Borrowed)));
            } else if let Some(table) = full_tables.get(&item.user) {
                full.insert(item.user, Ok(Some(Cow::Borrowed(table))));
            }
        }

        // Each set is a subset of its user's whole table, in weeks: an
        // ego's as much as a neighbour's, so that each user's table is
        // evaluated once for all its sets.
        let mut bases: Vec<&UserTable> = Vec::new();
        let mut base_of: HashMap<u32, usize> = HashMap::default();
        let mut sets: Vec<Subset> = Vec::new();
        let mut numbered = Vec::new();
        for (set, item) in todo {
            let table = match &full[&item.user] {
                Ok(Some(table)) => table.as_ref(),
                Ok(None) => {
                    self.cache.insert(set.clone(), Arc::new(vec![None; self.keys.len()]));
                    continue;
                }
                Err(e) => bail!("{e}"),
            };
            if table.len() != item.keep.len() {
                bail!(
                    "{}: the file changed while the run read it",
                    population.file(item.user).path.display()
                );
            }
            let base = *base_of.entry(item.user).or_insert_with(|| {
                bases.push(table);
                bases.len() - 1
            });
            let subset = Subset { base, keep: item.keep };
            // No record left: every indicator is missing.
            if !subset.keep.contains(&true) || bases[subset.base].is_empty() {
                self.cache.insert(set.clone(), Arc::new(vec![None; self.keys.len()]));
                continue;
            }
            sets.push(subset);
            numbered.push(set.clone());
        }
        if sets.is_empty() {
            return Ok(());
        }

        let df = engine::compute_subsets(&bases, &sets, registry, &DEFAULT_OPTIONS)
            .context("computing the indicators that assortativity compares")?;
        let users: Vec<u32> = df.column("user")?.u32()?.into_no_null_iter().collect();
        if users.len() != numbered.len() {
            bail!("the default indicators have {} rows for {} record sets", users.len(), numbered.len());
        }
        let columns = self.columns_of(&df)?;
        for (row, &user) in users.iter().enumerate() {
            let values = columns.iter().map(|c| c[row]).collect();
            self.cache.insert(numbered[user as usize].clone(), Arc::new(values));
        }
        Ok(())
    }
}

/// The key of the records of `user` where `keep` is true.
pub fn record_set(user: u32, keep: &[bool]) -> RecordSet {
    (user, keep.iter().enumerate().filter(|(_, k)| !**k).map(|(i, _)| i as u32).collect())
}
