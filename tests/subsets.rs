//! The indicators of record subsets, which assortativity needs of an ego's
//! neighbours, evaluate again only the periods that lose records: they must
//! be, bit for bit, those of the same records computed from scratch (the
//! computation the network tests check against the reference).

mod common;

use bandicoot::antennas::Antennas;
use bandicoot::engine;
use bandicoot::load::{self, Loaded, UserTable};
use bandicoot::neighbours::DEFAULT_OPTIONS;
use bandicoot::options::GroupBy;
use bandicoot::queries;
use bandicoot::subsets::Subset;
use polars::prelude::*;

/// The demo data's first users, in weeks.
fn tables(users: usize) -> Vec<UserTable> {
    let data = common::manifest_dir().join("data");
    let antennas = Antennas::read(&data.join("antennas.csv")).unwrap();
    let mut files = load::discover(&data.join("records")).unwrap();
    files.truncate(users);
    files
        .iter()
        .map(|f| match load::load_user(f, Some(&antennas), GroupBy::Week).unwrap() {
            Loaded::Records(r) => r.table,
            Loaded::Empty => panic!("{} has records", f.id),
        })
        .collect()
}

/// Masks of one table: all records; one record of the middle; every record
/// of the first week (a period that disappears); every night record (the
/// home vanishes); the records at home of every week but the last (the home
/// moves while the last week keeps its records); every seventh record
/// (most periods).
fn masks(table: &UserTable) -> Vec<Vec<bool>> {
    let n = table.len();
    let first_week = table.periods[0];
    let last_week = table.periods[n - 1];
    let home = queries::spatial::home(&table.records);
    vec![
        vec![true; n],
        (0..n).map(|i| i != n / 2).collect(),
        table.periods.iter().map(|&p| p != first_week).collect(),
        table.records.iter().map(|r| !r.night).collect(),
        table
            .records
            .iter()
            .zip(&table.periods)
            .map(|(r, &p)| Some(r.pos) != home || p == last_week)
            .collect(),
        (0..n).map(|i| i % 7 != 3).collect(),
    ]
}

const MASKS: usize = 6;

/// Every column as bits (nulls as None), to compare exactly.
fn bits(df: &DataFrame) -> Vec<(String, Vec<Option<u64>>)> {
    df.columns()
        .iter()
        .map(|c| {
            let values = c.cast(&DataType::Float64).unwrap();
            let values = values.f64().unwrap().iter().map(|v| v.map(f64::to_bits)).collect();
            (c.name().to_string(), values)
        })
        .collect()
}

#[test]
fn subsets_equal_their_records_computed_from_scratch() {
    let registry = queries::registry();
    let tables = tables(8);
    let masks: Vec<Vec<Vec<bool>>> = tables.iter().map(masks).collect();

    let bases: Vec<&UserTable> = tables.iter().collect();
    let sets: Vec<Subset> = masks
        .iter()
        .enumerate()
        .flat_map(|(base, masks)| masks.iter().map(move |keep| Subset { base, keep }))
        .collect();
    let from_scratch: Vec<UserTable> = sets.iter().map(|s| tables[s.base].filter(s.keep)).collect();

    let got = engine::compute_subsets(&bases, &sets, &registry, &DEFAULT_OPTIONS).unwrap();
    let want = engine::compute(&from_scratch, None, &registry, &DEFAULT_OPTIONS).unwrap();
    assert_eq!(got.shape(), want.shape());
    assert_eq!(got.get_column_names(), want.get_column_names());
    for ((name, got), (_, want)) in bits(&got).into_iter().zip(bits(&want)) {
        for (set, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g,
                w,
                "{name} of set {set}: {:?} != {:?}",
                g.map(f64::from_bits),
                w.map(f64::from_bits)
            );
        }
    }

    // The fifth mask moves the home of some users (a home elsewhere, not
    // none), the case where every period is evaluated again.
    let moved = sets.iter().filter(|s| s.keep == masks[s.base][4].as_slice()).any(|s| {
        let table = &tables[s.base];
        let filtered = table.filter(s.keep);
        let kept: Vec<usize> = (0..table.len()).filter(|&i| s.keep[i]).collect();
        let (Some(home), Some(new)) =
            (queries::spatial::home(&table.records), queries::spatial::home(&filtered.records))
        else {
            return false;
        };
        let j = filtered.records.iter().position(|r| r.pos == new).unwrap();
        table.records[kept[j]].pos != home
    });
    assert!(moved, "no home moved");

    // The masks matter: each kind of subset changes some value of its user.
    let values = bits(&got);
    for set in 0..sets.len() {
        let whole = set - set % MASKS;
        if set != whole {
            assert!(
                values.iter().any(|(_, column)| column[set] != column[whole]),
                "set {set} has the values of all its user's records"
            );
        }
    }
}
