//! The individual family: indicators of calls and texts.
//!
//! Each indicator is a function of one [`Period`]: a user's records of one
//! period, under one filter combination and one interaction set, with the
//! contacts and text conversations derived from them. Contacts come in
//! order of first appearance (the order in which the reference counts
//! them, so sums add up in the same order), and every sum below is
//! sequential, as Python's `sum` is.

use super::Interaction::{Call, CallAndText, Text};
use super::{Compute, Indicator, Level, Period, Record, Shape};
use crate::stats;

/// A text conversation ends after an hour without a record with that contact.
pub const CONVERSATION_GAP: i64 = 3600;

/// One contact of a period: interactions, outgoing ones, call seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Contact {
    pub n: u32,
    pub n_out: u32,
    pub dur: i64,
}

/// One text conversation: whether its first text was outgoing, and
/// whether the user sent any text in it.
#[derive(Debug, Clone, Copy)]
pub struct Conversation {
    pub first_out: bool,
    pub has_out: bool,
}

/// Splits one contact's records, in time order, into text conversations as
/// the reference does: a text opens a conversation when it is the first
/// with the contact, follows a call, or comes an hour or more after the
/// previous record; a call belongs to none. Appends the conversations and
/// the response delays.
pub fn conversations_of(records: &[Record], out: &mut Vec<Conversation>, delays: &mut Vec<f64>) {
    let mut prev: Option<&Record> = None;
    for r in records {
        if r.kind == crate::load::TEXT {
            let since = prev.map(|p| r.t - p.t);
            let opens = match (prev, since) {
                (Some(p), Some(s)) => p.kind == crate::load::CALL || s >= CONVERSATION_GAP,
                _ => true,
            };
            match (opens, out.last_mut(), prev, since) {
                (false, Some(conv), Some(p), Some(s)) => {
                    conv.has_out |= r.out;
                    if r.out && !p.out && s > 0 {
                        delays.push(s as f64);
                    }
                }
                _ => out.push(Conversation { first_out: r.out, has_out: r.out }),
            }
        }
        prev = Some(r);
    }
}

fn share(count: usize, of: usize) -> Option<f64> {
    Some(count as f64 / of as f64)
}

fn active_days(p: &Period) -> Option<f64> {
    // Days never decrease in time order: count the changes.
    let days = p.records.windows(2).filter(|w| w[0].day() != w[1].day()).count() + 1;
    Some(days as f64)
}

fn number_of_contacts(p: &Period) -> Option<f64> {
    Some(p.contacts.len() as f64)
}

fn call_duration(p: &Period, values: &mut Vec<f64>) {
    values.extend(p.records.iter().filter_map(|r| r.dur()).map(|d| d as f64));
}

fn percent_nocturnal(p: &Period) -> Option<f64> {
    share(p.records.iter().filter(|r| r.night).count(), p.records.len())
}

/// The share of conversations the user opened; 0 without conversation.
fn percent_initiated_conversations(p: &Period) -> Option<f64> {
    match p.conversations.len() {
        0 => Some(0.0),
        n => share(p.conversations.iter().filter(|c| c.first_out).count(), n),
    }
}

fn percent_initiated_interactions(p: &Period) -> Option<f64> {
    share(p.records.iter().filter(|r| r.out).count(), p.records.len())
}

fn response_delay_text(p: &Period, values: &mut Vec<f64>) {
    values.extend_from_slice(p.delays);
}

/// Among conversations opened by an incoming text, the share answered.
fn response_rate_text(p: &Period) -> Option<f64> {
    let received = p.conversations.iter().filter(|c| !c.first_out);
    let (received, responded) = received.fold((0, 0), |(n, r), c| (n + 1, r + c.has_out as usize));
    if received == 0 {
        return None;
    }
    share(responded, received)
}

fn entropy_of_contacts(p: &Period) -> Option<f64> {
    let counts: Vec<f64> = p.contacts.iter().map(|c| c.n as f64).collect();
    stats::entropy(&counts)
}

/// Per contact, outgoing interactions over all the period's interactions.
fn balance_of_contacts(p: &Period, values: &mut Vec<f64>) {
    let total = p.contacts.iter().map(|c| c.n).sum::<u32>() as f64;
    values.extend(p.contacts.iter().map(|c| c.n_out as f64 / total));
}

fn interactions_per_contact(p: &Period, values: &mut Vec<f64>) {
    values.extend(p.contacts.iter().map(|c| c.n as f64));
}

fn interevent_time(p: &Period, values: &mut Vec<f64>) {
    values.extend(p.records.windows(2).map(|w| (w[1].t - w[0].t) as f64));
}

/// The share of contacts, heaviest first, that reach 80% of `weight`.
fn pareto_share(p: &Period, weight: fn(&Contact) -> f64) -> Option<f64> {
    if p.contacts.is_empty() {
        return None;
    }
    let mut weights: Vec<f64> = p.contacts.iter().map(weight).collect();
    share(stats::pareto_count(&mut weights, 0.8), p.contacts.len())
}

fn percent_pareto_interactions(p: &Period) -> Option<f64> {
    pareto_share(p, |c| c.n as f64)
}

fn percent_pareto_durations(p: &Period) -> Option<f64> {
    pareto_share(p, |c| c.dur as f64)
}

fn number_of_interactions(p: &Period) -> Option<f64> {
    Some(p.records.len() as f64)
}

fn number_of_interaction_in(p: &Period) -> Option<f64> {
    Some(p.records.iter().filter(|r| !r.out).count() as f64)
}

fn number_of_interaction_out(p: &Period) -> Option<f64> {
    Some(p.records.iter().filter(|r| r.out).count() as f64)
}

macro_rules! indicator {
    ($name:ident, Scalar, [$($i:ident),*], integer: $int:expr) => {
        indicator!(@ $name, Scalar, Compute::Scalar($name), [$($i),*], $int)
    };
    ($name:ident, Distribution, [$($i:ident),*]) => {
        indicator!(@ $name, Distribution, Compute::Values($name), [$($i),*], false)
    };
    (@ $name:ident, $shape:ident, $compute:expr, [$($i:ident),*], $int:expr) => {
        Indicator {
            name: stringify!($name),
            level: Level::Records,
            shape: Shape::$shape,
            interactions: &[$($i),*],
            compute: $compute,
            integer: $int,
        }
    };
}

/// The individual indicators, in the reference's order.
pub fn indicators() -> Vec<Indicator> {
    vec![
        indicator!(active_days, Scalar, [CallAndText], integer: true),
        indicator!(number_of_contacts, Scalar, [Call, Text], integer: true),
        indicator!(call_duration, Distribution, [Call]),
        indicator!(percent_nocturnal, Scalar, [Call, Text], integer: false),
        indicator!(percent_initiated_conversations, Scalar, [CallAndText], integer: false),
        indicator!(percent_initiated_interactions, Scalar, [Call], integer: false),
        indicator!(response_delay_text, Distribution, [CallAndText]),
        indicator!(response_rate_text, Scalar, [CallAndText], integer: false),
        indicator!(entropy_of_contacts, Scalar, [Call, Text], integer: false),
        indicator!(balance_of_contacts, Distribution, [Call, Text]),
        indicator!(interactions_per_contact, Distribution, [Call, Text]),
        indicator!(interevent_time, Distribution, [Call, Text]),
        indicator!(percent_pareto_interactions, Scalar, [Call, Text], integer: false),
        indicator!(percent_pareto_durations, Scalar, [Call], integer: false),
        indicator!(number_of_interactions, Scalar, [Call, Text], integer: true),
        indicator!(number_of_interaction_in, Scalar, [Call, Text], integer: true),
        indicator!(number_of_interaction_out, Scalar, [Call, Text], integer: true),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{CALL, TEXT};

    fn rec(t: i64, kind: u8, out: bool) -> Record {
        Record::new(t, kind, out, false, 0).with_corr(Some(0))
    }

    #[test]
    fn conversations_split_on_calls_and_hour_gaps() {
        // I O (60 s) | call | O I O (20 s later, then 100 s) | 1 h gap: I
        let records = [
            rec(0, TEXT, false),
            rec(60, TEXT, true),
            rec(100, CALL, true),
            rec(200, TEXT, true),
            rec(210, TEXT, false),
            rec(310, TEXT, true),
            rec(310 + 3600, TEXT, false),
        ];
        let (mut convs, mut delays) = (Vec::new(), Vec::new());
        conversations_of(&records, &mut convs, &mut delays);
        let flags: Vec<(bool, bool)> = convs.iter().map(|c| (c.first_out, c.has_out)).collect();
        assert_eq!(flags, [(false, true), (true, true), (false, false)]);
        assert_eq!(delays, [60.0, 100.0]);
    }

    #[test]
    fn a_reply_at_the_same_second_is_no_delay() {
        let records = [rec(0, TEXT, false), rec(0, TEXT, true)];
        let (mut convs, mut delays) = (Vec::new(), Vec::new());
        conversations_of(&records, &mut convs, &mut delays);
        assert_eq!(convs.len(), 1);
        assert!(convs[0].has_out);
        assert!(delays.is_empty());
    }
}
