//! `_all_users_summary.csv`: the summary table as the reference's
//! `csv.DictWriter` writes it.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use polars::prelude::*;

use crate::batch::write_atomic;
use crate::output::csv::{end_row, push_csv_row, push_field};
use crate::pyfmt::{float_repr, push_float_repr, push_i64};

/// Flush the summary CSV to the file past this many bytes.
const CSV_FLUSH_BYTES: usize = 1 << 16;

/// Writes the columns of `table` under the header `order`, one row a user.
pub fn write(dir: &Path, table: &DataFrame, order: &[String]) -> Result<()> {
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
