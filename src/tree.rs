//! Turns the engine's columns and a user's loading facts into the nested
//! result tree that bandicoot's `utils.all` returns, key for key.
//!
//! The indicators, nearly all of a tree, share their nesting between users:
//! it is built once per chunk as a [`Block`], and each user's tree holds
//! only the indicators' values (a [`UserTree`]).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use anyhow::{bail, Result};
use polars::prelude::*;
use rayon::prelude::*;

use crate::attributes::Attributes;
use crate::calendar::format_datetime;
use crate::load::{UserMeta, IGNORED_FIELDS};
use crate::options::{GroupBy, IndicatorOptions};
use crate::output::flat::Layouts;
use crate::queries::recharges::{is_recharge_key, AVERAGE_BALANCE};
use crate::value::{Block, Key, UserTree, Value};

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

/// One value of the engine's output: a [`Value`] leaf, in half the room.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Cell {
    fn value(self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Int(i),
            Cell::Float(f) => Value::Float(f),
            Cell::Bool(b) => Value::Bool(b),
        }
    }
}

/// The engine's output, ready to be read user by user.
pub struct Rows {
    users: Vec<u32>,
    has_home: Vec<bool>,
    /// The indicator columns.
    columns: Vec<Vec<Cell>>,
    /// The indicator keys, nested, and the leaf of each column in them.
    /// The full one is for users with recharges.
    full: Template,
    /// The same without the recharge family, which users without
    /// recharges do not report.
    without_recharges: Template,
}

/// Nested keys, and the column of each of the block's leaves in tree order.
struct Template {
    block: Arc<Block>,
    columns: Vec<usize>,
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
        let mut columns = vec![0; order.len()];
        for (column, path) in paths.iter().enumerate().filter(|(_, p)| keep(p)) {
            columns[order[path.as_slice()]] = column;
        }
        Template { block: layouts.block(entries), columns }
    }
}

/// Numbers the leaves under `entries`, reached by `path`, in tree order.
fn number_leaves(entries: &[(Key, Value)], path: &mut Vec<String>, order: &mut HashMap<Vec<String>, usize>) {
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

/// A column's values as cells, a zero as the integer 0 if `zero_as_int`.
fn cells(c: &Column, zero_as_int: bool) -> Result<Vec<Cell>> {
    Ok(match c.dtype() {
        DataType::Int64 => c.i64()?.iter().map(|v| v.map_or(Cell::Null, Cell::Int)).collect(),
        DataType::Float64 => c
            .f64()?
            .iter()
            .map(|v| match v {
                Some(v) if zero_as_int && v == 0.0 => Cell::Int(0),
                Some(v) => Cell::Float(v),
                None => Cell::Null,
            })
            .collect(),
        DataType::Boolean => c.bool()?.iter().map(|v| v.map_or(Cell::Null, Cell::Bool)).collect(),
        DataType::Null => vec![Cell::Null; c.len()],
        other => bail!("column {} has unexpected type {other}", c.name()),
    })
}

impl Rows {
    /// The rows of the engine's frame; the indicators' blocks are shared
    /// through `layouts`.
    pub fn new(df: &DataFrame, options: &IndicatorOptions, layouts: &Layouts) -> Result<Rows> {
        let users = df.column("user")?.u32()?.into_no_null_iter().collect();
        let has_home = df.column("has_home")?.bool()?.iter().map(|v| v.unwrap_or(false)).collect();
        let indicators = &df.columns()[2..];
        let paths: Vec<Vec<String>> =
            indicators.iter().map(|c| c.name().split("__").map(str::to_string).collect()).collect();

        // The reference's kurtosis of a spread-less distribution is the
        // integer 0 when nothing is grouped.
        let kurtosis_as_int = options.groupby == GroupBy::None;
        // Column by column on the workers: a thousand and more with splits.
        let columns = indicators
            .par_iter()
            .zip(&paths)
            .map(|(c, path)| {
                let zero_as_int = kurtosis_as_int && path.last().is_some_and(|k| k == "kurtosis");
                cells(c, zero_as_int)
            })
            .collect::<Result<_>>()?;

        // Nesting the keys once per chunk, rather than once per user, keeps
        // the per-user cost to one indexed write per value.
        let full = Template::new(&paths, |_| true, layouts);
        let without_recharges = Template::new(&paths, |p| !is_recharge_key(&p[0]), layouts);

        Ok(Rows { users, has_home, columns, full, without_recharges })
    }

    /// The user index of each row.
    pub fn users(&self) -> &[u32] {
        &self.users
    }

    /// The result trees of the users at `rows`, whose name, loading facts
    /// and extras `user` gives by row.
    ///
    /// A row's values are spread over a thousand columns, a cache miss
    /// each when read alone; neighbouring rows share the cache lines, so a
    /// few rows are best read together, column by column, each row's
    /// values written in order.
    pub fn trees<'a>(
        &self,
        rows: Range<usize>,
        facts: &RunFacts,
        user: impl Fn(usize) -> (&'a str, &'a UserMeta, &'a UserExtras),
    ) -> Vec<UserTree> {
        let mut trees = Vec::with_capacity(rows.len());
        let mut templates = Vec::with_capacity(rows.len());
        for row in rows.clone() {
            let (name, meta, extras) = user(row);
            let template = if extras.recharges > 0 { &self.full } else { &self.without_recharges };
            trees.push(self.tree_without_indicators(row, name, meta, extras, facts, template));
            templates.push(template);
        }

        for template in [&self.full, &self.without_recharges] {
            let members: Vec<usize> =
                (0..trees.len()).filter(|&i| std::ptr::eq(templates[i], template)).collect();
            if members.is_empty() {
                continue;
            }
            for &column in &template.columns {
                let cells = &self.columns[column][rows.clone()];
                for &i in &members {
                    trees[i].values.push(cells[i].value());
                }
            }
        }
        trees
    }

    /// The result tree of the user at `row`, without the indicators'
    /// values, which go in the room left for them.
    fn tree_without_indicators(
        &self,
        row: usize,
        name: &str,
        meta: &UserMeta,
        extras: &UserExtras,
        facts: &RunFacts,
        template: &Template,
    ) -> UserTree {
        let mut root = Value::map();
        root.push("name", Value::Str(name.to_string()));
        root.push("reporting", reporting(meta, extras, self.has_home[row], facts));
        // The indicators come next, before every entry pushed below.
        let at = 2;
        let values = Vec::with_capacity(template.block.leaves());

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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::options::Stats;
    use crate::value::test_trees::map;

    fn facts(groupby: GroupBy) -> RunFacts {
        RunFacts {
            antennas_path: None,
            number_of_antennas: 0,
            attributes_path: None,
            recharges_path: None,
            options: IndicatorOptions {
                groupby,
                split_week: false,
                split_day: false,
                stats: Stats::Extended,
            },
        }
    }

    /// Three users' rows, read together, give each user's own values in
    /// the nesting of the column names; recharge columns only for users
    /// with recharges, a zero kurtosis as the integer 0 when nothing is
    /// grouped.
    #[test]
    fn trees_nest_each_rows_values() {
        let df = df!(
            "user" => [2u32, 0, 1],
            "has_home" => [true, false, true],
            "calls__allweek__mean" => [Some(1.5), None, Some(-0.0)],
            "calls__allweek__kurtosis" => [0.0, 2.5, 0.0],
            "texts" => [Some(3i64), Some(4), None],
            "amount_recharges__mean" => [Some(10.0), None, None],
            "calls__allweek__active" => [Some(true), None, Some(false)],
        )
        .unwrap();
        let facts = facts(GroupBy::None);
        let layouts = Layouts::default();
        let rows = Rows::new(&df, &facts.options, &layouts).unwrap();
        assert_eq!(rows.users(), [2, 0, 1]);

        let meta = UserMeta::default();
        let with_recharges = UserExtras { recharges: 2, average_balance: Some(7.0), ..Default::default() };
        let without = UserExtras::default();
        let names = ["u0", "u1", "u2"];
        let user = |row: usize| (names[row], &meta, if row == 0 { &with_recharges } else { &without });
        let trees = rows.trees(0..3, &facts, user);

        let indicators = |tree: &UserTree| {
            let Value::Map(entries) = tree.to_value() else { panic!("a map") };
            let keys: Vec<String> = entries.iter().map(|(k, _)| k.to_string()).collect();
            assert_eq!(keys[..2], ["name", "reporting"]);
            Value::Map(entries[2..].to_vec())
        };
        let calls = |mean: Value, kurtosis: Value, active: Value| {
            (
                "calls",
                map(vec![("allweek", map(vec![("mean", mean), ("kurtosis", kurtosis), ("active", active)]))]),
            )
        };
        assert_eq!(
            indicators(&trees[0]),
            map(vec![
                calls(Value::Float(1.5), Value::Int(0), Value::Bool(true)),
                ("texts", Value::Int(3)),
                ("amount_recharges", map(vec![("mean", Value::Float(10.0))])),
                (AVERAGE_BALANCE, Value::Float(7.0)),
            ])
        );
        assert_eq!(
            indicators(&trees[1]),
            map(vec![calls(Value::Null, Value::Float(2.5), Value::Null), ("texts", Value::Int(4))])
        );
        assert_eq!(
            indicators(&trees[2]),
            map(vec![calls(Value::Float(-0.0), Value::Int(0), Value::Bool(false)), ("texts", Value::Null)])
        );

        // A row read alone is the same tree, and its block is shared.
        let alone = rows.trees(2..3, &facts, user);
        assert_eq!(alone[0].to_value(), trees[2].to_value());
        assert!(Arc::ptr_eq(&alone[0].block, &trees[1].block));
        assert!(!Arc::ptr_eq(&trees[0].block, &trees[1].block));
    }

    /// Grouped results keep a zero kurtosis a float.
    #[test]
    fn grouped_kurtosis_stays_a_float() {
        let df = df!("user" => [0u32], "has_home" => [false], "calls__kurtosis" => [0.0]).unwrap();
        let facts = facts(GroupBy::Week);
        let rows = Rows::new(&df, &facts.options, &Layouts::default()).unwrap();
        let meta = UserMeta::default();
        let extras = UserExtras::default();
        let trees = rows.trees(0..1, &facts, |_| ("u", &meta, &extras));
        assert_eq!(trees[0].values, [Value::Float(0.0)]);
    }
}
