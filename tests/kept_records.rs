//! Network analysis keeps every user's parsed records when the population
//! is small enough, and reads the files again otherwise: both must give
//! each ego, and each neighbour, exactly what loading its file gives.

mod common;

use bandicoot::antennas::Antennas;
use bandicoot::load::{self, LoadSpec, Loaded, UserRecords};
use bandicoot::network::NetworkRun;
use bandicoot::options::GroupBy;
use bandicoot::queries;

/// Everything a load gives, as text: tables, numbering and reporting facts.
fn describe(loaded: Loaded) -> String {
    match loaded {
        Loaded::Records(UserRecords { table, meta, full, .. }) => format!("{table:?}\n{meta:?}\n{full:?}"),
        Loaded::Empty => "empty".into(),
    }
}

#[test]
fn kept_records_load_as_the_files_do() {
    let data = common::manifest_dir().join("data");
    let antennas = Antennas::read(&data.join("antennas.csv")).unwrap();
    let files = load::discover(&data.join("records")).unwrap();
    let registry = queries::registry();
    let read = |keep_records| {
        NetworkRun::read(files.clone(), Some(&antennas), None, &registry, 2, keep_records).unwrap()
    };
    let (kept, reread) = (read(usize::MAX), read(0));

    let mut unreciprocated = 0;
    for file in &files {
        let ego = kept.ego(&file.id).expect("every demo file is readable");
        unreciprocated += ego.keep.iter().filter(|k| !**k).count();
        let mut sets: Vec<(u32, Option<&[bool]>)> = vec![(ego.user, Some(&ego.keep)), (ego.user, None)];
        sets.extend(ego.neighbours.iter().map(|(user, keep)| (*user, Some(keep.as_slice()))));
        for (user, keep) in sets {
            for (groupby, full) in [(GroupBy::Week, true), (GroupBy::Month, false), (GroupBy::None, true)] {
                let spec = LoadSpec { antennas: Some(&antennas), groupby, links: false, keep, full };
                let from_file = load::load_user_with(kept.population().file(user), &spec).unwrap();
                let expected = describe(from_file);
                assert_eq!(describe(kept.population().load(user, &spec).unwrap()), expected);
                assert_eq!(describe(reread.population().load(user, &spec).unwrap()), expected);
            }
        }
    }
    // The masks do remove records, so the tables are renumbered.
    assert!(unreciprocated > 0);
}

/// Every file of `dir` but the journal and the aggregate statistics, whose
/// metadata holds times, with its bytes.
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .filter(|(name, _)| !name.starts_with("_journal") && name != "_aggregate_stats.json")
        .collect();
    out.sort();
    out
}

#[test]
fn runs_that_keep_records_or_read_files_again_write_the_same_files() {
    use bandicoot::batch::{self, Formats, Plan};
    use bandicoot::options::{IndicatorOptions, Stats};

    let data = common::manifest_dir().join("data");
    let fixture = common::manifest_dir().join("tests/fixtures/network");
    // The demo data in chunks, so that neighbours lie in other chunks; the
    // hand-built network with attributes and recharges, by month.
    let cases = [
        (data.join("records"), data.join("antennas.csv"), None, None, GroupBy::Week, 7),
        (
            fixture.join("records"),
            fixture.join("antennas.csv"),
            Some(fixture.join("attributes")),
            Some(fixture.join("recharges")),
            GroupBy::Month,
            2,
        ),
    ];
    for (records, antennas, attributes, recharges, groupby, chunk_size) in cases {
        let run = |kept_records: usize| {
            let out = common::TempDir::new("kept");
            let plan = Plan {
                records_dir: records.clone(),
                antennas: Some(antennas.clone()),
                attributes: attributes.clone(),
                recharges: recharges.clone(),
                output_dir: out.path().to_path_buf(),
                options: IndicatorOptions {
                    groupby,
                    split_week: true,
                    split_day: false,
                    stats: Stats::Extended,
                },
                formats: Formats { csv: true, json: true },
                summary: true,
                resume: false,
                threads: 2,
                chunk_size,
                verbose: false,
                network: true,
                kept_records,
            };
            let outcome = batch::run(&plan).unwrap();
            assert_eq!(outcome.failed, 0);
            (outcome.processed, files(out.path()))
        };
        let (kept, reread) = (run(usize::MAX), run(0));
        assert!(kept.0 > 0 && kept.1.len() > 2 * kept.0, "{} users, {} files", kept.0, kept.1.len());
        assert_eq!(kept.0, reread.0);
        for ((name, a), (other, b)) in kept.1.iter().zip(&reread.1) {
            assert_eq!(name, other);
            assert!(a == b, "{name} differs");
        }
        assert_eq!(kept.1.len(), reread.1.len());
    }
}
