//! A chunk's users as a frame: the journal's shard, and this run's part of
//! the summary table.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use anyhow::Result;
use polars::prelude::*;
use rayon::prelude::*;

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
    pub flat: Option<CompactFlat>,
}

/// A user's flattened results as a shard reads them: each value's
/// [`scalar`] kind and bits, and the text of the values that are not
/// scalars. A quarter of the memory of the values themselves, which a chunk
/// holds for every user until its shard is made.
pub struct CompactFlat {
    layout: Arc<Layout>,
    kinds: Vec<u8>,
    bits: Vec<u64>,
    /// Python's `str()` of each value of kind [`OTHER`], by slot in order.
    texts: Vec<(u32, String)>,
}

impl CompactFlat {
    pub fn of(flat: &Flat) -> CompactFlat {
        let mut texts = Vec::new();
        let (kinds, bits) = flat
            .values
            .iter()
            .enumerate()
            .map(|(slot, value)| {
                let (kind, bits) = scalar(value);
                if kind == OTHER {
                    texts.push((slot as u32, py_str(value).unwrap_or_default()));
                }
                (kind, bits)
            })
            .unzip();
        CompactFlat { layout: flat.layout.clone(), kinds, bits, texts }
    }

    /// Python's `str()` of the value at `slot`; None for a null.
    fn text(&self, slot: usize) -> Option<Cow<'_, str>> {
        let bits = self.bits[slot];
        let value = match self.kinds[slot] {
            0 => return None,
            BOOL => Value::Bool(bits != 0),
            INT => Value::Int(bits as i64),
            FLOAT => Value::Float(f64::from_bits(bits)),
            _ => {
                let at = self.texts.binary_search_by_key(&(slot as u32), |(s, _)| *s).ok()?;
                return Some(Cow::Borrowed(self.texts[at].1.as_str()));
            }
        };
        py_str(&value).map(Cow::Owned)
    }
}

/// Marks a key that a layout lacks.
const ABSENT: u32 = u32::MAX;

/// Columns read out of the grid of rows together.
const BLOCK_COLUMNS: usize = 32;

/// Rows worth a worker of their own.
const MIN_RUN_ROWS: usize = 64;

/// A shard's frame: user_id, status, record_count, then one typed column
/// per flattened key (floats, integers, booleans or text; null where absent).
/// Columns come in the order their keys first appear in the rows.
pub fn shard(rows: &[ShardRow]) -> Result<DataFrame> {
    // Users share a few layouts: each layout's keys are placed in columns
    // once, and a column then finds its value in a row through the row's
    // layout.
    let mut keys: Vec<&str> = Vec::new();
    let mut column_of_key: HashMap<&str, usize> = HashMap::new();
    let mut columns_of_layout: Vec<Vec<usize>> = Vec::new();
    let mut layout_at: HashMap<*const Layout, usize> = HashMap::new();
    let mut row_layouts: Vec<Option<usize>> = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(flat) = &row.flat else {
            row_layouts.push(None);
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
        row_layouts.push(Some(at));
    }

    // The inverse: for each layout, where each column sits in its values.
    let slots_of_layout: Vec<Vec<u32>> = columns_of_layout
        .iter()
        .map(|columns| {
            let mut slots = vec![ABSENT; keys.len()];
            for (slot, &column) in columns.iter().enumerate() {
                slots[column] = slot as u32;
            }
            slots
        })
        .collect();

    // The cells are transposed in two passes that read and write memory in
    // order: rows copied into one grid, row by row, then a block of columns
    // at a time read out of it. Column by column straight from the rows,
    // each cell would fetch a cache line (and a page) of its own.
    let cells = Cells { rows, row_layouts: &row_layouts, slots_of_layout: &slots_of_layout };
    let grid = Grid::of(&cells, keys.len());
    let blocks: Vec<Range<usize>> = (0..keys.len())
        .step_by(BLOCK_COLUMNS)
        .map(|start| start..(start + BLOCK_COLUMNS).min(keys.len()))
        .collect();
    let typed: Vec<Column> = blocks
        .par_iter()
        .flat_map_iter(|block| {
            let columns = grid.columns(block.clone());
            block.clone().zip(columns).map(|(j, column)| column.into_column(keys[j], || cells.text(j)))
        })
        .collect();

    let mut columns = vec![
        Column::new("user_id".into(), rows.iter().map(|r| r.user.as_str()).collect::<Vec<_>>()),
        Column::new("status".into(), rows.iter().map(|r| r.status).collect::<Vec<_>>()),
        Column::new("record_count".into(), rows.iter().map(|r| r.records).collect::<Vec<_>>()),
    ];
    columns.extend(typed);
    Ok(DataFrame::new(rows.len(), columns)?)
}

/// The values of a chunk's rows, found by column through each row's layout.
struct Cells<'a> {
    rows: &'a [ShardRow],
    row_layouts: &'a [Option<usize>],
    slots_of_layout: &'a [Vec<u32>],
}

impl<'a> Cells<'a> {
    /// Row `i`'s values and, for each column, its slot in them; None for a
    /// skipped user.
    fn row(&self, i: usize) -> Option<(&'a CompactFlat, &'a [u32])> {
        let flat = self.rows[i].flat.as_ref()?;
        Some((flat, &self.slots_of_layout[self.row_layouts[i]?]))
    }

    /// Column `j` as the text Python's `str()` gives of each value.
    fn text(&self, j: usize) -> Vec<Option<Cow<'a, str>>> {
        (0..self.rows.len())
            .map(|i| {
                let (flat, slots) = self.row(i)?;
                match slots[j] {
                    ABSENT => None,
                    slot => flat.text(slot as usize),
                }
            })
            .collect()
    }
}

/// The kinds of value a column holds, as bits.
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 4;
const OTHER: u8 = 8;
const INT_AND_FLOAT: u8 = INT | FLOAT;

/// A cell's kind (0 for null or absent) and its bits (a bool as 0 or 1, an
/// integer, a float).
fn scalar(value: &Value) -> (u8, u64) {
    match value {
        Value::Null => (0, 0),
        Value::Bool(b) => (BOOL, u64::from(*b)),
        Value::Int(i) => (INT, *i as u64),
        Value::Float(f) => (FLOAT, f.to_bits()),
        _ => (OTHER, 0),
    }
}

/// Every row's cells as [`scalar`]s, row after row.
struct Grid {
    rows: usize,
    columns: usize,
    kinds: Vec<u8>,
    bits: Vec<u64>,
    /// Every kind met, by column.
    seen: Vec<u8>,
}

impl Grid {
    fn of(cells: &Cells, columns: usize) -> Grid {
        let rows = cells.rows.len();
        let mut kinds = vec![0u8; rows * columns];
        let mut bits = vec![0u64; rows * columns];
        if columns == 0 {
            return Grid { rows, columns, kinds, bits, seen: Vec::new() };
        }

        // Each worker copies a run of rows.
        let run_rows = rows.div_ceil((rows / MIN_RUN_ROWS).clamp(1, rayon::current_num_threads())).max(1);
        let run_len = run_rows * columns;

        let seen = kinds
            .par_chunks_mut(run_len)
            .zip(bits.par_chunks_mut(run_len))
            .enumerate()
            .map(|(run, (kinds, bits))| {
                let mut seen = vec![0u8; columns];
                let first = run * run_rows;
                for ((kinds, bits), i) in kinds.chunks_mut(columns).zip(bits.chunks_mut(columns)).zip(first..)
                {
                    let Some((flat, slots)) = cells.row(i) else { continue };
                    for (j, &slot) in slots.iter().enumerate() {
                        if slot != ABSENT {
                            let kind = flat.kinds[slot as usize];
                            kinds[j] = kind;
                            bits[j] = flat.bits[slot as usize];
                            seen[j] |= kind;
                        }
                    }
                }
                seen
            })
            .reduce(|| vec![0u8; columns], |a, b| a.iter().zip(b).map(|(x, y)| x | y).collect());
        Grid { rows, columns, kinds, bits, seen }
    }

    /// The columns of `block`.
    fn columns(&self, block: Range<usize>) -> Vec<Scalars> {
        let mut out: Vec<Scalars> = block
            .clone()
            .map(|j| Scalars { kinds: vec![0; self.rows], bits: vec![0; self.rows], seen: self.seen[j] })
            .collect();
        for i in 0..self.rows {
            let at = i * self.columns;
            let kinds = &self.kinds[at + block.start..at + block.end];
            let bits = &self.bits[at + block.start..at + block.end];
            for ((column, &kind), &b) in out.iter_mut().zip(kinds).zip(bits) {
                column.kinds[i] = kind;
                column.bits[i] = b;
            }
        }
        out
    }
}

/// A column's cells as [`scalar`]s, so that the typed column is made
/// without going back to the rows.
struct Scalars {
    kinds: Vec<u8>,
    bits: Vec<u64>,
    /// Every kind met.
    seen: u8,
}

impl Scalars {
    /// The column in the narrowest type that holds every value (None and
    /// absent are null): booleans (when there is one), integers, floats
    /// (integers among floats are floats), or else the text `text` gives.
    fn into_column<'a>(self, name: &str, text: impl FnOnce() -> Vec<Option<Cow<'a, str>>>) -> Column {
        let name = PlSmallStr::from(name);
        let validity = || -> Option<_> {
            let nulls = self.kinds.contains(&0);
            nulls.then(|| self.kinds.iter().map(|&k| k != 0).collect())
        };
        match self.seen {
            BOOL => {
                let values = self.kinds.iter().zip(&self.bits).map(|(&k, &b)| (k != 0).then_some(b != 0));
                BooleanChunked::from_iter_options(name, values).into_column()
            }
            0 | INT => {
                let values = self.bits.iter().map(|&b| b as i64).collect();
                Int64Chunked::from_vec_validity(name, values, validity()).into_column()
            }
            FLOAT | INT_AND_FLOAT => {
                let values = self
                    .kinds
                    .iter()
                    .zip(&self.bits)
                    .map(|(&k, &b)| if k == INT { b as i64 as f64 } else { f64::from_bits(b) })
                    .collect();
                Float64Chunked::from_vec_validity(name, values, validity()).into_column()
            }
            _ => {
                let text = text();
                StringChunked::from_iter_options(name, text.iter().map(|t| t.as_deref())).into_column()
            }
        }
    }
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
            flat: tree.map(|t| CompactFlat::of(&layouts.flatten(t))),
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
