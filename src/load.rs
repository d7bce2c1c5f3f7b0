//! Reading one user's records file into a typed, validated and sorted
//! columnar frame, with the reference's rules for which records to keep
//! and its counts of ignored fields.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;

use crate::antennas::Antennas;
use crate::calendar::{self, SECONDS_PER_DAY};
use crate::csvread;
use crate::options::GroupBy;
use crate::queries::Record;

/// One user: a `*.csv` file of the records directory.
#[derive(Debug, Clone)]
pub struct UserFile {
    pub id: String,
    pub path: PathBuf,
}

/// The user files of a records directory, sorted by user id.
pub fn discover(dir: &Path) -> Result<Vec<UserFile>> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("cannot read records directory {}", dir.display()))?;
    let mut users = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(id) = name.strip_suffix(".csv") else { continue };
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            continue;
        }
        users.push(UserFile { id: id.to_string(), path: entry.path() });
    }
    users.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(users)
}

/// The fields whose invalid values the reference counts, in its order.
pub const IGNORED_FIELDS: [&str; 7] =
    ["all", "interaction", "direction", "correspondent_id", "datetime", "call_duration", "location"];

/// Interaction codes of the `kind` column.
pub const CALL: u8 = 0;
pub const TEXT: u8 = 1;
pub const OTHER: u8 = 2;

/// Facts about one user's file that the reporting block needs.
#[derive(Debug, Clone, Default)]
pub struct UserMeta {
    pub records: usize,
    pub ignored: [u64; 7],
    pub start: i64,
    pub end: i64,
    pub has_call: bool,
    pub has_text: bool,
    pub missing_location: f64,
    pub antennas_missing_locations: usize,
    pub bins: i64,
    pub bins_with_data: i64,
}

/// A user's valid records, sorted by time, as the indicators read them.
pub struct UserRecords {
    pub table: UserTable,
    pub meta: UserMeta,
    /// Only when [`LoadSpec::links`] asked for them.
    pub links: Option<Links>,
    /// Only when [`LoadSpec::full`] asked for it.
    pub full: Option<UserTable>,
}

/// A user's records in time order, with each record's period key and
/// weekend flag. Contact and position numbers are the user's own.
#[derive(Debug, Clone, Default)]
pub struct UserTable {
    pub records: Vec<Record>,
    pub periods: Vec<i64>,
    pub weekend: Vec<bool>,
    /// Latitude and longitude by position number, where known: a position
    /// is one antenna or location, so its records share it. Kept beside
    /// the records rather than in each, which makes a record a third
    /// smaller. Positions past its end have none.
    pub locations: Vec<Option<(f64, f64)>>,
}

impl UserTable {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// The location of position `pos`; None where unknown.
    pub fn location(&self, pos: u32) -> Option<(f64, f64)> {
        self.locations.get(pos as usize).copied().flatten()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records where `keep` is true (one flag per record), numbered
    /// as if they were all the file held (see [`UserTable::renumber`]).
    pub fn filter(&self, keep: &[bool]) -> UserTable {
        let n = keep.iter().filter(|k| **k).count();
        let mut out = UserTable {
            records: Vec::with_capacity(n),
            periods: Vec::with_capacity(n),
            weekend: Vec::with_capacity(n),
            locations: self.locations.clone(),
        };
        for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            out.records.push(self.records[i]);
            out.periods.push(self.periods[i]);
            out.weekend.push(self.weekend[i]);
        }
        out.renumber();
        out
    }

    /// Numbers positions and contacts in order of first appearance, as
    /// loading numbers them, so that a set of records gets the same numbers
    /// however it was loaded: churn_rate adds up per position in number
    /// order, and the same records must give the same bits.
    pub fn renumber(&mut self) {
        // Loading numbered them densely, below the file's record count: a
        // slot per number.
        let size = |n: Option<u32>| n.map_or(0, |n| n as usize + 1);
        let mut positions = vec![u32::MAX; size(self.records.iter().map(|r| r.pos).max())];
        let mut locations = Vec::with_capacity(self.locations.len().min(positions.len()));
        let mut contacts = vec![u32::MAX; size(self.records.iter().filter_map(|r| r.corr()).max())];
        let (mut next_position, mut next_contact) = (0, 0);
        for r in &mut self.records {
            let slot = &mut positions[r.pos as usize];
            if *slot == u32::MAX {
                *slot = next_position;
                next_position += 1;
                locations.push(self.locations.get(r.pos as usize).copied().flatten());
            }
            r.pos = *slot;
            if let Some(c) = r.corr() {
                let slot = &mut contacts[c as usize];
                if *slot == u32::MAX {
                    *slot = next_contact;
                    next_contact += 1;
                }
                *r = r.with_corr(Some(*slot));
            }
        }
        self.locations = locations;
    }

    /// Puts the records, now in the periods of `from`, in those of `to`.
    pub fn regroup(&mut self, from: GroupBy, to: GroupBy) {
        if from != to {
            for (p, r) in self.periods.iter_mut().zip(&self.records) {
                *p = period_key(to, r.t);
            }
        }
    }
}

/// Each valid record's raw interaction and correspondent, in time order:
/// what network analysis matches records on.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// The raw interaction: `call`, `text`, `gps` or empty are different.
    pub interaction: Vec<Interaction>,
    /// Index into `names`, for every record, gps included.
    pub correspondent: Vec<u32>,
    /// The distinct correspondent ids, as written in the file.
    pub names: Vec<String>,
}

/// The four interaction values a valid record can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    Call,
    Text,
    Gps,
    Empty,
}

/// How to load a user's file.
#[derive(Clone, Copy)]
pub struct LoadSpec<'a> {
    pub antennas: Option<&'a Antennas>,
    pub groupby: GroupBy,
    /// Also return the records' [`Links`].
    pub links: bool,
    /// Keep only the valid records whose rank in time order is true here
    /// (network analysis removes records that are not reciprocated).
    pub keep: Option<&'a [bool]>,
    /// With `keep`, also return the table of every valid record (as
    /// [`UserRecords::full`]), on which network analysis evaluates the
    /// user's record sets, as an ego and as other egos' neighbour.
    pub full: bool,
}

/// What loading a user gave.
pub enum Loaded {
    Records(UserRecords),
    /// No valid record: the batch skips the user.
    Empty,
}

/// The columns a records file is read for: the required ones (the first
/// [`REQUIRED`]), then the optional position columns.
const COLUMNS: [&str; 8] = [
    "interaction",
    "direction",
    "correspondent_id",
    "datetime",
    "call_duration",
    "antenna_id",
    "latitude",
    "longitude",
];

/// How many of [`COLUMNS`] a records file must have.
const REQUIRED: usize = 5;

/// The error of a file without a column it must have, showing its header.
fn missing_column(path: &Path, name: &str, header: &[&str]) -> anyhow::Error {
    anyhow!("{}: row 1: missing column '{name}' (header: {})", path.display(), header.join(","))
}

/// The period key of a timestamp: equal keys are one period, and
/// consecutive periods have consecutive keys.
pub fn period_key(groupby: GroupBy, t: i64) -> i64 {
    let days = t.div_euclid(SECONDS_PER_DAY);
    match groupby {
        GroupBy::None => 0,
        GroupBy::Day => days,
        GroupBy::Week => calendar::week_index(days),
        GroupBy::Month => {
            let (y, m, _) = calendar::civil_from_days(days);
            y * 12 + i64::from(m) - 1
        }
        GroupBy::Year => calendar::civil_from_days(days).0,
    }
}

/// Night is 19:00 to 07:00, both boundaries included, as in the reference.
pub fn is_night(t: i64) -> bool {
    let sod = t.rem_euclid(SECONDS_PER_DAY);
    sod <= 7 * 3600 || sod >= 19 * 3600
}

/// The weekend is Saturday and Sunday.
pub fn is_weekend(t: i64) -> bool {
    calendar::iso_weekday(t.div_euclid(SECONDS_PER_DAY)) >= 6
}

/// Python's `int(s)` for a base-10 integer: surrounding whitespace, a sign,
/// and single underscores between digits are accepted.
pub fn parse_py_int(s: &str) -> Option<i64> {
    // Plain digits, or nothing (a text's duration), are nearly every call.
    let bytes = s.as_bytes();
    if bytes.len() <= 18 && bytes.iter().all(u8::is_ascii_digit) {
        return (!bytes.is_empty()).then(|| bytes.iter().fold(0, |v, &c| v * 10 + i64::from(c - b'0')));
    }
    let s = s.trim();
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let mut v: i64 = 0;
    for c in digits.bytes() {
        match c {
            b'_' => {}
            b'0'..=b'9' => v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?,
            _ => return None,
        }
    }
    Some(if neg { -v } else { v })
}

/// Python's `float(s)` for the common forms (surrounding whitespace allowed).
pub fn parse_py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    // Numbers are nearly every call: they are told by a digit, without
    // lowercasing a copy of the text for the special words.
    if t.bytes().any(|c| c.is_ascii_digit()) {
        return t.parse::<f64>().ok();
    }
    let body = t.trim_start_matches(['+', '-']);
    let special = ["nan", "inf", "infinity"].iter().any(|w| body.eq_ignore_ascii_case(w));
    special.then(|| t.parse::<f64>().ok()).flatten()
}

/// Reads a CSV file's text, dropping a UTF-8 byte-order mark; a file that
/// is not UTF-8 gets an error naming the line and column of the first bad
/// byte.
pub fn read_text(path: &Path) -> Result<String> {
    let mut bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let (line, column) = locate(bytes, at);
        anyhow!(
            "{}: row {line}, column {column}: text is not valid UTF-8 (byte 0x{:02x})",
            path.display(),
            bytes[at]
        )
    })
}

/// The 1-based line and the header name (or number) of the field holding byte `at`.
fn locate(bytes: &[u8], at: usize) -> (usize, String) {
    let line_start = bytes[..at].iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
    let line = bytes[..at].iter().filter(|&&c| c == b'\n').count() + 1;
    let field = bytes[line_start..at].iter().filter(|&&c| c == b',').count();
    let header_end = bytes.iter().position(|&c| c == b'\n').unwrap_or(bytes.len());
    let header = String::from_utf8_lossy(&bytes[..header_end]);
    let name = header.trim_end_matches('\r').split(',').nth(field).map(str::to_string);
    (line, name.map_or(format!("#{}", field + 1), |n| format!("'{n}'")))
}

/// Where a quoted field opens and never closes: its line and column.
fn unclosed_quote(bytes: &[u8]) -> Option<(usize, String)> {
    let mut quoted_at = None;
    let mut field_start = true;
    for (i, &c) in bytes.iter().enumerate() {
        match (quoted_at, c) {
            (None, b'"') if field_start => quoted_at = Some(i),
            (Some(_), b'"') => quoted_at = None, // a doubled quote reopens at once
            (None, b',' | b'\n') => {
                field_start = true;
                continue;
            }
            _ => {}
        }
        field_start = false;
    }
    quoted_at.map(|at| locate(bytes, at))
}

/// Parses CSV bytes into a frame of string columns, all named by the
/// header. Blank lines are dropped, as Python's csv reader drops them.
pub fn parse_csv(bytes: Vec<u8>, path: &Path) -> Result<DataFrame> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_n_threads(Some(1))
        // Python's csv reader keeps a row with extra fields; so do we.
        .map_parse_options(|p| p.with_truncate_ragged_lines(true))
        .into_reader_with_file_handle(Cursor::new(bytes.clone()))
        .finish()
        .map_err(|e| match unclosed_quote(&bytes) {
            Some((line, column)) => {
                anyhow!("{}: row {line}, column {column}: a quoted field is never closed", path.display())
            }
            None => {
                let first = e.to_string();
                anyhow!("{}: malformed CSV: {}", path.display(), first.lines().next().unwrap_or(""))
            }
        })?;

    let mut blank: Option<BooleanChunked> = None;
    for c in df.columns() {
        let null = c.is_null();
        blank = Some(match blank {
            Some(b) => &b & &null,
            None => null,
        });
    }
    match blank {
        Some(blank) if blank.any() => Ok(df.filter(&!&blank)?),
        _ => Ok(df),
    }
}

/// The line number and field count of each non-blank data row (after the
/// header), in the order [`parse_csv`] returns the rows, for messages that
/// name the line of a row. Quoted fields may
/// hold commas and line breaks, so fields are counted outside quotes.
pub fn data_rows(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut rows = Vec::new();
    let (mut line, mut start_line) = (1, 1);
    let (mut fields, mut quoted, mut empty) = (1, false, true);
    for &c in bytes {
        match c {
            b'"' => {
                quoted = !quoted;
                empty = false;
            }
            // A row of commas only is blank to the CSV reader too.
            b',' if !quoted => fields += 1,
            b'\n' => {
                line += 1;
                if !quoted {
                    if !empty {
                        rows.push((start_line, fields));
                    }
                    start_line = line;
                    fields = 1;
                    empty = true;
                }
            }
            b'\r' => {}
            _ => empty = false,
        }
    }
    if !empty {
        rows.push((start_line, fields));
    }
    // The first row is the header.
    if !rows.is_empty() {
        rows.remove(0);
    }
    rows
}

fn string_column<'a>(df: &'a DataFrame, name: &str) -> Option<&'a StringChunked> {
    df.column(name).ok().and_then(|c| c.str().ok())
}

/// A column the file must have; the error names the file and shows its header.
pub fn required_column<'a>(df: &'a DataFrame, path: &Path, name: &str) -> Result<&'a StringChunked> {
    string_column(df, name).ok_or_else(|| {
        let header: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        missing_column(path, name, &header)
    })
}

/// A user's optional side file, `dir/<user>.csv` (attributes, recharges),
/// parsed, with its data rows' line spans for error messages; `None` when
/// the user has no such file.
pub fn read_user_side_file(
    dir: &Path,
    user: &str,
) -> Result<Option<(PathBuf, Vec<(usize, usize)>, DataFrame)>> {
    let path = dir.join(format!("{user}.csv"));
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = read_text(&path)?.into_bytes();
    let lines = data_rows(&bytes);
    let df = parse_csv(bytes, &path)?;
    Ok(Some((path, lines, df)))
}

/// Position identity: bandicoot compares positions by antenna, then location.
#[derive(Hash, PartialEq, Eq)]
struct PositionKey<'a> {
    antenna: Option<&'a str>,
    location: Option<(u64, u64)>,
}

/// Loads, validates and sorts one user's records.
pub fn load_user(file: &UserFile, antennas: Option<&Antennas>, groupby: GroupBy) -> Result<Loaded> {
    load_user_with(file, &LoadSpec { antennas, groupby, links: false, keep: None, full: false })
}

/// [`load_user`], with the options of `spec`.
pub fn load_user_with(file: &UserFile, spec: &LoadSpec) -> Result<Loaded> {
    let Some((parsed, links)) = parse_user(file, spec.antennas, spec.groupby, spec.links)? else {
        return Ok(Loaded::Empty);
    };
    let loaded = parsed
        .into_selected(spec.keep, spec.groupby, spec.full)
        .with_context(|| format!("{}: the file changed while the run read it", file.path.display()))?;
    Ok(match loaded {
        Loaded::Records(user) => Loaded::Records(UserRecords { links, ..user }),
        Loaded::Empty => Loaded::Empty,
    })
}

/// Every valid record of one user's file, before any selection: the table
/// of any mask of them, and its reporting facts, derive from this.
pub struct Parsed {
    /// Every valid record in time order, numbered in that order, with the
    /// periods of `groupby`.
    pub table: UserTable,
    groupby: GroupBy,
    /// For each record with an antenna id that the antennas file does not
    /// locate (every antenna id without an antennas file): the id's number
    /// in the file; `u32::MAX` for the others.
    unlisted: Vec<u32>,
    ignored: [u64; 7],
}

impl Parsed {
    /// The user's records where `keep` is true (all without a mask), as a
    /// file holding only those would give them, with the periods of
    /// `groupby`; with a mask and `full`, also every valid record, numbered
    /// as loaded and with the periods of `groupby` (see [`LoadSpec::full`]).
    /// A mask must have a flag per valid record.
    pub fn select(&self, keep: Option<&[bool]>, groupby: GroupBy, full: bool) -> Result<Loaded> {
        if let Some(mask) = keep {
            if mask.len() != self.table.len() {
                bail!("a mask of {} records for {} valid records", mask.len(), self.table.len());
            }
        }
        let kept = |rank: usize| keep.is_none_or(|mask| mask[rank]);
        let mut table = match keep {
            Some(mask) => self.table.filter(mask),
            None => self.table.clone(),
        };
        if table.is_empty() {
            return Ok(Loaded::Empty);
        }
        table.regroup(self.groupby, groupby);
        let unlisted = (0..self.table.len()).filter(|&rank| kept(rank)).map(|rank| self.unlisted[rank]);
        let meta = meta(&table, unlisted, self.ignored, groupby);
        let full = (full && keep.is_some()).then(|| {
            let mut full = self.table.clone();
            full.regroup(self.groupby, groupby);
            full
        });
        Ok(Loaded::Records(UserRecords { table, meta, links: None, full }))
    }

    /// [`Parsed::select`], moving the records out rather than copying them:
    /// all of them without a mask, the full table with one.
    fn into_selected(self, keep: Option<&[bool]>, groupby: GroupBy, full: bool) -> Result<Loaded> {
        let Some(mask) = keep else {
            let mut table = self.table;
            table.regroup(self.groupby, groupby);
            let meta = meta(&table, self.unlisted.into_iter(), self.ignored, groupby);
            return Ok(Loaded::Records(UserRecords { table, meta, links: None, full: None }));
        };
        let mut loaded = self.select(Some(mask), groupby, false)?;
        if let (true, Loaded::Records(user)) = (full, &mut loaded) {
            let mut table = self.table;
            table.regroup(self.groupby, groupby);
            user.full = Some(table);
        }
        Ok(loaded)
    }

    /// The periods of [`Parsed::table`].
    pub fn groupby(&self) -> GroupBy {
        self.groupby
    }
}

/// The reporting facts of a user's table of records, whose records carry
/// the `unlisted` antenna numbers of [`Parsed`].
fn meta(
    table: &UserTable,
    unlisted: impl Iterator<Item = u32>,
    ignored: [u64; 7],
    groupby: GroupBy,
) -> UserMeta {
    let (records, periods) = (&table.records, &table.periods);
    let m = records.len();
    let mut unknown: Vec<u32> = unlisted.filter(|&a| a != u32::MAX).collect();
    unknown.sort_unstable();
    unknown.dedup();
    UserMeta {
        records: m,
        ignored,
        start: records[0].t,
        end: records[m - 1].t,
        has_call: records.iter().any(|r| r.kind == CALL),
        has_text: records.iter().any(|r| r.kind == TEXT),
        missing_location: records.iter().filter(|r| table.location(r.pos).is_none()).count() as f64
            / m as f64,
        antennas_missing_locations: unknown.len(),
        bins: match groupby {
            GroupBy::None => 1,
            _ => periods[m - 1] - periods[0] + 1,
        },
        bins_with_data: 1 + periods.windows(2).filter(|w| w[0] != w[1]).count() as i64,
    }
}

/// Reads, validates and sorts one user's file: its valid records, and
/// their [`Links`] when asked for; None without a valid record.
pub fn parse_user(
    file: &UserFile,
    antennas: Option<&Antennas>,
    groupby: GroupBy,
    with_links: bool,
) -> Result<Option<(Parsed, Option<Links>)>> {
    let text = read_text(&file.path)?;
    let path = file.path.display();
    if text.len() > csvread::MAX_TEXT {
        bail!("{path}: the file is larger than 4 GiB, more than one user's records can be");
    }
    let (header, rows) = csvread::read(&text, &COLUMNS).map_err(|csvread::UnclosedQuote(at)| {
        let (line, column) = locate(text.as_bytes(), at);
        anyhow!("{path}: row {line}, column {column}: a quoted field is never closed")
    })?;
    if rows.is_empty() {
        return Ok(None);
    }

    if header.iter().any(|h| h == "place_id") {
        bail!("{path}: column 'place_id' is deprecated, name it 'antenna_id'");
    }
    for (name, found) in COLUMNS[..REQUIRED].iter().zip(&rows.found) {
        if found.is_none() {
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            return Err(missing_column(&file.path, name, &header));
        }
    }
    // The columns of COLUMNS, in its order.
    let (interaction, direction, correspondent, datetime, duration) = (0usize, 1, 2, 3, 4);
    let antenna = rows.found[5].map(|_| 5);
    let (latitude, longitude) = match (rows.found[6], rows.found[7]) {
        (Some(_), Some(_)) => (Some(6), Some(7)),
        _ => (None, None),
    };

    // Validate row by row, counting every bad field as the reference does.
    let n = rows.len();
    let mut ignored = [0u64; 7];
    let mut keep: Vec<(i64, usize)> = Vec::with_capacity(n);
    let mut kinds = vec![0u8; n];
    let mut durations: Vec<Option<i64>> = vec![None; n];
    let mut locations: Vec<Option<(f64, f64)>> = vec![None; n];
    let mut times = calendar::DatetimeReader::default();
    for i in 0..n {
        let get = |c| rows.get(i, c);
        // Byte patterns: short compares in place, where string patterns
        // call memcmp.
        let kind = match get(interaction).as_bytes() {
            b"call" => Some(CALL),
            b"text" => Some(TEXT),
            b"gps" | b"" => Some(OTHER),
            _ => None,
        };
        let callandtext = matches!(kind, Some(CALL) | Some(TEXT));
        let t = times.parse(get(datetime));
        let dur = parse_py_int(get(duration));
        let antenna_id = antenna.map(get).filter(|a| !a.is_empty());
        let location = match (latitude.map(get), longitude.map(get)) {
            (Some(lat), Some(lon)) if !lat.is_empty() && !lon.is_empty() => {
                match (parse_py_float(lat), parse_py_float(lon)) {
                    (Some(a), Some(b)) => Ok(Some((a, b))),
                    _ => Err((lat, lon)),
                }
            }
            _ => Ok(None),
        };

        let checks = [
            kind.is_some(),
            matches!(get(direction).as_bytes(), b"in" | b"out"),
            !callandtext || !get(correspondent).is_empty(),
            t.is_some(),
            kind != Some(CALL) || dur.is_some(),
            callandtext || antenna_id.is_some() || matches!(location, Ok(Some(_))),
        ];

        // The reference crashes on coordinates that are not numbers, unless
        // the record is a call or text that it drops for another reason.
        let location = match location {
            Ok(l) => l,
            Err(_) if callandtext && !checks.iter().all(|ok| *ok) => None,
            Err((lat, lon)) => bail!(
                "{path}: row {}, column '{}': coordinates ({lat:?}, {lon:?}) are not numbers",
                rows.lines[i],
                if parse_py_float(lat).is_none() { "latitude" } else { "longitude" }
            ),
        };
        if checks.iter().all(|ok| *ok) {
            keep.push((t.unwrap(), i));
            kinds[i] = kind.unwrap();
            durations[i] = dur;
            locations[i] = location;
        } else {
            ignored[0] += 1;
            for (slot, ok) in ignored[1..].iter_mut().zip(checks) {
                *slot += u64::from(!ok);
            }
        }
    }
    if keep.is_empty() {
        return Ok(None);
    }

    // A stable sort by time: file order breaks ties.
    keep.sort_by_key(|&(t, _)| t);

    let links = with_links.then(|| {
        let mut names: PlHashMap<&str, u32> = PlHashMap::new();
        let mut last: Option<(&str, u32)> = None;
        let mut links = Links {
            interaction: Vec::with_capacity(keep.len()),
            correspondent: Vec::with_capacity(keep.len()),
            names: Vec::new(),
        };
        for &(_, i) in &keep {
            links.interaction.push(match rows.get(i, interaction).as_bytes() {
                b"call" => Interaction::Call,
                b"text" => Interaction::Text,
                b"gps" => Interaction::Gps,
                _ => Interaction::Empty,
            });
            let name = rows.get(i, correspondent);
            let number = match last {
                Some((last, number)) if last == name => number,
                _ => {
                    let next = names.len() as u32;
                    *names.entry(name).or_insert(next)
                }
            };
            last = Some((name, number));
            links.correspondent.push(number);
        }
        links.names = vec![String::new(); names.len()];
        for (name, id) in names {
            links.names[id as usize] = name.to_string();
        }
        links
    });

    let m = keep.len();
    let mut parsed = Parsed {
        table: UserTable {
            records: Vec::with_capacity(m),
            periods: Vec::with_capacity(m),
            weekend: Vec::with_capacity(m),
            locations: Vec::new(),
        },
        groupby,
        unlisted: Vec::with_capacity(m),
        ignored,
    };
    let mut contacts: PlHashMap<&str, u32> = PlHashMap::new();
    let mut positions: PlHashMap<PositionKey, u32> = PlHashMap::new();
    let mut by_antenna: PlHashMap<Option<&str>, (u32, Option<(f64, f64)>)> = PlHashMap::new();
    let mut antenna_ids: PlHashMap<&str, u32> = PlHashMap::new();
    // Records come in runs with one correspondent or one antenna (a
    // conversation, a stay): the last of each is tried before hashing.
    let mut last_contact: Option<(&str, u32)> = None;
    let mut last_antenna: Option<(Option<&str>, (u32, Option<(f64, f64)>))> = None;

    for &(t, i) in &keep {
        let kind = kinds[i];
        let antenna_id = antenna.map(|c| rows.get(i, c)).filter(|a| !a.is_empty());

        // With an antennas file, the file decides every record's location,
        // even for records that carried coordinates: a position is then
        // its antenna, numbered and looked up once per file.
        let (pos, location, unlisted) = match antennas {
            Some(table) => {
                let (pos, listed) = match last_antenna {
                    Some((id, found)) if id == antenna_id => found,
                    _ => {
                        let next = by_antenna.len() as u32;
                        let found = *by_antenna
                            .entry(antenna_id)
                            .or_insert_with(|| (next, antenna_id.and_then(|a| table.get(a))));
                        last_antenna = Some((antenna_id, found));
                        found
                    }
                };
                let unlisted = match (antenna_id, listed) {
                    (Some(_), None) => pos,
                    _ => u32::MAX,
                };
                (pos, listed, unlisted)
            }
            None => {
                let location = locations[i];
                let next = positions.len() as u32;
                let key = PositionKey {
                    antenna: antenna_id,
                    location: location.map(|(a, b)| (a.to_bits(), b.to_bits())),
                };
                let unlisted = antenna_id.map_or(u32::MAX, |a| {
                    let next = antenna_ids.len() as u32;
                    *antenna_ids.entry(a).or_insert(next)
                });
                (*positions.entry(key).or_insert(next), location, unlisted)
            }
        };
        // Positions are numbered in order of appearance: a new one is next.
        if pos as usize == parsed.table.locations.len() {
            parsed.table.locations.push(location);
        }

        let corr = if kind == OTHER {
            None
        } else {
            let name = rows.get(i, correspondent);
            match last_contact {
                Some((last, number)) if last == name => Some(number),
                _ => {
                    let next = contacts.len() as u32;
                    let number = *contacts.entry(name).or_insert(next);
                    last_contact = Some((name, number));
                    Some(number)
                }
            }
        };

        let record = Record::new(t, kind, rows.get(i, direction).as_bytes() == b"out", is_night(t), pos)
            .with_dur(durations[i])
            .with_corr(corr);
        parsed.table.records.push(record);
        parsed.table.periods.push(period_key(groupby, t));
        parsed.table.weekend.push(is_weekend(t));
        parsed.unlisted.push(unlisted);
    }
    Ok(Some((parsed, links)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_rules() {
        assert_eq!(parse_py_float(" 42.315384 "), Some(42.315384));
        assert_eq!(parse_py_float("-71.1e1"), Some(-711.0));
        assert_eq!(parse_py_float(".5"), Some(0.5));
        assert_eq!(parse_py_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_py_float("INF"), Some(f64::INFINITY));
        assert!(parse_py_float("+nan").is_some_and(f64::is_nan));
        for bad in ["", " ", "+", "--5", "abc", "infinit", "1,5", "0x10"] {
            assert_eq!(parse_py_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn python_int_rules() {
        assert_eq!(parse_py_int(" 42 "), Some(42));
        assert_eq!(parse_py_int("-5"), Some(-5));
        assert_eq!(parse_py_int("1_000"), Some(1000));
        assert_eq!(parse_py_int("12.5"), None);
        assert_eq!(parse_py_int("1__0"), None);
        assert_eq!(parse_py_int(""), None);
        assert_eq!(parse_py_int("abc"), None);
    }

    #[test]
    fn a_table_filters_and_regroups_its_records() {
        // Monday 1970-01-05 01:00, Sunday 1970-01-11 00:00, Monday 1970-01-12:
        // days 4, 10 and 11, ISO weeks 0, 0 and 1.
        let times = [4 * SECONDS_PER_DAY + 3600, 10 * SECONDS_PER_DAY, 11 * SECONDS_PER_DAY];
        let record = |(i, t): (usize, i64)| {
            Record::new(t, CALL, true, is_night(t), 10 + i as u32)
                .with_dur(Some(60))
                .with_corr(Some(2 - i as u32))
        };
        let table = UserTable {
            records: times.into_iter().enumerate().map(record).collect(),
            periods: times.map(|t| period_key(GroupBy::Day, t)).to_vec(),
            weekend: times.map(is_weekend).to_vec(),
            // Positions 10 and 12 have locations (a NaN is one), 11 none.
            locations: [vec![None; 10], vec![Some((1.5, -2.0)), None, Some((f64::NAN, 0.0))]].concat(),
        };
        assert_eq!(
            (table.location(10), table.location(11), table.location(13)),
            (Some((1.5, -2.0)), None, None)
        );
        assert_eq!(table.periods, [4, 10, 11]);
        assert_eq!(table.weekend, [false, true, false]);

        let kept = table.filter(&[true, false, true]);
        assert_eq!(kept.records.iter().map(|r| r.t).collect::<Vec<_>>(), [times[0], times[2]]);
        assert_eq!((&kept.periods, &kept.weekend), (&vec![4, 11], &vec![false, false]));
        // Positions and contacts are numbered again in order of appearance.
        let numbers: Vec<(u32, Option<u32>)> = kept.records.iter().map(|r| (r.pos, r.corr())).collect();
        assert_eq!(numbers, [(0, Some(0)), (1, Some(1))]);
        // Their locations follow them to their new numbers.
        assert_eq!(kept.locations.len(), 2);
        assert_eq!(kept.location(0), Some((1.5, -2.0)));
        assert!(kept.location(1).is_some_and(|(lat, lon)| lat.is_nan() && lon == 0.0));

        let mut weekly = table.clone();
        weekly.regroup(GroupBy::Day, GroupBy::Week);
        assert_eq!((weekly.periods, weekly.weekend), (vec![0, 0, 1], vec![false, true, false]));
    }

    #[test]
    fn a_kept_table_is_numbered_alike_with_or_without_the_full_one() {
        let dir = std::env::temp_dir().join(format!("bandicoot-load-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ego.csv");
        let text = "interaction,direction,correspondent_id,datetime,call_duration,antenna_id\n\
            call,out,x,2014-03-03 10:00:00,60,A\n\
            call,in,y,2014-03-03 11:00:00,30,B\n\
            text,in,x,2014-03-03 12:00:00,,A\n\
            text,out,z,2014-03-03 13:00:00,,C\n";
        fs::write(&path, text).unwrap();
        let file = UserFile { id: "ego".into(), path };
        let mask = [false, true, true, true];
        let load = |full: bool| {
            let spec =
                LoadSpec { antennas: None, groupby: GroupBy::Week, links: false, keep: Some(&mask), full };
            match load_user_with(&file, &spec).unwrap() {
                Loaded::Records(user) => user,
                Loaded::Empty => panic!("records expected"),
            }
        };
        let numbers = |table: &UserTable| table.records.iter().map(|r| (r.pos, r.corr())).collect::<Vec<_>>();

        let (alone, with_full) = (load(false), load(true));
        // B, A, C and y, x, z in order of appearance among the kept records.
        let kept = [(0, Some(0)), (1, Some(1)), (2, Some(2))];
        assert_eq!(numbers(&alone.table), kept);
        assert_eq!(numbers(&with_full.table), kept);
        assert!(alone.full.is_none());
        let full = with_full.full.expect("the full table was asked for");
        assert_eq!(numbers(&full), [(0, Some(0)), (1, Some(1)), (0, Some(0)), (2, Some(2))]);
        assert_eq!((with_full.meta.records, alone.meta.records), (3, 3));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn night_boundaries_are_night() {
        assert!(is_night(7 * 3600));
        assert!(!is_night(7 * 3600 + 1));
        assert!(is_night(19 * 3600));
        assert!(!is_night(19 * 3600 - 1));
    }
}
