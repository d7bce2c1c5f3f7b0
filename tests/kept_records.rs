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
