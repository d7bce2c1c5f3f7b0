//! `_all_users_summary.csv`: the summary table as the reference's
//! `csv.DictWriter` writes it, rows rendered in parallel and written in
//! order.

use std::io::Write;
use std::ops::Range;
use std::path::Path;

use anyhow::Result;
use polars::prelude::*;
use rayon::prelude::*;

use crate::batch::write_atomic;
use crate::output::csv::{end_row, push_csv_row, push_field};
use crate::pyfmt::{float_repr, push_float_repr, push_i64};

/// Rows a worker renders at a time: enough to outweigh handing them out
/// and to use each cache line of a column's values whole.
const BLOCK_ROWS: usize = 64;

/// Blocks rendered before they are written, which bounds the text held.
const WINDOW_BLOCKS: usize = 8;

/// Writes the columns of `table` (one chunk each) under the header `order`,
/// one row a user.
pub fn write(dir: &Path, table: &DataFrame, order: &[String]) -> Result<()> {
    let columns: Vec<Cells> = table.columns().iter().map(Cells::new).collect();
    let height = table.height();
    let blocks: Vec<Range<usize>> =
        (0..height).step_by(BLOCK_ROWS).map(|start| start..(start + BLOCK_ROWS).min(height)).collect();

    write_atomic(&dir.join("_all_users_summary.csv"), |w| {
        let mut header = String::new();
        push_csv_row(&mut header, order.iter().map(|c| Some(c.as_str())));
        w.write_all(header.as_bytes())?;

        for window in blocks.chunks(WINDOW_BLOCKS) {
            let blocks: Vec<Vec<String>> =
                window.par_iter().map(|rows| render(&columns, rows.clone())).collect();
            for line in blocks.iter().flatten() {
                w.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    })
}

/// Bytes a cell takes at first guess, to size a line once or twice rather
/// than at every doubling: most cells are floats of up to 18 characters,
/// some are empty.
const GUESSED_CELL_BYTES: usize = 12;

/// The CSV lines of `rows`, built a column at a time: each column's cells
/// of the rows lie together, where a row at a time would visit every
/// column's memory for each line.
fn render(columns: &[Cells], rows: Range<usize>) -> Vec<String> {
    let mut lines: Vec<String> =
        rows.clone().map(|_| String::with_capacity(columns.len() * GUESSED_CELL_BYTES)).collect();
    for (j, column) in columns.iter().enumerate() {
        for (line, i) in lines.iter_mut().zip(rows.clone()) {
            if j > 0 {
                line.push(',');
            }
            column.push(line, i);
        }
    }
    for line in &mut lines {
        end_row(line, 0, columns.len());
    }
    lines
}

type ArrayOf<T> = <T as PolarsDataType>::Array;

/// A column of the summary table, read in place by row.
enum Cells<'a> {
    Bool(&'a ArrayOf<BooleanType>),
    Int(&'a ArrayOf<Int64Type>),
    Float(&'a ArrayOf<Float64Type>),
    Text(&'a ArrayOf<StringType>),
    /// A type that shards do not make, or a column of several chunks;
    /// read through `AnyValue`.
    Other(&'a Column),
}

impl<'a> Cells<'a> {
    fn new(column: &'a Column) -> Cells<'a> {
        if column.n_chunks() != 1 {
            return Cells::Other(column);
        }
        let typed = match column.dtype() {
            DataType::Boolean => column.bool().ok().map(|c| Cells::Bool(c.downcast_as_array())),
            DataType::Int64 => column.i64().ok().map(|c| Cells::Int(c.downcast_as_array())),
            DataType::Float64 => column.f64().ok().map(|c| Cells::Float(c.downcast_as_array())),
            DataType::String => column.str().ok().map(|c| Cells::Text(c.downcast_as_array())),
            _ => None,
        };
        typed.unwrap_or(Cells::Other(column))
    }

    /// Appends Python's `str()` of row `i` as a CSV field; nothing for a
    /// null.
    fn push(&self, out: &mut String, i: usize) {
        match self {
            Cells::Bool(c) => {
                if let Some(b) = c.get(i) {
                    out.push_str(if b { "True" } else { "False" });
                }
            }
            Cells::Int(c) => {
                if let Some(v) = c.get(i) {
                    push_i64(out, v);
                }
            }
            // Numbers never hold a character that needs quotes.
            Cells::Float(c) => {
                if let Some(v) = c.get(i) {
                    push_float_repr(out, v);
                }
            }
            Cells::Text(c) => {
                if let Some(v) = c.get(i) {
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
