//! Population summaries, built column-wise from the journal's shards:
//! `_all_users_summary.csv` (user_id, record_count, then every flattened key
//! sorted, as the batch command writes it), `_all_users_summary.parquet`
//! (the same table with typed columns) and `_aggregate_stats.json` (mean,
//! sample std, min, max, median and n of every numeric key).

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use polars::prelude::*;

use crate::batch::write_atomic;
use crate::load::parse_py_float;
use crate::output::csv::write_csv_row;
use crate::pyfmt::{float_repr, py_str};
use crate::value::Value;

/// Status of a user in a shard.
pub const OK: &str = "ok";
pub const SKIPPED: &str = "skip";

/// One finished user, as a shard row.
pub struct ShardRow {
    pub user: String,
    pub status: &'static str,
    pub records: Option<i64>,
    pub flat: Vec<(String, Value)>,
}

/// A shard's frame: user_id, status, record_count, then one typed column
/// per flattened key (floats, integers, booleans or text; null where absent).
pub fn shard(rows: &[ShardRow]) -> Result<DataFrame> {
    let mut keys: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for row in rows {
        for (k, _) in &row.flat {
            if !seen.contains_key(k.as_str()) {
                seen.insert(k.as_str(), keys.len());
                keys.push(k.as_str());
            }
        }
    }

    let n = rows.len();
    let mut cells: Vec<Vec<Option<&Value>>> = vec![vec![None; n]; keys.len()];
    for (i, row) in rows.iter().enumerate() {
        for (k, v) in &row.flat {
            cells[seen[k.as_str()]][i] = Some(v);
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

/// Python's `str()` of one cell of a typed column; `None` is an empty cell.
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

    write_atomic(&dir.join("_all_users_summary.csv"), |w| {
        let header: Vec<Option<&str>> = order.iter().map(|c| Some(c.as_str())).collect();
        write_csv_row(w, &header)?;
        let columns = table.columns();
        for i in 0..table.height() {
            let row: Vec<Option<String>> = columns.iter().map(|c| c.get(i).ok().and_then(cell)).collect();
            let refs: Vec<Option<&str>> = row.iter().map(|c| c.as_deref()).collect();
            write_csv_row(w, &refs)?;
        }
        Ok(())
    })?;

    write_atomic(&dir.join("_all_users_summary.parquet"), |w| {
        ParquetWriter::new(w).finish(&mut table).map(|_| ()).map_err(std::io::Error::other)
    })?;

    let stats = aggregate(&table)?;
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

/// mean, sample std, min, max, median and n of each numeric column with
/// at least two values, by columnar reductions. Text that reads as a
/// number counts as that number, as the reference takes `float()` of every
/// cell: attributes such as an age are text in the results.
fn aggregate(table: &DataFrame) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut columns = Vec::new();
    for c in table.columns() {
        let name = c.name().as_str();
        match c.dtype() {
            DataType::Float64 | DataType::Int64 | DataType::Boolean => {
                columns.push(c.cast(&DataType::Float64)?);
            }
            DataType::String if name != "user_id" => {
                let parsed: Vec<Option<f64>> = c.str()?.iter().map(|v| v.and_then(parse_py_float)).collect();
                if parsed.iter().any(Option::is_some) {
                    columns.push(Column::new(c.name().clone(), parsed));
                }
            }
            _ => {}
        }
    }
    let numeric: Vec<String> = columns.iter().map(|c| c.name().to_string()).collect();
    let values = DataFrame::new(table.height(), columns)?;

    let mut exprs = Vec::with_capacity(numeric.len() * 6);
    for name in &numeric {
        let x = col(name.as_str());
        exprs.push(x.clone().mean().alias(format!("{name}\x1fmean")));
        exprs.push(x.clone().std(1).alias(format!("{name}\x1fstd")));
        exprs.push(x.clone().min().alias(format!("{name}\x1fmin")));
        exprs.push(x.clone().max().alias(format!("{name}\x1fmax")));
        exprs.push(x.clone().median().alias(format!("{name}\x1fmedian")));
        exprs.push(x.count().cast(DataType::Float64).alias(format!("{name}\x1fn")));
    }
    let row = values.lazy().select(exprs).collect()?;

    let mut out = serde_json::Map::new();
    for name in &numeric {
        let get =
            |stat: &str| row.column(&format!("{name}\x1f{stat}")).ok().and_then(|c| c.f64().ok()?.get(0));
        let n = get("n").unwrap_or(0.0) as usize;
        if n < 2 {
            continue;
        }
        let mut entry = serde_json::Map::new();
        for stat in ["mean", "std", "min", "max", "median"] {
            entry.insert(stat.into(), get(stat).map_or(serde_json::Value::Null, |v| serde_json::json!(v)));
        }
        entry.insert("n".into(), serde_json::json!(n));
        out.insert(name.to_string(), serde_json::Value::Object(entry));
    }
    Ok(out)
}
