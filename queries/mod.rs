//! The indicator definitions: one module per family, each indicator a
//! small function, and [`registry`], the one list that says which
//! indicators a run computes and in which order they are reported.
//!
//! An indicator is evaluated once per user and period: the individual and
//! spatial families as functions of the period's records (a [`Period`]),
//! the recharge family as Polars aggregations in a group-by over the
//! recharges. A scalar gives one value per period; a distribution gives
//! the values whose summary statistics the engine reports. Across periods,
//! the engine reports mean and std.
//!
//! To add an indicator: write its function or expression in the family
//! module, then add one [`Indicator`] line to that module's list.

pub mod individual;
pub mod recharges;
pub mod spatial;

use polars::prelude::*;

/// Which records an indicator of the individual family sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Call,
    Text,
    CallAndText,
}

impl Interaction {
    /// The key under which the reference reports this interaction.
    pub fn name(self) -> &'static str {
        match self {
            Interaction::Call => "call",
            Interaction::Text => "text",
            Interaction::CallAndText => "callandtext",
        }
    }
}

/// The rows an indicator aggregates, per user and period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The records of one interaction set.
    Records,
    /// The places of the half-hour-binned positions of all records.
    Places,
    /// One row per recharge, sorted by time, with `amount` and the columns
    /// of [`recharges::recharge_features`].
    Recharges,
}

/// One valid record, as the indicators of records see it. Kept small
/// (32 bytes): a chunk holds every record of its users, and the passes
/// copy the records of each period they filter. A record's location is its
/// position's, in its table's [`crate::load::UserTable::locations`].
#[derive(Debug, Clone, Copy)]
pub struct Record {
    /// Seconds since the epoch, local time.
    pub t: i64,
    /// Call seconds, where `has_dur` (see [`Record::dur`]).
    duration: i64,
    /// See [`Record::corr`]; [`NO_CORRESPONDENT`] for other kinds.
    correspondent: u32,
    /// The user's number for the position (antenna and location).
    pub pos: u32,
    /// [`crate::load::CALL`], [`crate::load::TEXT`] or
    /// [`crate::load::OTHER`].
    pub kind: u8,
    pub out: bool,
    pub night: bool,
    has_dur: bool,
}

/// The correspondent number of a record without one: numbers count the
/// user's correspondents, far fewer than this.
const NO_CORRESPONDENT: u32 = u32::MAX;

impl Record {
    /// A record without duration or correspondent (see [`Record::with_dur`]
    /// and [`Record::with_corr`]).
    pub fn new(t: i64, kind: u8, out: bool, night: bool, pos: u32) -> Record {
        Record { t, duration: 0, correspondent: NO_CORRESPONDENT, pos, kind, out, night, has_dur: false }
    }

    pub fn with_dur(mut self, dur: Option<i64>) -> Record {
        (self.has_dur, self.duration) = (dur.is_some(), dur.unwrap_or(0));
        self
    }

    pub fn with_corr(mut self, corr: Option<u32>) -> Record {
        self.correspondent = corr.unwrap_or(NO_CORRESPONDENT);
        self
    }

    /// Days since the epoch, local time.
    pub fn day(&self) -> i64 {
        self.t.div_euclid(crate::calendar::SECONDS_PER_DAY)
    }

    /// Half hours since the epoch, local time.
    pub fn bin(&self) -> i64 {
        self.t.div_euclid(1800)
    }

    /// Call seconds; `None` where the file gave none.
    pub fn dur(&self) -> Option<i64> {
        self.has_dur.then_some(self.duration)
    }

    /// The user's number for the correspondent; `None` for other kinds.
    pub fn corr(&self) -> Option<u32> {
        (self.correspondent != NO_CORRESPONDENT).then_some(self.correspondent)
    }
}

/// A user's records of one period, in time order, and what the indicators
/// derive from them. Each field is filled for the indicators that use it:
/// contacts for the individual family, conversations and delays for its
/// calls-and-texts set, places and home for the spatial family.
pub struct Period<'a> {
    pub records: &'a [Record],
    pub contacts: &'a [individual::Contact],
    pub conversations: &'a [individual::Conversation],
    /// Seconds between an incoming text and the outgoing text that
    /// directly follows it in the same conversation, when positive.
    pub delays: &'a [f64],
    pub places: &'a [spatial::Place],
    /// The user's home position, if it has one.
    pub home: Option<u32>,
}

/// How an indicator is evaluated per user and period.
#[derive(Clone, Copy)]
pub enum Compute {
    /// A Polars aggregation over the rows of the indicator's level.
    Expr(fn() -> Expr),
    /// A number from one period of records.
    Scalar(fn(&Period) -> Option<f64>),
    /// The values of a distribution from one period of records.
    Values(fn(&Period, &mut Vec<f64>)),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One number per period.
    Scalar,
    /// A list of numbers per period, reported through summary statistics.
    Distribution,
}

/// One indicator of the registry.
pub struct Indicator {
    /// The key the reference uses.
    pub name: &'static str,
    pub level: Level,
    pub shape: Shape,
    /// The interaction keys it is reported under; empty for the spatial
    /// family, which has no interaction key.
    pub interactions: &'static [Interaction],
    /// The per-period evaluation.
    pub compute: Compute,
    /// Whether a single period's value is an integer count.
    pub integer: bool,
}

/// Every individual, spatial and recharge indicator, in the reference's
/// order. churn_rate, which works on weeks whatever the grouping, comes
/// between the spatial and the recharge ones; the recharge ones are
/// computed only when the run reads recharges.
pub fn registry() -> Vec<Indicator> {
    let mut all = individual::indicators();
    all.extend(spatial::indicators());
    all.extend(recharges::indicators());
    all
}

#[cfg(test)]
mod tests {
    use super::Record;

    #[test]
    fn a_record_is_small_and_keeps_what_it_was_given() {
        assert_eq!(std::mem::size_of::<Record>(), 32);
        // 2014-03-02 07:13:30 is day 16,131 and half hour 774,302.
        let t = 1_393_744_410;
        let r = Record::new(t, crate::load::CALL, true, false, 3);
        assert_eq!((r.day(), r.bin(), r.dur(), r.corr()), (16_131, 774_302, None, None));
        let r = r.with_dur(Some(0)).with_corr(Some(7));
        assert_eq!((r.dur(), r.corr(), r.pos), (Some(0), Some(7), 3));
        assert_eq!(r.with_dur(Some(i64::MIN)).dur(), Some(i64::MIN));
    }
}
