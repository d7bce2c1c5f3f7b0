//! Network analysis: the population's record index, which records are
//! reciprocated in each ego's network, and the ego network indicators
//! (out-of-network shares, matrices, clustering coefficients and the
//! inputs of assortativity).
//!
//! The index is built once per run from every user file of the records
//! directory. Correspondents are matched against those user ids only: no
//! path is ever built from a value found inside a file.

// Polars' hash map: its hasher is several times faster than the default one.
use polars::prelude::PlHashMap as HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::antennas::Antennas;
use crate::attributes::{load_attributes, Attributes};
use crate::load::{self, Interaction, LoadSpec, Loaded, Parsed, UserFile, UserTable};
use crate::neighbours::{record_set, Neighbours, RecordSet, Wanted};
use crate::options::{GroupBy, IndicatorOptions};
use crate::queries::Indicator;
use crate::stats;
use crate::value::{Key, Value};

/// How far the parsing of user files may run ahead of the index that takes
/// them in file order: the files parsed and waiting are at most this many.
const PARSED_AHEAD: usize = 64;

/// The files the index has taken so far, which the workers parsing files
/// wait on so as not to run more than [`PARSED_AHEAD`] files ahead.
#[derive(Default)]
struct Window {
    /// Files taken; `usize::MAX` once the index stopped taking them.
    taken: std::sync::Mutex<usize>,
    moved: std::sync::Condvar,
}

impl Window {
    /// Waits until file `i` is at most [`PARSED_AHEAD`] files ahead.
    fn wait_for(&self, i: usize) {
        let mut taken = self.taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while i >= taken.saturating_add(PARSED_AHEAD) {
            taken = self.moved.wait(taken).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// The index took its first `taken` files.
    fn advance(&self, taken: usize) {
        *self.taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = taken;
        self.moved.notify_all();
    }

    /// A guard that, dropped, lets every worker go on (they then find the
    /// index gone): the index stops on an error, or when done.
    fn closing(&self) -> impl Drop + '_ {
        struct Close<'a>(&'a Window);
        impl Drop for Close<'_> {
            fn drop(&mut self) {
                self.0.advance(usize::MAX);
            }
        }
        Close(self)
    }
}

/// Records closer than this many seconds can reciprocate each other.
const MATCH_WINDOW: i64 = 30;

/// Interaction weights count distinct blocks of this many seconds.
const BLOCK: i64 = 1800;

/// Up to this many valid records in the population, reading it for the
/// index keeps every user's records (about 45 bytes each), which then serve
/// the egos and their neighbours without reading any file again. A larger
/// population reads the files of each chunk again, in bounded memory.
pub const KEPT_RECORDS: usize = 4_000_000;

/// The population's user files, in index order, and every user's valid
/// records when the index kept them.
pub struct Population {
    files: Vec<UserFile>,
    /// By user: None for a file without valid records or that could not be
    /// read. Empty when the records were not kept.
    parsed: Vec<Option<Parsed>>,
}

impl Population {
    /// Loads `user` as `spec` asks (its links aside), from the kept records
    /// or else from its file. Kept records were located with the run's
    /// antennas, which `spec` must name.
    pub fn load(&self, user: u32, spec: &LoadSpec) -> Result<Loaded> {
        let Some(parsed) = self.parsed.get(user as usize) else {
            return load::load_user_with(self.file(user), spec);
        };
        let Some(parsed) = parsed else {
            return Ok(Loaded::Empty);
        };
        parsed
            .select(spec.keep, spec.groupby, spec.full)
            .with_context(|| self.file(user).path.display().to_string())
    }

    /// The records file of `user`.
    pub fn file(&self, user: u32) -> &UserFile {
        &self.files[user as usize]
    }

    /// Every valid record of `user`, in weekly periods, when the records
    /// were kept: None if not, Some(None) for a user without any.
    pub fn table(&self, user: u32) -> Option<Option<&UserTable>> {
        let parsed = self.parsed.get(user as usize)?;
        debug_assert!(parsed.as_ref().is_none_or(|p| p.groupby() == GroupBy::Week));
        Some(parsed.as_ref().map(|p| &p.table))
    }

    /// Whether every user's records were kept.
    pub fn kept(&self) -> bool {
        !self.parsed.is_empty()
    }
}

/// Network analysis for a run: the population index, its files and kept
/// records, and the indicator values that assortativity compares.
pub struct NetworkRun {
    index: PopulationIndex,
    population: Population,
    neighbours: Neighbours,
    /// The attributes directory, and the attributes read from it so far.
    attributes_dir: Option<PathBuf>,
    attributes: HashMap<u32, Attributes>,
}

impl NetworkRun {
    /// Reads every user of the records directory (`files`, sorted by id),
    /// keeping their records if they have at most `keep_records` (see
    /// [`KEPT_RECORDS`]).
    pub fn read(
        files: Vec<UserFile>,
        antennas: Option<&Antennas>,
        attributes_dir: Option<&Path>,
        registry: &[Indicator],
        threads: usize,
        keep_records: usize,
    ) -> Result<NetworkRun> {
        let started = Instant::now();
        let (index, parsed, unreadable) = PopulationIndex::build(&files, antennas, threads, keep_records)?;
        for u in &unreadable {
            eprintln!("Warning: {} is outside every network: {}", u.user, u.error);
        }
        eprintln!(
            "Network: {} users, {} records matched in {:.1}s\n",
            files.len(),
            index.t.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(NetworkRun {
            index,
            population: Population { files, parsed },
            neighbours: Neighbours::new(registry),
            attributes_dir: attributes_dir.map(Path::to_path_buf),
            attributes: HashMap::default(),
        })
    }

    /// The population's files and records.
    pub fn population(&self) -> &Population {
        &self.population
    }

    /// The network of the user `id`, unless its file could not be read.
    pub fn ego(&self, id: &str) -> Option<EgoNetwork> {
        let user = self.index.user(id)?;
        self.index.readable[user as usize].then(|| self.index.ego(user))
    }

    /// Computes the indicator values that the assortativity of `egos` needs.
    /// `full_tables` holds every valid record of some users (by network
    /// user number), in weekly periods, which spares loading them again.
    pub fn prepare(
        &mut self,
        egos: &[&EgoNetwork],
        full_tables: &HashMap<u32, UserTable>,
        antennas: Option<&Antennas>,
        registry: &[Indicator],
        threads: usize,
    ) -> Result<()> {
        let mut wanted: Vec<Wanted> = Vec::new();
        for ego in egos {
            wanted.push(Wanted { user: ego.user, keep: &ego.keep, set: &ego.sets[0] });
            wanted.extend(ego.neighbours.iter().zip(&ego.sets[1..]).map(|((user, keep), set)| Wanted {
                user: *user,
                keep,
                set,
            }));
        }

        // A neighbour whose attributes file is malformed has no attributes
        // here; it fails on its own when its turn comes.
        if let Some(dir) = &self.attributes_dir {
            for item in &wanted {
                if !self.attributes.contains_key(&item.user) {
                    let attributes =
                        load_attributes(dir, &self.population.file(item.user).id).unwrap_or_default();
                    self.attributes.insert(item.user, attributes);
                }
            }
        }
        self.neighbours.prepare(&wanted, full_tables, &self.population, antennas, registry, threads)
    }

    /// Takes the assortativity values of the chunk's egos from their
    /// indicators, when the run's options hold them (see
    /// [`Neighbours::holds_values`]): row `i` of `indicators` is `egos[i]`
    /// with the records it keeps.
    pub fn seed(
        &mut self,
        egos: &[&EgoNetwork],
        indicators: &polars::prelude::DataFrame,
        opts: &IndicatorOptions,
    ) -> Result<()> {
        if !Neighbours::holds_values(opts) {
            return Ok(());
        }
        let sets: Vec<&RecordSet> = egos.iter().map(|e| &e.sets[0]).collect();
        self.neighbours.seed(&sets, indicators)
    }

    /// Adds the network values to a user's result tree: the reporting
    /// values, then the network indicators after all others (before the
    /// attributes, as in the reference). [`NetworkRun::prepare`] comes first.
    pub fn annotate(&self, tree: &mut Value, ego: &EgoNetwork) {
        let Value::Map(root) = tree else { return };
        if let Some((_, Value::Map(reporting))) = root.iter_mut().find(|(k, _)| &**k == "reporting") {
            for (key, value) in reporting.iter_mut() {
                *value = match &**key {
                    "has_network" => Value::Bool(true),
                    "percent_outofnetwork_calls" => ego.out_of_network[0].clone(),
                    "percent_outofnetwork_texts" => ego.out_of_network[1].clone(),
                    "percent_outofnetwork_contacts" => ego.out_of_network[2].clone(),
                    "percent_outofnetwork_call_durations" => ego.out_of_network[3].clone(),
                    _ => continue,
                };
            }
        }

        let values =
            |set: &RecordSet| self.neighbours.get(set).expect("prepare computed every record set").clone();
        let own = values(&ego.sets[0]);
        let others: Vec<_> = ego.sets[1..].iter().map(values).collect();
        let others: Vec<&[Option<f64>]> = others.iter().map(|v| v.as_slice()).collect();

        let at = root.iter().position(|(k, _)| &**k == "attributes").unwrap_or(root.len());
        let entries = [
            ("clustering_coefficient_unweighted", ego.clustering_unweighted.clone()),
            ("clustering_coefficient_weighted", ego.clustering_weighted.clone()),
            ("assortativity_attributes", self.attribute_assortativity(ego)),
            ("assortativity_indicators", assortativity(self.neighbours.keys(), &own, &others)),
        ];
        root.splice(at..at, entries.map(|(k, v)| (k.into(), v)));
    }

    /// `assortativity_attributes`: attributes read by [`NetworkRun::prepare`].
    fn attribute_assortativity(&self, ego: &EgoNetwork) -> Value {
        let none = Attributes::new();
        let of = |user: u32| self.attributes.get(&user).unwrap_or(&none).as_slice();
        let neighbours: Vec<&[(String, String)]> = ego.neighbours.iter().map(|(user, _)| of(*user)).collect();
        attribute_assortativity(of(ego.user), &neighbours)
    }
}

/// Every valid record of every user, one flat column per field, users in
/// id order and each user's records in time order.
pub struct PopulationIndex {
    /// The directory's user ids (sorted) followed by the other
    /// correspondent ids met in the files: name `i < users` is user `i`.
    names: Vec<String>,
    /// Each name's place in the names sorted as strings, the order in
    /// which the reference visits an ego's correspondents.
    rank: Vec<u32>,
    users: usize,
    /// Users whose file could not be read are outside every network.
    readable: Vec<bool>,
    /// Record range of each user: `offsets[u]..offsets[u + 1]`.
    offsets: Vec<usize>,
    t: Vec<i64>,
    interaction: Vec<Interaction>,
    out: Vec<bool>,
    /// Call seconds where `has_duration`, else 0: two columns take 9 bytes
    /// a record where `Option<i64>` takes 16.
    duration: Vec<i64>,
    has_duration: Vec<bool>,
    correspondent: Vec<u32>,
    /// For each record, the records of its correspondent's file that match
    /// it (same interaction, opposite direction, same duration, less than
    /// 30 s apart): `matches[match_offsets[r]..match_offsets[r + 1]]`.
    /// Record numbers are u32 throughout (`matches`, `by_name`).
    match_offsets: Vec<u32>,
    matches: Vec<u32>,
    /// Each user's record numbers grouped by correspondent, in time order
    /// within a correspondent: the user's part of this column is its own
    /// record range.
    by_name: Vec<u32>,
    /// For each user, its correspondents in name-number order, each with
    /// its run of `by_name`: `user_names[user_name_starts[u]..user_name_starts[u + 1]]`.
    user_names: Vec<(u32, Range<u32>)>,
    user_name_starts: Vec<usize>,
}

/// A user file that cannot be read, which network analysis leaves out.
pub struct Unreadable {
    pub user: String,
    pub error: String,
}

impl PopulationIndex {
    /// Reads every user file (in parallel) and matches every record with
    /// its correspondent's records. Returns every user's valid records too,
    /// when the population has at most `keep_records` of them (none
    /// otherwise).
    pub fn build(
        files: &[UserFile],
        antennas: Option<&Antennas>,
        threads: usize,
        keep_records: usize,
    ) -> Result<(PopulationIndex, Vec<Option<Parsed>>, Vec<Unreadable>)> {
        let mut index = PopulationIndex {
            names: files.iter().map(|f| f.id.clone()).collect(),
            rank: Vec::new(),
            users: files.len(),
            readable: Vec::with_capacity(files.len()),
            offsets: vec![0],
            t: Vec::new(),
            interaction: Vec::new(),
            out: Vec::new(),
            duration: Vec::new(),
            has_duration: Vec::new(),
            correspondent: Vec::new(),
            match_offsets: Vec::new(),
            matches: Vec::new(),
            by_name: Vec::new(),
            user_names: Vec::new(),
            user_name_starts: Vec::new(),
        };
        let mut lookup: HashMap<String, u32> =
            index.names.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)).collect();
        let mut unreadable = Vec::new();
        // None once the population has more records than it may keep.
        let mut kept: Option<Vec<Option<Parsed>>> = Some(Vec::with_capacity(files.len()));

        // The workers parse files one after another, in no set order, while
        // this thread appends them to the index in file order as they come:
        // appending is serial, and would otherwise leave the workers idle.
        // The workers keep within PARSED_AHEAD files of the index, which
        // bounds the memory of parsed files waiting for it.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let window = Window::default();
        std::thread::scope(|scope| -> Result<()> {
            let (send, receive) = std::sync::mpsc::sync_channel(PARSED_AHEAD);
            for _ in 0..threads.clamp(1, files.len().max(1)) {
                let (send, next, window) = (send.clone(), &next, &window);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    window.wait_for(i);
                    // In weeks, as assortativity reads the kept records.
                    let parsed = load::parse_user(file, antennas, GroupBy::Week, true);
                    if send.send((i, parsed)).is_err() {
                        break; // the index stopped on an error
                    }
                });
            }
            drop(send);
            // However this thread leaves, no worker waits for it.
            let _open = window.closing();

            let mut waiting = std::collections::BTreeMap::new();
            let mut appended = 0;
            for (i, parsed) in receive {
                waiting.insert(i, parsed);
                while let Some(result) = waiting.remove(&appended) {
                    let file = &files[appended];
                    let (readable, parsed) = match result {
                        Ok(Some((parsed, links))) => {
                            index.make_room(parsed.table.len(), appended, files.len());
                            index.append(&parsed.table, links.expect("links were asked for"), &mut lookup)?;
                            (true, Some(parsed))
                        }
                        Ok(None) => (true, None),
                        Err(e) => {
                            unreadable.push(Unreadable { user: file.id.clone(), error: format!("{e:#}") });
                            (false, None)
                        }
                    };
                    index.readable.push(readable);
                    index.offsets.push(index.t.len());
                    if index.t.len() > keep_records {
                        kept = None;
                    }
                    if let Some(kept) = &mut kept {
                        kept.push(parsed);
                    }
                    appended += 1;
                    window.advance(appended);
                }
            }
            Ok(())
        })?;
        index.match_all();
        index.group_by_name();
        index.rank_names();
        Ok((index, kept.unwrap_or_default(), unreadable))
    }

    /// Room for a user's `records` more records, the user being number
    /// `user` of `users`: when the columns must grow, they grow to the
    /// records that the users so far make for every user, with a margin,
    /// so that they are copied once or twice rather than at every doubling.
    fn make_room(&mut self, records: usize, user: usize, users: usize) {
        if self.t.capacity() - self.t.len() >= records {
            return;
        }
        // At most three times the records so far: an early user with many
        // records must not make the estimate huge.
        let so_far = self.t.len() + records;
        let expected = so_far / (user + 1) * (users - user - 1) + so_far / 8;
        let more = records + expected.min(2 * so_far);
        self.t.reserve_exact(more);
        self.out.reserve_exact(more);
        self.duration.reserve_exact(more);
        self.has_duration.reserve_exact(more);
        self.interaction.reserve_exact(more);
        self.correspondent.reserve_exact(more);
    }

    fn append(
        &mut self,
        table: &UserTable,
        links: load::Links,
        lookup: &mut HashMap<String, u32>,
    ) -> Result<()> {
        // Time order, which the ego networks' block counts rely on.
        debug_assert!(table.records.windows(2).all(|w| w[0].t <= w[1].t));
        // Records are numbered by u32 (matches, groups, offsets).
        if self.t.len() + table.len() > u32::MAX as usize {
            bail!("network mode takes at most {} records in all", u32::MAX);
        }
        self.t.extend(table.records.iter().map(|r| r.t));
        self.out.extend(table.records.iter().map(|r| r.out));
        self.duration.extend(table.records.iter().map(|r| r.dur().unwrap_or(0)));
        self.has_duration.extend(table.records.iter().map(|r| r.dur().is_some()));
        self.interaction.extend(links.interaction);
        let ids: Vec<u32> = links
            .names
            .into_iter()
            .map(|name| {
                let next = self.names.len() as u32;
                *lookup.entry(name).or_insert_with_key(|name| {
                    self.names.push(name.clone());
                    next
                })
            })
            .collect();
        self.correspondent.extend(links.correspondent.iter().map(|&c| ids[c as usize]));
        Ok(())
    }

    /// Sorts the names once, so that each ego sorts numbers, not strings.
    fn rank_names(&mut self) {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.par_sort_unstable_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        self.rank = vec![0; self.names.len()];
        for (place, &name) in order.iter().enumerate() {
            self.rank[name as usize] = place as u32;
        }
    }

    /// Finds, for every record, the matching records of its correspondent.
    fn match_all(&mut self) {
        // Per user: each record's number of matches, and the matches.
        let per_user: Vec<(Vec<u32>, Vec<u32>)> = (0..self.users)
            .into_par_iter()
            .map(|u| {
                let (mut counts, mut found) = (Vec::new(), Vec::new());
                for r in self.records(u as u32) {
                    let before = found.len();
                    self.find_matches(r, &mut found);
                    counts.push((found.len() - before) as u32);
                }
                (counts, found)
            })
            .collect();
        self.match_offsets = Vec::with_capacity(self.t.len() + 1);
        self.match_offsets.push(0);
        self.matches = Vec::with_capacity(per_user.iter().map(|(_, found)| found.len()).sum());
        for (counts, found) in per_user {
            self.matches.extend(found);
            let mut end = *self.match_offsets.last().expect("an offset");
            for n in counts {
                end += n;
                self.match_offsets.push(end);
            }
        }
    }

    /// Groups every user's records by correspondent (see `by_name`).
    fn group_by_name(&mut self) {
        let per_user: Vec<(Vec<u32>, Vec<(u32, Range<u32>)>)> = (0..self.users)
            .into_par_iter()
            .map(|u| {
                let mut records: Vec<u32> = self.records(u as u32).map(|r| r as u32).collect();
                // Stable: time order within a correspondent.
                records.sort_by_key(|&r| self.correspondent[r as usize]);
                let mut names: Vec<(u32, Range<u32>)> = Vec::new();
                let start = self.offsets[u] as u32;
                for (i, &r) in records.iter().enumerate() {
                    let (name, at) = (self.correspondent[r as usize], start + i as u32);
                    match names.last_mut() {
                        Some((last, run)) if *last == name => run.end = at + 1,
                        _ => names.push((name, at..at + 1)),
                    }
                }
                (records, names)
            })
            .collect();
        self.by_name = Vec::with_capacity(self.t.len());
        self.user_name_starts = Vec::with_capacity(self.users + 1);
        self.user_name_starts.push(0);
        for (records, names) in per_user {
            self.by_name.extend(records);
            self.user_names.extend(names);
            self.user_name_starts.push(self.user_names.len());
        }
    }

    /// The records of `user` with the correspondent `name`, in time order.
    fn records_with(&self, user: u32, name: u32) -> &[u32] {
        let names =
            &self.user_names[self.user_name_starts[user as usize]..self.user_name_starts[user as usize + 1]];
        match names.binary_search_by_key(&name, |(n, _)| *n) {
            Ok(i) => &self.by_name[names[i].1.start as usize..names[i].1.end as usize],
            Err(_) => &[],
        }
    }

    /// Appends the records of `r`'s correspondent that match `r` to `found`.
    fn find_matches(&self, r: usize, found: &mut Vec<u32>) {
        let Some(other) = self.present(self.correspondent[r]) else {
            return;
        };
        let range = self.records(other);
        let times = &self.t[range.clone()];
        let from = range.start + times.partition_point(|&t| t <= self.t[r] - MATCH_WINDOW);
        for m in from..range.end {
            if self.t[m] >= self.t[r] + MATCH_WINDOW {
                break;
            }
            if self.interaction[m] == self.interaction[r]
                && self.out[m] != self.out[r]
                && self.has_duration[m] == self.has_duration[r]
                && self.duration[m] == self.duration[r]
            {
                found.push(m as u32);
            }
        }
    }

    /// The user behind a correspondent name, when its file was read.
    fn present(&self, name: u32) -> Option<u32> {
        ((name as usize) < self.users && self.readable[name as usize]).then_some(name)
    }

    fn records(&self, user: u32) -> Range<usize> {
        self.offsets[user as usize]..self.offsets[user as usize + 1]
    }

    fn matches_of(&self, r: usize) -> &[u32] {
        &self.matches[self.match_offsets[r] as usize..self.match_offsets[r + 1] as usize]
    }

    /// The position of `id` among the directory's users.
    pub fn user(&self, id: &str) -> Option<u32> {
        self.names[..self.users].binary_search_by(|n| n.as_str().cmp(id)).ok().map(|i| i as u32)
    }

    /// Computes the network of `ego`, whose file was read, with the
    /// thread's slots (see [`Slots`]).
    fn ego(&self, ego: u32) -> EgoNetwork {
        SLOTS.with_borrow_mut(|slots| {
            slots.fit(self.names.len());
            Ego::new(self, ego, slots).finish()
        })
    }
}

/// One member of an ego's network as the reference holds it: a user's
/// records, possibly already filtered.
struct Member {
    user: u32,
    /// `None` until the member is filtered: all records are there.
    keep: Option<Vec<bool>>,
}

impl Member {
    fn has(&self, index: &PopulationIndex, record: usize) -> bool {
        self.keep.as_ref().is_none_or(|k| k[record - index.offsets[self.user as usize]])
    }

    fn kept<'a>(&'a self, index: &'a PopulationIndex) -> impl Iterator<Item = usize> + 'a {
        index.records(self.user).filter(move |&r| self.has(index, r))
    }
}

/// A mark per name of the population, for an ego to count its distinct
/// contacts with: an ego marks only its own names and unmarks them when it
/// is done, so that each thread's marks, made once, serve every ego of
/// every run.
struct Slots {
    seen: Vec<bool>,
}

impl Slots {
    /// Room for `names` names; the slots added are unmarked.
    fn fit(&mut self, names: usize) {
        if self.seen.len() < names {
            self.seen.resize(names, false);
        }
    }
}

thread_local! {
    static SLOTS: std::cell::RefCell<Slots> = const { std::cell::RefCell::new(Slots { seen: Vec::new() }) };
}

struct Ego<'a> {
    index: &'a PopulationIndex,
    ego: u32,
    /// Member 0 is the ego; then the correspondents with files, by name.
    members: Vec<Member>,
    /// The ego's correspondents, sorted by name, with their member.
    correspondents: Vec<(u32, Option<usize>)>,
    /// The thread's marks of names, all unmarked between egos.
    slots: &'a mut Slots,
}

impl<'a> Ego<'a> {
    fn new(index: &'a PopulationIndex, ego: u32, slots: &'a mut Slots) -> Ego<'a> {
        let mut names: Vec<u32> = index.records(ego).map(|r| index.correspondent[r]).collect();
        names.sort_unstable();
        names.dedup();
        names.sort_unstable_by_key(|&name| index.rank[name as usize]);

        let mut members = vec![Member { user: ego, keep: None }];
        let mut correspondents = Vec::with_capacity(names.len());
        for name in names {
            let member = index.present(name).map(|user| {
                members.push(Member { user, keep: None });
                members.len() - 1
            });
            correspondents.push((name, member));
        }
        Ego { index, ego, members, correspondents, slots }
    }

    fn is_own_correspondent(&self) -> bool {
        self.correspondents.iter().any(|&(name, _)| name == self.ego)
    }

    /// Removes unreciprocated records member by member, in the reference's
    /// order: the ego first (unless it is its own correspondent), then the
    /// correspondents by name. Each check sees the members filtered so far.
    fn filter(&mut self) {
        let mut order: Vec<usize> = Vec::with_capacity(self.members.len());
        if !self.is_own_correspondent() {
            order.push(0);
        }
        order.extend(self.correspondents.iter().filter_map(|&(_, m)| m));

        // The names of the network's members, with their member: a record
        // with any other correspondent stays. Records with the ego are
        // checked against the ego itself, even when it is its own
        // correspondent and also appears as a copy.
        let mut network = vec![(self.ego, 0)];
        network.extend(
            self.correspondents
                .iter()
                .filter(|&&(name, _)| name != self.ego)
                .filter_map(|&(name, m)| Some((name, m?))),
        );

        for m in order {
            let index = self.index;
            let user = self.members[m].user;
            let first = index.offsets[user as usize];
            let mut keep = vec![true; index.records(user).len()];
            for &(name, target) in &network {
                let target = &self.members[target];
                for &r in index.records_with(user, name) {
                    let r = r as usize;
                    keep[r - first] = index.matches_of(r).iter().any(|&x| target.has(index, x as usize));
                }
            }
            self.members[m].keep = Some(keep);
        }
    }

    fn finish(mut self) -> EgoNetwork {
        self.filter();
        let index = self.index;
        let own = &self.members[0];
        let keep = own.keep.clone().unwrap_or_else(|| vec![true; index.records(self.ego).len()]);
        let out_of_network = self.out_of_network();

        // The matrix axes: the ego, then its other correspondents by name.
        // The ego's row is its copy when it is its own correspondent.
        let mut axis: Vec<(u32, Option<usize>)> = vec![(self.ego, Some(0))];
        for &(name, member) in &self.correspondents {
            if name == self.ego {
                axis[0].1 = member;
            } else {
                axis.push((name, member));
            }
        }
        let undirected = self.undirected(&axis);
        let unweighted = unweighted(&undirected);

        let neighbours: Vec<(u32, Vec<bool>)> = axis
            .iter()
            .enumerate()
            .skip(1)
            .filter(|&(i, _)| unweighted[0][i] != Some(0))
            .filter_map(|(_, &(_, member))| member)
            .map(|m| {
                let member = &self.members[m];
                let keep =
                    member.keep.clone().unwrap_or_else(|| vec![true; index.records(member.user).len()]);
                (member.user, keep)
            })
            .collect();

        let sets: Vec<RecordSet> = std::iter::once(record_set(self.ego, &keep))
            .chain(neighbours.iter().map(|(user, keep)| record_set(*user, keep)))
            .collect();
        EgoNetwork {
            user: self.ego,
            keep,
            out_of_network,
            clustering_unweighted: clustering_unweighted(&unweighted),
            clustering_weighted: clustering_weighted(&undirected),
            neighbours,
            sets,
        }
    }

    /// Shares of the ego's calls, texts, contacts and call seconds whose
    /// correspondent has no readable file.
    fn out_of_network(&mut self) -> [Value; 4] {
        let index = self.index;
        let (mut calls, mut texts, mut seconds) = ([0i64; 2], [0i64; 2], [0i64; 2]);
        // Each contact is counted where it is first seen, marked in the
        // thread's slots.
        let (mut contacts, mut outside_contacts) = (0i64, 0i64);
        let slots = &mut *self.slots;
        for r in self.members[0].kept(index) {
            let name = index.correspondent[r];
            let outside = index.present(name).is_none();
            let slot = usize::from(outside);
            match index.interaction[r] {
                Interaction::Call => {
                    calls[slot] += 1;
                    seconds[slot] += index.duration[r];
                }
                Interaction::Text => texts[slot] += 1,
                _ => {}
            }
            if !slots.seen[name as usize] {
                slots.seen[name as usize] = true;
                contacts += 1;
                outside_contacts += i64::from(outside);
            }
        }
        for &(name, _) in &self.correspondents {
            slots.seen[name as usize] = false;
        }
        let share = |part: i64, all: i64| {
            if all == 0 {
                Value::Int(0)
            } else {
                Value::Float(part as f64 / all as f64)
            }
        };
        [
            share(calls[1], calls[0] + calls[1]),
            share(texts[1], texts[0] + texts[1]),
            share(outside_contacts, contacts),
            share(seconds[1], seconds[0] + seconds[1]),
        ]
    }

    /// The undirected weighted matrix over `axis`: the number of distinct
    /// half-hour blocks with an interaction, both directions added when both
    /// are positive; `None` between two correspondents without files.
    fn undirected(&self, axis: &[(u32, Option<usize>)]) -> Vec<Vec<Option<i64>>> {
        let index = self.index;
        let n = axis.len();

        // Per row with a file: distinct (column, block) pairs, out and in.
        // A member's records with one correspondent are in time order, so
        // their blocks come in order too: a block is new when it differs
        // from the last of its direction.
        let counts: Vec<Option<[Vec<i64>; 2]>> = axis
            .iter()
            .map(|&(_, member)| {
                let member = &self.members[member?];
                let mut dirs = [vec![0i64; n], vec![0i64; n]];
                for (c, &(name, _)) in axis.iter().enumerate() {
                    let mut last = [i64::MIN; 2];
                    for &r in index.records_with(member.user, name) {
                        let r = r as usize;
                        if !member.has(index, r) {
                            continue;
                        }
                        let (out, block) = (usize::from(index.out[r]), index.t[r].div_euclid(BLOCK));
                        if last[out] != block {
                            last[out] = block;
                            dirs[out][c] += 1;
                        }
                    }
                }
                Some(dirs)
            })
            .collect();

        // A row without a file takes its values from the other side.
        let directed = |i: usize, j: usize| -> Option<i64> {
            match &counts[i] {
                Some([_, out]) => Some(out[j]),
                None if i == j => Some(0),
                None => counts[j].as_ref().map(|[incoming, _]| incoming[i]),
            }
        };
        (0..n)
            .map(|a| {
                (0..n)
                    .map(|b| {
                        let (ab, ba) = (directed(a, b), directed(b, a));
                        match (ab, ba) {
                            _ if a == b => Some(0),
                            (Some(x), Some(y)) if x != 0 && y != 0 => Some(x + y),
                            (None, _) | (_, None) => None,
                            _ => Some(0),
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// 1 where the undirected weighted matrix has an edge.
fn unweighted(weighted: &[Vec<Option<i64>>]) -> Vec<Vec<Option<i64>>> {
    weighted.iter().map(|row| row.iter().map(|w| w.map(|w| i64::from(w > 0))).collect()).collect()
}

/// Pairs of other members that close a triangle with the ego (member 0),
/// in the reference's order, with the three edge weights.
fn triangles(matrix: &[Vec<Option<i64>>]) -> impl Iterator<Item = [i64; 3]> + '_ {
    let n = matrix.len();
    (0..n).flat_map(move |a| (a + 1..n).map(move |b| (a, b))).filter_map(move |(a, b)| {
        let edges = [matrix[a][b]?, matrix[a][0]?, matrix[b][0]?];
        edges.iter().all(|&w| w > 0).then_some(edges)
    })
}

/// Twice the closed triplets over degree × (degree - 1); the integer 0
/// below two neighbours, as in the reference.
fn clustering_unweighted(matrix: &[Vec<Option<i64>>]) -> Value {
    let degree: i64 = matrix[0].iter().flatten().sum();
    if degree <= 1 {
        return Value::Int(0);
    }
    let closed = triangles(matrix).count() as f64;
    Value::Float(2.0 * closed / (degree * (degree - 1)) as f64)
}

/// As [`clustering_unweighted`], each triangle weighted by the geometric
/// mean of its edges over the matrix's largest weight.
fn clustering_weighted(matrix: &[Vec<Option<i64>>]) -> Value {
    let Some(max) = matrix.iter().flatten().flatten().copied().max() else {
        return Value::Null;
    };
    let degree = matrix[0].iter().flatten().filter(|&&w| w > 0).count() as i64;
    if degree <= 1 {
        return Value::Int(0);
    }
    // Summed in the reference's order: float addition is not associative.
    let mut total = 0.0;
    for [ab, ac, bc] in triangles(matrix) {
        total += stats::py_pow((ab * ac * bc) as f64, 1.0 / 3.0) / max as f64;
    }
    Value::Float(2.0 * total / (degree * (degree - 1)) as f64)
}

/// An ego's network, as far as it can be computed without indicators.
pub struct EgoNetwork {
    pub user: u32,
    /// The ego's records left after removing unreciprocated ones.
    pub keep: Vec<bool>,
    /// `percent_outofnetwork_` calls, texts, contacts and call_durations.
    pub out_of_network: [Value; 4],
    pub clustering_unweighted: Value,
    pub clustering_weighted: Value,
    /// Reciprocated neighbours with files, in matrix order, each with the
    /// records it keeps in this ego's network.
    pub neighbours: Vec<(u32, Vec<bool>)>,
    /// The keys of the ego's record set, then of each neighbour's.
    pub sets: Vec<RecordSet>,
}

/// The mean squared difference between the ego's and each neighbour's
/// value, key by key, over the neighbours where both have one. Keys come
/// in the order in which a first pair is met, as in the reference.
pub fn assortativity(keys: &[Key], ego: &[Option<f64>], neighbours: &[&[Option<f64>]]) -> Value {
    let mut order: Vec<usize> = Vec::new();
    let mut sums = vec![(0.0f64, 0u64); keys.len()];
    for values in neighbours {
        for (k, (e, v)) in ego.iter().zip(values.iter()).enumerate() {
            let (Some(e), Some(v)) = (e, v) else { continue };
            if sums[k].1 == 0 {
                order.push(k);
            }
            sums[k].0 += stats::py_pow_int(e - v, 2);
            sums[k].1 += 1;
        }
    }
    Value::Map(
        order
            .into_iter()
            .map(|k| (Key::clone(&keys[k]), Value::Float(sums[k].0 / sums[k].1 as f64)))
            .collect(),
    )
}

/// Per attribute of the ego, the share of neighbours with attributes that
/// share its value; `None` without such neighbours. A neighbour without
/// the key does not share the value (the reference fails there).
pub fn attribute_assortativity(ego: &[(String, String)], neighbours: &[&[(String, String)]]) -> Value {
    let with_attributes: Vec<&&[(String, String)]> = neighbours.iter().filter(|a| !a.is_empty()).collect();
    let lookup = |attrs: &[(String, String)], key: &str| {
        attrs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let mut out = Value::map();
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in ego {
        if seen.contains(&key.as_str()) {
            continue;
        }
        seen.push(key);
        let value = lookup(ego, key);
        let same = with_attributes.iter().filter(|n| lookup(n, key) == value).count();
        out.push(
            key.clone(),
            if with_attributes.is_empty() {
                Value::Null
            } else {
                Value::Float(same as f64 / with_attributes.len() as f64)
            },
        );
    }
    out
}
