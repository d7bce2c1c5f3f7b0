//! Test support shared by the integration tests: where the binary and the
//! reference samples are, how a golden case is run, and a port of the
//! reference's `compare.py` so that `cargo test` judges parity the same way
//! the Python script does.
//!
//! The port follows compare.py line by line, including its quirks: a missing
//! column in the summary stops the row, per-user CSV files are not checked
//! for extra columns, and Python's `float()` / `str()` / `repr()` decide what
//! counts as a number and how lists and values are printed.

// Each integration test binary compiles this module and uses a different
// part of it.
#![allow(dead_code)]

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Keys that name the tool or the inputs rather than the data.
pub const IGNORED: [&str; 5] = [
    "reporting__version",
    "reporting__code_signature",
    "reporting__antennas_path",
    "reporting__attributes_path",
    "reporting__recharges_path",
];

/// compare.py's default tolerances for JSON values and the summary CSV.
pub const REL: f64 = 1e-9;
pub const ABS: f64 = 1e-7;
/// Per-user CSV files hold 5 significant digits.
pub const CSV_TOL: f64 = 1e-5;
/// _aggregate_stats.json.
pub const STATS_TOL: f64 = 1e-7;

// ---------------------------------------------------------------------------
// Locations and running cases

/// The `bandicoot` binary that cargo built for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bandicoot"))
}

/// The repository root.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared directory (holding `reference/`): `$BANDICOOT_SHARED`, else
/// `<repo>/../shared`, the same default as tests/golden/regenerate.sh.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("BANDICOOT_SHARED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => manifest_dir().join("..").join("shared"),
    }
}

/// The reference's sample data, `$SAMPLES` in a CASE file.
pub fn samples_dir() -> PathBuf {
    shared_dir().join("reference").join("samples")
}

/// The committed golden fixtures.
pub fn golden_dir() -> PathBuf {
    manifest_dir().join("tests").join("golden")
}

/// The committed hand-written inputs, `$INPUTS` in a CASE file.
pub fn inputs_dir() -> PathBuf {
    golden_dir().join("inputs")
}

/// Every directory under tests/golden/ that holds a CASE file, sorted.
pub fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(golden_dir())
        .expect("tests/golden is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("CASE").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// The reference_batch.py arguments of a case, as written in its CASE file.
pub fn case_line(case_dir: &Path) -> String {
    let path = case_dir.join("CASE");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_else(|| panic!("{} is empty", path.display()))
        .to_string()
}

/// Turns reference_batch.py arguments into `bandicoot batch` arguments.
///
/// Tokens are split on blanks before the placeholders are expanded, so the
/// expanded paths may contain blanks. `--network true` and `--summary true`
/// become bare flags (and disappear when false); `--output-dir` is dropped
/// because the caller chooses the output directory; everything else,
/// positional arguments included, is passed on unchanged.
pub fn batch_args(line: &str, samples: &Path, inputs: &Path) -> Vec<OsString> {
    let expand = |tok: &str| -> OsString {
        let samples = samples.to_string_lossy();
        let inputs = inputs.to_string_lossy();
        OsString::from(tok.replace("$SAMPLES", &samples).replace("$INPUTS", &inputs))
    };

    let mut words: Vec<String> = Vec::new();
    for tok in line.split_whitespace() {
        // argparse also takes `--option=value`; unify both spellings.
        match tok.split_once('=') {
            Some((opt, value)) if opt.starts_with("--") => {
                words.push(opt.to_string());
                words.push(value.to_string());
            }
            _ => words.push(tok.to_string()),
        }
    }

    let mut args = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        match word {
            "--network" | "--summary" => {
                let value = words.get(i + 1).map(String::as_str).unwrap_or("");
                if truthy(value) {
                    args.push(OsString::from(word));
                }
                i += 2;
            }
            "--output-dir" => i += 2,
            _ => {
                args.push(expand(word));
                i += 1;
            }
        }
    }
    args
}

/// reference_batch.py's `truthy`.
fn truthy(s: &str) -> bool {
    matches!(s.to_lowercase().as_str(), "true" | "1" | "yes")
}

/// Runs our binary on a golden case, writing into `out`.
///
/// The exit status is returned, not asserted: like the reference, the batch
/// goes on when a user fails, but it may say so in its status, and the
/// golden cases include users that the reference fails.
pub fn run_case(case_dir: &Path, out: &Path) -> Output {
    let line = case_line(case_dir);
    let args = batch_args(&line, &samples_dir(), &inputs_dir());
    let output = Command::new(bin())
        .arg("batch")
        .args(&args)
        .arg("--output-dir")
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin().display()));
    if !output.status.success() {
        eprintln!(
            "{}: bandicoot batch {} exited with {}\n{}",
            case_dir.display(),
            line,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// A fresh directory under the system temporary directory, removed on drop
/// (kept when BANDICOOT_KEEP_TMP is set, to look at a failing run).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("bandicoot-test-{tag}-{}-{nanos}-{n}", std::process::id()));
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("BANDICOOT_KEEP_TMP").is_none() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

// ---------------------------------------------------------------------------
// The comparison

/// The outcome of a comparison: how many values were compared and one line
/// per mismatch, worded as compare.py words its examples.
#[derive(Debug, Default)]
pub struct CompareReport {
    pub values: usize,
    pub mismatches: Vec<String>,
}

impl CompareReport {
    fn check(&mut self, where_: &str, key: &str, a: &Value, b: &Value, rel: f64, abs: f64) {
        self.values += 1;
        if !same(a, b, rel, abs) {
            self.mismatches.push(format!(
                "{where_} {key}: reference {}, candidate {}",
                py_repr(a),
                py_repr(b)
            ));
        }
    }

    fn missing(&mut self, where_: &str, what: &str) {
        self.mismatches.push(format!("{where_}: {what}"));
    }

    /// Mismatch counts by indicator family, as compare.py prints them
    /// (`reporting` is split by its second level). Missing files and keys
    /// count under "(missing)".
    pub fn families(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.mismatches {
            let family = match m.split_once(": reference ") {
                Some((head, _)) => {
                    let key = head.rsplit(' ').next().unwrap_or(head);
                    let mut parts = key.split("__");
                    let first = parts.next().unwrap_or(key);
                    match (first, parts.next()) {
                        ("reporting", Some(second)) => format!("reporting__{second}"),
                        _ => first.to_string(),
                    }
                }
                None => "(missing)".to_string(),
            };
            *counts.entry(family).or_insert(0) += 1;
        }
        counts
    }
}

/// Options of compare.py.
#[derive(Debug, Clone, Copy)]
pub struct CompareOptions {
    pub rel: f64,
    pub abs: f64,
    /// `--allow-extra-ok`: accept results for users the reference failed.
    pub allow_extra_ok: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions { rel: REL, abs: ABS, allow_extra_ok: false }
    }
}

/// `compare.py REFERENCE CANDIDATE` with its default options.
pub fn compare_dirs(reference: &Path, candidate: &Path) -> CompareReport {
    compare_dirs_with(reference, candidate, CompareOptions::default())
}

/// `compare.py REFERENCE CANDIDATE [--rel R] [--abs A] [--allow-extra-ok]`.
///
/// A reference directory that cannot be read is a broken fixture and
/// panics. Anything wrong on the candidate's side (unreadable directory,
/// file or JSON, where compare.py would stop with a traceback) becomes a
/// mismatch, so the caller sees every problem at once.
pub fn compare_dirs_with(reference: &Path, candidate: &Path, opts: CompareOptions) -> CompareReport {
    let mut rep = CompareReport::default();
    let ref_files =
        list_dir(reference).unwrap_or_else(|e| panic!("cannot list {}: {e}", reference.display()));
    let cand_files = match list_dir(candidate) {
        Ok(files) => files,
        Err(e) => {
            rep.missing(&candidate.display().to_string(), &format!("unreadable: {e}"));
            BTreeSet::new()
        }
    };
    let ignored = |k: &str| IGNORED.contains(&k);

    // <user>_results.json: the whole key set, value by value.
    for u in users_with_suffix(&ref_files, "_results.json") {
        let name = format!("{u}_results.json");
        if !cand_files.contains(&name) {
            rep.missing(&u, &format!("no {name}"));
            continue;
        }
        let rf = reference_json(&reference.join(&name));
        let cf = match load_json(&candidate.join(&name)) {
            Ok(v) => v,
            Err(e) => {
                rep.missing(&u, &format!("unreadable {name}: {e}"));
                continue;
            }
        };
        let rkeys = top_level_keys(&rf);
        let ckeys = top_level_keys(&cf);
        if rkeys != ckeys {
            rep.missing(&u, &format!("top-level keys {} vs {}", py_str_list(&rkeys), py_str_list(&ckeys)));
            continue;
        }
        let (r, c) = match (rf.get(&u), cf.get(&u)) {
            (Some(r), Some(c)) => (flatten(r), flatten(c)),
            _ => {
                rep.missing(&u, &format!("{name} has no top-level key {u}"));
                continue;
            }
        };
        for (k, rv) in &r {
            if ignored(k) {
                continue;
            }
            match c.get(k) {
                None => rep.missing(&u, &format!("json key {k}")),
                Some(cv) => rep.check(&format!("{u}.json"), k, rv, cv, opts.rel, opts.abs),
            }
        }
        for k in c.keys() {
            if !r.contains_key(k) && !ignored(k) {
                rep.missing(&u, &format!("unexpected json key {k}"));
            }
        }
    }

    // <user>_results.csv: one row; every reference column, 5 digits.
    for u in users_with_suffix(&ref_files, "_results.csv") {
        let name = format!("{u}_results.csv");
        if !cand_files.contains(&name) {
            rep.missing(&u, &format!("no {name}"));
            continue;
        }
        let rr = reference_csv(&reference.join(&name));
        let cr = match read_csv_rows(&candidate.join(&name)) {
            Ok(rows) => rows,
            Err(e) => {
                rep.missing(&u, &format!("unreadable {name}: {e}"));
                continue;
            }
        };
        if rr.len() != 1 || cr.len() != 1 {
            rep.missing(&u, &format!("csv rows {} vs {}", rr.len(), cr.len()));
            continue;
        }
        for (k, v) in &rr[0] {
            if ignored(k) {
                continue;
            }
            match cr[0].get(k) {
                None => rep.missing(&u, &format!("csv column {k}")),
                Some(cv) => rep.check(&format!("{u}.csv"), k, v, cv, CSV_TOL, CSV_TOL),
            }
        }
    }

    // _all_users_summary.csv: rows matched by user_id, full precision.
    let summary = "_all_users_summary.csv";
    if ref_files.contains(summary) {
        if !cand_files.contains(summary) {
            rep.missing(summary, "missing");
        } else {
            let ref_rows = rows_by_user(reference_csv(&reference.join(summary)))
                .unwrap_or_else(|e| panic!("reference {summary}: {e}"));
            let cand_rows = read_csv_rows(&candidate.join(summary)).and_then(rows_by_user);
            match cand_rows {
                Err(e) => rep.missing(summary, &format!("unreadable: {e}")),
                Ok(cand_rows) => {
                    for (u, row) in &ref_rows {
                        let Some(crow) = cand_rows.get(u) else {
                            rep.missing(summary, &format!("no row for {u}"));
                            continue;
                        };
                        let row = row.as_object().expect("rows are objects");
                        for (k, v) in row {
                            if ignored(k) {
                                continue;
                            }
                            // compare.py stops at the first missing column.
                            let Some(cv) = crow.get(k) else {
                                rep.missing(summary, &format!("column {k}"));
                                break;
                            };
                            rep.check(&format!("{summary}:{u}"), k, v, cv, opts.rel, opts.abs);
                        }
                    }
                }
            }
        }
    }

    // _aggregate_stats.json: the statistics only, not the meta block.
    let stats = "_aggregate_stats.json";
    if ref_files.contains(stats) {
        if !cand_files.contains(stats) {
            rep.missing(stats, "missing");
        } else {
            let rf = reference_json(&reference.join(stats));
            let ri = rf
                .get("indicators")
                .and_then(Value::as_object)
                .unwrap_or_else(|| panic!("reference {stats} has no indicators object"));
            match load_json(&candidate.join(stats)) {
                Err(e) => rep.missing(stats, &format!("unreadable: {e}")),
                Ok(cf) => match cf.get("indicators").and_then(Value::as_object) {
                    None => rep.missing(stats, "no indicators object"),
                    Some(ci) => {
                        for (k, s) in ri {
                            if ignored(k) {
                                continue;
                            }
                            let Some(cs) = ci.get(k) else {
                                rep.missing(stats, &format!("indicator {k}"));
                                continue;
                            };
                            let empty = Map::new();
                            let rs = s.as_object().unwrap_or(&empty);
                            for (stat, v) in rs {
                                // `.get(stat)`: an absent statistic is None.
                                let cv = cs.get(stat).unwrap_or(&Value::Null);
                                rep.check(&format!("{stats}:{k}"), stat, v, cv, STATS_TOL, STATS_TOL);
                            }
                        }
                    }
                },
            }
        }
    }

    // Users the reference skipped or failed must not be written.
    for (u, status) in statuses(reference) {
        let has = cand_files.contains(&format!("{u}_results.json"))
            || cand_files.contains(&format!("{u}_results.csv"));
        if status == "skip" && has {
            rep.missing(&u, "skipped by the reference, written here");
        }
        if status == "fail" && has && !opts.allow_extra_ok {
            rep.missing(&u, "failed in the reference, written here");
        }
    }

    rep
}

/// The per-user statuses of _reference_log.json, in log order (a user
/// logged twice keeps its first place and its last status, like a dict).
pub fn statuses(reference: &Path) -> Vec<(String, String)> {
    let path = reference.join("_reference_log.json");
    if !path.exists() {
        return Vec::new();
    }
    let log = reference_json(&path);
    let mut out: Map<String, Value> = Map::new();
    for u in log.get("users").and_then(Value::as_array).into_iter().flatten() {
        let id = u.get("user_id").map(py_str).unwrap_or_default();
        let status = u.get("status").cloned().unwrap_or(Value::Null);
        out.insert(id, status);
    }
    out.into_iter().map(|(u, s)| (u, py_str(&s))).collect()
}

fn list_dir(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(dir)? {
        // compare.py lists every name; ones that are not UTF-8 cannot be
        // user files of ours anyway.
        if let Ok(name) = entry?.file_name().into_string() {
            names.insert(name);
        }
    }
    Ok(names)
}

/// User ids of the files ending in `suffix`, sorted like Python's `sorted`
/// (code point order, which is byte order for UTF-8).
fn users_with_suffix(files: &BTreeSet<String>, suffix: &str) -> Vec<String> {
    files.iter().filter_map(|f| f.strip_suffix(suffix).map(str::to_string)).collect()
}

fn top_level_keys(v: &Value) -> Vec<String> {
    match v {
        Value::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn py_str_list(items: &[String]) -> String {
    let values: Vec<Value> = items.iter().map(|s| Value::String(s.clone())).collect();
    py_repr(&Value::Array(values))
}

/// compare.py's `flatten`: nested objects become `a__b__c` keys; an empty
/// object contributes no key; a repeated key keeps its first place and its
/// last value.
pub fn flatten(v: &Value) -> Map<String, Value> {
    fn walk(map: &Map<String, Value>, parent: &str, out: &mut Map<String, Value>) {
        for (k, v) in map {
            let key = if parent.is_empty() { k.clone() } else { format!("{parent}__{k}") };
            match v {
                Value::Object(inner) => walk(inner, &key, out),
                _ => {
                    out.insert(key, v.clone());
                }
            }
        }
    }
    let mut out = Map::new();
    if let Value::Object(m) = v {
        walk(m, "", &mut out);
    }
    out
}

// ---------------------------------------------------------------------------
// Value semantics of compare.py's `same`

/// compare.py's `same(a, b, rel, abs_)`.
pub fn same(a: &Value, b: &Value, rel: f64, abs: f64) -> bool {
    let blank = |v: &Value| matches!(v, Value::Null) || matches!(v, Value::String(s) if s.is_empty());
    if blank(a) || blank(b) {
        return blank(a) && blank(b);
    }
    if a.is_boolean() || b.is_boolean() {
        return py_str(a).to_lowercase() == py_str(b).to_lowercase();
    }
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        if x.is_nan() || y.is_nan() {
            return x.is_nan() && y.is_nan();
        }
        // Written as in Python: inf against inf gives NaN here, a mismatch.
        return (x - y).abs() <= abs + rel * x.abs();
    }
    if a.is_array() || b.is_array() {
        return py_str(a).replace(' ', "") == py_str(b).replace(' ', "");
    }
    py_str(a) == py_str(b)
}

/// compare.py's `number`: JSON numbers, and strings that Python's `float()`
/// accepts; booleans are not numbers.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => nonfinite(s).or_else(|| py_float(s)),
        _ => None,
    }
}

/// Python's `float(str)`: surrounding whitespace, `_` between digits,
/// case-insensitive inf/infinity/nan with an optional sign.
pub fn py_float(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c.is_whitespace());
    if t.is_empty() {
        return None;
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    match body.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    // One sign only: Rust's parser would take the second one ("+-1").
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let digits: String = if body.contains('_') {
        let b = body.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'_' {
                let before = i > 0 && b[i - 1].is_ascii_digit();
                let after = i + 1 < b.len() && b[i + 1].is_ascii_digit();
                if !(before && after) {
                    return None;
                }
            }
        }
        body.replace('_', "")
    } else {
        body.to_string()
    };
    if !digits.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) {
        return None;
    }
    digits.parse::<f64>().ok().map(|x| sign * x)
}

/// Python's `str(v)` for a JSON value: a string is itself, anything else
/// its `repr`.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) if nonfinite(s).is_none() => s.clone(),
        _ => py_repr(v),
    }
}

/// Python's `repr` of the value that `json.load` would give.
pub fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => {
            if n.is_f64() {
                py_float_repr(n.as_f64().unwrap_or(f64::NAN))
            } else {
                n.to_string()
            }
        }
        Value::String(s) => match nonfinite(s) {
            Some(x) => py_float_repr(x),
            None => py_str_repr(s),
        },
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(m) => {
            let inner: Vec<String> =
                m.iter().map(|(k, v)| format!("{}: {}", py_str_repr(k), py_repr(v))).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, positional
/// for exponents from -4 to 15, else `d.ddde+XX`.
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // `{:e}` gives the same shortest round-trip digits as Python's repr.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let body = if (-4..16).contains(&exp) {
        if exp < 0 {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        } else if n <= exp + 1 {
            format!("{}{}.0", digits, "0".repeat((exp + 1 - n) as usize))
        } else {
            let (int, frac) = digits.split_at((exp + 1) as usize);
            format!("{int}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{first}{frac}e{esign}{:02}", exp.abs())
    };
    format!("{sign}{body}")
}

/// Python's `repr(str)`: single quotes unless the text holds a single quote
/// and no double quote.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

// ---------------------------------------------------------------------------
// Reading files as Python does

/// Parses JSON as Python's `json.load`, which also takes the bare tokens
/// NaN, Infinity and -Infinity (written by `json.dump` for such floats).
/// serde_json has no such numbers: they are read as marked strings (see
/// `nonfinite`) that `number`, `py_str` and `py_repr` treat as the floats.
pub fn load_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(v) => Ok(v),
        Err(first) => {
            serde_json::from_str(&quote_nonfinite(&text)).map_err(|_| format!("{}: {first}", path.display()))
        }
    }
}

fn reference_json(path: &Path) -> Value {
    load_json(path).unwrap_or_else(|e| panic!("reference file: {e}"))
}

/// Marks a NaN / Infinity / -Infinity token of a JSON text; a NUL byte
/// cannot start a string that a batch output writes.
const NONFINITE_MARK: char = '\u{0}';

/// The float behind a string made by `quote_nonfinite`.
fn nonfinite(s: &str) -> Option<f64> {
    match s.strip_prefix(NONFINITE_MARK)? {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Turns NaN / Infinity / -Infinity outside strings into marked strings.
fn quote_nonfinite(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
            out.push(c);
            rest = &rest[1..];
            continue;
        }
        let token = ["-Infinity", "Infinity", "NaN"].into_iter().find(|t| rest.starts_with(t));
        match token {
            Some(t) => {
                out.push_str("\"\\u0000");
                out.push_str(t);
                out.push('"');
                rest = &rest[t.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Python's `list(csv.DictReader(f))` for a file opened with newline="":
/// the first record names the columns; blank lines are skipped; a short
/// row gives None (here JSON null) for its missing columns; a long row
/// keeps its extra cells, as a list, under the key None.
pub fn read_csv_rows(path: &Path) -> Result<Vec<Map<String, Value>>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut records = parse_csv(&text).into_iter();
    let Some(header) = records.next() else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for record in records {
        if record.is_empty() {
            continue;
        }
        let mut row = Map::new();
        for (i, name) in header.iter().enumerate() {
            let cell = record.get(i).map(|s| Value::String(s.clone()));
            row.insert(name.clone(), cell.unwrap_or(Value::Null));
        }
        if record.len() > header.len() {
            let extra = record[header.len()..].iter().map(|s| Value::String(s.clone())).collect();
            row.insert("None".to_string(), Value::Array(extra));
        }
        rows.push(row);
    }
    Ok(rows)
}

fn reference_csv(path: &Path) -> Vec<Map<String, Value>> {
    read_csv_rows(path).unwrap_or_else(|e| panic!("reference file: {e}"))
}

/// `{r["user_id"]: r for r in rows}`, keeping the first place of a user and
/// its last row.
fn rows_by_user(rows: Vec<Map<String, Value>>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for row in rows {
        let id = match row.get("user_id") {
            Some(v) => py_str(v),
            None => return Err("no user_id column".to_string()),
        };
        out.insert(id, Value::Object(row));
    }
    Ok(out)
}

/// The records of a CSV text under Python's default dialect (comma, double
/// quote, doubled quotes inside quotes, \r, \n or \r\n ending a record,
/// non-strict). A blank line is an empty record.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    #[derive(PartialEq)]
    enum State {
        StartRecord,
        StartField,
        InField,
        InQuoted,
        QuoteInQuoted,
    }
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::StartRecord;
    let mut chars = text.chars().peekable();

    while let Some(c) = chars.next() {
        let eol = c == '\n' || c == '\r';
        if eol && c == '\r' && chars.peek() == Some(&'\n') && state != State::InQuoted {
            chars.next();
        }
        match state {
            State::StartRecord if eol => records.push(Vec::new()),
            State::StartRecord | State::StartField => {
                if c == '"' {
                    state = State::InQuoted;
                } else if c == ',' {
                    record.push(std::mem::take(&mut field));
                    state = State::StartField;
                } else if eol {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                    state = State::StartRecord;
                } else {
                    field.push(c);
                    state = State::InField;
                }
            }
            State::InField => {
                if c == ',' {
                    record.push(std::mem::take(&mut field));
                    state = State::StartField;
                } else if eol {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                    state = State::StartRecord;
                } else {
                    field.push(c);
                }
            }
            State::InQuoted => {
                if c == '"' {
                    state = State::QuoteInQuoted;
                } else {
                    field.push(c);
                }
            }
            State::QuoteInQuoted => {
                if c == '"' {
                    field.push('"');
                    state = State::InQuoted;
                } else if c == ',' {
                    record.push(std::mem::take(&mut field));
                    state = State::StartField;
                } else if eol {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                    state = State::StartRecord;
                } else {
                    // Not strict: a character after the closing quote is
                    // kept and the field goes on unquoted.
                    field.push(c);
                    state = State::InField;
                }
            }
        }
    }
    if state != State::StartRecord {
        record.push(field);
        records.push(record);
    }
    records
}

/// The file names of a directory, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Every file of a directory, read, with run-specific fields blanked.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).unwrap();
            let bytes = if n == "_aggregate_stats.json" {
                let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                v["meta"] = Value::Null;
                serde_json::to_vec(&v).unwrap()
            } else {
                bytes
            };
            (n, bytes)
        })
        .collect()
}

/// One user's results, from `<user>_results.json` in `dir`.
pub fn user_results(dir: &Path, user: &str) -> Value {
    let text = fs::read_to_string(dir.join(format!("{user}_results.json"))).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all[user].clone()
}

/// The value at a `/`-separated path.
pub fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('/').fold(v, |node, key| &node[key])
}

/// Asserts that the number at `path` is `expected`, to 1e-9 relative.
pub fn close(v: &Value, path: &str, expected: f64) {
    let got = at(v, path).as_f64().unwrap_or_else(|| panic!("{path} is {:?}", at(v, path)));
    assert!((got - expected).abs() <= 1e-9 * expected.abs().max(1.0), "{path}: {got} != {expected}");
}
