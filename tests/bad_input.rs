//! The bad-input corpus: broken files and rows as real exports contain
//! them. Each must give a user-level error that names the file, row and
//! column, a skip, or a counted ignored record — never a crash of the run,
//! and never a change to the other users' results.

mod common;

use std::fs;
use std::process::Command;

use serde_json::Value;

const HEADER: &str = "interaction,direction,correspondent_id,datetime,call_duration,antenna_id\n";
const GOOD: &str = "call,out,B,2014-03-03 10:00:00,60,a1\n";

enum Expect {
    /// The user fails with a message holding these words.
    Fails(&'static str),
    /// The user has no valid record and is skipped.
    Skipped,
    /// The user is processed; the ignored-record counts are these
    /// (all, interaction, direction, correspondent_id, datetime, call_duration, location).
    Ignored([i64; 7]),
}

fn corpus() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let with_good = |rows: &str| format!("{HEADER}{GOOD}{rows}").into_bytes();
    vec![
        ("empty_file", vec![], Expect::Skipped),
        ("header_only", HEADER.as_bytes().to_vec(), Expect::Skipped),
        ("all_rows_invalid", format!("{HEADER}sms,out,B,2014-03-03 10:00:00,1,a1\n").into_bytes(), Expect::Skipped),
        (
            "missing_column",
            b"interaction,direction,correspondent_id,call_duration\ncall,in,B,5\n".to_vec(),
            Expect::Fails("missing_column.csv: row 1: missing column 'datetime'"),
        ),
        (
            "not_utf8",
            [HEADER.as_bytes(), b"call,out,B\xff,2014-03-03 10:00:00,60,a1\n"].concat(),
            Expect::Fails("not_utf8.csv: row 2, column 'correspondent_id': text is not valid UTF-8"),
        ),
        (
            "unclosed_quote",
            with_good("text,out,\"B,2014-03-03 11:00:00,,a1\ncall,in,C,2014-03-03 12:00:00,5,a1\n"),
            Expect::Fails("unclosed_quote.csv: row 3, column 'correspondent_id': a quoted field is never closed"),
        ),
        (
            "bad_latitude",
            b"interaction,direction,correspondent_id,datetime,call_duration,latitude,longitude\ngps,in,,2014-03-03 10:00:00,,north,4.0\n"
                .to_vec(),
            Expect::Fails("bad_latitude.csv: row 2, column 'latitude'"),
        ),
        ("place_id", b"interaction,direction,correspondent_id,datetime,call_duration,place_id\ncall,in,B,2014-03-03 10:00:00,5,p\n".to_vec(), Expect::Fails("'place_id' is deprecated")),
        ("bom_crlf", [b"\xef\xbb\xbf".as_slice(), HEADER.replace('\n', "\r\n").as_bytes(), GOOD.replace('\n', "\r\n").as_bytes()].concat(), Expect::Ignored([0; 7])),
        ("blank_trailing_lines", with_good("\n\n\n"), Expect::Ignored([0; 7])),
        // A line of commas is a row of empty fields to Python's csv reader,
        // so bandicoot counts it as an ignored record (checked with it).
        ("comma_only_rows", with_good(",,,,,\n,,,,,,\"q\"\"q\"\n"), Expect::Ignored([2, 0, 2, 0, 2, 0, 2])),
        ("extra_field_kept", with_good("call,in,C,2014-03-03 11:00:00,5,a1,surplus\n"), Expect::Ignored([0; 7])),
        ("short_row", with_good("call,in,C,2014-03-03 11:00:00\n"), Expect::Ignored([1, 0, 0, 0, 0, 1, 0])),
        ("bad_interaction", with_good("sms,out,B,2014-03-03 11:00:00,,a1\n"), Expect::Ignored([1, 1, 0, 0, 0, 0, 0])),
        ("empty_direction", with_good("call,,B,2014-03-03 11:00:00,5,a1\ngps,,,2014-03-03 12:00:00,,a1\n"), Expect::Ignored([2, 0, 2, 0, 0, 0, 0])),
        ("empty_correspondent", with_good("text,in,,2014-03-03 11:00:00,,a1\n"), Expect::Ignored([1, 0, 0, 1, 0, 0, 0])),
        (
            "bad_datetimes",
            with_good("call,in,B,2014-02-30 11:00:00,5,a1\ncall,in,B,2014-03-03T11:00:00,5,a1\ncall,in,B,,5,a1\ncall,in,B,2014-03-03 11:00:60,5,a1\n"),
            Expect::Ignored([4, 0, 0, 0, 4, 0, 0]),
        ),
        ("bad_durations", with_good("call,in,B,2014-03-03 11:00:00,12.5,a1\ncall,in,B,2014-03-03 11:00:00,,a1\n"), Expect::Ignored([2, 0, 0, 0, 0, 2, 0])),
        ("gps_without_position", with_good("gps,in,,2014-03-03 11:00:00,,\n"), Expect::Ignored([1, 0, 0, 0, 0, 0, 1])),
        ("two_bad_fields", with_good("sms,sideways,B,2014-03-03 11:00:00,,a1\n"), Expect::Ignored([1, 1, 1, 0, 0, 0, 0])),
        ("python_forms_accepted", with_good("call,in,B,2014-3-3 7:05:09, 45 ,a1\ncall,in,B,2014-03- 4 08:00:00,1_000,a1\n"), Expect::Ignored([0; 7])),
    ]
}

#[test]
fn every_kind_of_bad_input_is_reported_and_contained() {
    let dir = common::TempDir::new("bad-input");
    let records = dir.path().join("records");
    fs::create_dir_all(&records).unwrap();
    let cases = corpus();
    assert!(cases.len() >= 15);
    for (name, bytes, _) in &cases {
        fs::write(records.join(format!("{name}.csv")), bytes).unwrap();
    }
    fs::write(records.join("healthy.csv"), format!("{HEADER}{GOOD}text,in,B,2014-03-03 10:05:00,,a1\n"))
        .unwrap();
    fs::create_dir_all(records.join("folder.csv")).unwrap();

    let out = dir.path().join("out");
    let run = Command::new(common::bin())
        .arg("batch")
        .arg(&records)
        .arg("--output-dir")
        .arg(&out)
        .arg("--groupby=none")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");

    let errors: Value = serde_json::from_str(&fs::read_to_string(out.join("_errors.json")).unwrap()).unwrap();
    let error_of = |user: &str| {
        errors
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["user_id"] == user)
            .map(|e| e["error"].as_str().unwrap().to_string())
    };

    for (name, _, expect) in &cases {
        let json = out.join(format!("{name}_results.json"));
        match expect {
            Expect::Fails(words) => {
                let error = error_of(name).unwrap_or_else(|| panic!("{name} did not fail"));
                assert!(error.contains(words), "{name}: {error}");
                assert!(!json.exists(), "{name} has results");
            }
            Expect::Skipped => {
                assert!(error_of(name).is_none() && !json.exists(), "{name} not skipped");
                assert!(stderr.contains(&format!("SKIP: {name} (no records)")), "{name}");
            }
            Expect::Ignored(counts) => {
                assert!(error_of(name).is_none(), "{name} failed: {:?}", error_of(name));
                let v: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
                let ignored = &v[*name]["reporting"]["ignored_records"];
                let got: Vec<i64> = [
                    "all",
                    "interaction",
                    "direction",
                    "correspondent_id",
                    "datetime",
                    "call_duration",
                    "location",
                ]
                .iter()
                .map(|k| ignored[*k].as_i64().unwrap())
                .collect();
                assert_eq!(got, counts, "{name}");
            }
        }
    }

    // The healthy user is untouched by its neighbours.
    let healthy: Value =
        serde_json::from_str(&fs::read_to_string(out.join("healthy_results.json")).unwrap()).unwrap();
    assert_eq!(healthy["healthy"]["reporting"]["number_of_records"], 2);
    assert_eq!(healthy["healthy"]["number_of_interactions"]["allweek"]["allday"]["call"], 1);
}
