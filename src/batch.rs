//! The batch run: finds the users, processes them chunk by chunk (load in
//! parallel, compute indicators over the chunk's records, write each user's
//! files), reports progress, and writes the run's error log and summaries.

// Polars' hash map: its hasher is several times faster than the default one.
use polars::prelude::PlHashMap as HashMap;
use std::fs;
use std::io::{BufWriter, IoSlice, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::antennas::Antennas;
use crate::attributes::load_attributes;
use crate::engine;
use crate::journal::Journal;
use crate::load::{self, LoadSpec, Loaded, UserFile, UserRecords, UserTable};
use crate::network::{EgoNetwork, NetworkRun};
use crate::options::{GroupBy, IndicatorOptions};
use crate::output;
use crate::output::flat::{Flat, Layouts};
use crate::progress::Progress;
use crate::queries::{self, recharges::average_balance, Indicator};
use crate::recharges::{chunk_frame, load_recharges, Recharge};
use crate::summary::{self, CompactFlat, ShardRow};
use crate::tree::{Rows, RunFacts, UserExtras};
use crate::value::UserTree;
use crate::workers;

/// Which per-user files a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    pub csv: bool,
    pub json: bool,
}

impl Formats {
    pub fn parse(s: &str) -> Option<Formats> {
        Some(match s.to_ascii_lowercase().as_str() {
            "both" => Formats { csv: true, json: true },
            "csv" => Formats { csv: true, json: false },
            "json" => Formats { csv: false, json: true },
            "none" => Formats { csv: false, json: false },
            _ => return None,
        })
    }
}

/// A checked batch run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub records_dir: PathBuf,
    pub antennas: Option<PathBuf>,
    /// `<user>.csv` files of `key,value` attributes.
    pub attributes: Option<PathBuf>,
    /// `<user>.csv` files of `datetime,amount,retailer_id` recharges.
    pub recharges: Option<PathBuf>,
    pub output_dir: PathBuf,
    pub options: IndicatorOptions,
    pub formats: Formats,
    pub summary: bool,
    pub resume: bool,
    pub threads: usize,
    pub chunk_size: usize,
    pub verbose: bool,
    /// Compute ego networks from the whole records directory.
    pub network: bool,
    /// Network mode keeps every user's records if the population has at
    /// most this many valid records (see [`crate::network::KEPT_RECORDS`]).
    pub kept_records: usize,
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Outcome {
    pub processed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// One user's failure, as `_errors.json` lists it.
struct Failure {
    user: String,
    error: String,
}

/// Writes a file to `path` through a temporary file in the same directory,
/// so that a run killed at any instant never leaves a partial file under
/// a final name; `write` writes its content, buffered.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    write_through_temporary(path, |file| {
        let mut w = BufWriter::new(file);
        write(&mut w).and_then(|_| w.flush())
    })
}

/// [`write_atomic`] of a content at hand, written at once without a
/// buffer: a user's files, thousands a run.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_parts_atomic(path, &[bytes])
}

/// [`write_bytes_atomic`] of a content in parts, written together by one
/// system call (as a rule) rather than copied together first.
pub fn write_parts_atomic(path: &Path, parts: &[&[u8]]) -> Result<()> {
    write_through_temporary(path, |file| {
        let mut slices: Vec<IoSlice> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let mut left = &mut slices[..];
        while !left.is_empty() {
            match file.write_vectored(left) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut left, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
}

fn write_through_temporary(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut file = fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    write(&mut file).with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(file);
    fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// Removes the temporary files of a run that was killed while writing.
pub(crate) fn remove_stale_temporaries(dir: &Path) -> Result<()> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("cannot list output directory {}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {} in output directory", name))?;
        }
    }
    Ok(())
}

/// Runs the batch; errors here are the run's, not a user's.
pub fn run(plan: &Plan) -> Result<Outcome> {
    let started = Instant::now();
    let users = load::discover(&plan.records_dir)?;
    if users.is_empty() {
        bail!("no user file (*.csv) in records directory {}", plan.records_dir.display());
    }
    let antennas = plan.antennas.as_deref().map(Antennas::read).transpose()?;
    fs::create_dir_all(&plan.output_dir)
        .with_context(|| format!("cannot create output directory {}", plan.output_dir.display()))?;
    remove_stale_temporaries(&plan.output_dir)?;

    let facts = RunFacts {
        antennas_path: plan.antennas.as_ref().map(|p| p.display().to_string()),
        number_of_antennas: antennas.as_ref().map_or(0, Antennas::len),
        attributes_path: plan.attributes.as_ref().map(|p| p.display().to_string()),
        recharges_path: plan.recharges.as_ref().map(|p| p.display().to_string()),
        options: plan.options,
    };
    let registry = queries::registry();

    // Settings that change the per-user files: a resumed run must share them.
    let settings = serde_json::json!({
        "records_dir": plan.records_dir.display().to_string(),
        "antennas": facts.antennas_path,
        "attributes": facts.attributes_path,
        "recharges": facts.recharges_path,
        "groupby": plan.options.groupby.to_string(),
        "split_week": plan.options.split_week,
        "split_day": plan.options.split_day,
        "stats": format!("{:?}", plan.options.stats).to_lowercase(),
        "csv": plan.formats.csv,
        "json": plan.formats.json,
        "network": plan.network,
        "version": crate::tree::VERSION,
    });
    let mut journal = Journal::open(&plan.output_dir, &settings, plan.resume)?;
    let total = users.len();
    let all_users = users.clone();
    // A resumed run skips the users of the earlier runs' shards, and keeps
    // the shards for the summaries.
    let earlier = if plan.resume { journal.read()? } else { Vec::new() };
    let users = if plan.resume {
        let mut done = std::collections::HashSet::new();
        for shard in &earlier {
            done.extend(shard.column("user_id")?.str()?.iter().flatten().map(str::to_string));
        }
        users.into_iter().filter(|u| !done.contains(&u.id)).collect()
    } else {
        users
    };
    let mut shards = if plan.summary { earlier } else { Vec::new() };

    let mut progress = Progress::new(users.len(), plan.verbose);
    progress.header(plan, total);
    if plan.resume {
        eprintln!(
            "Continue mode: {} users already processed\nRemaining users: {}\n",
            total - users.len(),
            users.len()
        );
    }
    let mut network = match plan.network && !users.is_empty() {
        true => Some(NetworkRun::read(
            all_users,
            antennas.as_ref(),
            plan.attributes.as_deref(),
            &registry,
            plan.threads,
            plan.kept_records,
        )?),
        false => None,
    };
    let mut outcome = Outcome::default();
    let mut failures = Vec::new();

    // Flattened keys, shared by the users of each tree shape.
    let layouts = Layouts::default();
    for chunk in users.chunks(plan.chunk_size.max(1)) {
        let results =
            process_chunk(chunk, antennas.as_ref(), &registry, &facts, plan, network.as_mut(), &layouts)?;
        let mut shard = Vec::with_capacity(chunk.len());
        for (file, result) in chunk.iter().zip(results) {
            match result {
                UserResult::Done { records, flat } => {
                    outcome.processed += 1;
                    progress.ok(&file.id, records);
                    shard.push(ShardRow {
                        user: file.id.clone(),
                        status: summary::OK,
                        records: Some(records as i64),
                        flat: Some(flat),
                    });
                }
                UserResult::Skipped => {
                    outcome.skipped += 1;
                    progress.skip(&file.id);
                    shard.push(ShardRow {
                        user: file.id.clone(),
                        status: summary::SKIPPED,
                        records: None,
                        flat: None,
                    });
                }
                UserResult::Failed(error) => {
                    outcome.failed += 1;
                    progress.fail(&file.id, &error);
                    failures.push(Failure { user: file.id.clone(), error });
                }
            }
        }
        // Only now are the chunk's files all in place.
        let journal_started = Instant::now();
        let frame = summary::shard(&shard)?;
        if plan.summary {
            shards.push(frame.clone());
        }
        journal.append(frame)?;
        if plan.verbose {
            eprintln!("    journal shard {:.2}s", journal_started.elapsed().as_secs_f64());
        }
    }

    let elapsed = started.elapsed().as_secs_f64();
    let errors_path = plan.output_dir.join("_errors.json");
    if !failures.is_empty() {
        write_errors(&errors_path, &failures)?;
    } else if errors_path.exists() {
        fs::remove_file(&errors_path).with_context(|| format!("cannot remove {}", errors_path.display()))?;
    }
    if plan.summary && !shards.is_empty() {
        let summary_started = Instant::now();
        summary::write(&plan.output_dir, shards, outcome.failed, elapsed)?;
        if plan.verbose {
            eprintln!("    summaries {:.2}s", summary_started.elapsed().as_secs_f64());
        }
    }
    journal.finish()?;
    progress.finish(&outcome, elapsed, &plan.output_dir);
    Ok(outcome)
}

enum UserResult {
    Done { records: usize, flat: CompactFlat },
    Skipped,
    Failed(String),
}

/// A user's records and what its attributes and recharges files gave.
struct LoadedUser {
    records: Loaded,
    extras: UserExtras,
    recharges: Vec<Recharge>,
}

/// Loads one user's files. A bad attributes or recharges file fails the
/// user even without valid records, as it does in the reference.
fn load_user_files(
    file: &UserFile,
    antennas: Option<&Antennas>,
    ego: Option<(&NetworkRun, &EgoNetwork)>,
    plan: &Plan,
) -> Result<LoadedUser> {
    // In network mode an ego keeps its reciprocated records only.
    let keep = ego.map(|(_, e)| e.keep.as_slice());
    // Network mode also needs every valid record of the ego, unless the
    // run keeps them all.
    let full = ego.is_some_and(|(net, _)| !net.population().kept());
    let spec = LoadSpec { antennas, groupby: plan.options.groupby, links: false, keep, full };
    let records = match ego {
        Some((net, e)) => net.population().load(e.user, &spec)?,
        None => load::load_user_with(file, &spec)?,
    };
    let attributes = match &plan.attributes {
        Some(dir) => load_attributes(dir, &file.id)?,
        None => Vec::new(),
    };
    let recharges = match &plan.recharges {
        Some(dir) => load_recharges(dir, &file.id)?,
        None => Vec::new(),
    };
    let extras =
        UserExtras { attributes, recharges: recharges.len(), average_balance: average_balance(&recharges) };
    Ok(LoadedUser { records, extras, recharges })
}

/// Users whose result trees are read from the indicator columns together
/// (see `Rows::trees`): their values fit in a core's cache.
const ROWS_AT_ONCE: usize = 16;

/// Loads, computes and writes one chunk of users.
fn process_chunk(
    chunk: &[UserFile],
    antennas: Option<&Antennas>,
    registry: &[Indicator],
    facts: &RunFacts,
    plan: &Plan,
    mut network: Option<&mut NetworkRun>,
    layouts: &Layouts,
) -> Result<Vec<UserResult>> {
    let t0 = Instant::now();

    // In network mode each ego loses its unreciprocated records.
    let egos: Vec<Option<EgoNetwork>> = match &network {
        Some(net) => chunk.par_iter().map(|f| net.ego(&f.id)).collect(),
        None => chunk.iter().map(|_| None).collect(),
    };
    let net = network.as_deref();
    let load = |i: usize| {
        let ego = net.zip(egos[i].as_ref());
        load_user_files(&chunk[i], antennas, ego, plan)
    };
    let loaded: Vec<Result<LoadedUser>> =
        workers::map(&(0..chunk.len()).collect::<Vec<_>>(), plan.threads, |&i| load(i));

    // Number the users with records, in chunk order.
    let mut tables = Vec::new();
    // Network mode: every valid record of the chunk's egos, by network
    // user, in weekly periods.
    let mut full_tables: HashMap<u32, UserTable> = HashMap::default();
    let mut members: Vec<(usize, load::UserMeta, UserExtras)> = Vec::new();
    let mut recharges: Vec<(u32, Vec<Recharge>)> = Vec::new();
    let mut results: Vec<UserResult> = Vec::with_capacity(chunk.len());
    for (i, l) in loaded.into_iter().enumerate() {
        match l {
            Ok(LoadedUser {
                records: Loaded::Records(UserRecords { table, meta, full, .. }),
                extras,
                recharges: r,
            }) => {
                let user = members.len() as u32;
                if let (Some(mut full), Some(ego)) = (full, &egos[i]) {
                    // Assortativity works on weeks.
                    full.regroup(plan.options.groupby, GroupBy::Week);
                    full_tables.insert(ego.user, full);
                }
                tables.push(table);
                members.push((i, meta, extras));
                if !r.is_empty() {
                    recharges.push((user, r));
                }
                results.push(UserResult::Skipped); // replaced once written
            }
            Ok(LoadedUser { records: Loaded::Empty, .. }) => results.push(UserResult::Skipped),
            Err(e) => results.push(UserResult::Failed(format!("{e:#}"))),
        }
    }
    if tables.is_empty() {
        return Ok(results);
    }
    let recharges = match plan.recharges {
        Some(_) => {
            let users: Vec<(u32, &[Recharge])> = recharges.iter().map(|(u, r)| (*u, r.as_slice())).collect();
            Some(chunk_frame(&users, plan.options.groupby)?)
        }
        None => None,
    };
    let t1 = Instant::now();
    let indicators = engine::compute(&tables, recharges, registry, &plan.options)?;
    // Each step's inputs are freed as soon as it is done, so that the next
    // steps reuse their memory rather than take (and zero) fresh pages.
    drop(tables);
    let t2 = Instant::now();
    let rows = Rows::new(&indicators, &plan.options, layouts)?;
    // The egos with records, a row of indicators each.
    let with_records: Vec<&EgoNetwork> = members.iter().filter_map(|(i, ..)| egos[*i].as_ref()).collect();
    if let Some(net) = network.as_mut() {
        if with_records.len() == members.len() {
            net.seed(&with_records, &indicators, &plan.options)?;
        }
    }
    drop(indicators);
    if let Some(net) = network.as_mut() {
        // Their full tables serve assortativity.
        net.prepare(&with_records, &full_tables, antennas, registry, plan.threads)?;
    }
    drop(full_tables);
    let network = network.as_deref();
    let t3 = Instant::now();

    let written: Vec<Vec<(usize, UserResult)>> = rows
        .users()
        .par_chunks(ROWS_AT_ONCE)
        .enumerate()
        // Each worker renders its users' files into one reused buffer.
        .map_init(String::new, |text, (group, users)| {
            let first = group * ROWS_AT_ONCE;
            let user = |row: usize| {
                let (i, meta, extras) = &members[rows.users()[row] as usize];
                (chunk[*i].id.as_str(), meta, extras)
            };
            let trees = rows.trees(first..first + users.len(), facts, user);
            trees
                .into_iter()
                .zip(users)
                .map(|(mut tree, &user)| {
                    let (i, meta, _) = &members[user as usize];
                    let id = &chunk[*i].id;
                    if let (Some(net), Some(ego)) = (network, &egos[*i]) {
                        // Network entries go after the indicators (see `UserTree::at`).
                        net.annotate(&mut tree.root, ego);
                    }
                    let flat = layouts.flatten_user_taking(&mut tree);
                    let result = match write_user(&plan.output_dir, id, &tree, &flat, plan.formats, text) {
                        Ok(()) => UserResult::Done { records: meta.records, flat: CompactFlat::of(&flat) },
                        Err(e) => UserResult::Failed(format!("{e:#}")),
                    };
                    (*i, result)
                })
                .collect()
        })
        .collect();
    for (i, result) in written.into_iter().flatten() {
        results[i] = result;
    }
    if plan.verbose {
        eprintln!(
            "    chunk of {} users: load {:.2}s, indicators {:.2}s, network {:.2}s, write {:.2}s",
            chunk.len(),
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            t3.elapsed().as_secs_f64()
        );
    }
    Ok(results)
}

/// Writes a user's files, rendering each into `text` first.
fn write_user(
    dir: &Path,
    id: &str,
    tree: &UserTree,
    flat: &Flat,
    formats: Formats,
    text: &mut String,
) -> Result<()> {
    if formats.csv {
        // The header row is the layout's, written from where it is.
        text.clear();
        output::csv::push_user_csv_row(text, flat);
        let header = flat.layout.csv_header().as_bytes();
        write_parts_atomic(&dir.join(format!("{id}_results.csv")), &[header, text.as_bytes()])?;
    }
    if formats.json {
        text.clear();
        output::json::push_flat_user_json(text, id, flat, || tree.to_value());
        write_bytes_atomic(&dir.join(format!("{id}_results.json")), text.as_bytes())?;
    }
    Ok(())
}

fn write_errors(path: &Path, failures: &[Failure]) -> Result<()> {
    let list: Vec<serde_json::Value> =
        failures.iter().map(|f| serde_json::json!({ "user_id": f.user, "error": f.error })).collect();
    let text = serde_json::to_string_pretty(&list)?;
    write_bytes_atomic(path, text.as_bytes())
}
