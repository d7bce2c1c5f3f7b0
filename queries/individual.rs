//! The individual family: indicators of calls and texts.

use polars::prelude::*;

use super::Interaction::{Call, CallAndText, Text};
use super::{entropy, pareto_count, Indicator, Level, Shape};

/// A text conversation ends after an hour without a record with that contact.
pub const CONVERSATION_GAP: i64 = 3600;

/// Per-record columns that the record-level indicators use, computed on
/// the records of one interaction set, sorted by user and time:
/// `gap`, the seconds since the previous record of the same period.
pub fn record_features(records: LazyFrame) -> LazyFrame {
    let same_period =
        col("user").eq(col("user").shift(lit(1))).and(col("period").eq(col("period").shift(lit(1))));
    records.with_column(
        when(same_period)
            .then((col("t") - col("t").shift(lit(1))).cast(DataType::Float64))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("gap"),
    )
}

/// Conversation columns, on calls and texts sorted by user, period,
/// contact and time: `conv_start` marks a text that opens a conversation
/// (first with the contact, after a call, or after an hour of silence),
/// `conv` numbers conversations, and `delay` holds the seconds between an
/// incoming text and the outgoing text that directly follows it in the
/// same conversation, when positive.
pub fn conversation_features(records: LazyFrame) -> LazyFrame {
    let prev = |c: &str| col(c).shift(lit(1));
    let same_contact = col("user")
        .eq(prev("user"))
        .and(col("period").eq(prev("period")))
        .and(col("corr").eq(prev("corr")))
        .fill_null(lit(false));
    let is_text = col("kind").eq(lit(crate::load::TEXT));
    let since = col("t") - prev("t");
    let conv_start = is_text.clone().and(
        same_contact
            .not()
            .or(prev("kind").eq(lit(crate::load::CALL)))
            .or(since.clone().gt_eq(lit(CONVERSATION_GAP)))
            .fill_null(lit(true)),
    );
    let reply = is_text
        .and(conv_start.clone().not())
        .and(col("out"))
        .and(prev("out").not())
        .and(since.clone().gt(lit(0)))
        .fill_null(lit(false));

    records.with_columns([
        conv_start.clone().alias("conv_start"),
        conv_start.cast(DataType::UInt32).cum_sum(false).alias("conv"),
        when(reply)
            .then(since.cast(DataType::Float64))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("delay"),
    ])
}

fn active_days() -> Expr {
    col("day").n_unique()
}

fn number_of_contacts() -> Expr {
    len()
}

fn call_duration() -> Expr {
    col("dur").cast(DataType::Float64)
}

fn percent_nocturnal() -> Expr {
    col("night").cast(DataType::Float64).mean()
}

fn percent_initiated_conversations() -> Expr {
    col("first_out").cast(DataType::Float64).mean()
}

fn percent_initiated_interactions() -> Expr {
    col("out").cast(DataType::Float64).mean()
}

fn response_delay_text() -> Expr {
    col("delay").drop_nulls()
}

/// Among conversations opened by an incoming text, the share answered.
fn response_rate_text() -> Expr {
    let received = col("first_out").not().cast(DataType::Float64).sum();
    let responded = col("first_out").not().and(col("has_out")).cast(DataType::Float64).sum();
    when(received.clone().gt(lit(0.0)))
        .then(responded / received)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

fn entropy_of_contacts() -> Expr {
    entropy("n")
}

/// Per contact, outgoing interactions over all the period's interactions
/// (`total`, a column rather than an aggregate: dividing by a broadcast
/// scalar may be done as a multiplication that rounds differently).
fn balance_of_contacts() -> Expr {
    col("n_out").cast(DataType::Float64) / col("total").cast(DataType::Float64)
}

fn interactions_per_contact() -> Expr {
    col("n").cast(DataType::Float64)
}

fn interevent_time() -> Expr {
    col("gap").drop_nulls()
}

fn percent_pareto_interactions() -> Expr {
    pareto_count("n").cast(DataType::Float64) / len().cast(DataType::Float64)
}

fn percent_pareto_durations() -> Expr {
    pareto_count("dur").cast(DataType::Float64) / len().cast(DataType::Float64)
}

fn number_of_interactions() -> Expr {
    len()
}

fn number_of_interaction_in() -> Expr {
    col("out").not().sum()
}

fn number_of_interaction_out() -> Expr {
    col("out").sum()
}

macro_rules! indicator {
    ($name:ident, $level:ident, $shape:ident, [$($i:ident),*], empty: $empty:expr, integer: $int:expr) => {
        Indicator {
            name: stringify!($name),
            level: Level::$level,
            shape: Shape::$shape,
            interactions: &[$($i),*],
            expr: $name,
            empty: $empty,
            integer: $int,
        }
    };
}

/// The individual indicators, in the reference's order.
pub fn indicators() -> Vec<Indicator> {
    vec![
        indicator!(active_days, Records, Scalar, [CallAndText], empty: None, integer: true),
        indicator!(number_of_contacts, Contacts, Scalar, [Call, Text], empty: None, integer: true),
        indicator!(call_duration, Records, Distribution, [Call], empty: None, integer: false),
        indicator!(percent_nocturnal, Records, Scalar, [Call, Text], empty: None, integer: false),
        indicator!(percent_initiated_conversations, Conversations, Scalar, [CallAndText], empty: Some(0.0), integer: false),
        indicator!(percent_initiated_interactions, Records, Scalar, [Call], empty: None, integer: false),
        indicator!(response_delay_text, Records, Distribution, [CallAndText], empty: None, integer: false),
        indicator!(response_rate_text, Conversations, Scalar, [CallAndText], empty: None, integer: false),
        indicator!(entropy_of_contacts, Contacts, Scalar, [Call, Text], empty: None, integer: false),
        indicator!(balance_of_contacts, Contacts, Distribution, [Call, Text], empty: None, integer: false),
        indicator!(interactions_per_contact, Contacts, Distribution, [Call, Text], empty: None, integer: false),
        indicator!(interevent_time, Records, Distribution, [Call, Text], empty: None, integer: false),
        indicator!(percent_pareto_interactions, Contacts, Scalar, [Call, Text], empty: None, integer: false),
        indicator!(percent_pareto_durations, Contacts, Scalar, [Call], empty: None, integer: false),
        indicator!(number_of_interactions, Records, Scalar, [Call, Text], empty: None, integer: true),
        indicator!(number_of_interaction_in, Records, Scalar, [Call, Text], empty: None, integer: true),
        indicator!(number_of_interaction_out, Records, Scalar, [Call, Text], empty: None, integer: true),
    ]
}
