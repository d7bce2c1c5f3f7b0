//! The comparison in tests/common must judge as the reference's compare.py
//! does; these cases pin its rules on tiny hand-made output directories.

mod common;

use common::{
    batch_args, compare_dirs, compare_dirs_with, parse_csv, py_float, py_float_repr, py_repr, read_csv_rows,
    same, CompareOptions, TempDir,
};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::fs;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

fn write_json(dir: &Path, name: &str, v: &Value) {
    write(dir, name, &serde_json::to_string_pretty(v).unwrap());
}

/// A user result as the reference nests it: `{user: {...}}`.
fn user_json(user: &str, body: Value) -> Value {
    let mut top = serde_json::Map::new();
    top.insert(user.to_string(), body);
    Value::Object(top)
}

fn base_body() -> Value {
    json!({
        "name": "A",
        "reporting": {
            "antennas_path": "/somewhere/towers.csv",
            "version": "0.6.0",
            "groupby": "week",
            "weekend": [6, 7],
        },
        "call_duration": {"mean": 1.5, "std": null},
        "active_days": {"allweek": {"allday": {"callandtext": {"mean": 2.0}}}},
    })
}

/// Two directories with the same single user, `body` on the candidate side.
fn pair(reference: Value, candidate: Value) -> (TempDir, TempDir) {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    write_json(r.path(), "A_results.json", &user_json("A", reference));
    write_json(c.path(), "A_results.json", &user_json("A", candidate));
    (r, c)
}

#[test]
fn identical_dirs_compare_clean() {
    let (r, c) = pair(base_body(), base_body());
    let rep = compare_dirs(r.path(), c.path());
    assert!(rep.mismatches.is_empty(), "{:?}", rep.mismatches);
    // name, reporting__groupby, reporting__weekend, call_duration__mean,
    // call_duration__std, active_days__...__mean; version and the path are
    // ignored.
    assert_eq!(rep.values, 6);
}

#[test]
fn float_beyond_tolerance_is_reported_and_within_is_not() {
    // Tolerance at 1.5: 1e-7 + 1e-9 * 1.5.
    let mut near = base_body();
    near["call_duration"]["mean"] = json!(1.50000009);
    let (r, c) = pair(base_body(), near);
    assert!(compare_dirs(r.path(), c.path()).mismatches.is_empty());

    let mut far = base_body();
    far["call_duration"]["mean"] = json!(1.5000003);
    let (r, c) = pair(base_body(), far);
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.mismatches.len(), 1, "{:?}", rep.mismatches);
    assert_eq!(rep.mismatches[0], "A.json call_duration__mean: reference 1.5, candidate 1.5000003");
    assert_eq!(rep.families().get("call_duration"), Some(&1));
}

#[test]
fn relative_tolerance_follows_the_reference_value() {
    let mut r = base_body();
    r["call_duration"]["mean"] = json!(1e9);
    let mut c = base_body();
    // 1e-7 + 1e-9 * 1e9 = 1.0000001
    c["call_duration"]["mean"] = json!(1e9 + 1.0);
    let (rd, cd) = pair(r.clone(), c);
    assert!(compare_dirs(rd.path(), cd.path()).mismatches.is_empty());

    let mut c = base_body();
    c["call_duration"]["mean"] = json!(1e9 + 1.5);
    let (rd, cd) = pair(r, c);
    assert_eq!(compare_dirs(rd.path(), cd.path()).mismatches.len(), 1);
}

#[test]
fn none_against_zero_is_a_mismatch() {
    let mut zero = base_body();
    zero["call_duration"]["std"] = json!(0);
    let (r, c) = pair(base_body(), zero);
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.mismatches, vec!["A.json call_duration__std: reference None, candidate 0".to_string()]);
}

#[test]
fn missing_and_unexpected_keys_are_reported() {
    let mut cand = base_body();
    cand["call_duration"].as_object_mut().unwrap().remove("std");
    cand["call_duration"]["median"] = json!(1.0);
    let (r, c) = pair(base_body(), cand);
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(
        rep.mismatches,
        vec![
            "A: json key call_duration__std".to_string(),
            "A: unexpected json key call_duration__median".to_string(),
        ]
    );
}

#[test]
fn ignored_keys_may_differ_or_be_absent() {
    let mut cand = base_body();
    cand["reporting"]["antennas_path"] = json!("elsewhere.csv");
    cand["reporting"].as_object_mut().unwrap().remove("version");
    cand["reporting"]["code_signature"] = json!("abc");
    let (r, c) = pair(base_body(), cand);
    let rep = compare_dirs(r.path(), c.path());
    assert!(rep.mismatches.is_empty(), "{:?}", rep.mismatches);
}

#[test]
fn top_level_keys_must_match_in_order() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    write_json(r.path(), "A_results.json", &user_json("A", base_body()));
    write(c.path(), "A_results.json", r#"{"B": {}, "A": {}}"#);
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.mismatches, vec!["A: top-level keys ['A'] vs ['B', 'A']".to_string()]);
    // Nothing below a wrong top level is compared.
    assert_eq!(rep.values, 0);
}

#[test]
fn a_missing_file_is_reported() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    write_json(r.path(), "A_results.json", &user_json("A", base_body()));
    write(r.path(), "A_results.csv", "name,x\r\nA,1\r\n");
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.mismatches, vec!["A: no A_results.json".to_string(), "A: no A_results.csv".to_string()]);
}

#[test]
fn unparsable_candidate_json_is_a_mismatch_not_a_panic() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    write_json(r.path(), "A_results.json", &user_json("A", base_body()));
    write(c.path(), "A_results.json", "{\"A\": ");
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.mismatches.len(), 1);
    assert!(rep.mismatches[0].starts_with("A: unreadable A_results.json"));
}

#[test]
fn per_user_csv_uses_five_digit_tolerance() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    write(r.path(), "A_results.csv", "name,x,y,z\r\nA,0.12346,,3\r\n");
    // 0.123456 is within 1e-5 of 0.12346; an empty cell matches an empty one.
    write(c.path(), "A_results.csv", "name,x,y,z,extra\r\nA,0.123456,,3.00002,9\r\n");
    let rep = compare_dirs(r.path(), c.path());
    // Four reference columns; the candidate's extra column is not checked.
    assert_eq!(rep.values, 4);
    // z: |3 - 3.00002| = 2e-5, within 1e-5 + 1e-5 * 3.
    assert!(rep.mismatches.is_empty(), "{:?}", rep.mismatches);

    write(c.path(), "A_results.csv", "name,x,y,z\r\nA,0.1235,0,3\r\n");
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(
        rep.mismatches,
        vec![
            "A.csv x: reference '0.12346', candidate '0.1235'".to_string(),
            "A.csv y: reference '', candidate '0'".to_string(),
        ]
    );
}

#[test]
fn per_user_csv_missing_column_and_row_count() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    write(r.path(), "A_results.csv", "name,x\r\nA,1\r\n");
    write(c.path(), "A_results.csv", "name\r\nA\r\n");
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.mismatches, vec!["A: csv column x".to_string()]);

    write(c.path(), "A_results.csv", "name,x\r\nA,1\r\nA,1\r\n");
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.mismatches, vec!["A: csv rows 1 vs 2".to_string()]);
}

#[test]
fn summary_csv_uses_full_precision_and_stops_at_a_missing_column() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    let name = "_all_users_summary.csv";
    write(r.path(), name, "user_id,record_count,a,b\r\nA,7,0.123456789,1\r\nB,3,,2\r\n");
    // A 1e-6 difference passes in a per-user CSV but not in the summary.
    write(c.path(), name, "user_id,record_count,a,b\r\nB,3,,2\r\nA,7,0.123457789,1\r\n");
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.values, 8);
    assert_eq!(
        rep.mismatches,
        vec!["_all_users_summary.csv:A a: reference '0.123456789', candidate '0.123457789'".to_string()]
    );

    write(c.path(), name, "user_id,record_count,b\r\nA,7,1\r\n");
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(
        rep.mismatches,
        vec![
            "_all_users_summary.csv: column a".to_string(),
            "_all_users_summary.csv: no row for B".to_string(),
        ]
    );
    // user_id and record_count of A were compared before the break.
    assert_eq!(rep.values, 2);

    fs::remove_file(c.path().join(name)).unwrap();
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.mismatches, vec!["_all_users_summary.csv: missing".to_string()]);
}

#[test]
fn aggregate_stats_compare_statistics_only() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    let name = "_aggregate_stats.json";
    let reference = json!({
        "meta": {"users_processed": 2},
        "indicators": {
            "x": {"mean": 0.5, "std": 0.1, "n": 2},
            "y": {"mean": 1.0, "n": 2},
        }
    });
    write_json(r.path(), name, &reference);
    let candidate = json!({
        "meta": {"users_processed": 99, "generated": "now"},
        "indicators": {
            "x": {"mean": 0.50000005, "n": 2},
        }
    });
    write_json(c.path(), name, &candidate);
    let rep = compare_dirs(r.path(), c.path());
    // x.mean within 1e-7; x.std absent, read as None; y absent.
    assert_eq!(rep.values, 3);
    assert_eq!(
        rep.mismatches,
        vec![
            "_aggregate_stats.json:x std: reference 0.1, candidate None".to_string(),
            "_aggregate_stats.json: indicator y".to_string(),
        ]
    );
}

#[test]
fn reference_statuses_forbid_output_for_skipped_and_failed_users() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    let log = json!({
        "processed": 1, "failed": 1, "skipped": 1,
        "users": [
            {"user_id": "A", "status": "ok", "records": 3},
            {"user_id": "F", "status": "fail", "error": "KeyError: 'datetime'"},
            {"user_id": "S", "status": "skip"},
        ]
    });
    write_json(r.path(), "_reference_log.json", &log);
    write(c.path(), "F_results.csv", "name\r\nF\r\n");
    write(c.path(), "S_results.json", "{\"S\": {}}");
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(
        rep.mismatches,
        vec![
            "F: failed in the reference, written here".to_string(),
            "S: skipped by the reference, written here".to_string(),
        ]
    );

    let opts = CompareOptions { allow_extra_ok: true, ..CompareOptions::default() };
    let rep = compare_dirs_with(r.path(), c.path(), opts);
    assert_eq!(rep.mismatches, vec!["S: skipped by the reference, written here".to_string()]);

    // Writing nothing for them is right.
    let empty = TempDir::new("cmp-cand");
    assert!(compare_dirs(r.path(), empty.path()).mismatches.is_empty());
}

#[test]
fn value_rules_of_same() {
    let t = |a: Value, b: Value| same(&a, &b, 1e-9, 1e-7);
    // None and an empty CSV cell are the same blank; blank is nothing else.
    assert!(t(Value::Null, json!("")));
    assert!(!t(Value::Null, json!(0)));
    assert!(!t(json!(""), json!(0)));
    assert!(!t(json!(false), Value::Null));
    // Booleans by their Python spelling, case-insensitive.
    assert!(t(json!(true), json!("True")));
    assert!(t(json!(false), json!("false")));
    assert!(!t(json!(true), json!(1)));
    // Strings that Python's float() reads are numbers.
    assert!(t(json!(1.5), json!(" 1.5 ")));
    assert!(t(json!(2), json!("2.0")));
    assert!(t(json!(1000), json!("1_000")));
    assert!(t(json!("nan"), json!("NaN")));
    assert!(!t(json!("nan"), json!(1.0)));
    // inf - inf is NaN in the tolerance test: Python reports a mismatch.
    assert!(!t(json!("inf"), json!("inf")));
    // Lists by their Python repr, blanks removed.
    assert!(t(json!([6, 7]), json!("[6, 7]")));
    assert!(t(json!([6, 7]), json!("[6,7]")));
    assert!(!t(json!([6, 7]), json!("[7, 6]")));
    assert!(t(json!(["a", 1.0]), json!("['a', 1.0]")));
    assert!(!t(json!([1.0]), json!("[1]")));
    // Other strings exactly.
    assert!(t(json!("week"), json!("week")));
    assert!(!t(json!("week"), json!("Week")));
}

#[test]
fn python_float_parsing_and_repr() {
    assert_eq!(py_float("1e5"), Some(1e5));
    assert_eq!(py_float("-.5"), Some(-0.5));
    assert_eq!(py_float("-Infinity"), Some(f64::NEG_INFINITY));
    assert_eq!(py_float("1__0"), None);
    assert_eq!(py_float("_1"), None);
    assert_eq!(py_float("+-1"), None);
    assert_eq!(py_float("0x10"), None);
    assert_eq!(py_float(""), None);

    assert_eq!(py_float_repr(1.0), "1.0");
    assert_eq!(py_float_repr(-0.0), "-0.0");
    assert_eq!(py_float_repr(0.1), "0.1");
    assert_eq!(py_float_repr(1e-4), "0.0001");
    assert_eq!(py_float_repr(1e-5), "1e-05");
    assert_eq!(py_float_repr(1.5e-7), "1.5e-07");
    assert_eq!(py_float_repr(123456.0), "123456.0");
    assert_eq!(py_float_repr(1e15), "1000000000000000.0");
    assert_eq!(py_float_repr(1e16), "1e+16");
    assert_eq!(py_float_repr(1.2345678901234568e17), "1.2345678901234568e+17");
    assert_eq!(py_float_repr(2.0 / 3.0), "0.6666666666666666");

    assert_eq!(py_repr(&json!("it's")), "\"it's\"");
    assert_eq!(py_repr(&json!("a\\b")), "'a\\\\b'");
    assert_eq!(py_repr(&json!({"k": [null, true]})), "{'k': [None, True]}");
}

#[test]
fn nan_tokens_in_json_are_read_like_python() {
    let r = TempDir::new("cmp-ref");
    let c = TempDir::new("cmp-cand");
    write(r.path(), "A_results.json", r#"{"A": {"x": NaN, "y": "NaN in a string"}}"#);
    write(c.path(), "A_results.json", r#"{"A": {"x": NaN, "y": "NaN in a string"}}"#);
    let rep = compare_dirs(r.path(), c.path());
    assert_eq!(rep.values, 2);
    assert!(rep.mismatches.is_empty(), "{:?}", rep.mismatches);

    // Printed as Python prints the float, not as the string "NaN".
    write(c.path(), "A_results.json", r#"{"A": {"x": null, "y": "NaN in a string"}}"#);
    assert_eq!(
        compare_dirs(r.path(), c.path()).mismatches,
        vec!["A.json x: reference nan, candidate None".to_string()]
    );

    // The string "NaN" is still a number to float(), as in Python.
    write(c.path(), "A_results.json", r#"{"A": {"x": "NaN", "y": "NaN in a string"}}"#);
    assert!(compare_dirs(r.path(), c.path()).mismatches.is_empty());
    write(c.path(), "A_results.json", r#"{"A": {"x": [Infinity], "y": "NaN in a string"}}"#);
    assert_eq!(
        compare_dirs(r.path(), c.path()).mismatches,
        vec!["A.json x: reference nan, candidate [inf]".to_string()]
    );
}

#[test]
fn csv_reading_follows_pythons_dialect() {
    let records = parse_csv("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\r\n\"multi\r\nline\",x\ny");
    assert_eq!(
        records,
        vec![
            vec!["a".to_string(), "b,c".to_string(), "say \"hi\"".to_string()],
            vec![],
            vec!["multi\r\nline".to_string(), "x".to_string()],
            vec!["y".to_string()],
        ]
    );

    let dir = TempDir::new("cmp-csv");
    write(dir.path(), "t.csv", "k,v,w\r\n1,2\r\n\r\n3,4,5,6\r\n");
    let rows = read_csv_rows(&dir.path().join("t.csv")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["w"], Value::Null);
    assert_eq!(rows[1]["None"], json!(["6"]));
}

#[test]
fn case_arguments_translate_to_the_binary() {
    let args = batch_args(
        "$SAMPLES/manual $SAMPLES/towers.csv --groupby none --summary true --network false \
         --split-week --output-dir somewhere --format=json",
        Path::new("/s p"),
        Path::new("/in"),
    );
    let expected: Vec<OsString> = [
        "/s p/manual",
        "/s p/towers.csv",
        "--groupby",
        "none",
        "--summary",
        "--split-week",
        "--format",
        "json",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    assert_eq!(args, expected);

    let args = batch_args("$INPUTS/x --network TRUE --summary 0", Path::new("/s"), Path::new("/in"));
    let expected: Vec<OsString> = ["/in/x", "--network"].iter().map(OsString::from).collect();
    assert_eq!(args, expected);
}

#[test]
fn every_golden_case_names_existing_inputs() {
    // Catches a CASE that points at a moved sample before the slow run does.
    let cases = common::case_dirs();
    assert!(cases.len() >= 8, "golden cases: {cases:?}");
    for case in cases {
        let line = common::case_line(&case);
        assert!(!line.contains("--output-dir"), "{}: CASE sets --output-dir", case.display());
        let args = batch_args(&line, &common::samples_dir(), &common::inputs_dir());
        let positional: Vec<_> = args.iter().take_while(|a| !a.to_string_lossy().starts_with("--")).collect();
        assert!(!positional.is_empty(), "{}: no records directory", case.display());
        for p in positional {
            assert!(Path::new(p).exists(), "{}: {} does not exist", case.display(), p.to_string_lossy());
        }
        assert!(case.join("_reference_log.json").is_file(), "{}", case.display());
    }
}
