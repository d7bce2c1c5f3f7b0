//! Network analysis on a tiny hand-built network (tests/fixtures/network),
//! whose values were worked out by hand and agree with the reference:
//!
//! - ego `e` calls and texts `a` and texts `b`, who also text each other:
//!   the triangle e-a-b;
//! - `e` texts `m` both ways and `b` does too; `m` has no file, so the
//!   e-b-m triangle is seen from `e`'s and `b`'s sides only;
//! - `e` texts `n` (no file) once: `m`-`n` is unknown to everyone;
//! - `e`'s call to `c` has the wrong duration on `c`'s side, and `e`'s
//!   second call to `a` is 30 s from `a`'s copy: both are unreciprocated;
//! - `a` texts `z`, outside `e`'s network: that record stays.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixture() -> PathBuf {
    common::manifest_dir().join("tests/fixtures/network")
}

fn run(records: &Path, out: &Path, args: &[&str]) -> Output {
    Command::new(common::bin())
        .arg("batch")
        .arg(records)
        .arg(fixture().join("antennas.csv"))
        .arg("--output-dir")
        .arg(out)
        .arg("--network")
        .args(args)
        .output()
        .expect("run bandicoot")
}

fn near(v: &Value, expected: f64, what: &str) {
    let got = v.as_f64().unwrap_or_else(|| panic!("{what} is {v:?}"));
    assert!((got - expected).abs() <= 1e-12, "{what}: {got} != {expected}");
}

fn copy_records(to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(fixture().join("records")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn unreciprocated_records_are_removed_from_ego_and_correspondents() {
    let out = common::TempDir::new("network");
    let status = run(&fixture().join("records"), out.path(), &[]);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));

    // e keeps 8 of its 10 records: the call to c and the second call to a go.
    let e = common::user_results(out.path(), "e");
    assert_eq!(e["reporting"]["number_of_records"], 8);
    assert_eq!(e["reporting"]["has_network"], true);
    // a loses its copy of that call (7 of 8); c loses its only call with e.
    assert_eq!(common::user_results(out.path(), "a")["reporting"]["number_of_records"], 7);
    assert_eq!(common::user_results(out.path(), "c")["reporting"]["number_of_records"], 1);

    // Out of network: texts to m (2) and n (1) of 6 texts; m and n of the
    // contacts a, b, m, n (c went with its call); both calls are with a.
    let r = &e["reporting"];
    near(&r["percent_outofnetwork_texts"], 0.5, "texts");
    near(&r["percent_outofnetwork_contacts"], 0.5, "contacts");
    near(&r["percent_outofnetwork_calls"], 0.0, "calls");
    near(&r["percent_outofnetwork_call_durations"], 0.0, "call durations");
    // c's only call is with q, who has no file; c has no text: the integer 0.
    let c = common::user_results(out.path(), "c");
    near(&c["reporting"]["percent_outofnetwork_calls"], 1.0, "c calls");
    assert_eq!(c["reporting"]["percent_outofnetwork_texts"], serde_json::json!(0));
}

#[test]
fn clustering_follows_triangles_and_weights() {
    let out = common::TempDir::new("network");
    let status = run(&fixture().join("records"), out.path(), &[]);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let e = common::user_results(out.path(), "e");

    // Undirected edges of e: a, b, m (n only one way, c removed); of the
    // pairs among them a-b and b-m close a triangle: 2 * 2 / (3 * 2).
    near(&e["clustering_coefficient_unweighted"], 2.0 / 3.0, "unweighted");

    // Half-hour blocks, both ways added: e-a 2 + 1 = 3, e-b 2, e-m 2, a-b 2,
    // b-m 2; the largest weight is 3. Triangles: (3 * 2 * 2)^(1/3) / 3 and
    // (2 * 2 * 2)^(1/3) / 3, twice their sum over 3 * 2.
    let expected = 2.0 * (12f64.cbrt() / 3.0 + 8f64.cbrt() / 3.0) / 6.0;
    let got = e["clustering_coefficient_weighted"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-15, "weighted: {got} != {expected}");
    assert_eq!(got, 0.47660316501185146, "the reference's value, bit for bit");

    // c has no reciprocated contact: the integer 0, and nothing to compare.
    let c = common::user_results(out.path(), "c");
    assert_eq!(c["clustering_coefficient_unweighted"], serde_json::json!(0));
    assert_eq!(c["clustering_coefficient_weighted"], serde_json::json!(0));
    assert_eq!(c["assortativity_indicators"], serde_json::json!({}));
}

#[test]
fn assortativity_compares_default_indicators_of_reciprocated_neighbours() {
    let out = common::TempDir::new("network");
    // The run's options do not change what assortativity compares.
    let status = run(&fixture().join("records"), out.path(), &["--groupby", "none", "--split-week"]);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let a = &common::user_results(out.path(), "e")["assortativity_indicators"];

    // Weekly texts: e 6, a 4 (its text with z stays), b 6: ((6-4)^2 + 0) / 2.
    near(&a["number_of_interactions__allweek__allday__text__mean"], 2.0, "texts");
    // Weekly calls: e 2, a 3 (its unreciprocated call with e went, its call
    // to m stays); b has no call, so only a counts: (2-3)^2 / 1.
    near(&a["number_of_interactions__allweek__allday__call__mean"], 1.0, "calls");
    // Keys of the default options only: no split level, no extended statistic.
    assert!(a.as_object().unwrap().keys().all(|k| !k.contains("weekday")), "{a}");
    assert!(a.get("call_duration__allweek__allday__call__median__mean").is_none());
    assert!(a.get("call_duration__allweek__allday__call__mean__mean").is_some());
}

#[test]
fn unreadable_and_foreign_correspondents_are_outside_the_network() {
    let dir = common::TempDir::new("network-broken");
    let records = dir.path().join("records");
    copy_records(&records);
    // d's file has no direction column; "../records/a" names a's file as a
    // path, which must not make it a's records.
    fs::write(records.join("d.csv"), "interaction,correspondent_id,datetime\ntext,e,2014-07-09 10:00:00\n")
        .unwrap();
    let mut e = fs::read_to_string(records.join("e.csv")).unwrap();
    e.push_str("text,out,d,2014-07-09 10:00:00,,a1\ntext,out,../records/a,2014-07-09 11:00:00,,a1\n");
    fs::write(records.join("e.csv"), e).unwrap();

    let out = dir.path().join("out");
    let status = run(&records, &out, &[]);
    assert_eq!(status.status.code(), Some(1), "d fails on its own");
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("Warning: d is outside every network"), "{stderr}");

    // e is computed: its texts to d and ../records/a count as out of network.
    let e = common::user_results(&out, "e");
    assert_eq!(e["reporting"]["number_of_records"], 10);
    near(&e["reporting"]["percent_outofnetwork_texts"], 5.0 / 8.0, "texts");
    near(&e["reporting"]["percent_outofnetwork_contacts"], 4.0 / 6.0, "contacts");
    let errors = fs::read_to_string(out.join("_errors.json")).unwrap();
    assert!(errors.contains("\"d\"") && errors.contains("direction"), "{errors}");
}

#[test]
fn chunks_threads_and_resumed_runs_give_the_same_files() {
    let pop = common::TempDir::new("network-pop");
    let synth = Command::new(common::bin())
        .args(["synth", pop.path().to_str().unwrap(), "--users", "150", "--weeks", "3", "--seed", "4"])
        .args(["--bad-rows", "0.02", "--broken-files", "3"])
        .output()
        .unwrap();
    assert!(synth.status.success());
    let records = pop.path().join("records");
    let batch = |out: &Path, args: &[&str]| {
        Command::new(common::bin())
            .arg("batch")
            .arg(&records)
            .arg(pop.path().join("antennas.csv"))
            .arg("--output-dir")
            .arg(out)
            .args(["--network", "--summary"])
            .args(args)
            .stderr(Stdio::null())
            .status()
            .unwrap()
    };

    // Neighbours' values are shared across chunks: chunking and threads must
    // not change a byte.
    let whole = common::TempDir::new("network-whole");
    assert_eq!(batch(whole.path(), &[]).code(), Some(1), "the broken users fail");
    let expected = common::snapshot(whole.path());
    assert!(expected.len() > 250);
    let small = common::TempDir::new("network-chunks");
    batch(small.path(), &["--chunk-size", "7", "--parallel", "1"]);
    assert!(common::snapshot(small.path()) == expected, "small chunks changed the results");

    // A run that stopped after some chunks resumes to the same files: the
    // population index is read again, the finished users are not.
    let part = common::TempDir::new("network-part");
    batch(part.path(), &["--chunk-size", "20"]);
    let journal = part.path().join(".bandicoot");
    let mut shards: Vec<PathBuf> = fs::read_dir(&journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    shards.sort();
    for shard in &shards[3..] {
        fs::remove_file(shard).unwrap();
    }
    assert_eq!(batch(part.path(), &["--chunk-size", "20", "--continue"]).code(), Some(1));
    assert!(common::snapshot(part.path()) == expected, "the resumed run differs");

    // Network mode is part of the run's settings.
    let refused = Command::new(common::bin())
        .arg("batch")
        .arg(&records)
        .arg(pop.path().join("antennas.csv"))
        .arg("--output-dir")
        .arg(part.path())
        .args(["--summary", "--continue"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("network"));
}

#[test]
fn attribute_assortativity_and_recharges_in_network_mode() {
    let out = common::TempDir::new("network-attributes");
    let status = run(
        &fixture().join("records"),
        out.path(),
        &[
            "--attributes",
            fixture().join("attributes").to_str().unwrap(),
            "--recharges",
            fixture().join("recharges").to_str().unwrap(),
        ],
    );
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));

    // e (f, 30, north) against a (f, 41, no region) and b (m, 30, north):
    // a lacks the region, which counts as not shared (the reference fails).
    let e = common::user_results(out.path(), "e");
    let shares = &e["assortativity_attributes"];
    for key in ["gender", "age", "region"] {
        near(&shares[key], 0.5, key);
    }
    // a (f, 41) against e (f, 30) and b (m, 30).
    let a = common::user_results(out.path(), "a");
    near(&a["assortativity_attributes"]["gender"], 0.5, "a gender");
    near(&a["assortativity_attributes"]["age"], 0.0, "a age");
    // c has no reciprocated neighbour: no share.
    assert_eq!(common::user_results(out.path(), "c")["assortativity_attributes"]["gender"], Value::Null);

    // e has recharges; neighbours are read without them, as in the
    // reference, so recharge indicators take no part in assortativity
    // (the reference fails the ego instead).
    assert!(e["amount_recharges"].is_object());
    let compared = e["assortativity_indicators"].as_object().unwrap();
    assert!(!compared.is_empty() && compared.keys().all(|k| !k.contains("recharges")));

    // Network keys come before the attributes, as in the reference.
    let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
    let tail: Vec<&str> = keys[keys.len() - 4..].iter().map(|k| k.as_str()).collect();
    assert_eq!(
        tail,
        [
            "clustering_coefficient_weighted",
            "assortativity_attributes",
            "assortativity_indicators",
            "attributes"
        ]
    );
}

#[test]
fn assortativity_does_not_depend_on_the_runs_options() {
    // Weekly runs without splits take each ego's assortativity values from
    // its own indicators; other runs compute them apart. Both must give
    // the same numbers, since assortativity always uses the default options.
    let pop = common::TempDir::new("network-seeded-pop");
    let synth = Command::new(common::bin())
        .args(["synth", pop.path().to_str().unwrap(), "--users", "60", "--weeks", "3", "--seed", "9"])
        .output()
        .unwrap();
    assert!(synth.status.success());
    let batch = |out: &Path, args: &[&str]| {
        let status = Command::new(common::bin())
            .arg("batch")
            .arg(pop.path().join("records"))
            .arg(pop.path().join("antennas.csv"))
            .arg("--output-dir")
            .arg(out)
            .arg("--network")
            .args(args)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    let runs: Vec<common::TempDir> =
        (0..4).map(|k| common::TempDir::new(&format!("network-seeded-{k}"))).collect();
    batch(runs[0].path(), &[]);
    batch(runs[1].path(), &["--stats", "default"]);
    batch(runs[2].path(), &["--split-week", "--split-day"]);
    batch(runs[3].path(), &["--groupby", "month"]);

    let mut compared = 0;
    for entry in fs::read_dir(pop.path().join("records")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().trim_end_matches(".csv").to_string();
        let values: Vec<Value> = runs
            .iter()
            .map(|run| common::user_results(run.path(), &name)["assortativity_indicators"].clone())
            .collect();
        assert!(values[0].as_object().is_some_and(|m| !m.is_empty()), "{name} has assortativity values");
        for (k, other) in values.iter().enumerate().skip(1) {
            assert_eq!(&values[0], other, "{name}: run {k} differs from the weekly one");
        }
        compared += 1;
    }
    assert_eq!(compared, 60);
}
