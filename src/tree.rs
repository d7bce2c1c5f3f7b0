//! Turns the engine's columns and a user's loading facts into the nested
//! result tree that bandicoot's `utils.all` returns, key for key.

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::attributes::Attributes;
use crate::calendar::format_datetime;
use crate::load::{UserMeta, IGNORED_FIELDS};
use crate::options::{GroupBy, IndicatorOptions};
use crate::queries::recharges::{is_recharge_key, AVERAGE_BALANCE};
use crate::value::Value;

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
    columns: Vec<(Vec<String>, Data)>,
    kurtosis_as_int: bool,
    /// The indicator keys, nested, with null leaves: each user's tree
    /// starts as a copy of it, and where each column's leaf sits in it.
    /// The full one is for users with recharges.
    full: Template,
    /// The same without the recharge family, which users without
    /// recharges do not report.
    without_recharges: Template,
}

/// Nested keys with null leaves, and the index path of each column's leaf
/// (None for a column the template leaves out).
struct Template {
    tree: Value,
    leaves: Vec<Option<Vec<usize>>>,
}

impl Template {
    fn new(paths: &[&[String]], keep: impl Fn(&[String]) -> bool) -> Template {
        let mut tree = Value::map();
        for path in paths.iter().filter(|p| keep(p)) {
            let (leaf, parents) = path.split_last().expect("column names are not empty");
            let mut node = &mut tree;
            for key in parents {
                node = node.child(key);
            }
            node.push(leaf.clone(), Value::Null);
        }
        let leaves = paths
            .iter()
            .map(|path| keep(path).then(|| tree.index_path(path).expect("a key just added")))
            .collect();
        Template { tree, leaves }
    }
}

impl Rows {
    pub fn new(df: &DataFrame, options: &IndicatorOptions) -> Result<Rows> {
        let users = df.column("user")?.u32()?.into_no_null_iter().collect();
        let has_home = df.column("has_home")?.bool()?.iter().map(|v| v.unwrap_or(false)).collect();
        let mut columns = Vec::with_capacity(df.width());
        for c in df.columns().iter().skip(2) {
            let path: Vec<String> = c.name().split("__").map(str::to_string).collect();
            let data = match c.dtype() {
                DataType::Int64 => Data::Int(c.i64()?.iter().collect()),
                DataType::Float64 => Data::Float(c.f64()?.iter().collect()),
                DataType::Boolean => Data::Bool(c.bool()?.iter().collect()),
                DataType::Null => Data::Float(vec![None; df.height()]),
                other => bail!("column {} has unexpected type {other}", c.name()),
            };
            columns.push((path, data));
        }
        // Nesting the keys once per chunk, rather than once per user, keeps
        // the per-user cost to a copy and one indexed write per value.
        let paths: Vec<&[String]> = columns.iter().map(|(p, _)| p.as_slice()).collect();
        let full = Template::new(&paths, |_| true);
        let without_recharges = Template::new(&paths, |p| !is_recharge_key(&p[0]));

        Ok(Rows {
            users,
            has_home,
            columns,
            kurtosis_as_int: options.groupby == GroupBy::None,
            full,
            without_recharges,
        })
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
    ) -> Value {
        let mut root = Value::map();
        root.push("name", Value::Str(name.to_string()));
        root.push("reporting", reporting(meta, extras, self.has_home[row], facts));

        let template = if extras.recharges > 0 { &self.full } else { &self.without_recharges };
        let mut indicators = template.tree.clone();
        for ((path, data), leaf) in self.columns.iter().zip(&template.leaves) {
            let Some(leaf) = leaf else { continue };
            let value = match data {
                Data::Int(v) => v[row].map_or(Value::Null, Value::Int),
                // The reference's kurtosis of a spread-less distribution is the integer 0.
                Data::Float(v)
                    if self.kurtosis_as_int
                        && v[row] == Some(0.0)
                        && path.last().is_some_and(|k| k == "kurtosis") =>
                {
                    Value::Int(0)
                }
                Data::Float(v) => Value::opt_f64(v[row]),
                Data::Bool(v) => v[row].map_or(Value::Null, Value::Bool),
            };
            *indicators.at_mut(leaf) = value;
        }
        if let (Value::Map(root), Value::Map(rest)) = (&mut root, indicators) {
            root.extend(rest);
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
        root
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
