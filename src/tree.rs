//! Turns the engine's columns and a user's loading facts into the nested
//! result tree that bandicoot's `utils.all` returns, key for key.
//!
//! The indicators, nearly all of a tree, share their nesting between users:
//! it is built once per chunk as a [`Block`], and each user's tree holds
//! only the indicators' values (a [`UserTree`]).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::attributes::Attributes;
use crate::calendar::format_datetime;
use crate::load::{UserMeta, IGNORED_FIELDS};
use crate::options::{GroupBy, IndicatorOptions};
use crate::output::flat::Layouts;
use crate::queries::recharges::{is_recharge_key, AVERAGE_BALANCE};
use crate::value::{Block, UserTree, Value};

/// The name and version this tool reports where bandicoot reports its own.
pub const VERSION: &str = concat!("bandicoot-rs ", env!("CARGO_PKG_VERSION"));

/// Run-wide facts that the reporting block repeats for every user.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub antennas_path: Option<String>,
    pub number_of_antennas: usize,
    pub attributes_path: Option<String>,
    pub recharges_path: Option<String>,
    pub options: IndicatorOptions,
}

/// What a user's attributes and recharges files gave.
#[derive(Debug, Clone, Default)]
pub struct UserExtras {
    pub attributes: Attributes,
    /// How many recharges the user has.
    pub recharges: usize,
    /// `average_balance_recharges`, None where it is not defined.
    pub average_balance: Option<f64>,
}

/// One engine column, typed for row access.
enum Data {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

/// The engine's output, ready to be read user by user.
pub struct Rows {
    users: Vec<u32>,
    has_home: Vec<bool>,
    columns: Vec<Data>,
    /// Columns whose zero is reported as the integer 0 (see [`Rows::new`]).
    zero_as_int: Vec<bool>,
    /// The indicator keys, nested, and the leaf of each column in them.
    /// The full one is for users with recharges.
    full: Template,
    /// The same without the recharge family, which users without
    /// recharges do not report.
    without_recharges: Template,
}

/// Nested keys, and for each column the position of its leaf among the
/// block's leaves in tree order (None for a column the template leaves out).
struct Template {
    block: Arc<Block>,
    leaves: Vec<Option<usize>>,
}

impl Template {
    fn new(paths: &[Vec<String>], keep: impl Fn(&[String]) -> bool, layouts: &Layouts) -> Template {
        let mut tree = Value::map();
        for path in paths.iter().filter(|p| keep(p)) {
            let (leaf, parents) = path.split_last().expect("column names are not empty");
            let mut node = &mut tree;
            for key in parents {
                node = node.child(key);
            }
            node.push(leaf.clone(), Value::Null);
        }
        let Value::Map(entries) = tree else { unreachable!("the template is a map") };

        // Nesting interleaves the columns: number the leaves in tree order.
        let mut order = HashMap::new();
        number_leaves(&entries, &mut Vec::new(), &mut order);
        let leaves = paths.iter().map(|path| keep(path).then(|| order[path.as_slice()])).collect();
        Template { block: layouts.block(entries), leaves }
    }
}

/// Numbers the leaves under `entries`, reached by `path`, in tree order.
fn number_leaves(
    entries: &[(crate::value::Key, Value)],
    path: &mut Vec<String>,
    order: &mut HashMap<Vec<String>, usize>,
) {
    for (key, value) in entries {
        path.push(key.to_string());
        match value {
            Value::Map(children) => number_leaves(children, path, order),
            _ => {
                let next = order.len();
                order.insert(path.clone(), next);
            }
        }
        path.pop();
    }
}

impl Rows {
    /// The rows of the engine's frame; the indicators' blocks are shared
    /// through `layouts`.
    pub fn new(df: &DataFrame, options: &IndicatorOptions, layouts: &Layouts) -> Result<Rows> {
        let users = df.column("user")?.u32()?.into_no_null_iter().collect();
        let has_home = df.column("has_home")?.bool()?.iter().map(|v| v.unwrap_or(false)).collect();
        let mut columns = Vec::with_capacity(df.width());
        let mut paths = Vec::with_capacity(df.width());
        for c in df.columns().iter().skip(2) {
            paths.push(c.name().split("__").map(str::to_string).collect::<Vec<String>>());
            let data = match c.dtype() {
                DataType::Int64 => Data::Int(c.i64()?.iter().collect()),
                DataType::Float64 => Data::Float(c.f64()?.iter().collect()),
                DataType::Boolean => Data::Bool(c.bool()?.iter().collect()),
                DataType::Null => Data::Float(vec![None; df.height()]),
                other => bail!("column {} has unexpected type {other}", c.name()),
            };
            columns.push(data);
        }
        // The reference's kurtosis of a spread-less distribution is the
        // integer 0 when nothing is grouped.
        let kurtosis_as_int = options.groupby == GroupBy::None;
        let zero_as_int =
            paths.iter().map(|p| kurtosis_as_int && p.last().is_some_and(|k| k == "kurtosis")).collect();
        // Nesting the keys once per chunk, rather than once per user, keeps
        // the per-user cost to one indexed write per value.
        let full = Template::new(&paths, |_| true, layouts);
        let without_recharges = Template::new(&paths, |p| !is_recharge_key(&p[0]), layouts);

        Ok(Rows { users, has_home, columns, zero_as_int, full, without_recharges })
    }

    /// The user index of each row.
    pub fn users(&self) -> &[u32] {
        &self.users
    }

    /// The result tree of the user at `row`.
    pub fn tree(
        &self,
        row: usize,
        name: &str,
        meta: &UserMeta,
        extras: &UserExtras,
        facts: &RunFacts,
    ) -> UserTree {
        let mut root = Value::map();
        root.push("name", Value::Str(name.to_string()));
        root.push("reporting", reporting(meta, extras, self.has_home[row], facts));
        // The indicators come next, before every entry pushed below.
        let at = 2;

        let template = if extras.recharges > 0 { &self.full } else { &self.without_recharges };
        let mut values = vec![Value::Null; template.block.leaves()];
        for ((data, &zero_as_int), leaf) in self.columns.iter().zip(&self.zero_as_int).zip(&template.leaves) {
            let Some(leaf) = *leaf else { continue };
            values[leaf] = match data {
                Data::Int(v) => v[row].map_or(Value::Null, Value::Int),
                Data::Float(v) if zero_as_int && v[row] == Some(0.0) => Value::Int(0),
                Data::Float(v) => Value::opt_f64(v[row]),
                Data::Bool(v) => v[row].map_or(Value::Null, Value::Bool),
            };
        }

        // Not grouped nor split: one number per user, after the grouped ones.
        if extras.recharges > 0 {
            root.push(AVERAGE_BALANCE, Value::opt_f64(extras.average_balance));
        }
        if !extras.attributes.is_empty() {
            let mut attributes = Value::map();
            for (key, value) in &extras.attributes {
                attributes.push(key.clone(), Value::Str(value.clone()));
            }
            root.push("attributes", attributes);
        }
        UserTree { root, at, block: Arc::clone(&template.block), values }
    }
}

fn opt_str(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::Str(s.clone()))
}

/// The `reporting` block, in the reference's key order.
fn reporting(meta: &UserMeta, extras: &UserExtras, has_home: bool, facts: &RunFacts) -> Value {
    let opts = &facts.options;
    let mut r = Value::map();
    r.push("antennas_path", opt_str(&facts.antennas_path));
    r.push("attributes_path", opt_str(&facts.attributes_path));
    r.push("recharges_path", opt_str(&facts.recharges_path));
    r.push("version", Value::Str(VERSION.to_string()));
    r.push("code_signature", Value::Str(VERSION.to_string()));
    r.push("groupby", opts.groupby.reported().map_or(Value::Null, |g| Value::Str(g.to_string())));
    r.push("split_week", Value::Bool(opts.split_week));
    r.push("split_day", Value::Bool(opts.split_day));
    r.push("start_time", Value::Str(format_datetime(meta.start)));
    r.push("end_time", Value::Str(format_datetime(meta.end)));
    r.push("night_start", Value::Str("19:00:00".into()));
    r.push("night_end", Value::Str("07:00:00".into()));
    r.push("weekend", Value::List(vec![Value::Int(6), Value::Int(7)]));
    r.push("number_of_records", Value::Int(meta.records as i64));
    r.push("number_of_antennas", Value::Int(facts.number_of_antennas as i64));
    r.push("number_of_recharges", Value::Int(extras.recharges as i64));
    r.push("bins", Value::Int(meta.bins));
    r.push("bins_with_data", Value::Int(meta.bins_with_data));
    r.push("bins_without_data", Value::Int(meta.bins - meta.bins_with_data));
    r.push("has_call", Value::Bool(meta.has_call));
    r.push("has_text", Value::Bool(meta.has_text));
    r.push("has_home", Value::Bool(has_home));
    r.push("has_recharges", Value::Bool(extras.recharges > 0));
    r.push("has_attributes", Value::Bool(!extras.attributes.is_empty()));
    r.push("has_network", Value::Bool(false));
    r.push("percent_records_missing_location", Value::Float(meta.missing_location));
    r.push("antennas_missing_locations", Value::Int(meta.antennas_missing_locations as i64));
    for key in ["calls", "texts", "contacts", "call_durations"] {
        r.push(format!("percent_outofnetwork_{key}"), Value::Int(0));
    }
    let mut ignored = Value::map();
    for (name, count) in IGNORED_FIELDS.iter().zip(meta.ignored) {
        ignored.push(*name, Value::Int(count as i64));
    }
    r.push("ignored_records", ignored);
    r
}
