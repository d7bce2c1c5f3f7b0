//! Synthetic population generator behind `bandicoot synth`.
//!
//! This module owns everything the `synth` subcommand writes: one records
//! CSV per user in bandicoot's input format, an antennas file, and on request
//! attributes and recharges files, plus a [`SynthReport`] that says exactly
//! which rows bandicoot will ignore and why, so that tests can check a
//! reader against it. It depends on `std` only: the PRNG (xoshiro256**
//! seeded through SplitMix64) lives here.
//!
//! Design, in short:
//! - Every random choice comes from a stream seeded by (seed, purpose, id),
//!   never from a shared sequence, so a user's file depends only on the
//!   config and can be written by any thread in any order.
//! - The interactions of a pair of population users are generated from the
//!   pair's own stream. Each of the two users regenerates them when its
//!   file is written, which keeps every mirror exact without holding the
//!   whole population in memory: only one user's records are buffered.
//! - Rows that bandicoot must ignore replace generated rows at a rate of
//!   `bad_row_rate`; for pair rows the decision for both sides is drawn
//!   from the pair's stream, so each user knows whether its mirror survived
//!   and the report can count unreciprocated records exactly.
//!
//! About 10% of users carry latitude/longitude instead of antennas. Note
//! that the Python reference, when given an antennas file, resets the
//! location of every record whose antenna id is not in that file, which
//! wipes those users' coordinates (their spatial indicators become empty).

use crate::calendar::{civil_from_days, days_from_civil};
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// First day of every synthetic population (a Monday).
pub const START_DATE: &str = "2014-03-03";
const START_CIVIL: (i64, u32, u32) = (2014, 3, 3);
const DAY: u32 = 86_400;

/// Records CSV header for users whose position is an antenna.
pub const ANTENNA_COLUMNS: [&str; 6] =
    ["interaction", "direction", "correspondent_id", "datetime", "call_duration", "antenna_id"];
/// Records CSV header for users who carry coordinates instead of antennas.
pub const COORDINATE_COLUMNS: [&str; 7] =
    ["interaction", "direction", "correspondent_id", "datetime", "call_duration", "latitude", "longitude"];

// Users are grouped in communities of consecutive ids: most contacts and
// the home area come from the community, which gives triangles for the
// clustering coefficients and shared antennas for the spatial indicators.
const COMMUNITY: u32 = 40;
const KNOWN_ANTENNAS: usize = 60;
const UNKNOWN_ANTENNAS: usize = 6;

// Shares of a user's expected records: population pairs, outside contacts,
// and (for the users who have them) gps records.
const PAIR_SHARE: f64 = 0.70;
const EXTERNAL_SHARE: f64 = 0.22;
const GPS_SHARE: f64 = 0.08;
// Mean records per session: 45% calls (1), 20% single texts (1), 35%
// bursts of 2..=8 texts (5).
const RECORDS_PER_SESSION: f64 = 2.4;

const UNMIRRORED_SESSION: f64 = 0.03;
const COORDINATE_USERS: f64 = 0.10;
const PERMUTED_USERS: f64 = 0.06;
const QUOTED_USERS: f64 = 0.03;
const UNSORTED_USERS: f64 = 0.12;
const GPS_USERS: f64 = 0.15;
const TIE_USERS: f64 = 0.25;
const ODD_ROWS: f64 = 0.003;
const NO_POSITION: f64 = 0.005;

// Stream purposes, mixed into every stream seed.
const TAG_GRAPH: u64 = 1;
const TAG_ANTENNAS: u64 = 2;
const TAG_WINDOW: u64 = 3;
const TAG_PROFILE: u64 = 4;
const TAG_USER: u64 = 5;
const TAG_PAIR: u64 = 6;
const TAG_ATTRIBUTES: u64 = 7;
const TAG_RECHARGES: u64 = 8;
const TAG_COMMUNITY: u64 = 9;
const TAG_PICK: u64 = 10;

/// What to generate. See [`generate`].
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Population users (files `records/u00001.csv`, ...).
    pub users: usize,
    /// Length of the period, from [`START_DATE`].
    pub weeks: u32,
    pub seed: u64,
    /// Mean valid-or-not records per user and week (users vary around it).
    pub records_per_week: u32,
    /// Share of rows replaced by rows that bandicoot ignores, in [0, 1].
    pub bad_row_rate: f64,
    /// Extra users whose records file is broken, one kind after another.
    pub broken_files: usize,
    pub attributes: bool,
    pub recharges: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            users: 100,
            weeks: 4,
            seed: 42,
            records_per_week: 40,
            bad_row_rate: 0.01,
            broken_files: 0,
            attributes: false,
            recharges: false,
        }
    }
}

/// The ways a broken user's records file is broken, in the order they are
/// handed out (the k-th broken user gets `ALL[k % 8]`). What the Python
/// reference does with each is noted, as observed with bandicoot 0.6.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenKind {
    /// 0 bytes. Python: no header, no record, the user is skipped.
    Empty,
    /// The header line only. Python: no record, the user is skipped.
    HeaderOnly,
    /// No `datetime` column. Python: KeyError, the user fails.
    MissingColumn,
    /// Bytes 0xFF 0xFE inside a correspondent id. Python: UnicodeDecodeError.
    InvalidUtf8,
    /// An opening quote that is never closed. Python's lenient csv module
    /// swallows the rest of the file into that field (one bad record).
    MalformedQuote,
    /// One row with a field too many, one with two too few. Python keeps the
    /// long row (extra field dropped) and ignores the short one.
    RaggedRows,
    /// UTF-8 BOM and CRLF line ends: valid input that a reader should load.
    /// Python reads the first column as "\u{feff}interaction" and fails.
    BomCrlf,
    /// Valid rows followed by blank lines, which CSV readers skip.
    BlankTrailingLines,
}

impl BrokenKind {
    pub const ALL: [BrokenKind; 8] = [
        BrokenKind::Empty,
        BrokenKind::HeaderOnly,
        BrokenKind::MissingColumn,
        BrokenKind::InvalidUtf8,
        BrokenKind::MalformedQuote,
        BrokenKind::RaggedRows,
        BrokenKind::BomCrlf,
        BrokenKind::BlankTrailingLines,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BrokenKind::Empty => "empty",
            BrokenKind::HeaderOnly => "header_only",
            BrokenKind::MissingColumn => "missing_column",
            BrokenKind::InvalidUtf8 => "invalid_utf8",
            BrokenKind::MalformedQuote => "malformed_quote",
            BrokenKind::RaggedRows => "ragged_rows",
            BrokenKind::BomCrlf => "bom_crlf",
            BrokenKind::BlankTrailingLines => "blank_trailing_lines",
        }
    }

    /// True for the kinds whose rows are all valid records once the file is
    /// read as CSV (BOM stripped, CRLF and blank lines accepted).
    pub fn is_valid_input(self) -> bool {
        matches!(self, BrokenKind::BomCrlf | BrokenKind::BlankTrailingLines)
    }
}

impl fmt::Display for BrokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BrokenFile {
    /// User id: the file is `records/<user>.csv`.
    pub user: String,
    pub kind: BrokenKind,
}

/// Ignored rows per failing field, as bandicoot's
/// `reporting.ignored_records` counts them: a row with two bad fields adds
/// one to each field and one to `all`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IgnoredCounts {
    pub all: u64,
    pub interaction: u64,
    pub direction: u64,
    pub correspondent_id: u64,
    pub datetime: u64,
    pub call_duration: u64,
    pub location: u64,
}

impl IgnoredCounts {
    fn add(&mut self, o: &IgnoredCounts) {
        self.all += o.all;
        self.interaction += o.interaction;
        self.direction += o.direction;
        self.correspondent_id += o.correspondent_id;
        self.datetime += o.datetime;
        self.call_duration += o.call_duration;
        self.location += o.location;
    }
}

/// What was written for one population user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserReport {
    pub user: String,
    /// Rows that bandicoot keeps.
    pub records: u64,
    /// Rows that bandicoot ignores (= `ignored.all`).
    pub bad_rows: u64,
    pub ignored: IgnoredCounts,
    /// Valid rows in an unusual but accepted form (one-digit date and time
    /// fields, or an empty interaction with a position).
    pub odd_rows: u64,
    /// Valid rows with a population correspondent whose mirrored row is
    /// absent or ignored in the correspondent's file (mirror = same
    /// correspondent pair, interaction and duration, opposite direction,
    /// under 30 s apart). Calls to broken users are not counted, and
    /// bandicoot's own match ignores the correspondent id, so it may find
    /// a stray match for a few of these rows.
    pub unreciprocated: u64,
    /// Header has latitude/longitude instead of antenna_id.
    pub coordinates: bool,
    pub has_attributes: bool,
    /// Rows in `recharges/<user>.csv`; None when there is no such file.
    pub recharges: Option<u32>,
}

/// Summary of a generated population. Counts cover population users only;
/// broken users are listed in `broken` and counted nowhere else.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthReport {
    pub users: usize,
    /// Valid records over all population files.
    pub records: u64,
    /// Ignored rows over all population files (= `ignored.all`).
    pub bad_rows: u64,
    pub ignored: IgnoredCounts,
    pub odd_rows: u64,
    pub unreciprocated: u64,
    /// Ids of the broken users, in order (same order as `broken`).
    pub broken_files: Vec<String>,
    pub broken: Vec<BrokenFile>,
    /// Rows of antennas.csv.
    pub antennas: usize,
    /// Antenna ids used in records but absent from antennas.csv.
    pub unknown_antennas: Vec<String>,
    pub attribute_files: usize,
    pub recharge_files: usize,
    /// The user with exactly one recharge (bandicoot divides by zero there).
    pub single_recharge_user: Option<String>,
    /// A user whose first record falls on 2014-03-31, a day April lacks
    /// (groupby month fails in the reference); needs weeks >= 5, users >= 3.
    pub month_end_user: Option<String>,
    /// Bytes written under out_dir.
    pub bytes: u64,
    pub per_user: Vec<UserReport>,
}

impl fmt::Display for SynthReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} users, {} records, {} ignored rows, {} odd rows, {} unreciprocated, {:.1} MB",
            self.users,
            self.records,
            self.bad_rows,
            self.odd_rows,
            self.unreciprocated,
            self.bytes as f64 / 1e6
        )?;
        let i = &self.ignored;
        writeln!(
            f,
            "ignored by field: interaction {}, direction {}, correspondent_id {}, datetime {}, call_duration {}, location {}",
            i.interaction, i.direction, i.correspondent_id, i.datetime, i.call_duration, i.location
        )?;
        writeln!(
            f,
            "antennas: {} in antennas.csv, unknown: {}",
            self.antennas,
            self.unknown_antennas.join(" ")
        )?;
        if self.attribute_files > 0 || self.recharge_files > 0 {
            writeln!(
                f,
                "attributes files: {}, recharges files: {} (single recharge: {})",
                self.attribute_files,
                self.recharge_files,
                self.single_recharge_user.as_deref().unwrap_or("-")
            )?;
        }
        if let Some(u) = &self.month_end_user {
            writeln!(f, "first record on 2014-03-31: {}", u)?;
        }
        for b in &self.broken {
            writeln!(f, "broken: {} ({})", b.user, b.kind)?;
        }
        Ok(())
    }
}

/// Writes a population under `out_dir` (created if needed): `records/`,
/// `antennas.csv`, and `attributes/`, `recharges/` when asked. Fails with
/// `AlreadyExists` when `out_dir/records` already holds files, so that a
/// stale larger population never mixes with a new one.
pub fn generate(cfg: &SynthConfig, out_dir: &Path) -> io::Result<SynthReport> {
    validate(cfg)?;

    let records_dir = out_dir.join("records");
    if records_dir.is_dir() && fs::read_dir(&records_dir)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} is not empty", records_dir.display()),
        ));
    }
    fs::create_dir_all(&records_dir)?;
    if cfg.attributes {
        fs::create_dir_all(out_dir.join("attributes"))?;
    }
    if cfg.recharges {
        fs::create_dir_all(out_dir.join("recharges"))?;
    }

    let ctx = Ctx::new(cfg);
    let mut bytes = write_antennas(&ctx, &out_dir.join("antennas.csv"))?;

    // Users are independent, so threads take them in chunks; the report is
    // reassembled in user order, which keeps it deterministic too.
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 16);
    let results: Vec<io::Result<Vec<(usize, UserReport, u64)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut scratch = Scratch::default();
                    let mut done = Vec::new();
                    loop {
                        let first = next.fetch_add(16, Ordering::Relaxed);
                        if first >= cfg.users {
                            return Ok(done);
                        }
                        for i in first..(first + 16).min(cfg.users) {
                            let (rep, b) = write_user(&ctx, i as u32, out_dir, &mut scratch)?;
                            done.push((i, rep, b));
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("synth worker panicked")).collect()
    });
    let mut per_user: Vec<Option<UserReport>> = vec![None; cfg.users];
    for r in results {
        for (i, rep, b) in r? {
            per_user[i] = Some(rep);
            bytes += b;
        }
    }
    let per_user: Vec<UserReport> = per_user.into_iter().map(|r| r.expect("every user written")).collect();

    let mut broken = Vec::with_capacity(cfg.broken_files);
    for k in 0..cfg.broken_files {
        let content = broken_content(&ctx, k);
        bytes += content.len() as u64;
        fs::write(records_dir.join(format!("{}.csv", ctx.broken_names[k])), content)?;
        broken.push(BrokenFile {
            user: ctx.broken_names[k].clone(),
            kind: BrokenKind::ALL[k % BrokenKind::ALL.len()],
        });
    }

    let mut ignored = IgnoredCounts::default();
    for u in &per_user {
        ignored.add(&u.ignored);
    }
    Ok(SynthReport {
        users: cfg.users,
        records: per_user.iter().map(|u| u.records).sum(),
        bad_rows: ignored.all,
        ignored,
        odd_rows: per_user.iter().map(|u| u.odd_rows).sum(),
        unreciprocated: per_user.iter().map(|u| u.unreciprocated).sum(),
        broken_files: broken.iter().map(|b| b.user.clone()).collect(),
        broken,
        antennas: KNOWN_ANTENNAS,
        unknown_antennas: ctx.antennas[KNOWN_ANTENNAS..].iter().map(|a| a.id.clone()).collect(),
        attribute_files: per_user.iter().filter(|u| u.has_attributes).count(),
        recharge_files: per_user.iter().filter(|u| u.recharges.is_some()).count(),
        single_recharge_user: ctx.single_recharge.map(user_name),
        month_end_user: ctx.month_end.map(user_name),
        bytes,
        per_user,
    })
}

fn validate(cfg: &SynthConfig) -> io::Result<()> {
    let bad = |msg: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, msg.to_string()));
    if cfg.weeks == 0 || cfg.weeks > 1000 {
        return bad("weeks must be between 1 and 1000");
    }
    if !(0.0..=1.0).contains(&cfg.bad_row_rate) {
        return bad("bad_row_rate must be between 0 and 1");
    }
    if cfg.users > u32::MAX as usize / 2 {
        return bad("too many users");
    }
    Ok(())
}

/// User id of population user `i` (0-based): u00001, u00002, ...
pub fn user_name(i: u32) -> String {
    format!("u{:05}", i + 1)
}

// ---------------------------------------------------------------------------
// Randomness

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash3(a: u64, b: u64, c: u64) -> u64 {
    let mut s = a;
    let x = splitmix(&mut s);
    let mut s = x ^ b;
    let y = splitmix(&mut s);
    let mut s = y ^ c;
    splitmix(&mut s)
}

/// xoshiro256**: small, fast, and good enough for synthetic data.
struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut sm = seed;
        Rng { s: [splitmix(&mut sm), splitmix(&mut sm), splitmix(&mut sm), splitmix(&mut sm)] }
    }

    fn next(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, n); 0 when n is 0.
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }

    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda >= 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u32;
        }
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = 1.0;
        loop {
            p *= self.f64();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
}

// ---------------------------------------------------------------------------
// Shared, read-only state

struct Antenna {
    id: String,
    lat: f64,
    lon: f64,
}

struct Ctx<'a> {
    cfg: &'a SynthConfig,
    days: u32,
    /// Civil date of each day of the period.
    dates: Vec<(u16, u8, u8)>,
    /// Known antennas first, then those missing from antennas.csv.
    antennas: Vec<Antenna>,
    /// For each known antenna, the known antennas by increasing distance.
    near: Vec<Vec<usize>>,
    adj: Vec<Vec<u32>>,
    /// Sessions per week on an edge of average weight.
    pair_rate: f64,
    external_pool: u64,
    broken_names: Vec<String>,
    month_end: Option<u32>,
    single_recharge: Option<u32>,
    weekday_hours: [f64; 24],
    weekend_hours: [f64; 24],
}

// Relative activity per hour: a quiet night with some activity between
// 19:00 and 07:00, and a later, flatter day on weekends.
const WEEKDAY_HOURS: [f64; 24] = [
    1.0, 0.5, 0.3, 0.2, 0.2, 0.4, 1.0, 3.0, 5.0, 6.0, 6.0, 6.0, 7.0, 6.0, 6.0, 6.0, 6.0, 7.0, 8.0, 8.0, 7.0,
    6.0, 4.0, 2.0,
];
const WEEKEND_HOURS: [f64; 24] = [
    2.0, 1.5, 1.0, 0.5, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 7.0, 8.0, 8.0,
    7.0, 5.0, 3.0,
];

fn cumulative(w: &[f64; 24]) -> [f64; 24] {
    let total: f64 = w.iter().sum();
    let mut out = [0.0; 24];
    let mut acc = 0.0;
    for (o, x) in out.iter_mut().zip(w) {
        acc += x / total;
        *o = acc;
    }
    out
}

impl<'a> Ctx<'a> {
    fn new(cfg: &'a SynthConfig) -> Ctx<'a> {
        let days = cfg.weeks * 7;
        let start = days_from_civil(START_CIVIL.0, START_CIVIL.1, START_CIVIL.2);
        let dates = (0..days as i64)
            .map(|d| {
                let (y, m, dd) = civil_from_days(start + d);
                (y as u16, m as u8, dd as u8)
            })
            .collect();

        let antennas = make_antennas(cfg.seed);
        let near = (0..KNOWN_ANTENNAS)
            .map(|a| {
                let mut idx: Vec<usize> = (0..KNOWN_ANTENNAS).collect();
                let d = |b: usize| {
                    let (x, y) = (antennas[a].lat - antennas[b].lat, antennas[a].lon - antennas[b].lon);
                    x * x + y * y
                };
                idx.sort_by(|&p, &q| d(p).total_cmp(&d(q)).then(p.cmp(&q)));
                idx
            })
            .collect();

        let adj = make_graph(cfg);
        let degree_sum: usize = adj.iter().map(|a| a.len()).sum();
        let mean_degree = if cfg.users == 0 { 1.0 } else { (degree_sum as f64 / cfg.users as f64).max(1.0) };
        let pair_rate = PAIR_SHARE * cfg.records_per_week as f64 / mean_degree / RECORDS_PER_SESSION;

        let width = if cfg.broken_files > 99 { 3 } else { 2 };
        let broken_names = (0..cfg.broken_files)
            .map(|k| {
                let kind = BrokenKind::ALL[k % BrokenKind::ALL.len()];
                format!("b{:0w$}_{}", k + 1, kind.name(), w = width)
            })
            .collect();

        // 2014-03-31 is day 28; April has no 31st.
        let month_end = (days > 28 && cfg.users >= 3).then_some(2);
        let single_recharge = (cfg.recharges && cfg.users > 0).then(|| {
            let mut r = Rng::new(hash3(cfg.seed, TAG_PICK, 0));
            r.below(cfg.users as u64) as u32
        });

        Ctx {
            cfg,
            days,
            dates,
            antennas,
            near,
            adj,
            pair_rate,
            external_pool: (2 * cfg.users as u64).max(200),
            broken_names,
            month_end,
            single_recharge,
            weekday_hours: cumulative(&WEEKDAY_HOURS),
            weekend_hours: cumulative(&WEEKEND_HOURS),
        }
    }

    fn rng(&self, tag: u64, id: u64) -> Rng {
        Rng::new(hash3(self.cfg.seed, tag, id))
    }

    /// Days [lo, hi) in which user i is active: most users cover the whole
    /// period, a few join late or leave early (churn, partial coverage).
    fn window(&self, i: u32) -> (u32, u32) {
        if Some(i) == self.month_end {
            return (28, self.days);
        }
        let mut r = self.rng(TAG_WINDOW, i as u64);
        let x = r.f64();
        let half = (self.days / 2).max(1);
        if x < 0.05 {
            ((1 + r.below(half as u64) as u32).min(self.days - 1), self.days)
        } else if x < 0.10 {
            (0, (half + r.below((self.days - half) as u64) as u32).max(1))
        } else {
            (0, self.days)
        }
    }

    /// A time in days [lo, hi) following the daily rhythm.
    fn sample_time(&self, r: &mut Rng, lo: u32, hi: u32) -> u32 {
        loop {
            let d = lo + r.below((hi - lo) as u64) as u32;
            let weekend = d % 7 >= 5;
            // Weekends are a little quieter.
            if weekend && !r.chance(0.8) {
                continue;
            }
            let cdf = if weekend { &self.weekend_hours } else { &self.weekday_hours };
            let x = r.f64();
            let h = cdf.iter().position(|&c| x < c).unwrap_or(23) as u32;
            return d * DAY + h * 3600 + r.below(3600) as u32;
        }
    }
}

fn make_antennas(seed: u64) -> Vec<Antenna> {
    let mut r = Rng::new(hash3(seed, TAG_ANTENNAS, 0));
    let mut ids: Vec<u32> = Vec::new();
    while ids.len() < KNOWN_ANTENNAS + UNKNOWN_ANTENNAS {
        let id = 1000 + r.below(99_000) as u32;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    // Sorted known ids make antennas.csv easy to read; the unknown ones keep
    // their place at the end.
    ids[..KNOWN_ANTENNAS].sort_unstable();
    ids.into_iter()
        .map(|id| Antenna {
            id: id.to_string(),
            // Around Boston, within some 15 km.
            lat: 42.3601 + 0.06 * r.normal(),
            lon: -71.0589 + 0.08 * r.normal(),
        })
        .collect()
}

/// Undirected contact graph: most links stay inside the community, a few
/// jump anywhere; a few users start no link (and may end up isolated).
fn make_graph(cfg: &SynthConfig) -> Vec<Vec<u32>> {
    let n = cfg.users as u32;
    let mut r = Rng::new(hash3(cfg.seed, TAG_GRAPH, 0));
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for i in 0..n {
        let links = if r.chance(0.03) { 0 } else { 1 + r.below(6) };
        let c0 = i / COMMUNITY * COMMUNITY;
        let size = (n - c0).min(COMMUNITY);
        for _ in 0..links {
            let j = if r.chance(0.8) { c0 + r.below(size as u64) as u32 } else { r.below(n as u64) as u32 };
            if j != i {
                edges.push((i.min(j), i.max(j)));
            }
        }
    }
    edges.sort_unstable();
    edges.dedup();
    let mut adj = vec![Vec::new(); cfg.users];
    for &(a, b) in &edges {
        adj[a as usize].push(b);
        adj[b as usize].push(a);
    }
    for a in &mut adj {
        a.sort_unstable();
    }
    adj
}

fn write_antennas(ctx: &Ctx, path: &Path) -> io::Result<u64> {
    let mut out = Vec::new();
    out.extend_from_slice(b"antenna_id,latitude,longitude\n");
    for a in &ctx.antennas[..KNOWN_ANTENNAS] {
        writeln!(out, "{},{:.6},{:.6}", a.id, a.lat, a.lon)?;
    }
    fs::write(path, &out)?;
    Ok(out.len() as u64)
}

// ---------------------------------------------------------------------------
// Per-user profile

struct Place {
    antenna: usize,
    lat: f64,
    lon: f64,
    lat_s: String,
    lon_s: String,
}

struct Profile {
    coordinates: bool,
    /// home, work (may equal home), then one to three other places.
    places: Vec<Place>,
    /// Column order: indices into ANTENNA_COLUMNS / COORDINATE_COLUMNS.
    perm: Vec<usize>,
    quoted: bool,
    unsorted: bool,
    gps: bool,
    activity: f64,
    externals: Vec<u32>,
}

fn make_profile(ctx: &Ctx, i: u32) -> Profile {
    let mut r = ctx.rng(TAG_PROFILE, i as u64);
    let coordinates = r.chance(COORDINATE_USERS);

    // Home lies near the community's anchor antenna, so neighbours share
    // antennas; the other places lie near home.
    let community = (i / COMMUNITY) as u64;
    let anchor =
        Rng::new(hash3(ctx.cfg.seed, TAG_COMMUNITY, community)).below(KNOWN_ANTENNAS as u64) as usize;
    let home = ctx.near[anchor][r.below(6) as usize];
    let work = if r.chance(0.8) { r.below(KNOWN_ANTENNAS as u64) as usize } else { home };
    let mut idx = vec![home, work];
    for _ in 0..1 + r.below(3) {
        // Coordinates are taken from known antennas only; antenna users
        // sometimes frequent an antenna that antennas.csv lacks.
        if !coordinates && r.chance(0.12) {
            idx.push(KNOWN_ANTENNAS + r.below(UNKNOWN_ANTENNAS as u64) as usize);
        } else {
            idx.push(ctx.near[home][1 + r.below(9) as usize]);
        }
    }
    let places = idx
        .into_iter()
        .map(|a| {
            let (lat, lon) = if coordinates {
                (ctx.antennas[a].lat + 0.003 * (r.f64() - 0.5), ctx.antennas[a].lon + 0.003 * (r.f64() - 0.5))
            } else {
                (ctx.antennas[a].lat, ctx.antennas[a].lon)
            };
            Place { antenna: a, lat, lon, lat_s: format!("{:.6}", lat), lon_s: format!("{:.6}", lon) }
        })
        .collect();

    let ncols = if coordinates { 7 } else { 6 };
    let mut perm: Vec<usize> = (0..ncols).collect();
    if r.chance(PERMUTED_USERS) {
        for k in (1..ncols).rev() {
            perm.swap(k, r.below(k as u64 + 1) as usize);
        }
        if perm.iter().enumerate().all(|(k, &p)| k == p) {
            perm.rotate_left(1);
        }
    }

    let quoted = r.chance(QUOTED_USERS);
    let unsorted = r.chance(UNSORTED_USERS);
    let gps = r.chance(GPS_USERS);
    let activity = 0.4 + r.exp(0.6);
    let externals =
        (0..1 + r.below(5)).map(|_| ((community * 13 + r.below(60)) % ctx.external_pool) as u32).collect();
    Profile { coordinates, places, perm, quoted, unsorted, gps, activity, externals }
}

/// Where user is at time t: home at night, work on weekday office hours,
/// elsewhere otherwise. Index into Profile::places.
fn pick_place(p: &Profile, t: u32, r: &mut Rng) -> usize {
    let h = (t % DAY) / 3600;
    let weekday = (t / DAY) % 7 < 5;
    let x = r.f64();
    let other = 2 + r.below((p.places.len() - 2) as u64) as usize;
    if !(7..19).contains(&h) {
        if x < 0.85 {
            0
        } else {
            other
        }
    } else if weekday && (9..18).contains(&h) {
        if x < 0.65 {
            1
        } else if x < 0.75 {
            0
        } else {
            other
        }
    } else if x < 0.45 {
        0
    } else if x < 0.6 {
        1
    } else {
        other
    }
}

// ---------------------------------------------------------------------------
// Events

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Call,
    Text,
    Gps,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Corr {
    None,
    Pop(u32),
    External(u32),
    Broken(u32),
}

#[derive(Clone, Copy, Debug)]
struct Ev {
    t: u32,
    dur: u32,
    corr: Corr,
    kind: Kind,
    out: bool,
    /// Replaced by a row that bandicoot ignores.
    bad: bool,
    /// A pair record whose mirror is missing or bad.
    unrecip: bool,
}

#[derive(Clone, Copy)]
struct Msg {
    dt: u32,
    kind: Kind,
    /// Direction seen by the side that drew the session.
    out: bool,
    dur: u32,
}

#[derive(Default)]
struct Scratch {
    evs: Vec<Ev>,
    starts: Vec<u32>,
    msgs: Vec<Msg>,
    file: Vec<u8>,
    row: Row,
}

fn call_duration(r: &mut Rng) -> u32 {
    if r.chance(0.08) {
        // Missed or rejected calls.
        0
    } else {
        (4.0 + 1.1 * r.normal()).exp().round().clamp(1.0, 10_800.0) as u32
    }
}

/// One session: a call, a single text, or a burst of texts in both
/// directions (which makes conversations and response delays).
fn build_session(r: &mut Rng, first_out: bool, msgs: &mut Vec<Msg>) {
    msgs.clear();
    let x = r.f64();
    if x < 0.45 {
        let dur = call_duration(r);
        msgs.push(Msg { dt: 0, kind: Kind::Call, out: first_out, dur });
        return;
    }
    let n = if x < 0.65 { 1 } else { 2 + r.below(7) as u32 };
    let mut t = 0u32;
    let mut out = first_out;
    // Last send time per direction: two texts from the same sender stay
    // 45 s apart, so that with mirror offsets of up to 6 s no text can be
    // taken for another one's mirror (bandicoot matches within 30 s).
    let mut last: [Option<u32>; 2] = [None, None];
    for k in 0..n {
        if k > 0 {
            if r.chance(0.65) {
                out = !out;
                t += 15 + r.exp(100.0).min(1800.0) as u32;
            } else {
                t += 15 + r.exp(40.0).min(600.0) as u32;
            }
            if let Some(prev) = last[out as usize] {
                t = t.max(prev + 45);
            }
        }
        last[out as usize] = Some(t);
        msgs.push(Msg { dt: t, kind: Kind::Text, out, dur: 0 });
    }
}

/// Records of population pair (a < b) for side `me` (a or b). Both sides
/// replay the same stream, so they agree on every session, on which
/// sessions are one-sided, on the mirror offsets and on which rows are
/// replaced by bad ones.
fn pair_events(ctx: &Ctx, a: u32, b: u32, me_is_a: bool, s: &mut Scratch) {
    let mut r = ctx.rng(TAG_PAIR, ((a as u64) << 32) | b as u64);
    let weight = r.exp(1.0);
    let p_a_starts = 0.2 + 0.6 * r.f64();
    let (wa, wb) = (ctx.window(a), ctx.window(b));
    let (lo, hi) = (wa.0.max(wb.0), wa.1.min(wb.1));
    if lo >= hi {
        return;
    }
    let n = r.poisson(ctx.pair_rate * weight * (hi - lo) as f64 / 7.0);
    s.starts.clear();
    for _ in 0..n {
        let t = ctx.sample_time(&mut r, lo, hi);
        s.starts.push(t);
    }
    s.starts.sort_unstable();

    let limit = hi * DAY - 60;
    let f = ctx.cfg.bad_row_rate;
    let other = if me_is_a { b } else { a };
    // Sessions of one pair stay 2 minutes apart so that a row can only be
    // mirrored by its own counterpart.
    let mut free_from = 30u32;
    for k in 0..s.starts.len() {
        let t0 = s.starts[k].max(free_from);
        let a_starts = r.chance(p_a_starts);
        build_session(&mut r, a_starts, &mut s.msgs);
        let one_sided = r.chance(UNMIRRORED_SESSION);
        let keep_a = r.chance(0.5);
        let (a_has, b_has) = (!one_sided || keep_a, !one_sided || !keep_a);
        let end = t0 + s.msgs.last().map_or(0, |m| m.dt);
        let fits = end + 10 < limit;
        for m in s.msgs.iter() {
            // Draw everything before deciding to skip, so both sides stay
            // on the same stream whatever they keep.
            let delta = if r.chance(0.55) { 0i64 } else { r.below(13) as i64 - 6 };
            let bad_a = r.chance(f);
            let bad_b = r.chance(f);
            if !fits {
                continue;
            }
            let base = (t0 + m.dt) as i64;
            let (has_me, bad_me, has_other, bad_other, t, out) = if me_is_a {
                (a_has, bad_a, b_has, bad_b, base, m.out)
            } else {
                (b_has, bad_b, a_has, bad_a, base + delta, !m.out)
            };
            if has_me {
                s.evs.push(Ev {
                    t: t as u32,
                    dur: m.dur,
                    corr: Corr::Pop(other),
                    kind: m.kind,
                    out,
                    bad: bad_me,
                    unrecip: !has_other || bad_other,
                });
            }
        }
        if fits {
            free_from = end + 120;
        }
    }
}

/// Sessions with correspondents outside the population, gps records,
/// calls to broken users, the month-end record and exact ties.
fn own_events(ctx: &Ctx, i: u32, p: &Profile, r: &mut Rng, s: &mut Scratch) {
    let (lo, hi) = ctx.window(i);
    let weeks = (hi - lo) as f64 / 7.0;
    let rpw = ctx.cfg.records_per_week as f64;
    let f = ctx.cfg.bad_row_rate;
    let limit = hi * DAY - 60;

    let n = r.poisson(EXTERNAL_SHARE * rpw * weeks * p.activity / RECORDS_PER_SESSION);
    for _ in 0..n {
        let t0 = ctx.sample_time(r, lo, hi);
        // The first external contacts are the most frequent ones.
        let k = r.below(p.externals.len() as u64).min(r.below(p.externals.len() as u64));
        let corr = Corr::External(p.externals[k as usize]);
        let first_out = r.chance(0.55);
        build_session(r, first_out, &mut s.msgs);
        let fits = t0 + s.msgs.last().map_or(0, |m| m.dt) + 10 < limit;
        for m in s.msgs.iter() {
            let bad = r.chance(f);
            if fits {
                s.evs.push(Ev {
                    t: t0 + m.dt,
                    dur: m.dur,
                    corr,
                    kind: m.kind,
                    out: m.out,
                    bad,
                    unrecip: false,
                });
            }
        }
    }

    if p.gps {
        let n = r.poisson(GPS_SHARE * rpw * weeks * p.activity);
        for _ in 0..n {
            let t = ctx.sample_time(r, lo, hi);
            let out = r.chance(0.5);
            let bad = r.chance(f);
            s.evs.push(Ev { t, dur: 0, corr: Corr::None, kind: Kind::Gps, out, bad, unrecip: false });
        }
    }

    // Each broken user is called once by some population user, so a network
    // analysis meets an unreadable correspondent file.
    if ctx.cfg.users > 0 {
        for k in (i as usize..ctx.broken_names.len()).step_by(ctx.cfg.users) {
            let t = ctx.sample_time(r, lo, hi);
            let dur = call_duration(r);
            s.evs.push(Ev {
                t,
                dur,
                corr: Corr::Broken(k as u32),
                kind: Kind::Call,
                out: true,
                bad: false,
                unrecip: false,
            });
        }
    }

    if Some(i) == ctx.month_end {
        s.evs.push(Ev {
            t: 28 * DAY + 10 * 3600,
            dur: 61,
            corr: Corr::External(p.externals[0]),
            kind: Kind::Call,
            out: true,
            bad: false,
            unrecip: false,
        });
    }

    // Exact datetime ties: a text to an outside contact at the very second
    // of an existing record, written after it.
    if !s.evs.is_empty() && r.chance(TIE_USERS) {
        for _ in 0..1 + r.below(2) {
            let t = s.evs[r.below(s.evs.len() as u64) as usize].t;
            s.evs.push(Ev {
                t,
                dur: 0,
                corr: Corr::External(p.externals[0]),
                kind: Kind::Text,
                out: true,
                bad: false,
                unrecip: false,
            });
        }
    }
}

// ---------------------------------------------------------------------------
// Rows

/// Fields of one row in canonical column order, in one buffer.
#[derive(Default)]
struct Row {
    buf: Vec<u8>,
    ends: [usize; 7],
    n: usize,
}

impl Row {
    fn clear(&mut self) {
        self.buf.clear();
        self.n = 0;
    }

    fn end_field(&mut self) {
        self.ends[self.n] = self.buf.len();
        self.n += 1;
    }

    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.end_field();
    }

    fn field(&self, k: usize) -> &[u8] {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.buf[start..self.ends[k]]
    }
}

fn push_padded(buf: &mut Vec<u8>, v: u32, width: usize) {
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut x = v;
    loop {
        digits[n] = b'0' + (x % 10) as u8;
        n += 1;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    for _ in n..width {
        buf.push(b'0');
    }
    buf.extend(digits[..n].iter().rev());
}

#[derive(Clone, Copy, PartialEq)]
enum DtStyle {
    Padded,
    /// One-digit month, day and hour: 2014-3-5 7:05:09.
    ShortDate,
    /// One-digit everything: 2014-3-5 7:5:9.
    ShortAll,
}

fn push_datetime(buf: &mut Vec<u8>, dates: &[(u16, u8, u8)], t: u32, style: DtStyle) {
    let (y, m, d) = dates[(t / DAY) as usize];
    let sod = t % DAY;
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let w1 = if style == DtStyle::Padded { 2 } else { 1 };
    let w2 = if style == DtStyle::ShortAll { 1 } else { 2 };
    push_padded(buf, y as u32, 4);
    buf.push(b'-');
    push_padded(buf, m as u32, w1);
    buf.push(b'-');
    push_padded(buf, d as u32, w1);
    buf.push(b' ');
    push_padded(buf, h, w1);
    buf.push(b':');
    push_padded(buf, mi, w2);
    buf.push(b':');
    push_padded(buf, s, w2);
}

fn push_corr(buf: &mut Vec<u8>, ctx: &Ctx, c: Corr, quoted: bool) {
    if c == Corr::None {
        return;
    }
    if quoted {
        buf.push(b'"');
    }
    match c {
        Corr::None => {}
        Corr::Pop(j) => {
            buf.push(b'u');
            push_padded(buf, j + 1, 5);
        }
        Corr::External(k) => {
            buf.push(b'x');
            push_padded(buf, k + 1, 6);
        }
        Corr::Broken(k) => buf.extend_from_slice(ctx.broken_names[k as usize].as_bytes()),
    }
    if quoted {
        buf.push(b'"');
    }
}

/// A row that bandicoot ignores, and the fields it fails on.
#[derive(Clone, Copy, Debug)]
enum Bad {
    Interaction(&'static str),
    Direction(&'static str),
    Correspondent,
    Datetime(&'static str),
    Duration(&'static str),
    GpsNoPosition,
    EmptyNoPosition,
    InteractionDatetime,
    DirectionDuration,
    CorrespondentDatetime,
    LocationDatetime,
}

const BAD_ROWS: [Bad; 20] = [
    Bad::Interaction("sms"),
    Bad::Interaction("Call"),
    Bad::Direction(""),
    Bad::Direction("inbound"),
    Bad::Correspondent,
    Bad::Correspondent,
    Bad::Datetime("2014-13-01 10:00:00"),
    Bad::Datetime("2014-02-30 10:00:00"),
    Bad::Datetime("yesterday"),
    Bad::Datetime(""),
    Bad::Datetime("2014-03-05"),
    Bad::Duration(""),
    Bad::Duration("12.5"),
    Bad::Duration("abc"),
    Bad::GpsNoPosition,
    Bad::EmptyNoPosition,
    Bad::InteractionDatetime,
    Bad::DirectionDuration,
    Bad::CorrespondentDatetime,
    Bad::LocationDatetime,
];

impl Bad {
    fn ignored(self) -> IgnoredCounts {
        let mut c = IgnoredCounts { all: 1, ..Default::default() };
        match self {
            Bad::Interaction(_) => c.interaction = 1,
            Bad::Direction(_) => c.direction = 1,
            Bad::Correspondent => c.correspondent_id = 1,
            Bad::Datetime(_) => c.datetime = 1,
            Bad::Duration(_) => c.call_duration = 1,
            Bad::GpsNoPosition | Bad::EmptyNoPosition => c.location = 1,
            Bad::InteractionDatetime => {
                c.interaction = 1;
                c.datetime = 1;
            }
            Bad::DirectionDuration => {
                c.direction = 1;
                c.call_duration = 1;
            }
            Bad::CorrespondentDatetime => {
                c.correspondent_id = 1;
                c.datetime = 1;
            }
            Bad::LocationDatetime => {
                c.location = 1;
                c.datetime = 1;
            }
        }
        c
    }
}

enum DtField {
    At(u32, DtStyle),
    Literal(&'static str),
}

enum DurField {
    Empty,
    Value(u32),
    Literal(&'static str),
}

/// Everything a row says, before it is laid out in the user's columns.
struct Spec {
    interaction: &'static str,
    direction: &'static str,
    corr: Corr,
    dt: DtField,
    dur: DurField,
    /// Index into Profile::places, or a one-off point near one (coordinate
    /// users only), or no position.
    place: Option<(usize, bool)>,
}

fn fill_row(ctx: &Ctx, p: &Profile, spec: &Spec, r: &mut Rng, row: &mut Row) {
    row.clear();
    row.put(spec.interaction.as_bytes());
    row.put(spec.direction.as_bytes());
    push_corr(&mut row.buf, ctx, spec.corr, p.quoted);
    row.end_field();
    match spec.dt {
        DtField::At(t, style) => push_datetime(&mut row.buf, &ctx.dates, t, style),
        DtField::Literal(s) => row.buf.extend_from_slice(s.as_bytes()),
    }
    row.end_field();
    match spec.dur {
        DurField::Empty => {}
        DurField::Value(v) => push_padded(&mut row.buf, v, 1),
        DurField::Literal(s) => row.buf.extend_from_slice(s.as_bytes()),
    }
    row.end_field();
    match (spec.place, p.coordinates) {
        (None, false) => row.end_field(),
        (None, true) => {
            row.end_field();
            row.end_field();
        }
        (Some((k, _)), false) => {
            let id = &ctx.antennas[p.places[k].antenna].id;
            row.put(id.as_bytes());
        }
        (Some((k, false)), true) => {
            row.put(p.places[k].lat_s.as_bytes());
            row.put(p.places[k].lon_s.as_bytes());
        }
        (Some((k, true)), true) => {
            // Phones report slightly different coordinates now and then.
            let lat = p.places[k].lat + 0.0016 * (r.f64() - 0.5);
            let lon = p.places[k].lon + 0.0016 * (r.f64() - 0.5);
            let _ = write!(row.buf, "{:.6}", lat);
            row.end_field();
            let _ = write!(row.buf, "{:.6}", lon);
            row.end_field();
        }
    }
}

fn interaction_name(k: Kind) -> &'static str {
    match k {
        Kind::Call => "call",
        Kind::Text => "text",
        Kind::Gps => "gps",
    }
}

/// Whether writing t in `style` differs from the padded form (it does not
/// when every shortened field has two digits anyway).
fn style_changes(dates: &[(u16, u8, u8)], t: u32, style: DtStyle) -> bool {
    let (_, m, d) = dates[(t / DAY) as usize];
    let sod = t % DAY;
    let short_date = m < 10 || d < 10 || sod / 3600 < 10;
    match style {
        DtStyle::Padded => false,
        DtStyle::ShortDate => short_date,
        DtStyle::ShortAll => short_date || sod / 60 % 60 < 10 || sod % 60 < 10,
    }
}

/// The valid row for an event, and whether it is an odd (but valid) one.
fn valid_spec(ctx: &Ctx, ev: &Ev, place: (usize, bool), r: &mut Rng) -> (Spec, bool) {
    let mut odd = false;
    let mut style = DtStyle::Padded;
    let mut interaction = interaction_name(ev.kind);
    if r.chance(ODD_ROWS) {
        if ev.kind == Kind::Gps && r.chance(0.5) {
            // An empty interaction with a position is a valid record.
            interaction = "";
            odd = true;
        } else {
            style = if r.chance(0.5) { DtStyle::ShortDate } else { DtStyle::ShortAll };
            odd = style_changes(&ctx.dates, ev.t, style);
        }
    }
    let has_place = ev.kind == Kind::Gps || !r.chance(NO_POSITION);
    let spec = Spec {
        interaction,
        direction: if ev.out { "out" } else { "in" },
        corr: ev.corr,
        dt: DtField::At(ev.t, style),
        dur: if ev.kind == Kind::Call { DurField::Value(ev.dur) } else { DurField::Empty },
        place: has_place.then_some(place),
    };
    (spec, odd)
}

/// The ignored row that replaces an event. Rows not meant to fail on
/// location keep a position, as rows other than calls and texts need one.
fn bad_spec(ev: &Ev, bad: Bad, place: (usize, bool), p: &Profile) -> Spec {
    let mut s = Spec {
        interaction: interaction_name(ev.kind),
        direction: if ev.out { "out" } else { "in" },
        corr: ev.corr,
        dt: DtField::At(ev.t, DtStyle::Padded),
        dur: if ev.kind == Kind::Call { DurField::Value(ev.dur) } else { DurField::Empty },
        place: Some(place),
    };
    // Kinds that must be a call or a text borrow an outside contact when
    // the event was a gps record.
    let fallback = Corr::External(p.externals[0]);
    let make_call = |s: &mut Spec| {
        s.interaction = "call";
        if s.corr == Corr::None {
            s.corr = fallback;
        }
    };
    match bad {
        Bad::Interaction(x) => s.interaction = x,
        Bad::Direction(x) => s.direction = x,
        Bad::Correspondent => {
            if ev.kind == Kind::Gps {
                s.interaction = "text";
            }
            s.corr = Corr::None;
        }
        Bad::Datetime(x) => s.dt = DtField::Literal(x),
        Bad::Duration(x) => {
            make_call(&mut s);
            s.dur = DurField::Literal(x);
        }
        Bad::GpsNoPosition | Bad::LocationDatetime => {
            s.interaction = "gps";
            s.corr = Corr::None;
            s.dur = DurField::Empty;
            s.place = None;
            if let Bad::LocationDatetime = bad {
                s.dt = DtField::Literal("");
            }
        }
        Bad::EmptyNoPosition => {
            s.interaction = "";
            s.dur = DurField::Empty;
            s.place = None;
        }
        Bad::InteractionDatetime => {
            s.interaction = "sms";
            s.dt = DtField::Literal("yesterday");
        }
        Bad::DirectionDuration => {
            make_call(&mut s);
            s.direction = "";
            s.dur = DurField::Literal("abc");
        }
        Bad::CorrespondentDatetime => {
            if ev.kind == Kind::Gps {
                s.interaction = "text";
            }
            s.corr = Corr::None;
            s.dt = DtField::Literal("2014-02-30 10:00:00");
        }
    }
    s
}

fn write_user(ctx: &Ctx, i: u32, out_dir: &Path, s: &mut Scratch) -> io::Result<(UserReport, u64)> {
    let name = user_name(i);
    let p = make_profile(ctx, i);
    let mut r = ctx.rng(TAG_USER, i as u64);

    // Gather the user's records: pairs first, in neighbour order, then the
    // rest. Unsorted users keep this order in their file.
    s.evs.clear();
    for k in 0..ctx.adj[i as usize].len() {
        let j = ctx.adj[i as usize][k];
        pair_events(ctx, i.min(j), i.max(j), i < j, s);
    }
    own_events(ctx, i, &p, &mut r, s);
    if !p.unsorted {
        // Stable, so ties keep their generation order.
        s.evs.sort_by_key(|e| e.t);
    }

    let mut rep = UserReport {
        user: name.clone(),
        records: 0,
        bad_rows: 0,
        ignored: IgnoredCounts::default(),
        odd_rows: 0,
        unreciprocated: 0,
        coordinates: p.coordinates,
        has_attributes: false,
        recharges: None,
    };
    s.file.clear();
    let columns: &[&str] = if p.coordinates { &COORDINATE_COLUMNS } else { &ANTENNA_COLUMNS };
    for (k, &c) in p.perm.iter().enumerate() {
        if k > 0 {
            s.file.push(b',');
        }
        s.file.extend_from_slice(columns[c].as_bytes());
    }
    s.file.push(b'\n');

    for e in 0..s.evs.len() {
        let ev = s.evs[e];
        let k = pick_place(&p, ev.t, &mut r);
        let jitter = p.coordinates && r.chance(0.08);
        let spec = if ev.bad {
            let bad = BAD_ROWS[r.below(BAD_ROWS.len() as u64) as usize];
            rep.ignored.add(&bad.ignored());
            rep.bad_rows += 1;
            bad_spec(&ev, bad, (k, jitter), &p)
        } else {
            let (spec, odd) = valid_spec(ctx, &ev, (k, jitter), &mut r);
            rep.records += 1;
            rep.odd_rows += odd as u64;
            rep.unreciprocated += (matches!(ev.corr, Corr::Pop(_)) && ev.unrecip) as u64;
            spec
        };
        fill_row(ctx, &p, &spec, &mut r, &mut s.row);
        for (pos, &c) in p.perm.iter().enumerate() {
            if pos > 0 {
                s.file.push(b',');
            }
            s.file.extend_from_slice(s.row.field(c));
        }
        s.file.push(b'\n');
    }
    let mut bytes = s.file.len() as u64;
    fs::write(out_dir.join("records").join(format!("{}.csv", name)), &s.file)?;

    if ctx.cfg.attributes {
        if let Some(content) = attributes_content(ctx, i) {
            bytes += content.len() as u64;
            fs::write(out_dir.join("attributes").join(format!("{}.csv", name)), content)?;
            rep.has_attributes = true;
        }
    }
    if ctx.cfg.recharges {
        if let Some((content, n)) = recharges_content(ctx, i) {
            bytes += content.len() as u64;
            fs::write(out_dir.join("recharges").join(format!("{}.csv", name)), content)?;
            rep.recharges = Some(n);
        }
    }
    Ok((rep, bytes))
}

// ---------------------------------------------------------------------------
// Attributes, recharges, broken files

const CITIES: [&str; 5] = ["Cambridge", "Boston", "Somerville", "Brookline", "Quincy"];

/// `key,value` rows; about 15% of users have no file. The city follows
/// the community, so attribute assortativity is not trivial.
fn attributes_content(ctx: &Ctx, i: u32) -> Option<String> {
    let mut r = ctx.rng(TAG_ATTRIBUTES, i as u64);
    if r.chance(0.15) {
        return None;
    }
    let gender = if r.chance(0.5) { "female" } else { "male" };
    let age = 18 + r.below(58);
    let shift = if r.chance(0.2) { r.below(5) } else { 0 };
    let city = CITIES[((i / COMMUNITY) as u64 + shift) as usize % CITIES.len()];
    let mut s = format!("key,value\ngender,{}\nage,{}\n", gender, age);
    // Some users only have part of the attributes.
    if !r.chance(0.1) {
        s.push_str(&format!("city,{}\n", city));
        if r.chance(0.5) {
            let plan = if r.chance(0.7) { "prepaid" } else { "postpaid" };
            s.push_str(&format!("plan,{}\n", plan));
        }
    }
    Some(s)
}

/// `datetime,amount,retailer_id` rows in time order, a quarter of them with
/// a date only; about 25% of users have no file, one has one recharge.
/// About one user in five has its dates written without zero padding
/// (`2014-3-5`), as in bandicoot's own sample, and some recharges have no
/// retailer.
fn recharges_content(ctx: &Ctx, i: u32) -> Option<(String, u32)> {
    let mut r = ctx.rng(TAG_RECHARGES, i as u64);
    let single = Some(i) == ctx.single_recharge;
    if !single && r.chance(0.25) {
        return None;
    }
    let style = if r.chance(0.2) { DtStyle::ShortDate } else { DtStyle::Padded };
    let (lo, hi) = ctx.window(i);
    let n = if single { 1 } else { 2 + r.poisson(0.8 * (hi - lo) as f64 / 7.0) };
    const AMOUNTS: [&str; 7] = ["1", "2", "5", "10", "20", "2.5", "7.5"];
    let mut rows: Vec<(u32, bool, &str, u64)> = (0..n)
        .map(|_| {
            let t = ctx.sample_time(&mut r, lo, hi);
            let date_only = r.chance(0.25);
            let t = if date_only { t / DAY * DAY } else { t };
            let amount = AMOUNTS[r.below(AMOUNTS.len() as u64) as usize];
            (t, date_only, amount, r.below(40))
        })
        .collect();
    rows.sort_by_key(|x| x.0);
    let mut s = String::from("datetime,amount,retailer_id\n");
    let mut buf = Vec::new();
    for (t, date_only, amount, retailer) in rows {
        buf.clear();
        push_datetime(&mut buf, &ctx.dates, t, style);
        let dt = std::str::from_utf8(&buf).expect("ascii");
        let dt = if date_only { dt.split(' ').next().expect("a date") } else { dt };
        // r000 stands for a recharge whose retailer was not recorded.
        let retailer = if retailer == 0 { String::new() } else { format!("r{retailer:03}") };
        s.push_str(&format!("{dt},{amount},{retailer}\n"));
    }
    Some((s, n))
}

/// The k-th broken user's file. Its rows name population users (when there
/// are any) so that it looks like part of the network.
fn broken_content(ctx: &Ctx, k: usize) -> Vec<u8> {
    let kind = BrokenKind::ALL[k % BrokenKind::ALL.len()];
    let peer = |n: usize| {
        if ctx.cfg.users == 0 {
            format!("x{:06}", n + 1)
        } else {
            user_name(((k + n) % ctx.cfg.users) as u32)
        }
    };
    let ant = &ctx.antennas[0].id;
    let header = ANTENNA_COLUMNS.join(",");
    let row =
        |n: usize, hour: u32| format!("call,out,{},2014-03-04 {:02}:00:00,{},{}", peer(n), hour, 30 + n, ant);
    let mut out: Vec<u8> = Vec::new();
    match kind {
        BrokenKind::Empty => {}
        BrokenKind::HeaderOnly => out.extend_from_slice(format!("{}\n", header).as_bytes()),
        BrokenKind::MissingColumn => {
            out.extend_from_slice(b"interaction,direction,correspondent_id,call_duration,antenna_id\n");
            for n in 0..3 {
                out.extend_from_slice(format!("call,out,{},{},{}\n", peer(n), 40 + n, ant).as_bytes());
            }
        }
        BrokenKind::InvalidUtf8 => {
            out.extend_from_slice(format!("{}\n{}\n", header, row(0, 9)).as_bytes());
            out.extend_from_slice(b"text,in,u0\xff\xfe01,2014-03-04 10:00:00,,");
            out.extend_from_slice(format!("{}\n{}\n", ant, row(1, 11)).as_bytes());
        }
        BrokenKind::MalformedQuote => {
            out.extend_from_slice(format!("{}\n{}\n", header, row(0, 9)).as_bytes());
            out.extend_from_slice(
                format!("text,out,\"{},2014-03-04 10:00:00,,{}\n", peer(1), ant).as_bytes(),
            );
            out.extend_from_slice(format!("{}\n", row(2, 11)).as_bytes());
        }
        BrokenKind::RaggedRows => {
            out.extend_from_slice(format!("{}\n{}\n", header, row(0, 9)).as_bytes());
            out.extend_from_slice(format!("{},extra\n", row(1, 10)).as_bytes());
            out.extend_from_slice(format!("call,in,{},2014-03-04 11:00:00\n", peer(2)).as_bytes());
            out.extend_from_slice(format!("{}\n", row(3, 12)).as_bytes());
        }
        BrokenKind::BomCrlf => {
            out.extend_from_slice(b"\xEF\xBB\xBF");
            out.extend_from_slice(format!("{}\r\n", header).as_bytes());
            for n in 0..3 {
                out.extend_from_slice(format!("{}\r\n", row(n, 9 + n as u32)).as_bytes());
            }
        }
        BrokenKind::BlankTrailingLines => {
            out.extend_from_slice(format!("{}\n", header).as_bytes());
            for n in 0..3 {
                out.extend_from_slice(format!("{}\n", row(n, 9 + n as u32)).as_bytes());
            }
            out.extend_from_slice(b"\n\n\n");
        }
    }
    out
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};
    use std::path::PathBuf;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let p = std::env::temp_dir().join(format!("synth_{}_{}", name, std::process::id()));
            let _ = fs::remove_dir_all(&p);
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn small(seed: u64) -> SynthConfig {
        SynthConfig {
            users: 120,
            weeks: 5,
            seed,
            records_per_week: 30,
            bad_row_rate: 0.03,
            broken_files: 8,
            attributes: true,
            recharges: true,
        }
    }

    /// Every file under dir, relative path -> bytes.
    fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    out.insert(rel, fs::read(&path).unwrap());
                }
            }
        }
        out
    }

    /// A parsed population file: header and rows as maps by column name.
    fn read_user(dir: &Path, user: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
        let text = fs::read_to_string(dir.join("records").join(format!("{}.csv", user))).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let rows = lines
            .map(|l| {
                let fields: Vec<&str> = l.split(',').collect();
                assert_eq!(fields.len(), header.len(), "{}: {}", user, l);
                header.iter().zip(fields).map(|(h, f)| (h.clone(), f.trim_matches('"').to_string())).collect()
            })
            .collect();
        (header, rows)
    }

    /// Seconds since 2014-01-01 with Python strptime's tolerance for
    /// one-digit fields; None when strptime would fail.
    fn parse_dt(s: &str) -> Option<i64> {
        let (date, time) = s.split_once(' ')?;
        let num = |x: &str, min: usize, max: usize| -> Option<i64> {
            if x.len() < min || x.len() > max || !x.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            x.parse().ok()
        };
        let d: Vec<&str> = date.split('-').collect();
        let t: Vec<&str> = time.split(':').collect();
        if d.len() != 3 || t.len() != 3 {
            return None;
        }
        let (y, m, dd) = (num(d[0], 4, 4)?, num(d[1], 1, 2)?, num(d[2], 1, 2)?);
        let (h, mi, sec) = (num(t[0], 1, 2)?, num(t[1], 1, 2)?, num(t[2], 1, 2)?);
        if !(1..=12).contains(&m) || dd < 1 || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let day = days_from_civil(y, m as u32, dd as u32);
        if civil_from_days(day) != (y, m as u32, dd as u32) {
            return None;
        }
        Some(day * 86_400 + h * 3600 + mi * 60 + sec)
    }

    /// A valid row: (correspondent, interaction, direction, duration,
    /// seconds).
    type Mirror = (String, String, String, String, i64);

    /// bandicoot's filter_record, written independently of the generator.
    fn check(row: &HashMap<String, String>) -> IgnoredCounts {
        let g = |k: &str| row.get(k).map(String::as_str).unwrap_or("");
        let inter = g("interaction");
        let callandtext = inter == "call" || inter == "text";
        let has_pos =
            !g("antenna_id").is_empty() || (!g("latitude").is_empty() && !g("longitude").is_empty());
        let mut c = IgnoredCounts {
            all: 0,
            interaction: !matches!(inter, "call" | "text" | "gps" | "") as u64,
            direction: !matches!(g("direction"), "in" | "out") as u64,
            correspondent_id: (callandtext && g("correspondent_id").is_empty()) as u64,
            datetime: parse_dt(g("datetime")).is_none() as u64,
            call_duration: (inter == "call" && g("call_duration").parse::<i64>().is_err()) as u64,
            location: (!callandtext && !has_pos) as u64,
        };
        let fields =
            [c.interaction, c.direction, c.correspondent_id, c.datetime, c.call_duration, c.location];
        c.all = fields.iter().any(|&x| x > 0) as u64;
        c
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, b, c) = (TempDir::new("det_a"), TempDir::new("det_b"), TempDir::new("det_c"));
        let ra = generate(&small(7), &a.0).unwrap();
        let rb = generate(&small(7), &b.0).unwrap();
        generate(&small(8), &c.0).unwrap();
        let (sa, sb, sc) = (snapshot(&a.0), snapshot(&b.0), snapshot(&c.0));
        assert!(sa.len() > 200);
        assert!(sa == sb);
        assert_eq!(ra, rb);
        assert!(sa != sc);
        // A second run into a used directory is refused.
        assert_eq!(generate(&small(7), &a.0).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
    }

    #[test]
    fn ignored_rows_match_report_and_cover_every_field() {
        let dir = TempDir::new("bad");
        let rep = generate(&small(3), &dir.0).unwrap();
        let mut total = IgnoredCounts::default();
        let mut two_fields = 0;
        let mut odd = 0;
        for u in &rep.per_user {
            let (_, rows) = read_user(&dir.0, &u.user);
            let mut mine = IgnoredCounts::default();
            for row in &rows {
                let c = check(row);
                if c.interaction
                    + c.direction
                    + c.correspondent_id
                    + c.datetime
                    + c.call_duration
                    + c.location
                    > 1
                {
                    two_fields += 1;
                }
                let dt = &row["datetime"];
                if c.all == 0 && (row["interaction"].is_empty() || dt.len() != 19) {
                    odd += 1;
                }
                mine.add(&c);
            }
            assert_eq!(mine, u.ignored, "{}", u.user);
            assert_eq!(rows.len() as u64, u.records + u.bad_rows);
            total.add(&mine);
        }
        assert_eq!(total, rep.ignored);
        assert_eq!(rep.bad_rows, total.all);
        assert_eq!(odd, rep.odd_rows);
        let rows = rep.records + rep.bad_rows;
        let share = rep.bad_rows as f64 / rows as f64;
        assert!((0.02..0.04).contains(&share), "bad share {}", share);
        for n in [
            total.interaction,
            total.direction,
            total.correspondent_id,
            total.datetime,
            total.call_duration,
            total.location,
            two_fields,
            odd,
        ] {
            assert!(n > 0, "{:?} two={} odd={}", total, two_fields, odd);
        }
    }

    #[test]
    fn population_pairs_are_mirrored_except_the_reported_ones() {
        for rate in [0.0, 0.05] {
            let dir = TempDir::new(&format!("mirror{}", rate));
            let cfg = SynthConfig { bad_row_rate: rate, ..small(11) };
            let rep = generate(&cfg, &dir.0).unwrap();
            let mut valid: HashMap<String, Vec<Mirror>> = HashMap::new();
            for u in &rep.per_user {
                let (_, rows) = read_user(&dir.0, &u.user);
                let v = rows
                    .iter()
                    .filter(|r| {
                        check(r).all == 0 && (r["interaction"] == "call" || r["interaction"] == "text")
                    })
                    .map(|r| {
                        (
                            r["correspondent_id"].clone(),
                            r["interaction"].clone(),
                            r["direction"].clone(),
                            r["call_duration"].clone(),
                            parse_dt(&r["datetime"]).unwrap(),
                        )
                    })
                    .collect();
                valid.insert(u.user.clone(), v);
            }
            let (mut matched, mut unmatched, mut offset) = (0u64, 0u64, 0u64);
            for (owner, rows) in &valid {
                for (corr, inter, dir, dur, t) in rows {
                    let Some(theirs) = valid.get(corr) else { continue };
                    let hit = theirs.iter().find(|o| {
                        &o.0 == owner && &o.1 == inter && &o.2 != dir && &o.3 == dur && (o.4 - t).abs() < 30
                    });
                    match hit {
                        Some(o) => {
                            matched += 1;
                            offset += (o.4 != *t) as u64;
                        }
                        None => unmatched += 1,
                    }
                }
            }
            assert_eq!(unmatched, rep.unreciprocated, "rate {}", rate);
            assert!(unmatched > 0 && matched > 5 * unmatched, "{} {}", matched, unmatched);
            assert!(offset > 0);
        }
    }

    #[test]
    fn columns_positions_and_values() {
        let dir = TempDir::new("cols");
        let rep = generate(&small(5), &dir.0).unwrap();
        let known: Vec<String> = fs::read_to_string(dir.0.join("antennas.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        assert_eq!(known.len(), rep.antennas);
        let (mut coord_users, mut permuted, mut unknown_used) = (0, 0, 0);
        let (mut zero_calls, mut gps, mut ties, mut replies, mut night) = (0, 0, 0, 0, 0);
        let end = parse_dt("2014-03-03 00:00:00").unwrap() + 5 * 7 * 86_400;
        for u in &rep.per_user {
            let (header, rows) = read_user(&dir.0, &u.user);
            let mut sorted = header.clone();
            sorted.sort();
            let mut want: Vec<String> = if u.coordinates {
                COORDINATE_COLUMNS.iter().map(|s| s.to_string()).collect()
            } else {
                ANTENNA_COLUMNS.iter().map(|s| s.to_string()).collect()
            };
            let canonical = want.clone();
            want.sort();
            assert_eq!(sorted, want, "{}", u.user);
            coord_users += u.coordinates as usize;
            permuted += (header != canonical) as usize;
            let mut seen = HashMap::new();
            let mut prev: Option<(String, String, i64)> = None;
            for r in rows.iter().filter(|r| check(r).all == 0) {
                let t = parse_dt(&r["datetime"]).unwrap();
                assert!(t >= parse_dt("2014-03-03 00:00:00").unwrap() && t < end);
                let h = t % 86_400 / 3600;
                night += !(7..19).contains(&h) as usize;
                match r["interaction"].as_str() {
                    "text" => assert_eq!(r["call_duration"], ""),
                    "call" => zero_calls += (r["call_duration"] == "0") as usize,
                    _ => {
                        gps += 1;
                        assert_eq!(r["correspondent_id"], "");
                    }
                }
                if let Some(a) = r.get("antenna_id") {
                    unknown_used += (!a.is_empty() && !known.contains(a)) as usize;
                    assert!(a.is_empty() || rep.unknown_antennas.contains(a) || known.contains(a));
                }
                *seen.entry(t).or_insert(0) += 1;
                if r["interaction"] == "text" {
                    if let Some((c, d, pt)) = &prev {
                        if c == &r["correspondent_id"] && d != &r["direction"] && t - pt < 600 && t > *pt {
                            replies += 1;
                        }
                    }
                    prev = Some((r["correspondent_id"].clone(), r["direction"].clone(), t));
                }
            }
            ties += seen.values().filter(|&&n| n > 1).count();
        }
        let n = rep.per_user.len();
        assert!(coord_users > 0 && coord_users < n / 4, "{}", coord_users);
        assert!(permuted > 0);
        for x in [unknown_used, zero_calls, gps, ties, replies, night] {
            assert!(x > 0, "{} {} {} {} {} {}", unknown_used, zero_calls, gps, ties, replies, night);
        }
        assert_eq!(rep.month_end_user.as_deref(), Some("u00003"));
        let (_, rows) = read_user(&dir.0, "u00003");
        let first = rows.iter().filter_map(|r| parse_dt(&r["datetime"])).min().unwrap();
        let day = parse_dt("2014-03-31 00:00:00").unwrap();
        assert!(first >= day && first <= day + 10 * 3600, "{}", first - day);
    }

    #[test]
    fn broken_files_have_their_defects() {
        let dir = TempDir::new("broken");
        let rep = generate(&small(9), &dir.0).unwrap();
        assert_eq!(rep.broken.len(), 8);
        assert_eq!(rep.broken_files, rep.broken.iter().map(|b| b.user.clone()).collect::<Vec<_>>());
        let header = ANTENNA_COLUMNS.join(",");
        for b in &rep.broken {
            let bytes = fs::read(dir.0.join("records").join(format!("{}.csv", b.user))).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            match b.kind {
                BrokenKind::Empty => assert!(bytes.is_empty()),
                BrokenKind::HeaderOnly => assert_eq!(lines, vec![header.as_str()]),
                BrokenKind::MissingColumn => {
                    assert!(!lines[0].contains("datetime") && lines.len() > 1)
                }
                BrokenKind::InvalidUtf8 => assert!(std::str::from_utf8(&bytes).is_err()),
                BrokenKind::MalformedQuote => {
                    assert!(lines.iter().any(|l| l.matches('"').count() % 2 == 1))
                }
                BrokenKind::RaggedRows => {
                    let widths: Vec<usize> = lines.iter().map(|l| l.split(',').count()).collect();
                    assert!(widths.contains(&7) && widths.contains(&4) && widths[0] == 6);
                }
                BrokenKind::BomCrlf => {
                    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
                    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
                    assert!(b.kind.is_valid_input());
                }
                BrokenKind::BlankTrailingLines => {
                    assert!(text.ends_with("\n\n\n") && lines.len() > 2)
                }
            }
        }
        // Someone in the population calls each broken user.
        let callers = rep
            .per_user
            .iter()
            .filter(|u| {
                let (_, rows) = read_user(&dir.0, &u.user);
                rows.iter().any(|r| r["correspondent_id"].starts_with('b'))
            })
            .count();
        assert!(callers >= 1);
    }

    #[test]
    fn attributes_and_recharges() {
        let dir = TempDir::new("extra");
        let rep = generate(&small(13), &dir.0).unwrap();
        let n = rep.per_user.len();
        assert!(rep.attribute_files > n / 2 && rep.attribute_files < n);
        assert!(rep.recharge_files > n / 2 && rep.recharge_files < n);
        let single = rep.single_recharge_user.clone().unwrap();
        let ones: Vec<&UserReport> = rep.per_user.iter().filter(|u| u.recharges == Some(1)).collect();
        assert!(ones.iter().any(|u| u.user == single));
        let (mut date_only, mut short) = (0, 0);
        for u in &rep.per_user {
            let path = dir.0.join("recharges").join(format!("{}.csv", u.user));
            assert_eq!(path.exists(), u.recharges.is_some());
            if let Some(k) = u.recharges {
                let text = fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                assert_eq!(lines[0], "datetime,amount,retailer_id");
                assert_eq!(lines.len() - 1, k as usize);
                for l in &lines[1..] {
                    let dt = l.split(',').next().unwrap();
                    if !dt.contains(' ') {
                        date_only += 1;
                        assert!(crate::calendar::parse_py_date(dt).is_some(), "{dt}");
                    } else {
                        assert!(parse_dt(dt).is_some());
                    }
                    short += usize::from(dt.len() < 10 || (dt.contains(' ') && dt.find(' ') < Some(10)));
                }
            }
            let attr = dir.0.join("attributes").join(format!("{}.csv", u.user));
            assert_eq!(attr.exists(), u.has_attributes);
            if u.has_attributes {
                let text = fs::read_to_string(&attr).unwrap();
                assert!(text.starts_with("key,value\ngender,"));
            }
        }
        assert!(date_only > 0);
        assert!(short > 0);
    }

    #[test]
    fn calendar_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2014, 3, 3) + 28), (2014, 3, 31));
        assert_eq!(civil_from_days(days_from_civil(2016, 2, 28) + 1), (2016, 2, 29));
        // 2014-03-03 is a Monday (1970-01-01 was a Thursday).
        assert_eq!((days_from_civil(2014, 3, 3) + 3).rem_euclid(7), 0);
    }

    #[test]
    fn rejects_bad_config() {
        let dir = TempDir::new("cfg");
        let zero_weeks = SynthConfig { weeks: 0, ..Default::default() };
        assert_eq!(generate(&zero_weeks, &dir.0).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let rate = SynthConfig { bad_row_rate: 1.5, ..Default::default() };
        assert_eq!(generate(&rate, &dir.0).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }
}
