//! Each indicator family on tiny inputs whose values were worked out by
//! hand (and agree with the reference): tests/fixtures/tiny holds user `u`
//! (seven calls and texts over two days, two antennas) and user `w` (three
//! calls over two weeks).

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn tiny() -> std::path::PathBuf {
    common::manifest_dir().join("tests/fixtures/tiny")
}

/// Runs the batch on the tiny population and returns one user's results.
fn results(user: &str, args: &[&str]) -> Value {
    let out = common::TempDir::new("indicators");
    let status = Command::new(common::bin())
        .arg("batch")
        .arg(tiny().join("records"))
        .arg(tiny().join("antennas.csv"))
        .arg("--output-dir")
        .arg(out.path())
        .args(args)
        .output()
        .expect("run bandicoot");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    read(&out.path().join(format!("{user}_results.json")), user)
}

fn read(path: &Path, user: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all[user].clone()
}

/// The value at a `/`-separated path.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('/').fold(v, |node, key| &node[key])
}

fn close(v: &Value, path: &str, expected: f64) {
    let got = at(v, path).as_f64().unwrap_or_else(|| panic!("{path} is {:?}", at(v, path)));
    assert!((got - expected).abs() <= 1e-9 * expected.abs().max(1.0), "{path}: {got} != {expected}");
}

#[test]
fn individual_indicators_without_grouping() {
    let u = results("u", &["--groupby", "none"]);
    let base = "allweek/allday";

    // Two active days; two contacts by call (C, B) and by text (B, C).
    assert_eq!(at(&u, &format!("active_days/{base}/callandtext")), 2);
    assert_eq!(at(&u, &format!("number_of_contacts/{base}/call")), 2);
    assert_eq!(at(&u, &format!("number_of_contacts/{base}/text")), 2);

    // Calls of 100 s and 50 s.
    for (stat, v) in [("mean", 75.0), ("std", 25.0), ("median", 75.0), ("min", 50.0), ("max", 100.0)] {
        close(&u, &format!("call_duration/{base}/call/{stat}"), v);
    }

    // The 20:00 call is the only nocturnal record; one call of two is outgoing.
    close(&u, &format!("percent_nocturnal/{base}/call"), 0.5);
    close(&u, &format!("percent_nocturnal/{base}/text"), 0.0);
    close(&u, &format!("percent_initiated_interactions/{base}/call"), 0.5);

    // Conversations: with B out-in-out (opened by u), with C in-out a day
    // later (opened by C, answered): delays 120 s and 1800 s.
    close(&u, &format!("percent_initiated_conversations/{base}/callandtext"), 0.5);
    close(&u, &format!("response_rate_text/{base}/callandtext"), 1.0);
    close(&u, &format!("response_delay_text/{base}/callandtext/mean"), 960.0);
    close(&u, &format!("response_delay_text/{base}/callandtext/std"), 840.0);

    // Texts: B 3 (2 out), C 2 (1 out) of 5.
    close(&u, &format!("entropy_of_contacts/{base}/call"), 2f64.ln());
    close(&u, &format!("entropy_of_contacts/{base}/text"), -(0.6f64 * 0.6f64.ln() + 0.4 * 0.4f64.ln()));
    close(&u, &format!("balance_of_contacts/{base}/text/mean"), 0.3);
    close(&u, &format!("balance_of_contacts/{base}/text/max"), 0.4);
    close(&u, &format!("interactions_per_contact/{base}/text/mean"), 2.5);
    close(&u, &format!("interactions_per_contact/{base}/text/std"), 0.5);

    // The reference's arithmetic: this skewness is rounding noise, not 0.
    close(&u, &format!("balance_of_contacts/{base}/text/skewness"), -8.6736173798840335e-16);

    // Text gaps 300, 120, 82380, 1800 s; one call gap of 8 hours.
    close(&u, &format!("interevent_time/{base}/text/mean"), 21150.0);
    close(&u, &format!("interevent_time/{base}/text/median"), 1050.0);
    close(&u, &format!("interevent_time/{base}/call/mean"), 28800.0);
    assert_eq!(at(&u, &format!("interevent_time/{base}/call/kurtosis")), 0);

    close(&u, &format!("percent_pareto_interactions/{base}/text"), 1.0);
    close(&u, &format!("percent_pareto_durations/{base}/call"), 1.0);
    assert_eq!(at(&u, &format!("number_of_interactions/{base}/text")), 5);
    assert_eq!(at(&u, &format!("number_of_interaction_in/{base}/text")), 2);
    assert_eq!(at(&u, &format!("number_of_interaction_out/{base}/text")), 3);
}

#[test]
fn spatial_indicators_without_grouping() {
    let u = results("u", &["--groupby", "none"]);

    // Half-hour bins: a1, a2, a1, a2, a2; home is a1, the only night bin.
    assert_eq!(at(&u, "number_of_antennas/allweek/allday"), 2);
    close(&u, "entropy_of_antennas/allweek/allday", -(0.6f64 * 0.6f64.ln() + 0.4 * 0.4f64.ln()));
    close(&u, "percent_at_home/allweek/allday", 0.4);
    assert_eq!(at(&u, "frequent_antennas/allweek/allday"), 2);
    assert_eq!(at(&u, "reporting/has_home"), true);

    // Centre (0, 0.6): 0.6 and 0.4 degrees of the equator away, weights 2 and 3.
    let degree = 6371.0 * std::f64::consts::PI / 180.0;
    let expected = (0.4 * (0.6 * degree).powi(2) + 0.6 * (0.4 * degree).powi(2)).sqrt();
    close(&u, "radius_of_gyration/allweek/allday", expected);

    // One week only: no churn.
    assert!(at(&u, "churn_rate/mean").is_null());
}

#[test]
fn weekly_means_and_churn() {
    let w = results("w", &[]);

    // Week 1: calls of 60 and 120 s at a1 then a2; week 2: one call of 30 s at a1.
    close(&w, "number_of_interactions/allweek/allday/call/mean", 1.5);
    close(&w, "number_of_interactions/allweek/allday/call/std", 0.5);
    close(&w, "call_duration/allweek/allday/call/mean/mean", 60.0);
    close(&w, "call_duration/allweek/allday/call/mean/std", 30.0);
    close(&w, "call_duration/allweek/allday/call/std/mean", 15.0);
    assert!(at(&w, "number_of_interactions/allweek/allday/text/mean").is_null());

    // Frequencies (1/2, 1/2) then (1, 0): cosine distance 1 - 1/sqrt(2).
    close(&w, "churn_rate/mean", 1.0 - 0.5f64.sqrt());
    close(&w, "churn_rate/std", 0.0);
    assert_eq!(at(&w, "reporting/bins"), 2);
}

#[test]
fn splits_filter_before_grouping() {
    let u = results("u", &["--groupby", "none", "--split-day"]);

    // At night there is only the 20:00 call with B.
    assert_eq!(at(&u, "number_of_interactions/allweek/night/call"), 1);
    assert!(at(&u, "number_of_interactions/allweek/night/text").is_null());
    assert_eq!(at(&u, "number_of_interactions/allweek/day/text"), 5);
    assert_eq!(at(&u, "number_of_antennas/allweek/night"), 1);
}
