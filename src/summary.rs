//! Population summaries: `_all_users_summary.csv` (one row per user, as
//! the batch command writes it) and `_aggregate_stats.json` (mean, sample
//! std, min, max, median and n of every numeric key).

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::batch::write_atomic;
use crate::output::csv::write_csv_row;
use crate::pyfmt::py_str;
use crate::value::Value;

/// The flattened results of the users processed, in processing order.
#[derive(Default)]
pub struct SummaryRows {
    rows: Vec<(String, usize, Vec<(String, Value)>)>,
}

impl SummaryRows {
    pub fn push(&mut self, user: &str, records: usize, flat: Vec<(String, Value)>) {
        self.rows.push((user.to_string(), records, flat));
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The summary's columns: user_id, record_count, then every key sorted.
    fn columns(&self) -> Vec<String> {
        let keys: BTreeSet<&str> = self
            .rows
            .iter()
            .flat_map(|(_, _, flat)| flat.iter().map(|(k, _)| k.as_str()))
            .filter(|k| *k != "user_id" && *k != "record_count")
            .collect();
        let mut columns = vec!["user_id".to_string(), "record_count".to_string()];
        columns.extend(keys.into_iter().map(str::to_string));
        columns
    }

    pub fn write(&self, dir: &Path, processed: usize, failed: usize, elapsed: f64) -> Result<()> {
        let columns = self.columns();

        write_atomic(&dir.join("_all_users_summary.csv"), |w| {
            let header: Vec<Option<&str>> = columns.iter().map(|c| Some(c.as_str())).collect();
            write_csv_row(w, &header)?;
            for (user, records, flat) in &self.rows {
                let by_key: HashMap<&str, &Value> = flat.iter().map(|(k, v)| (k.as_str(), v)).collect();
                let cells: Vec<Option<String>> = columns
                    .iter()
                    .map(|c| match c.as_str() {
                        "user_id" => Some(user.clone()),
                        "record_count" => Some(records.to_string()),
                        key => by_key.get(key).and_then(|v| py_str(v)),
                    })
                    .collect();
                let refs: Vec<Option<&str>> = cells.iter().map(|c| c.as_deref()).collect();
                write_csv_row(w, &refs)?;
            }
            Ok(())
        })?;

        let mut indicators = serde_json::Map::new();
        for (k, column) in columns.iter().enumerate().skip(1) {
            let mut values: Vec<f64> = self
                .rows
                .iter()
                .filter_map(|(_, records, flat)| {
                    if k == 1 {
                        return Some(*records as f64);
                    }
                    flat.iter().find(|(key, _)| key == column).and_then(|(_, v)| numeric(v))
                })
                .collect();
            if values.len() >= 2 {
                indicators.insert(column.clone(), describe(&mut values));
            }
        }
        let stats = serde_json::json!({
            "meta": {
                "generated": chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
                "users_processed": processed,
                "users_failed": failed,
                "processing_time_seconds": elapsed,
            },
            "indicators": indicators,
        });
        let text = serde_json::to_string_pretty(&stats)?;
        write_atomic(&dir.join("_aggregate_stats.json"), |w| w.write_all(text.as_bytes()))
    }
}

/// The number Python's `float(v)` makes of a result value, if any.
fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// mean, sample std, min, max, median and n, as Python's `statistics` gives them.
fn describe(values: &mut [f64]) -> serde_json::Value {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let median = if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 };
    serde_json::json!({
        "mean": mean,
        "std": var.sqrt(),
        "min": values[0],
        "max": values[values.len() - 1],
        "median": median,
        "n": values.len(),
    })
}
