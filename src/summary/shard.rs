//! A chunk's users as a frame: the journal's shard, and this run's part of
//! the summary table.

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;

use crate::output::flat::{Flat, Layout};
use crate::pyfmt::py_str;
use crate::value::Value;

/// Status of a user in a shard.
pub const OK: &str = "ok";
pub const SKIPPED: &str = "skip";

/// One finished user, as a shard row.
pub struct ShardRow {
    pub user: String,
    pub status: &'static str,
    pub records: Option<i64>,
    /// The user's flattened results; None for a skipped user.
    pub flat: Option<Flat>,
}

/// A shard's frame: user_id, status, record_count, then one typed column
/// per flattened key (floats, integers, booleans or text; null where absent).
/// Columns come in the order their keys first appear in the rows.
pub fn shard(rows: &[ShardRow]) -> Result<DataFrame> {
    // Users share a few layouts: each layout's keys are placed in columns
    // once, and its rows then go straight to those columns.
    let mut keys: Vec<&str> = Vec::new();
    let mut column_of_key: HashMap<&str, usize> = HashMap::new();
    let mut columns_of_layout: Vec<Vec<usize>> = Vec::new();
    let mut layout_at: HashMap<*const Layout, usize> = HashMap::new();
    let mut row_columns: Vec<Option<usize>> = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(flat) = &row.flat else {
            row_columns.push(None);
            continue;
        };
        let layout: &Layout = &flat.layout;
        let at = *layout_at.entry(std::ptr::from_ref(layout)).or_insert_with(|| {
            let columns = layout
                .keys()
                .iter()
                .map(|k| {
                    *column_of_key.entry(k.as_str()).or_insert_with(|| {
                        keys.push(k.as_str());
                        keys.len() - 1
                    })
                })
                .collect();
            columns_of_layout.push(columns);
            columns_of_layout.len() - 1
        });
        row_columns.push(Some(at));
    }

    let n = rows.len();
    let mut cells: Vec<Vec<Option<&Value>>> = vec![vec![None; n]; keys.len()];
    for (i, (row, layout_at)) in rows.iter().zip(&row_columns).enumerate() {
        let (Some(flat), Some(at)) = (&row.flat, layout_at) else { continue };
        for (value, &column) in flat.values.iter().zip(&columns_of_layout[*at]) {
            cells[column][i] = Some(value);
        }
    }

    let mut columns = vec![
        Column::new("user_id".into(), rows.iter().map(|r| r.user.as_str()).collect::<Vec<_>>()),
        Column::new("status".into(), rows.iter().map(|r| r.status).collect::<Vec<_>>()),
        Column::new("record_count".into(), rows.iter().map(|r| r.records).collect::<Vec<_>>()),
    ];
    for (key, values) in keys.iter().zip(cells) {
        columns.push(typed_column(key, &values));
    }
    Ok(DataFrame::new(n, columns)?)
}

/// The narrowest column type that holds every value of a key.
fn typed_column(name: &str, values: &[Option<&Value>]) -> Column {
    let present = || values.iter().flatten().filter(|v| !matches!(v, Value::Null));
    let name = PlSmallStr::from(name);
    if present().all(|v| matches!(v, Value::Bool(_))) && present().next().is_some() {
        let col: Vec<Option<bool>> = values
            .iter()
            .map(|v| v.and_then(|v| if let Value::Bool(b) = v { Some(*b) } else { None }))
            .collect();
        return Column::new(name, col);
    }
    if present().all(|v| matches!(v, Value::Int(_))) {
        let col: Vec<Option<i64>> = values
            .iter()
            .map(|v| v.and_then(|v| if let Value::Int(i) = v { Some(*i) } else { None }))
            .collect();
        return Column::new(name, col);
    }
    if present().all(|v| matches!(v, Value::Int(_) | Value::Float(_))) {
        let col: Vec<Option<f64>> = values
            .iter()
            .map(|v| match v {
                Some(Value::Int(i)) => Some(*i as f64),
                Some(Value::Float(f)) => Some(*f),
                _ => None,
            })
            .collect();
        return Column::new(name, col);
    }
    let col: Vec<Option<String>> = values.iter().map(|v| v.and_then(py_str)).collect();
    Column::new(name, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::output::flat::Layouts;
    use crate::value::test_trees::{map, text};

    fn row(layouts: &Layouts, user: &str, tree: Option<&Value>) -> ShardRow {
        ShardRow {
            user: user.to_string(),
            status: if tree.is_some() { OK } else { SKIPPED },
            records: tree.map(|_| 10),
            flat: tree.map(|t| layouts.flatten(t)),
        }
    }

    /// Rows of two layouts and a skipped user: each key gets one column,
    /// in first-seen order, typed by its values, null where a row lacks it.
    #[test]
    fn shard_places_every_layout_in_shared_columns() {
        let layouts = Layouts::default();
        let plain = |x: f64| map(vec![("name", text("u")), ("a", map(vec![("x", Value::Float(x))]))]);
        let with_extra = map(vec![
            ("name", text("w")),
            ("a", map(vec![("x", Value::Int(4))])),
            ("flag", Value::Bool(true)),
        ]);
        let rows = [
            row(&layouts, "u1", Some(&plain(0.5))),
            row(&layouts, "u2", None),
            row(&layouts, "u3", Some(&with_extra)),
            row(&layouts, "u4", Some(&plain(-1.0))),
        ];

        let df = shard(&rows).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["user_id", "status", "record_count", "name", "a__x", "flag"]);
        let x: Vec<Option<f64>> = df.column("a__x").unwrap().f64().unwrap().iter().collect();
        assert_eq!(x, [Some(0.5), None, Some(4.0), Some(-1.0)]);
        let flag: Vec<Option<bool>> = df.column("flag").unwrap().bool().unwrap().iter().collect();
        assert_eq!(flag, [None, None, Some(true), None]);
        let name: Vec<Option<&str>> = df.column("name").unwrap().str().unwrap().iter().collect();
        assert_eq!(name, [Some("u"), None, Some("w"), Some("u")]);
        let records: Vec<Option<i64>> = df.column("record_count").unwrap().i64().unwrap().iter().collect();
        assert_eq!(records, [Some(10), None, Some(10), Some(10)]);
    }

    /// Mixed values fall back to a wider type: booleans with integers, or
    /// anything with text, are text as Python's `str()` writes it; a key
    /// whose values are all None is a column of null integers.
    #[test]
    fn mixed_values_take_the_narrowest_common_type() {
        let layouts = Layouts::default();
        let tree = |a: Value, b: Value, c: Value| map(vec![("a", a), ("b", b), ("c", c)]);
        let rows = [
            row(&layouts, "u1", Some(&tree(Value::Bool(true), Value::Float(0.25), Value::Null))),
            row(&layouts, "u2", Some(&tree(Value::Int(4), text("x"), Value::Null))),
            row(&layouts, "u3", Some(&tree(Value::Null, Value::Int(7), Value::Null))),
        ];

        let df = shard(&rows).unwrap();
        let a: Vec<Option<&str>> = df.column("a").unwrap().str().unwrap().iter().collect();
        assert_eq!(a, [Some("True"), Some("4"), None]);
        let b: Vec<Option<&str>> = df.column("b").unwrap().str().unwrap().iter().collect();
        assert_eq!(b, [Some("0.25"), Some("x"), Some("7")]);
        let c = df.column("c").unwrap();
        assert_eq!((c.dtype(), c.null_count()), (&DataType::Int64, 3));
    }
}
