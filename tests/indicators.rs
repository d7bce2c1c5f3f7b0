//! Each indicator family on tiny inputs whose values were worked out by
//! hand (and agree with the reference): tests/fixtures/tiny holds user `u`
//! (seven calls and texts over two days, two antennas) and user `w` (three
//! calls over two weeks).

mod common;

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
    common::user_results(out.path(), user)
}

#[test]
fn individual_indicators_without_grouping() {
    let u = results("u", &["--groupby", "none"]);
    let base = "allweek/allday";

    // Two active days; two contacts by call (C, B) and by text (B, C).
    assert_eq!(common::at(&u, &format!("active_days/{base}/callandtext")), 2);
    assert_eq!(common::at(&u, &format!("number_of_contacts/{base}/call")), 2);
    assert_eq!(common::at(&u, &format!("number_of_contacts/{base}/text")), 2);

    // Calls of 100 s and 50 s.
    for (stat, v) in [("mean", 75.0), ("std", 25.0), ("median", 75.0), ("min", 50.0), ("max", 100.0)] {
        common::close(&u, &format!("call_duration/{base}/call/{stat}"), v);
    }

    // The 20:00 call is the only nocturnal record; one call of two is outgoing.
    common::close(&u, &format!("percent_nocturnal/{base}/call"), 0.5);
    common::close(&u, &format!("percent_nocturnal/{base}/text"), 0.0);
    common::close(&u, &format!("percent_initiated_interactions/{base}/call"), 0.5);

    // Conversations: with B out-in-out (opened by u), with C in-out a day
    // later (opened by C, answered): delays 120 s and 1800 s.
    common::close(&u, &format!("percent_initiated_conversations/{base}/callandtext"), 0.5);
    common::close(&u, &format!("response_rate_text/{base}/callandtext"), 1.0);
    common::close(&u, &format!("response_delay_text/{base}/callandtext/mean"), 960.0);
    common::close(&u, &format!("response_delay_text/{base}/callandtext/std"), 840.0);

    // Texts: B 3 (2 out), C 2 (1 out) of 5.
    common::close(&u, &format!("entropy_of_contacts/{base}/call"), 2f64.ln());
    common::close(
        &u,
        &format!("entropy_of_contacts/{base}/text"),
        -(0.6f64 * 0.6f64.ln() + 0.4 * 0.4f64.ln()),
    );
    common::close(&u, &format!("balance_of_contacts/{base}/text/mean"), 0.3);
    common::close(&u, &format!("balance_of_contacts/{base}/text/max"), 0.4);
    common::close(&u, &format!("interactions_per_contact/{base}/text/mean"), 2.5);
    common::close(&u, &format!("interactions_per_contact/{base}/text/std"), 0.5);

    // The reference's arithmetic: this skewness is rounding noise, not 0.
    common::close(&u, &format!("balance_of_contacts/{base}/text/skewness"), -8.6736173798840335e-16);

    // Text gaps 300, 120, 82380, 1800 s; one call gap of 8 hours.
    common::close(&u, &format!("interevent_time/{base}/text/mean"), 21150.0);
    common::close(&u, &format!("interevent_time/{base}/text/median"), 1050.0);
    common::close(&u, &format!("interevent_time/{base}/call/mean"), 28800.0);
    assert_eq!(common::at(&u, &format!("interevent_time/{base}/call/kurtosis")), 0);

    common::close(&u, &format!("percent_pareto_interactions/{base}/text"), 1.0);
    common::close(&u, &format!("percent_pareto_durations/{base}/call"), 1.0);
    assert_eq!(common::at(&u, &format!("number_of_interactions/{base}/text")), 5);
    assert_eq!(common::at(&u, &format!("number_of_interaction_in/{base}/text")), 2);
    assert_eq!(common::at(&u, &format!("number_of_interaction_out/{base}/text")), 3);
}

#[test]
fn spatial_indicators_without_grouping() {
    let u = results("u", &["--groupby", "none"]);

    // Half-hour bins: a1, a2, a1, a2, a2; home is a1, the only night bin.
    assert_eq!(common::at(&u, "number_of_antennas/allweek/allday"), 2);
    common::close(&u, "entropy_of_antennas/allweek/allday", -(0.6f64 * 0.6f64.ln() + 0.4 * 0.4f64.ln()));
    common::close(&u, "percent_at_home/allweek/allday", 0.4);
    assert_eq!(common::at(&u, "frequent_antennas/allweek/allday"), 2);
    assert_eq!(common::at(&u, "reporting/has_home"), true);

    // Centre (0, 0.6): 0.6 and 0.4 degrees of the equator away, weights 2 and 3.
    let degree = 6371.0 * std::f64::consts::PI / 180.0;
    let expected = (0.4 * (0.6 * degree).powi(2) + 0.6 * (0.4 * degree).powi(2)).sqrt();
    common::close(&u, "radius_of_gyration/allweek/allday", expected);

    // One week only: no churn.
    assert!(common::at(&u, "churn_rate/mean").is_null());
}

#[test]
fn weekly_means_and_churn() {
    let w = results("w", &[]);

    // Week 1: calls of 60 and 120 s at a1 then a2; week 2: one call of 30 s at a1.
    common::close(&w, "number_of_interactions/allweek/allday/call/mean", 1.5);
    common::close(&w, "number_of_interactions/allweek/allday/call/std", 0.5);
    common::close(&w, "call_duration/allweek/allday/call/mean/mean", 60.0);
    common::close(&w, "call_duration/allweek/allday/call/mean/std", 30.0);
    common::close(&w, "call_duration/allweek/allday/call/std/mean", 15.0);
    assert!(common::at(&w, "number_of_interactions/allweek/allday/text/mean").is_null());

    // Frequencies (1/2, 1/2) then (1, 0): cosine distance 1 - 1/sqrt(2).
    common::close(&w, "churn_rate/mean", 1.0 - 0.5f64.sqrt());
    common::close(&w, "churn_rate/std", 0.0);
    assert_eq!(common::at(&w, "reporting/bins"), 2);
}

#[test]
fn splits_filter_before_grouping() {
    let u = results("u", &["--groupby", "none", "--split-day"]);

    // At night there is only the 20:00 call with B.
    assert_eq!(common::at(&u, "number_of_interactions/allweek/night/call"), 1);
    assert!(common::at(&u, "number_of_interactions/allweek/night/text").is_null());
    assert_eq!(common::at(&u, "number_of_interactions/allweek/day/text"), 5);
    assert_eq!(common::at(&u, "number_of_antennas/allweek/night"), 1);
}
