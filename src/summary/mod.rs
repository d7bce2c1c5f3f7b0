//! Population summaries, built column-wise from the journal's shards:
//! `_all_users_summary.csv` (user_id, record_count, then every flattened key
//! sorted, as the batch command writes it), `_all_users_summary.parquet`
//! (the same table with typed columns) and `_aggregate_stats.json` (mean,
//! sample std, min, max, median and n of every numeric key).

mod aggregate;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use polars::prelude::*;

use crate::batch::write_atomic;
use crate::output::csv::{end_row, push_csv_row, push_field};
use crate::output::flat::{Flat, Layout};
use crate::pyfmt::{float_repr, push_float_repr, push_i64, py_str};
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

/// A typed column of the summary table, its values copied out once so
/// that rows read them by plain indexing.
enum Cells<'a> {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<&'a str>>),
    /// A type that shards do not make; read through `AnyValue`.
    Other(&'a Column),
}

impl<'a> Cells<'a> {
    fn new(column: &'a Column) -> Cells<'a> {
        let typed = match column.dtype() {
            DataType::Boolean => column.bool().ok().map(|c| Cells::Bool(c.iter().collect())),
            DataType::Int64 => column.i64().ok().map(|c| Cells::Int(c.iter().collect())),
            DataType::Float64 => column.f64().ok().map(|c| Cells::Float(c.iter().collect())),
            DataType::String => column.str().ok().map(|c| Cells::Text(c.iter().collect())),
            _ => None,
        };
        typed.unwrap_or(Cells::Other(column))
    }

    /// Appends Python's `str()` of row `i` as a CSV field; nothing for a
    /// null.
    fn push(&self, out: &mut String, i: usize) {
        match self {
            Cells::Bool(c) => {
                if let Some(b) = c[i] {
                    out.push_str(if b { "True" } else { "False" });
                }
            }
            Cells::Int(c) => {
                if let Some(v) = c[i] {
                    push_i64(out, v);
                }
            }
            // Numbers never hold a character that needs quotes.
            Cells::Float(c) => {
                if let Some(v) = c[i] {
                    push_float_repr(out, v);
                }
            }
            Cells::Text(c) => {
                if let Some(v) = c[i] {
                    push_field(out, v);
                }
            }
            Cells::Other(c) => {
                if let Some(text) = c.get(i).ok().and_then(cell) {
                    push_field(out, &text);
                }
            }
        }
    }
}

/// Python's `str()` of one cell of a column of another type; `None` is an
/// empty cell.
fn cell(value: AnyValue) -> Option<String> {
    match value {
        AnyValue::Null => None,
        AnyValue::Boolean(b) => Some(if b { "True" } else { "False" }.to_string()),
        AnyValue::Int64(i) => Some(i.to_string()),
        AnyValue::Float64(f) => Some(float_repr(f)),
        AnyValue::String(s) => Some(s.to_string()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

/// Flush the summary CSV to the file past this many bytes.
const CSV_FLUSH_BYTES: usize = 1 << 16;

/// Writes the three summaries of every processed user in `journal`.
pub fn write(dir: &Path, journal: DataFrame, processed: usize, failed: usize, elapsed: f64) -> Result<()> {
    let table = journal
        .lazy()
        .filter(col("status").eq(lit(OK)))
        .sort(["user_id"], SortMultipleOptions::default().with_maintain_order(true))
        .collect()?;
    let mut keys: Vec<String> = table
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .filter(|k| !matches!(k.as_str(), "user_id" | "record_count" | "status"))
        .collect();
    keys.sort();
    let mut order = vec!["user_id".to_string(), "record_count".to_string()];
    order.extend(keys);
    let mut table = table.select(order.iter().map(|s| s.as_str()))?;
    // One chunk per column: float reductions then do not depend on how
    // many shards the journal held.
    table.rechunk_mut_par();
    if table.height() == 0 {
        return Ok(());
    }

    // The CSV text is built on a thread of its own while Polars writes the
    // Parquet file and reduces the columns (a plain thread: Polars runs its
    // own pool, which a worker of another pool should not wait on).
    let (csv, parquet, stats) = std::thread::scope(|scope| {
        let csv = scope.spawn(|| write_csv(dir, &table, &order));
        let parquet = write_atomic(&dir.join("_all_users_summary.parquet"), |w| {
            ParquetWriter::new(w).finish(&mut table.clone()).map(|_| ()).map_err(std::io::Error::other)
        });
        let stats = aggregate::indicators(&table);
        (csv.join(), parquet, stats)
    });
    csv.map_err(|_| anyhow::anyhow!("writing the summary CSV panicked"))??;
    parquet?;
    let stats = stats?;
    let doc = serde_json::json!({
        "meta": {
            "generated": chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            "users_processed": processed,
            "users_failed": failed,
            "processing_time_seconds": elapsed,
        },
        "indicators": stats,
    });
    let text = serde_json::to_string_pretty(&doc)?;
    write_atomic(&dir.join("_aggregate_stats.json"), |w| w.write_all(text.as_bytes()))
}

/// `_all_users_summary.csv`: the columns of `table` in `order`, one row a user.
fn write_csv(dir: &Path, table: &DataFrame, order: &[String]) -> Result<()> {
    write_atomic(&dir.join("_all_users_summary.csv"), |w| {
        let columns: Vec<Cells> = table.columns().iter().map(Cells::new).collect();
        let mut text = String::with_capacity(2 * CSV_FLUSH_BYTES);
        push_csv_row(&mut text, order.iter().map(|c| Some(c.as_str())));
        for i in 0..table.height() {
            let row_start = text.len();
            for (j, column) in columns.iter().enumerate() {
                if j > 0 {
                    text.push(',');
                }
                column.push(&mut text, i);
            }
            end_row(&mut text, row_start, columns.len());
            if text.len() > CSV_FLUSH_BYTES {
                w.write_all(text.as_bytes())?;
                text.clear();
            }
        }
        w.write_all(text.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::output::flat::Layouts;
    use crate::value::test_trees::{map, text};

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
        let row = |user: &str, tree: Option<&Value>| ShardRow {
            user: user.to_string(),
            status: if tree.is_some() { OK } else { SKIPPED },
            records: tree.map(|_| 10),
            flat: tree.map(|t| layouts.flatten(t)),
        };
        let rows = [
            row("u1", Some(&plain(0.5))),
            row("u2", None),
            row("u3", Some(&with_extra)),
            row("u4", Some(&plain(-1.0))),
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
    }
}
