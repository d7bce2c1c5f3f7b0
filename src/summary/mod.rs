//! Population summaries, built column-wise from the run's shards (see
//! [`shard`]): `_all_users_summary.csv` (user_id, record_count, then every
//! flattened key sorted, as the batch command writes it),
//! `_all_users_summary.parquet` (the same table with typed columns) and
//! `_aggregate_stats.json` (mean, sample std, min, max, median and n of
//! every numeric key).

mod aggregate;
mod csv;
mod shard;

use std::path::Path;

use anyhow::Result;
use polars::prelude::*;

use crate::batch::{write_atomic, write_bytes_atomic};
use crate::parquet::{self, Purpose};

pub use shard::{shard, CompactFlat, ShardRow, OK, SKIPPED};

/// Writes the three summaries of every processed user in `shards`, the
/// frames [`shard`] made of each chunk of the output directory's runs.
pub fn write(dir: &Path, shards: Vec<DataFrame>, failed: usize, elapsed: f64) -> Result<()> {
    let (table, order) = table(shards)?;
    if table.height() == 0 {
        return Ok(());
    }

    // The Parquet file is written on a thread of its own, its columns
    // encoded and compressed one after the other. Meanwhile the CSV rows and
    // the statistics are computed on the run's pool.
    let (parquet, csv, stats) = std::thread::scope(|scope| {
        let parquet = scope.spawn(|| {
            write_atomic(&dir.join("_all_users_summary.parquet"), |w| {
                parquet::write(w, &mut table.clone(), Purpose::Published).map_err(std::io::Error::other)
            })
        });
        let csv = csv::write(dir, &table, &order);
        let stats = aggregate::indicators(&table);
        (parquet.join(), csv, stats)
    });
    parquet.map_err(|_| anyhow::anyhow!("writing the summary Parquet file panicked"))??;
    csv?;
    let doc = serde_json::json!({
        "meta": {
            "generated": chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            "users_processed": table.height(),
            "users_failed": failed,
            "processing_time_seconds": elapsed,
        },
        "indicators": stats?,
    });
    let text = serde_json::to_string_pretty(&doc)?;
    write_bytes_atomic(&dir.join("_aggregate_stats.json"), text.as_bytes())
}

/// The summary table: the processed users sorted by id, in the columns
/// user_id, record_count, then every key sorted (the header order, which
/// comes with it), one chunk per column.
fn table(shards: Vec<DataFrame>) -> Result<(DataFrame, Vec<String>)> {
    let all = match <[DataFrame; 1]>::try_from(shards) {
        Ok([one]) => one,
        Err(shards) => {
            let frames: Vec<LazyFrame> = shards.into_iter().map(DataFrame::lazy).collect();
            let args = UnionArgs { diagonal: true, to_supertypes: true, ..Default::default() };
            concat(frames, args)?.collect()?
        }
    };

    // A fresh run's shards already hold their users in order; skipped
    // users and the shards of a resumed run call for a filter and a sort.
    let all_ok = all.column("status")?.str()?.iter().all(|s| s == Some(OK));
    let in_order = all.column("user_id")?.str()?.iter().is_sorted();
    let table = if all_ok && in_order {
        all
    } else {
        all.lazy()
            .filter(col("status").eq(lit(OK)))
            .sort(["user_id"], SortMultipleOptions::default().with_maintain_order(true))
            .collect()?
    };

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
    // Concatenated shards come in chunks; the CSV reads columns in place.
    table.rechunk_mut_par();
    Ok((table, order))
}
