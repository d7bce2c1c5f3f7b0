//! Evaluates the indicators of records (the individual and spatial
//! families) over a chunk's users, one user at a time.
//!
//! Each user's records come in time order. Periods follow time, so each
//! user's period is a run of consecutive rows, under any filter: a pass
//! cuts the runs, derives contacts, conversations or places for each, and
//! calls the indicators' functions. No hashing, gathering or per-group
//! frame.

use std::ops::Range;

use anyhow::Result;
use polars::prelude::Column;
use rayon::prelude::*;

use crate::load::UserTable;
use crate::options::{GroupBy, IndicatorOptions};
use crate::queries::individual::{conversations_of, Contact, Conversation};
use crate::queries::spatial::{self, Place};
use crate::queries::{Compute, Indicator, Interaction, Period, Record, Shape};
use crate::stats;

/// A chunk's records as the indicators read them, user by user.
pub struct Chunk<'a> {
    /// By user number.
    users: Vec<UserPart<'a>>,
    /// One more than the largest correspondent number.
    contacts: usize,
}

/// One user's part of a chunk: its records in time order, their period
/// keys and weekend flags, and its home.
pub(crate) struct UserPart<'a> {
    pub records: &'a [Record],
    pub periods: &'a [i64],
    pub weekend: &'a [bool],
    /// By position number (see [`UserTable::locations`]).
    pub locations: &'a [Option<(f64, f64)>],
    pub home: Option<u32>,
    /// The classes of its records (see [`Filter::class_of`]), one bit each.
    classes: u16,
}

impl<'a> UserPart<'a> {
    /// The records of `range` of `table`, whose home is `home`.
    pub fn of(table: &'a UserTable, range: Range<usize>, home: Option<u32>) -> UserPart<'a> {
        let (records, weekend) = (&table.records[range.clone()], &table.weekend[range.clone()]);
        UserPart {
            records,
            periods: &table.periods[range],
            weekend,
            locations: &table.locations,
            home,
            classes: classes(records, weekend),
        }
    }
}

/// The classes of `records` (see [`Filter::class_of`]), one bit each.
fn classes(records: &[Record], weekend: &[bool]) -> u16 {
    records.iter().zip(weekend).fold(0, |seen, (r, &w)| seen | 1 << Filter::class_of(w, r.night, r.kind))
}

impl<'a> Chunk<'a> {
    /// The chunk of the users of `tables`; user numbers are their positions.
    pub fn new(tables: &'a [UserTable]) -> Chunk<'a> {
        let users: Vec<UserPart> =
            tables.par_iter().map(|t| UserPart::of(t, 0..t.len(), spatial::home(&t.records))).collect();
        let contacts = users
            .iter()
            .flat_map(|u| u.records.iter().filter_map(|r| r.corr()))
            .max()
            .map_or(0, |c| c as usize + 1);
        Chunk { users, contacts }
    }

    /// The user numbers, split into at most `parts` ranges of about equal
    /// numbers of records: the units of parallel work.
    pub fn user_ranges(&self, parts: usize) -> Vec<Range<usize>> {
        let total: usize = self.users.iter().map(|u| u.records.len()).sum();
        let per_part = total.div_ceil(parts.max(1)).max(1);
        let mut ranges = Vec::new();
        let mut from = 0;
        while from < self.users.len() {
            let (mut to, mut records) = (from + 1, self.users[from].records.len());
            while to < self.users.len() && records < per_part {
                records += self.users[to].records.len();
                to += 1;
            }
            ranges.push(from..to);
            from = to;
        }
        ranges
    }

    /// Whether each user, by number, has a home.
    pub fn has_home(&self) -> Vec<bool> {
        self.users.iter().map(|u| u.home.is_some()).collect()
    }

    /// `churn_rate__mean` and `churn_rate__std` of every user: over the
    /// cosine distances of its pairs of consecutive weeks, null for a user
    /// with fewer than two weeks.
    pub fn churn(&self) -> Vec<Column> {
        let distances: Vec<Vec<f64>> = self
            .users
            .par_iter()
            .map(|part| {
                let mut buf = Vec::new();
                spatial::churn_distances(part.records, &mut buf);
                buf
            })
            .collect();
        let (mut user, mut distance) = (Vec::new(), Vec::new());
        for (u, buf) in distances.iter().enumerate() {
            user.extend(std::iter::repeat_n(u as u32, buf.len()));
            distance.extend(buf.iter().map(|d| Some(*d)));
        }
        let values = PeriodValues { name: "churn_rate".into(), integer: false, values: distance };
        per_user(&user, vec![values], self.users.len(), false)
    }
}

/// One pass of the evaluation: the indicators of one interaction set
/// (`None`: the spatial family, on every record) under one filter
/// combination, each with its key.
pub struct Pass<'a> {
    pub part_of_week: &'a str,
    pub part_of_day: &'a str,
    pub interaction: Option<Interaction>,
    pub indicators: Vec<(&'a Indicator, String)>,
}

/// Which records a pass keeps, as a set of record classes (see
/// [`Filter::class`]): a bit test per record instead of three compares
/// whose branches a pass's mix of records keeps mispredicting.
struct Filter {
    accepted: u16,
}

impl Filter {
    fn of(pass: &Pass) -> Filter {
        let weekend = match pass.part_of_week {
            "weekday" => Some(false),
            "weekend" => Some(true),
            _ => None,
        };
        let night = match pass.part_of_day {
            "day" => Some(false),
            "night" => Some(true),
            _ => None,
        };
        let kind_ok = |kind: u8| match pass.interaction {
            None => true,
            Some(Interaction::Call) => kind == crate::load::CALL,
            Some(Interaction::Text) => kind == crate::load::TEXT,
            Some(Interaction::CallAndText) => kind == crate::load::CALL || kind == crate::load::TEXT,
        };
        let mut accepted = 0;
        for kind in [crate::load::CALL, crate::load::TEXT, crate::load::OTHER] {
            for is_weekend in [false, true] {
                for is_night in [false, true] {
                    let keep = weekend.is_none_or(|w| w == is_weekend)
                        && night.is_none_or(|n| n == is_night)
                        && kind_ok(kind);
                    if keep {
                        accepted |= 1 << Filter::class_of(is_weekend, is_night, kind);
                    }
                }
            }
        }
        Filter { accepted }
    }

    /// Which of `classes` pass.
    fn kept(&self, classes: u16) -> u16 {
        self.accepted & classes
    }

    /// A record's class, below 12: the weekend and night bits, then its
    /// kind (CALL, TEXT or OTHER) above them.
    fn class_of(is_weekend: bool, is_night: bool, kind: u8) -> u32 {
        debug_assert!((0..3).contains(&kind), "kinds are CALL, TEXT or OTHER");
        u32::from(is_weekend) | u32::from(is_night) << 1 | (kind as u32) << 2
    }

    fn keeps(&self, is_weekend: bool, r: &Record) -> bool {
        self.accepted >> Filter::class_of(is_weekend, r.night, r.kind) & 1 == 1
    }
}

/// A pass's values so far: the user and period of each period row and one
/// column of values per indicator value.
pub(crate) struct PassValues {
    filter: Filter,
    pub out_user: Vec<u32>,
    pub out_period: Vec<i64>,
    pub values: Vec<Vec<Option<f64>>>,
}

impl PassValues {
    /// No rows yet for `pass`, whose indicators are functions of records.
    pub fn new(pass: &Pass, n_stats: usize) -> Result<PassValues> {
        if let Some((ind, _)) =
            pass.indicators.iter().find(|(ind, _)| matches!(ind.compute, Compute::Expr(_)))
        {
            anyhow::bail!("{} is not a function of a period's records", ind.name);
        }
        let width = |ind: &Indicator| match ind.shape {
            Shape::Scalar => 1,
            Shape::Distribution => n_stats,
        };
        let columns: usize = pass.indicators.iter().map(|(ind, _)| width(ind)).sum();
        Ok(PassValues {
            filter: Filter::of(pass),
            out_user: Vec::new(),
            out_period: Vec::new(),
            values: vec![Vec::new(); columns],
        })
    }

    /// Drops every row.
    pub fn clear(&mut self) {
        self.out_user.clear();
        self.out_period.clear();
        self.values.iter_mut().for_each(Vec::clear);
    }

    /// Appends row `row` of `other` as a row of `user`.
    pub fn push_row(&mut self, user: u32, other: &PassValues, row: usize) {
        self.out_user.push(user);
        self.out_period.push(other.out_period[row]);
        for (column, values) in self.values.iter_mut().zip(&other.values) {
            column.push(values[row]);
        }
    }
}

/// The contacts of a period in order of first appearance, and the period's
/// records grouped by contact in that order (time order within each).
struct ContactIndex {
    /// Slot of each correspondent number in `contacts`; `u32::MAX` if unseen.
    slot: Vec<u32>,
    contacts: Vec<Contact>,
    by_contact: Vec<Record>,
    ends: Vec<usize>,
}

impl ContactIndex {
    fn new(size: usize) -> ContactIndex {
        ContactIndex {
            slot: vec![u32::MAX; size],
            contacts: Vec::new(),
            by_contact: Vec::new(),
            ends: Vec::new(),
        }
    }

    fn build(&mut self, records: &[Record], group_records: bool) {
        self.contacts.clear();
        let mut slots = Vec::with_capacity(records.len());
        for r in records {
            let Some(c) = r.corr() else {
                slots.push(u32::MAX);
                continue;
            };
            let s = &mut self.slot[c as usize];
            if *s == u32::MAX {
                *s = self.contacts.len() as u32;
                self.contacts.push(Contact::default());
            }
            let contact = &mut self.contacts[*s as usize];
            contact.n += 1;
            contact.n_out += r.out as u32;
            if r.kind == crate::load::CALL {
                contact.dur += r.dur().unwrap_or(0);
            }
            slots.push(*s);
        }
        for r in records {
            if let Some(c) = r.corr() {
                self.slot[c as usize] = u32::MAX;
            }
        }
        if !group_records {
            return;
        }

        // A counting sort by slot keeps time order within each contact.
        self.ends.clear();
        let mut next = Vec::with_capacity(self.contacts.len());
        let mut at = 0;
        for c in &self.contacts {
            next.push(at);
            at += c.n as usize;
            self.ends.push(at);
        }
        self.by_contact.clear();
        self.by_contact.resize(at, records[0]);
        for (r, &s) in records.iter().zip(&slots) {
            if s != u32::MAX {
                self.by_contact[next[s as usize]] = *r;
                next[s as usize] += 1;
            }
        }
    }
}

/// The user-level columns of each pass, one row per user number of
/// `users` (see [`per_user`]), from each period's value columns (see
/// [`crate::engine::value_columns`]).
///
/// Users come one at a time, every pass over each: a user's records stay
/// in cache across the passes, where a pass over the whole chunk would
/// read every record from memory again for each filter combination. Each
/// user's period rows are reduced to its user-level values at once, so
/// that a pass's rows are only ever one user's.
pub fn evaluate(
    chunk: &Chunk,
    passes: &[Pass],
    opts: &IndicatorOptions,
    users: Range<usize>,
) -> Result<Vec<Vec<Column>>> {
    let n_stats = opts.stat_count();
    let single = opts.groupby == GroupBy::None;
    let mut state = passes.iter().map(|pass| PassValues::new(pass, n_stats)).collect::<Result<Vec<_>>>()?;
    let mut reduced: Vec<Vec<Reduced>> = passes
        .iter()
        .map(|pass| {
            value_names(pass, opts).map(|(name, integer)| Reduced::new(name, integer, users.len())).collect()
        })
        .collect();
    let mut scratch = Scratch::new(chunk.contacts);
    let mut buf = Vec::new();
    // The passes of one part of the week and of the day (one interaction
    // set each, and the places) read that part's records, taken out once.
    let groups = combinations(passes);
    let mut narrowed = Narrowed::default();
    for part in &chunk.users[users] {
        for group in &groups {
            let records = narrowed.of(part, group.classes);
            for p in group.passes.clone() {
                let values = &mut state[p];
                values.clear();
                scratch.user_pass(0, &records, &passes[p], values, n_stats);
                for (column, reduced) in values.values.iter().zip(&mut reduced[p]) {
                    let (mean, std) = reduce_user(column, single, &mut buf);
                    reduced.mean.push(mean);
                    reduced.std.push(std);
                }
            }
        }
    }
    Ok(reduced
        .into_iter()
        .map(|pass| pass.into_iter().flat_map(|r| r.into_columns(single)).collect())
        .collect())
}

/// Consecutive passes of one part of the week and of the day, and the
/// record classes any of them keeps.
struct Combination {
    passes: Range<usize>,
    classes: u16,
}

/// The runs of `passes` that share their part of the week and of the day.
fn combinations(passes: &[Pass]) -> Vec<Combination> {
    let mut out: Vec<Combination> = Vec::new();
    for (p, pass) in passes.iter().enumerate() {
        let classes = Filter::of(pass).accepted;
        match out.last_mut() {
            Some(last)
                if passes[last.passes.start].part_of_week == pass.part_of_week
                    && passes[last.passes.start].part_of_day == pass.part_of_day =>
            {
                last.passes.end = p + 1;
                last.classes |= classes;
            }
            _ => out.push(Combination { passes: p..p + 1, classes }),
        }
    }
    out
}

/// A user's records of some classes, copied out of its part when it has
/// others too.
#[derive(Default)]
struct Narrowed {
    records: Vec<Record>,
    periods: Vec<i64>,
    weekend: Vec<bool>,
}

impl Narrowed {
    /// The records of `part` of the `classes`, as a part of their own.
    fn of<'a>(&'a mut self, part: &UserPart<'a>, classes: u16) -> UserPart<'a> {
        let keep = Filter { accepted: classes };
        if keep.kept(part.classes) == part.classes {
            return UserPart { ..*part };
        }
        // Every record is written and only the kept ones counted, as a
        // pass filters a period.
        let n = part.records.len();
        self.records.clear();
        self.records.resize(n, part.records[0]);
        self.periods.resize(n, 0);
        self.weekend.resize(n, false);
        let mut kept = 0;
        for ((r, &p), &w) in part.records.iter().zip(part.periods).zip(part.weekend) {
            (self.records[kept], self.periods[kept], self.weekend[kept]) = (*r, p, w);
            kept += usize::from(keep.keeps(w, r));
        }
        UserPart {
            records: &self.records[..kept],
            periods: &self.periods[..kept],
            weekend: &self.weekend[..kept],
            locations: part.locations,
            home: part.home,
            classes: keep.kept(part.classes),
        }
    }
}

/// The name of each value column of `pass`, and whether it is a count.
fn value_names<'a>(pass: &'a Pass, opts: &'a IndicatorOptions) -> impl Iterator<Item = (String, bool)> + 'a {
    pass.indicators.iter().flat_map(move |(ind, key)| {
        let integer = ind.integer && ind.shape == Shape::Scalar;
        crate::engine::value_columns(ind, key, opts).into_iter().map(move |name| (name, integer))
    })
}

/// The user-level columns of each pass from its period rows, for user
/// numbers below `users`; each value column is named as the engine
/// reports it.
pub(crate) fn user_columns(
    passes: &[Pass],
    state: Vec<PassValues>,
    opts: &IndicatorOptions,
    users: usize,
) -> Vec<Vec<Column>> {
    let mut out = Vec::with_capacity(passes.len());
    for (pass, values) in passes.iter().zip(state) {
        let named = value_names(pass, opts)
            .zip(values.values)
            .map(|((name, integer), values)| PeriodValues { name, integer, values })
            .collect();
        out.push(per_user(&values.out_user, named, users, opts.groupby == GroupBy::None));
    }
    out
}

/// Buffers reused by every period of a part of the chunk.
pub(crate) struct Scratch {
    index: ContactIndex,
    records: Vec<Record>,
    convs: Vec<Conversation>,
    delays: Vec<f64>,
    buf: Vec<f64>,
    places: Vec<Place>,
}

impl Scratch {
    /// Buffers for records whose correspondent numbers are below `contacts`.
    pub fn new(contacts: usize) -> Scratch {
        Scratch {
            index: ContactIndex::new(contacts),
            records: Vec::new(),
            convs: Vec::new(),
            delays: Vec::new(),
            buf: Vec::new(),
            places: Vec::new(),
        }
    }

    /// Appends the values of each of a user's periods under one pass.
    pub fn user_pass(
        &mut self,
        user: u32,
        part: &UserPart,
        pass: &Pass,
        values: &mut PassValues,
        n_stats: usize,
    ) {
        let conversations = pass.interaction == Some(Interaction::CallAndText);
        let places = pass.interaction.is_none();
        // A pass that keeps none of the user's classes has no period; one
        // that keeps all of them copies each period whole.
        let kept = values.filter.kept(part.classes);
        if kept == 0 {
            return;
        }
        let keeps_all = kept == part.classes;
        let n = part.records.len();
        let mut start = 0;
        while start < n {
            let key = part.periods[start];
            let end = start + part.periods[start..].iter().take_while(|&&p| p == key).count();
            let (records, weekend) = (&part.records[start..end], &part.weekend[start..end]);
            start = end;
            let records: &[Record] = match keeps_all {
                true => records,
                false => {
                    // Every record is written and only the kept ones
                    // counted: no branch on the record's class.
                    self.records.clear();
                    self.records.resize(records.len(), records[0]);
                    let mut kept = 0;
                    for (r, &w) in records.iter().zip(weekend) {
                        self.records[kept] = *r;
                        kept += usize::from(values.filter.keeps(w, r));
                    }
                    self.records.truncate(kept);
                    &self.records
                }
            };
            if records.is_empty() {
                continue;
            }

            if places {
                spatial::places_of(records, part.locations, &mut self.places);
            } else {
                self.index.build(records, conversations);
            }
            self.convs.clear();
            self.delays.clear();
            if conversations {
                let mut from = 0;
                for &to in &self.index.ends {
                    conversations_of(&self.index.by_contact[from..to], &mut self.convs, &mut self.delays);
                    from = to;
                }
            }
            let period = Period {
                records,
                contacts: &self.index.contacts,
                conversations: &self.convs,
                delays: &self.delays,
                places: &self.places,
                home: part.home,
            };

            values.out_user.push(user);
            values.out_period.push(key);
            let mut slot = 0;
            for (ind, _) in &pass.indicators {
                match ind.compute {
                    Compute::Scalar(f) => {
                        values.values[slot].push(f(&period));
                        slot += 1;
                    }
                    Compute::Values(f) => {
                        self.buf.clear();
                        f(&period, &mut self.buf);
                        let summary = stats::summary(&mut self.buf, n_stats);
                        for k in 0..n_stats {
                            values.values[slot + k].push(summary.map(|s| s[k]));
                        }
                        slot += n_stats;
                    }
                    Compute::Expr(_) => unreachable!("checked before the passes"),
                }
            }
        }
    }
}

/// One value per period of one value column.
pub struct PeriodValues {
    pub name: String,
    /// A count, reported as an integer when not averaged over periods.
    pub integer: bool,
    pub values: Vec<Option<f64>>,
}

/// Reduces per-period values (rows in user and period order, `rows_user`
/// their users) to one row per user number below `users`: mean and
/// population std across the user's periods (`<name>__mean`,
/// `<name>__std`), in period order with the reference's arithmetic, or,
/// without grouping, the single period's value under its own name. Users
/// without a period, or with only null values, get nulls.
pub fn per_user(rows_user: &[u32], columns: Vec<PeriodValues>, users: usize, single: bool) -> Vec<Column> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for column in columns {
        let mut reduced = Reduced::new(column.name, column.integer, users);
        (reduced.mean, reduced.std) = (vec![None; users], vec![None; users]);
        let mut start = 0;
        while start < rows_user.len() {
            let user = rows_user[start];
            let end = start + rows_user[start..].iter().take_while(|&&u| u == user).count();
            let (mean, std) = reduce_user(&column.values[start..end], single, &mut buf);
            (reduced.mean[user as usize], reduced.std[user as usize]) = (mean, std);
            start = end;
        }
        out.extend(reduced.into_columns(single));
    }
    out
}

/// One user's values of a value column from its periods' `rows`: their
/// mean and std, or, without grouping (`single`), the last period's value
/// (the only one) as the mean.
fn reduce_user(rows: &[Option<f64>], single: bool, buf: &mut Vec<f64>) -> (Option<f64>, Option<f64>) {
    if single {
        return (rows.last().copied().flatten(), None);
    }
    buf.clear();
    buf.extend(rows.iter().flatten());
    stats::mean_std(buf)
}

/// A value column's user-level values, user by user (see [`reduce_user`]).
struct Reduced {
    name: String,
    integer: bool,
    mean: Vec<Option<f64>>,
    std: Vec<Option<f64>>,
}

impl Reduced {
    /// No users yet, with room for `users`.
    fn new(name: String, integer: bool, users: usize) -> Reduced {
        Reduced { name, integer, mean: Vec::with_capacity(users), std: Vec::with_capacity(users) }
    }

    /// The columns [`per_user`] describes.
    fn into_columns(self, single: bool) -> Vec<Column> {
        if !single {
            return vec![
                Column::new(format!("{}__mean", self.name).into(), self.mean),
                Column::new(format!("{}__std", self.name).into(), self.std),
            ];
        }
        vec![match self.integer {
            true => Column::new(
                self.name.into(),
                self.mean.iter().map(|v| v.map(|v| v as i64)).collect::<Vec<_>>(),
            ),
            false => Column::new(self.name.into(), self.mean),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str, integer: bool, values: &[Option<f64>]) -> PeriodValues {
        PeriodValues { name: name.into(), integer, values: values.to_vec() }
    }

    #[test]
    fn periods_reduce_to_mean_and_std_per_user_number() {
        // User 0 has periods with 1 and 3 (and a null, which is skipped),
        // user 1 none, user 2 only a null.
        let rows = [0, 0, 0, 2];
        let columns =
            per_user(&rows, vec![values("x", false, &[Some(1.0), None, Some(3.0), None])], 3, false);
        let names: Vec<&str> = columns.iter().map(|c| c.name().as_str()).collect();
        assert_eq!(names, ["x__mean", "x__std"]);
        let mean: Vec<Option<f64>> = columns[0].f64().unwrap().iter().collect();
        let std: Vec<Option<f64>> = columns[1].f64().unwrap().iter().collect();
        assert_eq!(mean, [Some(2.0), None, None]);
        assert_eq!(std, [Some(1.0), None, None]);
    }

    #[test]
    fn a_pass_keeps_the_records_of_its_parts_of_week_and_day_and_kinds() {
        use crate::load::{CALL, OTHER, TEXT};
        let pass = |part_of_week, part_of_day, interaction| Pass {
            part_of_week,
            part_of_day,
            interaction,
            indicators: Vec::new(),
        };
        let kept = |pass: &Pass| {
            let filter = Filter::of(pass);
            let mut kept = Vec::new();
            for kind in [CALL, TEXT, OTHER] {
                for weekend in [false, true] {
                    for night in [false, true] {
                        if filter.keeps(weekend, &Record::new(0, kind, false, night, 0)) {
                            kept.push((kind, weekend, night));
                        }
                    }
                }
            }
            kept
        };
        assert_eq!(kept(&pass("weekday", "night", Some(Interaction::Call))), [(CALL, false, true)]);
        assert_eq!(
            kept(&pass("weekend", "allday", Some(Interaction::CallAndText))),
            [(CALL, true, false), (CALL, true, true), (TEXT, true, false), (TEXT, true, true)]
        );
        // The spatial family reads every record of the combination.
        assert_eq!(
            kept(&pass("allweek", "day", None)),
            [
                (CALL, false, false),
                (CALL, true, false),
                (TEXT, false, false),
                (TEXT, true, false),
                (OTHER, false, false),
                (OTHER, true, false)
            ]
        );
        assert_eq!(kept(&pass("allweek", "allday", Some(Interaction::Text))).len(), 4);

        // The classes a user's records have decide whether a pass copies
        // its periods whole, filters them, or has none.
        let records = [Record::new(0, CALL, false, false, 0), Record::new(1, OTHER, false, true, 0)];
        let classes = classes(&records, &[false, false]);
        let call = Filter::of(&pass("allweek", "allday", Some(Interaction::Call)));
        let text = Filter::of(&pass("allweek", "allday", Some(Interaction::Text)));
        let all = Filter::of(&pass("allweek", "allday", None));
        assert_eq!(call.kept(classes), 1 << Filter::class_of(false, false, CALL));
        assert_eq!((text.kept(classes), all.kept(classes)), (0, classes));
    }

    #[test]
    fn passes_of_a_part_of_the_week_and_day_read_its_records_taken_out_once() {
        use crate::load::{CALL, OTHER, TEXT};
        let pass = |part_of_week, part_of_day, interaction| Pass {
            part_of_week,
            part_of_day,
            interaction,
            indicators: Vec::new(),
        };
        let sets = [Some(Interaction::Call), Some(Interaction::Text), Some(Interaction::CallAndText), None];
        let passes: Vec<Pass> = [("allweek", "allday"), ("weekday", "night"), ("weekend", "allday")]
            .into_iter()
            .flat_map(|(w, d)| sets.map(|i| pass(w, d, i)))
            .collect();
        let groups = combinations(&passes);
        assert_eq!(groups.iter().map(|g| g.passes.clone()).collect::<Vec<_>>(), [0..4, 4..8, 8..12]);
        // Every kind of the part's records: the weekday nights of any kind.
        let weekday_nights: u16 =
            [CALL, TEXT, OTHER].iter().map(|&k| 1 << Filter::class_of(false, true, k)).sum();
        assert_eq!(groups[1].classes, weekday_nights);
        assert_eq!(groups[0].classes.count_ones(), 12);

        // A weekday night call, a weekend day text, a weekday night gps
        // record, in two periods: the weekday nights keep the first and
        // the last, with their periods and flags.
        let records = [
            Record::new(0, CALL, false, true, 0),
            Record::new(1, TEXT, false, false, 1),
            Record::new(2, OTHER, false, true, 2),
        ];
        let (periods, weekend) = ([5, 5, 6], [false, true, false]);
        let part = UserPart {
            records: &records,
            periods: &periods,
            weekend: &weekend,
            locations: &[],
            home: Some(2),
            classes: classes(&records, &weekend),
        };
        let mut narrowed = Narrowed::default();
        let nights = narrowed.of(&part, groups[1].classes);
        assert_eq!(nights.records.iter().map(|r| r.t).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(
            (nights.periods, nights.weekend, nights.home),
            (&[5, 6][..], &[false, false][..], Some(2))
        );
        assert_eq!(nights.classes, part.classes & groups[1].classes);
        // A part with only the kept classes is taken as it is.
        assert!(std::ptr::eq(narrowed.of(&part, groups[0].classes).records, &records[..]));
    }

    #[test]
    fn user_ranges_cover_every_user_in_parts_of_about_equal_records() {
        let record = Record::new(0, 0, false, false, 0);
        // Six users: 5 records, then 1 each.
        let table = |n: usize| UserTable {
            records: vec![record; n],
            periods: vec![0; n],
            weekend: vec![false; n],
            locations: Vec::new(),
        };
        let tables = [table(5), table(1), table(1), table(1), table(1), table(1)];
        let chunk = Chunk::new(&tables);
        assert_eq!(chunk.user_ranges(2), [0..1, 1..6]);
        // At most 4 records a part: the large user alone, then four small ones.
        assert_eq!(chunk.user_ranges(3), [0..1, 1..5, 5..6]);
        assert_eq!(chunk.user_ranges(1), [0..6]);
    }

    #[test]
    fn without_grouping_a_count_stays_an_integer() {
        let rows = [1];
        let columns =
            per_user(&rows, vec![values("n", true, &[Some(4.0)]), values("f", false, &[Some(0.5)])], 2, true);
        let n: Vec<Option<i64>> = columns[0].i64().unwrap().iter().collect();
        let f: Vec<Option<f64>> = columns[1].f64().unwrap().iter().collect();
        assert_eq!((columns[0].name().as_str(), n), ("n", vec![None, Some(4)]));
        assert_eq!((columns[1].name().as_str(), f), ("f", vec![None, Some(0.5)]));
    }
}
