//! The spatial family: indicators of the places a user was seen at,
//! computed on positions binned by half hour, and churn_rate.
//!
//! A period's places come from its records: each half-hour bin counts once,
//! at its most frequent position (the first seen on ties), and a place is a
//! position with the number of bins spent there, in order of first visit,
//! the order in which the reference counts them.

use super::{Compute, Indicator, Level, Period, Record, Shape};
use crate::stats;

/// The length of a bin, in seconds (see [`Record::bin`]).
const BIN_SECONDS: i64 = 1800;

/// Mean Earth radius of the reference's great-circle distance, in km.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// A position a user was seen at in a period, and for how many bins.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub pos: u32,
    pub n: u32,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// Calls `each(record)` with the chosen record of every half-hour bin of
/// `records` (in time order): the first record of the bin's most frequent
/// position.
pub fn binned(records: &[Record], mut each: impl FnMut(&Record)) {
    // (position, count, first record of the position in the bin)
    let mut seen: Vec<(u32, u32, usize)> = Vec::new();
    let mut start = 0;
    while start < records.len() {
        // The bin's records are those before its end, records being in
        // time order: a compare each rather than a division.
        let bin_end = (records[start].bin() + 1) * BIN_SECONDS;
        let mut end = start;
        seen.clear();
        while end < records.len() && records[end].t < bin_end {
            let p = records[end].pos;
            match seen.iter_mut().find(|s| s.0 == p) {
                Some(s) => s.1 += 1,
                None => seen.push((p, 1, end)),
            }
            end += 1;
        }
        // The first position with the highest count: `seen` is in order of
        // first appearance, and max_by_key keeps the last of equals.
        let best = seen.iter().rev().max_by_key(|s| s.1).expect("a bin has records");
        each(&records[best.2]);
        start = end;
    }
}

/// The places of `records`, in order of first visit, into `places`, each
/// at its position's entry of `locations` (none past its end).
pub fn places_of(records: &[Record], locations: &[Option<(f64, f64)>], places: &mut Vec<Place>) {
    places.clear();
    binned(records, |r| match places.iter_mut().find(|p| p.pos == r.pos) {
        Some(p) => p.n += 1,
        None => {
            let location = locations.get(r.pos as usize).copied().flatten();
            places.push(Place { pos: r.pos, n: 1, lat: location.map(|l| l.0), lon: location.map(|l| l.1) })
        }
    });
}

/// A user's home: the most frequent binned position among its night
/// records, the first seen on ties; `None` without night records.
pub fn home(records: &[Record]) -> Option<u32> {
    let night: Vec<Record> = records.iter().filter(|r| r.night).copied().collect();
    let mut places = Vec::new();
    // Positions alone decide the home.
    places_of(&night, &[], &mut places);
    // max_by_key keeps the last of equals: search from the end.
    places.iter().rev().max_by_key(|p| p.n).map(|p| p.pos)
}

fn number_of_antennas(p: &Period) -> Option<f64> {
    Some(p.places.len() as f64)
}

fn entropy_of_antennas(p: &Period) -> Option<f64> {
    let counts: Vec<f64> = p.places.iter().map(|p| p.n as f64).collect();
    stats::entropy(&counts)
}

/// Share of binned positions at home; null for a user without a home.
fn percent_at_home(p: &Period) -> Option<f64> {
    let home = p.home?;
    let at_home: u32 = p.places.iter().filter(|p| p.pos == home).map(|p| p.n).sum();
    let total: u32 = p.places.iter().map(|p| p.n).sum();
    Some(at_home as f64 / total as f64)
}

/// `x ** 2` as Python computes it, through libm's `pow`.
fn squared(x: f64) -> f64 {
    stats::py_pow_int(x, 2)
}

/// Great-circle distance in km, haversine form, as the reference writes it.
fn great_circle(a: (f64, f64), b: (f64, f64)) -> f64 {
    let d_lat = (a.0 - b.0).to_radians();
    let d_lon = (a.1 - b.1).to_radians();
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let h = squared((d_lat / 2.0).sin()) + lat1.cos() * lat2.cos() * squared((d_lon / 2.0).sin());
    EARTH_RADIUS_KM * 2.0 * h.sqrt().asin()
}

/// Root mean squared distance of located binned positions to their
/// centre; places at the same location count as one, as in the reference.
fn radius_of_gyration(p: &Period) -> Option<f64> {
    let mut located: Vec<((f64, f64), f64)> = Vec::new();
    for place in p.places {
        let (Some(lat), Some(lon)) = (place.lat, place.lon) else { continue };
        match located
            .iter_mut()
            .find(|(l, _)| l.0.to_bits() == lat.to_bits() && l.1.to_bits() == lon.to_bits())
        {
            Some((_, t)) => *t += place.n as f64,
            None => located.push(((lat, lon), place.n as f64)),
        }
    }
    if located.is_empty() {
        return None;
    }
    let total = located.iter().fold(0.0, |s, (_, t)| s + t);
    let centre_lat = located.iter().fold(0.0, |s, (l, t)| s + l.0 * t) / total;
    let centre_lon = located.iter().fold(0.0, |s, (l, t)| s + l.1 * t) / total;
    let r = located
        .iter()
        .fold(0.0, |s, (l, t)| s + t / total * squared(great_circle((centre_lat, centre_lon), *l)));
    Some(r.sqrt())
}

fn frequent_antennas(p: &Period) -> Option<f64> {
    let mut weights: Vec<f64> = p.places.iter().map(|p| p.n as f64).collect();
    Some(stats::pareto_count(&mut weights, 0.8) as f64)
}

/// The spatial indicators, in the reference's order.
pub fn indicators() -> Vec<Indicator> {
    let spatial = |name, f, integer| Indicator {
        name,
        level: Level::Places,
        shape: Shape::Scalar,
        interactions: &[],
        compute: Compute::Scalar(f),
        integer,
    };
    vec![
        spatial("number_of_antennas", number_of_antennas as fn(&Period) -> Option<f64>, true),
        spatial("entropy_of_antennas", entropy_of_antennas, false),
        spatial("percent_at_home", percent_at_home, false),
        spatial("radius_of_gyration", radius_of_gyration, false),
        spatial("frequent_antennas", frequent_antennas, true),
    ]
}

/// A user's churn_rate distances: the cosine distance between the
/// position frequencies of each pair of consecutive ISO weeks with
/// records (whatever the run's grouping), in time order.
pub fn churn_distances(records: &[Record], out: &mut Vec<f64>) {
    // Each week's (position, bins) in position order, one week after
    // another: `weeks` holds where each starts in `cells`.
    let mut cells: Vec<(u32, f64)> = Vec::new();
    let mut weeks: Vec<usize> = Vec::new();
    // Records are in time order: a week ends at a time, found once.
    let mut week_end = i64::MIN;
    binned(records, |r| {
        if r.t >= week_end {
            let week = (r.day() - 4).div_euclid(7);
            week_end = ((week + 1) * 7 + 4) * crate::calendar::SECONDS_PER_DAY;
            weeks.push(cells.len());
        }
        let first = *weeks.last().expect("a week");
        match cells[first..].iter_mut().find(|(p, _)| *p == r.pos) {
            Some((_, n)) => *n += 1.0,
            None => cells.push((r.pos, 1.0)),
        }
    });
    weeks.push(cells.len());
    for w in weeks.windows(2) {
        // A week's positions are distinct.
        cells[w[0]..w[1]].sort_unstable_by_key(|(p, _)| *p);
    }
    out.extend(weeks.windows(3).map(|w| cosine_distance(&cells[w[0]..w[1]], &cells[w[1]..w[2]])));
}

/// 1 - cos of two weeks' position frequencies (counts over the week's total).
fn cosine_distance(a: &[(u32, f64)], b: &[(u32, f64)]) -> f64 {
    let total = |w: &[(u32, f64)]| w.iter().fold(0.0, |s, (_, n)| s + n);
    let (ta, tb) = (total(a), total(b));
    let norm = |w: &[(u32, f64)], t: f64| w.iter().fold(0.0, |s, (_, n)| s + (n / t) * (n / t)).sqrt();
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += (a[i].1 / ta) * (b[j].1 / tb);
                i += 1;
                j += 1;
            }
        }
    }
    1.0 - dot / (norm(a, ta) * norm(b, tb))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record at half hour `bin` (one record a minute), at position `pos`.
    fn at(bin: i64, minute: i64, pos: u32) -> Record {
        let t = bin * 1800 + minute * 60;
        Record::new(t, crate::load::TEXT, true, true, pos).with_corr(Some(0))
    }

    #[test]
    fn a_bin_goes_to_its_most_frequent_position_the_first_seen_on_ties() {
        let records = [at(0, 0, 1), at(0, 1, 2), at(0, 2, 2), at(0, 3, 1)];
        let mut chosen = Vec::new();
        binned(&records, |r| chosen.push((r.pos, r.t)));
        assert_eq!(chosen, [(1, 0)]);

        // Bins 0 and 3 at position 7, bins 1 and 2 at position 8: a tie
        // that the position seen first wins.
        let records = [at(0, 0, 7), at(1, 0, 8), at(2, 0, 8), at(3, 0, 7)];
        assert_eq!(home(&records), Some(7));
        let mut places = Vec::new();
        places_of(&records, &[], &mut places);
        assert_eq!(places.iter().map(|p| (p.pos, p.n)).collect::<Vec<_>>(), [(7, 2), (8, 2)]);
    }

    #[test]
    fn radius_of_gyration_merges_places_at_one_location() {
        // Positions 1 and 2 share (0, 0): two bins there, two at (0, 1).
        // The centre is (0, 0.5), every bin 0.5 degree of longitude away:
        // bandicoot's great_circle_distance((0, 0.5), (0, 0)) is
        // 55.59746332227937 km, and so is the radius.
        let records = [at(0, 0, 1), at(1, 0, 2), at(2, 0, 3), at(3, 0, 3)];
        let locations = [None, Some((0.0, 0.0)), Some((0.0, 0.0)), Some((0.0, 1.0))];
        let mut places = Vec::new();
        places_of(&records, &locations, &mut places);
        let p = Period {
            records: &records,
            contacts: &[],
            conversations: &[],
            delays: &[],
            places: &places,
            home: Some(3),
        };
        assert_eq!(radius_of_gyration(&p), Some(55.59746332227937));
        assert_eq!(number_of_antennas(&p), Some(3.0));
        assert_eq!(percent_at_home(&p), Some(0.5));
        // Reaching ceil(0.8 * 4 bins) = 4 takes all three places (2, 1, 1),
        // since positions count apart here, as bandicoot counts str(position).
        assert_eq!(frequent_antennas(&p), Some(3.0));
        let no_home = Period { home: None, ..p };
        assert_eq!(percent_at_home(&no_home), None);
    }

    #[test]
    fn churn_compares_consecutive_weeks_with_records() {
        // Day 4 (a Monday) starts a week. Week one: a bin at positions 1
        // and 2; week two: two bins at position 1.
        let monday = 4 * 48;
        let week = 7 * 48;
        let records =
            [at(monday, 0, 1), at(monday + 1, 0, 2), at(monday + week, 0, 1), at(monday + week + 1, 0, 1)];
        let mut distances = Vec::new();
        churn_distances(&records, &mut distances);
        // 1 - (0.5 * 1.0) / (sqrt(0.5) * 1.0), as bandicoot computes it.
        assert_eq!(distances, [0.29289321881345254]);
    }
}
