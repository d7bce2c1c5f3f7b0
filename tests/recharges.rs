//! `--recharges` and `--attributes` on tests/fixtures/recharges, whose
//! values were worked out by hand and agree with the reference (bandicoot
//! 0.6.0 run on the same files; for `one` and `sameday`, where the
//! reference's run fails, its recharge functions called one by one).
//!
//! Every user has the same three records. Recharges:
//! - `r`: Mon 2014-03-03 09:00 (10), Tue 03-04 (a date: midnight, 5),
//!   Tue 20:00 (5), Sat 03-08 12:00 (20), Wed 03-12 (no amount: 0), written
//!   out of order; attributes with `age` given twice.
//! - `one`: a single recharge; `sameday`: three within 24 hours.
//! - `none`: no file; `empty`: a header only.
//! - `badr`: a recharge on March 32nd; `bada`: attributes without a `value`
//!   column.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture() -> PathBuf {
    common::manifest_dir().join("tests/fixtures/recharges")
}

fn run(out: &Path, args: &[&str]) -> Output {
    let fx = fixture();
    Command::new(common::bin())
        .arg("batch")
        .arg(fx.join("records"))
        .arg("--recharges")
        .arg(fx.join("recharges"))
        .arg("--attributes")
        .arg(fx.join("attributes"))
        .arg("--output-dir")
        .arg(out)
        .args(args)
        .output()
        .expect("run bandicoot")
}

/// One user's results, from a run with `args`.
fn results(user: &str, args: &[&str]) -> Value {
    let out = common::TempDir::new("recharges");
    let status = run(out.path(), args);
    // badr and bada fail: the run says so in its status.
    assert_eq!(status.status.code(), Some(1), "{}", String::from_utf8_lossy(&status.stderr));
    common::user_results(out.path(), user)
}

#[test]
fn each_recharge_indicator_without_grouping() {
    let r = results("r", &["--groupby", "none", "--split-week", "--split-day"]);
    let all = "allweek/allday";

    // Amounts 10, 5, 5, 20, 0: mean 8, variance (4+9+9+144+64)/5 = 46.
    common::close(&r, &format!("amount_recharges/{all}/mean"), 8.0);
    common::close(&r, &format!("amount_recharges/{all}/std"), 46f64.sqrt());
    common::close(&r, &format!("amount_recharges/{all}/median"), 5.0);
    common::close(&r, &format!("amount_recharges/{all}/min"), 0.0);
    common::close(&r, &format!("amount_recharges/{all}/max"), 20.0);

    // Gaps in seconds: 15 h, 20 h, 3 days 16 h, 3 days 12 h.
    common::close(&r, &format!("interevent_time_recharges/{all}/mean"), 186_300.0);
    common::close(&r, &format!("interevent_time_recharges/{all}/median"), 187_200.0);
    common::close(&r, &format!("interevent_time_recharges/{all}/min"), 54_000.0);
    common::close(&r, &format!("interevent_time_recharges/{all}/max"), 316_800.0);

    // 20, 10, 5 of 40 first reach 80% (32): 3 of 5.
    common::close(&r, &format!("percent_pareto_recharges/{all}"), 0.6);
    assert_eq!(common::at(&r, &format!("number_of_recharges/{all}")), 5);

    // Half of 5 (Tue 20:00, then Saturday) and of 20 (Saturday, then the
    // next Wednesday); the other gaps are under a day.
    assert_eq!(common::at(&r, "average_balance_recharges"), 12.5);

    // Weekday nights: Tue 00:00 (5), Tue 20:00 (5), Wed 00:00 (0).
    assert_eq!(common::at(&r, "number_of_recharges/weekday/night"), 3);
    common::close(&r, "amount_recharges/weekday/night/mean", 10.0 / 3.0);
    common::close(&r, "interevent_time_recharges/weekday/night/mean", (72_000.0 + 619_200.0) / 2.0);
    common::close(&r, "percent_pareto_recharges/weekday/night", 2.0 / 3.0);
    // Weekend nights: none.
    assert!(common::at(&r, "number_of_recharges/weekend/night").is_null());
    assert!(common::at(&r, "percent_pareto_recharges/weekend/night").is_null());
    assert!(common::at(&r, "amount_recharges/weekend/night/mean").is_null());
}

#[test]
fn recharges_grouped_by_their_own_weeks() {
    let r = results("r", &["--split-week", "--split-day"]);

    // Week 1: 10, 5, 5, 20; week 2: 0.
    common::close(&r, "number_of_recharges/allweek/allday/mean", 2.5);
    common::close(&r, "number_of_recharges/allweek/allday/std", 1.5);
    common::close(&r, "amount_recharges/allweek/allday/mean/mean", 5.0);
    common::close(&r, "amount_recharges/allweek/allday/mean/std", 5.0);
    // Gaps only within week 1 (a week with one recharge has none).
    common::close(&r, "interevent_time_recharges/allweek/allday/mean/mean", 147_600.0);
    common::close(&r, "interevent_time_recharges/allweek/allday/mean/std", 0.0);
    // Week 1: 20, 10, 5 of 40 (3 of 4); week 2: 0 of 0 (1 of 1).
    common::close(&r, "percent_pareto_recharges/allweek/allday/mean", 0.875);
    common::close(&r, "percent_pareto_recharges/allweek/allday/std", 0.125);
    // Not grouped.
    assert_eq!(common::at(&r, "average_balance_recharges"), 12.5);

    // Weekday nights: 5, 5 in week 1, 0 in week 2.
    common::close(&r, "number_of_recharges/weekday/night/mean", 1.5);
    common::close(&r, "percent_pareto_recharges/weekday/night/mean", 1.0);
    common::close(&r, "interevent_time_recharges/weekday/night/mean/mean", 72_000.0);
    assert!(common::at(&r, "number_of_recharges/weekend/night/mean").is_null());
}

#[test]
fn reporting_and_attributes() {
    let r = results("r", &["--groupby", "none"]);
    assert_eq!(common::at(&r, "reporting/number_of_recharges"), 5);
    assert_eq!(common::at(&r, "reporting/has_recharges"), true);
    assert_eq!(common::at(&r, "reporting/has_attributes"), true);
    let recharges_dir = fixture().join("recharges").display().to_string();
    let attributes_dir = fixture().join("attributes").display().to_string();
    assert_eq!(common::at(&r, "reporting/recharges_path"), recharges_dir.as_str());
    assert_eq!(common::at(&r, "reporting/attributes_path"), attributes_dir.as_str());

    // Text values in file order; `age` keeps its place and its last value.
    assert_eq!(r["attributes"], serde_json::json!({"gender": "female", "age": "43", "plan": "prepaid"}));
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    let n = keys.len();
    assert_eq!(
        &keys[n - 8..],
        [
            "frequent_antennas",
            "churn_rate",
            "amount_recharges",
            "interevent_time_recharges",
            "percent_pareto_recharges",
            "number_of_recharges",
            "average_balance_recharges",
            "attributes"
        ]
    );
}

#[test]
fn users_without_recharges_or_attributes_have_no_such_keys() {
    let out = common::TempDir::new("recharges-none");
    run(out.path(), &["--groupby", "none"]);
    for user in ["none", "empty"] {
        let u = common::user_results(out.path(), user);
        assert_eq!(common::at(&u, "reporting/number_of_recharges"), 0);
        assert_eq!(common::at(&u, "reporting/has_recharges"), false);
        assert_eq!(common::at(&u, "reporting/has_attributes"), false);
        let keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.last(), Some(&"churn_rate"), "{user}");
        // Indicators of the records are there as for anyone.
        assert_eq!(common::at(&u, "number_of_interactions/allweek/allday/call"), 2);
    }
    // The per-user CSV has no recharge column either.
    let csv = std::fs::read_to_string(out.path().join("none_results.csv")).unwrap();
    assert!(!csv.contains("recharges__") && !csv.contains("attributes__"));
    assert!(csv.contains("reporting__number_of_recharges"));
}

#[test]
fn a_single_recharge_or_one_day_of_them_has_no_average_balance() {
    // The reference divides by zero for both users and fails them.
    let one = results("one", &["--groupby", "none"]);
    assert!(common::at(&one, "average_balance_recharges").is_null());
    common::close(&one, "amount_recharges/allweek/allday/mean", 7.5);
    common::close(&one, "amount_recharges/allweek/allday/std", 0.0);
    assert_eq!(common::at(&one, "amount_recharges/allweek/allday/kurtosis"), 0);
    assert!(common::at(&one, "interevent_time_recharges/allweek/allday/mean").is_null());
    common::close(&one, "percent_pareto_recharges/allweek/allday", 1.0);
    assert_eq!(common::at(&one, "number_of_recharges/allweek/allday"), 1);
    assert_eq!(one["attributes"], serde_json::json!({"age": "30"}));

    // 00:00 (3), 08:00 (4), 23:59:59 (2): under a day from first to last.
    let same = results("sameday", &["--groupby", "none"]);
    assert!(common::at(&same, "average_balance_recharges").is_null());
    common::close(&same, "amount_recharges/allweek/allday/mean", 3.0);
    common::close(&same, "interevent_time_recharges/allweek/allday/mean", 43_199.5);
    common::close(&same, "interevent_time_recharges/allweek/allday/max", 57_599.0);
    common::close(&same, "percent_pareto_recharges/allweek/allday", 1.0);
    assert_eq!(common::at(&same, "number_of_recharges/allweek/allday"), 3);

    // With grouping too; null in the per-user CSV is an empty cell.
    let week = results("one", &[]);
    assert!(common::at(&week, "average_balance_recharges").is_null());
    common::close(&week, "number_of_recharges/allweek/allday/mean", 1.0);
}

#[test]
fn malformed_files_fail_their_user_only() {
    let out = common::TempDir::new("recharges-bad");
    let status = run(out.path(), &["--groupby", "none"]);
    assert_eq!(status.status.code(), Some(1));

    let errors: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("_errors.json")).unwrap()).unwrap();
    let errors = errors.as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    let message = |user: &str| {
        errors.iter().find(|e| e["user_id"] == user).unwrap()["error"].as_str().unwrap().to_string()
    };
    let badr = message("badr");
    assert!(
        badr.contains("recharges/badr.csv: row 3, column 'datetime': \"2014-03-32\" is neither"),
        "{badr}"
    );
    let bada = message("bada");
    assert!(bada.contains("attributes/bada.csv: row 1: missing column 'value'"), "{bada}");

    // Every other user is written.
    for user in ["r", "one", "sameday", "none", "empty"] {
        assert!(out.path().join(format!("{user}_results.json")).is_file(), "{user}");
    }
    assert!(!out.path().join("badr_results.json").exists());
}

#[test]
fn missing_directories_stop_the_run() {
    let out = common::TempDir::new("recharges-nodir");
    let fx = fixture();
    for option in ["--recharges", "--attributes"] {
        let run = Command::new(common::bin())
            .arg("batch")
            .arg(fx.join("records"))
            .arg(option)
            .arg(fx.join("no-such-dir"))
            .arg("--output-dir")
            .arg(out.path())
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            stderr.contains(&format!("{option} directory")) && stderr.contains("no-such-dir"),
            "{stderr}"
        );
    }
}

#[test]
fn continue_refuses_other_recharges_or_attributes() {
    let out = common::TempDir::new("recharges-continue");
    let fx = fixture();
    let records = fx.join("records");
    let plain = Command::new(common::bin())
        .arg("batch")
        .arg(&records)
        .arg("--output-dir")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(0), "{}", String::from_utf8_lossy(&plain.stderr));

    for (option, dir) in [("--recharges", "recharges"), ("--attributes", "attributes")] {
        let resumed = Command::new(common::bin())
            .arg("batch")
            .arg(&records)
            .arg(option)
            .arg(fx.join(dir))
            .arg("--output-dir")
            .arg(out.path())
            .arg("--continue")
            .output()
            .unwrap();
        assert_eq!(resumed.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&resumed.stderr);
        assert!(stderr.contains(&format!("settings differ ({dir}: null then")), "{stderr}");
    }

    // The same settings continue.
    let again = Command::new(common::bin())
        .arg("batch")
        .arg(&records)
        .arg("--output-dir")
        .arg(out.path())
        .arg("--continue")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
}

#[test]
fn summary_counts_numeric_attributes_as_numbers() {
    let out = common::TempDir::new("recharges-summary");
    run(out.path(), &["--summary"]);
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("_aggregate_stats.json")).unwrap())
            .unwrap();
    // Ages "43" (r) and "30" (one): the reference's float() reads them.
    let age = &stats["indicators"]["attributes__age"];
    assert_eq!(age["n"], 2);
    assert_eq!(age["mean"], 36.5);
    // Text that is not a number is not summarised.
    assert!(stats["indicators"].get("attributes__gender").is_none());
    // average_balance_recharges: only r has one.
    assert!(stats["indicators"].get("average_balance_recharges").is_none());
    common::close(&stats["indicators"]["number_of_recharges__allweek__allday__mean"], "n", 3.0);
}

#[test]
fn same_bytes_whatever_the_chunks_and_threads() {
    let files = |args: &[&str]| {
        let out = common::TempDir::new("recharges-chunks");
        run(out.path(), args);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with("_results.json"))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
            .collect();
        files.sort();
        files
    };
    let split = ["--split-week", "--split-day", "--stats", "default"];
    // One user a chunk: chunks with no recharge at all, and with one user's.
    let one_by_one = files(&[&split[..], &["--chunk-size", "1", "--parallel", "1"]].concat());
    let together = files(&split);
    assert_eq!(one_by_one.len(), 5);
    assert_eq!(one_by_one, together);
}
