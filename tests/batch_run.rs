//! End-to-end runs of `bandicoot batch` in temporary directories: the
//! output layout, the summaries against the per-user results, the typed
//! Parquet summary, progress lines, exit codes, and a run killed at several
//! points then resumed with `--continue`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use polars::prelude::*;
use serde_json::Value;

fn tiny() -> PathBuf {
    common::manifest_dir().join("tests/fixtures/tiny")
}

fn batch(records: &Path, antennas: Option<&Path>, out: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(common::bin());
    cmd.arg("batch").arg(records);
    if let Some(a) = antennas {
        cmd.arg(a);
    }
    cmd.arg("--output-dir").arg(out).args(args).output().expect("run bandicoot")
}

#[test]
fn layout_summaries_and_typed_parquet() {
    let out = common::TempDir::new("layout");
    let run = batch(&tiny().join("records"), Some(&tiny().join("antennas.csv")), out.path(), &["--summary"]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));

    assert_eq!(
        common::names(out.path()),
        [
            ".bandicoot",
            "_aggregate_stats.json",
            "_all_users_summary.csv",
            "_all_users_summary.parquet",
            "u_results.csv",
            "u_results.json",
            "w_results.csv",
            "w_results.json"
        ]
    );

    // Every summary row holds the user's own results, key by key.
    let summary = fs::read_to_string(out.path().join("_all_users_summary.csv")).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..2], ["user_id", "record_count"]);
    let mut sorted = header[2..].to_vec();
    sorted.sort();
    assert_eq!(sorted, header[2..], "keys after record_count are sorted");
    let rows: Vec<Vec<String>> = lines.map(|l| split_csv(l)).collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let user = &row[0];
        let json: Value = serde_json::from_str(
            &fs::read_to_string(out.path().join(format!("{user}_results.json"))).unwrap(),
        )
        .unwrap();
        let flat = common::flatten(&json[user.as_str()]);
        assert_eq!(row[1], flat["reporting__number_of_records"].to_string());
        let mut checked = 0;
        for (key, cell) in header.iter().zip(row).skip(2) {
            let value = &flat[*key];
            assert!(
                common::same(value, &Value::String(cell.clone()), 1e-12, 0.0) || (value.is_array()),
                "{user} {key}: {value} vs {cell}"
            );
            checked += 1;
        }
        assert!(checked > 100);
    }

    // The Parquet summary has one typed row per user.
    let file = fs::File::open(out.path().join("_all_users_summary.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    assert_eq!(df.height(), 2);
    let dtype = |name: &str| df.column(name).unwrap().dtype().clone();
    assert_eq!(dtype("user_id"), DataType::String);
    assert_eq!(dtype("record_count"), DataType::Int64);
    assert_eq!(dtype("reporting__has_call"), DataType::Boolean);
    assert_eq!(dtype("reporting__number_of_records"), DataType::Int64);
    assert_eq!(dtype("reporting__start_time"), DataType::String);
    assert_eq!(dtype("active_days__allweek__allday__callandtext__mean"), DataType::Float64);
    let records: Vec<Option<i64>> = df.column("record_count").unwrap().i64().unwrap().iter().collect();
    assert_eq!(records, [Some(7), Some(3)]);

    // Aggregate statistics: u has 7 records, w 3.
    let stats: Value =
        serde_json::from_str(&fs::read_to_string(out.path().join("_aggregate_stats.json")).unwrap()).unwrap();
    let rc = &stats["indicators"]["record_count"];
    assert_eq!(rc["mean"], 5.0);
    assert_eq!(rc["min"], 3.0);
    assert_eq!(rc["max"], 7.0);
    assert_eq!(rc["n"], 2);
    assert!((rc["std"].as_f64().unwrap() - 8f64.sqrt()).abs() < 1e-12);
    assert_eq!(stats["meta"]["users_processed"], 2);
}

/// Splits one line of the summary CSV (quoted cells hold commas).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

#[test]
fn format_none_writes_only_summaries() {
    let out = common::TempDir::new("format-none");
    let run = batch(&tiny().join("records"), None, out.path(), &["--format", "none", "--summary"]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(
        common::names(out.path()),
        [".bandicoot", "_aggregate_stats.json", "_all_users_summary.csv", "_all_users_summary.parquet"]
    );
}

#[test]
fn progress_lines_and_exit_codes() {
    let dir = common::TempDir::new("progress-in");
    let records = dir.path().join("records");
    fs::create_dir_all(&records).unwrap();
    fs::copy(tiny().join("records/u.csv"), records.join("u.csv")).unwrap();
    fs::write(records.join("empty.csv"), "").unwrap();
    fs::write(records.join("broken.csv"), "interaction,direction\ncall,in\n").unwrap();
    fs::write(records.join("notes.txt"), "not a user").unwrap();

    // Not a terminal: plain lines, SKIP and FAIL always, exit 1 for a failure.
    let out = common::TempDir::new("progress-out");
    let run = batch(&records, None, out.path(), &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Total users found: 3"), "{stderr}");
    assert!(stderr.contains("SKIP: empty (no records)"), "{stderr}");
    assert!(stderr.contains("FAIL: broken - "), "{stderr}");
    assert!(stderr.contains("missing column 'correspondent_id'"), "{stderr}");
    assert!(stderr.contains("    Progress: 3/3 | Rate: "), "{stderr}");
    assert!(!stderr.contains("OK: u"), "OK lines only with --verbose");
    assert!(stderr.contains("Users processed: 1\nUsers failed: 1\nUsers skipped: 1"), "{stderr}");

    let errors: Value =
        serde_json::from_str(&fs::read_to_string(out.path().join("_errors.json")).unwrap()).unwrap();
    assert_eq!(errors[0]["user_id"], "broken");
    assert!(errors[0]["error"]
        .as_str()
        .unwrap()
        .contains("broken.csv: row 1: missing column 'correspondent_id'"));

    let verbose = batch(&records, None, out.path(), &["--verbose"]);
    assert!(String::from_utf8_lossy(&verbose.stderr).contains("OK: u (7 records)"));

    // Runs that cannot start exit 2 with a message.
    let missing = batch(&dir.path().join("nowhere"), None, out.path(), &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));

    let empty_dir = dir.path().join("no-users");
    fs::create_dir_all(&empty_dir).unwrap();
    let empty = batch(&empty_dir, None, out.path(), &[]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no user file"));

    let bad_antennas = dir.path().join("antennas.csv");
    fs::write(&bad_antennas, "antenna_id,latitude,longitude\na1,north,3.0\n").unwrap();
    let bad = batch(&records, Some(&bad_antennas), out.path(), &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("antennas.csv: row 2, column 'latitude'"));

    let blocked = dir.path().join("a-file");
    fs::write(&blocked, "").unwrap();
    let unwritable = batch(&records, None, &blocked, &[]);
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unwritable.stderr).contains("output directory"));

    let bad_flag = batch(&records, None, out.path(), &["--groupby", "fortnight"]);
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[test]
fn continue_refuses_other_settings() {
    let out = common::TempDir::new("continue-settings");
    let records = tiny().join("records");
    assert_eq!(batch(&records, None, out.path(), &[]).status.code(), Some(0));
    let run = batch(&records, None, out.path(), &["--continue", "--groupby", "month"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("settings differ (groupby"));
}

#[test]
fn killed_runs_resume_to_the_same_files() {
    let pop = common::TempDir::new("kill-pop");
    let synth = Command::new(common::bin())
        .args(["synth", pop.path().to_str().unwrap(), "--users", "300", "--weeks", "4", "--seed", "9"])
        .args(["--bad-rows", "0.01", "--broken-files", "4"])
        .output()
        .unwrap();
    assert!(synth.status.success());
    let records = pop.path().join("records");
    let antennas = pop.path().join("antennas.csv");
    let args = ["--summary", "--chunk-size", "15", "--parallel", "1"];

    // The uninterrupted run takes every user in one chunk: chunking must
    // not change a single byte.
    let whole = common::TempDir::new("kill-whole");
    batch(&records, Some(&antennas), whole.path(), &["--summary"]);
    let expected = common::snapshot(whole.path());
    assert!(expected.len() > 500);

    // Nor must the number of threads.
    let single = common::TempDir::new("kill-single-thread");
    batch(&records, Some(&antennas), single.path(), &["--summary", "--parallel", "1", "--chunk-size", "7"]);
    assert!(common::snapshot(single.path()) == expected, "one thread and small chunks changed the results");

    for delay_ms in [60, 250, 600, 1000] {
        let out = common::TempDir::new("kill-part");
        let mut child = Command::new(common::bin())
            .arg("batch")
            .arg(&records)
            .arg(&antennas)
            .arg("--output-dir")
            .arg(out.path())
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();

        // No partial file under a final name, whatever the instant.
        for name in common::names(out.path()) {
            let text = fs::read_to_string(out.path().join(&name)).unwrap_or_default();
            if name.ends_with("_results.json") {
                assert!(serde_json::from_str::<Value>(&text).is_ok(), "{name} is incomplete");
            } else if name.ends_with("_results.csv") {
                assert_eq!(text.matches("\r\n").count(), 2, "{name} is incomplete");
            }
        }

        let mut resume_args = args.to_vec();
        resume_args.push("--continue");
        batch(&records, Some(&antennas), out.path(), &resume_args);
        let got = common::snapshot(out.path());
        let got_names: Vec<&String> = got.iter().map(|(n, _)| n).collect();
        let want_names: Vec<&String> = expected.iter().map(|(n, _)| n).collect();
        assert_eq!(got_names, want_names, "files after a kill at {delay_ms} ms");
        for ((name, a), (_, b)) in got.iter().zip(&expected) {
            assert!(a == b, "{name} differs after a kill at {delay_ms} ms");
        }
    }
}
