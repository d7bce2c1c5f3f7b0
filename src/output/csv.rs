//! The per-user CSV file and the CSV row format, byte-identical to
//! bandicoot's `to_csv(results, path, digits=5)` for one user: flattened
//! keys as the header, one value row, written by Python's `csv.writer` with
//! its default dialect (`,`, `"`, minimal quoting, `\r\n` line ends).

use std::io::{self, Write};

use crate::output::flat::{Flat, Layout};
use crate::pyfmt::{push_i64, push_py_str, push_rounded_repr};
use crate::value::Value;

/// Float cells are written as `repr(round(x, DIGITS))`.
const DIGITS: i32 = 5;

/// bandicoot's `utils.flatten(tree)`: leaves keyed by their `__`-joined
/// path, depth first, in tree order (see [`Layout`]).
pub fn flatten(tree: &Value) -> Vec<(String, Value)> {
    let layout = Layout::new(tree);
    let values = layout.values(tree);
    layout.keys().iter().cloned().zip(values).collect()
}

/// Writes the header row of flattened keys and the row of their values.
pub fn write_user_csv<W: Write>(w: &mut W, tree: &Value) -> io::Result<()> {
    let layout = std::sync::Arc::new(Layout::new(tree));
    let values = layout.values(tree);
    let mut text = String::new();
    push_user_csv(&mut text, &Flat { layout, values });
    w.write_all(text.as_bytes())
}

/// Appends a user's CSV file: the header row of flattened keys and the row
/// of their values.
pub fn push_user_csv(out: &mut String, flat: &Flat) {
    out.push_str(flat.layout.csv_header());
    push_user_csv_row(out, flat);
}

/// Appends the row of a user's values, the line after its layout's header
/// row (see [`push_user_csv`]).
pub fn push_user_csv_row(out: &mut String, flat: &Flat) {
    let row_start = out.len();
    for (i, value) in flat.values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, value);
    }
    end_row(out, row_start, flat.values.len());
}

/// `to_csv`'s `make_repr`, quoted as a cell: floats rounded, everything
/// else `str()`.
fn push_cell(out: &mut String, value: &Value) {
    match value {
        // Numbers, booleans and None need no quotes.
        Value::Float(f) => push_rounded_repr(out, *f, DIGITS),
        Value::Int(i) => push_i64(out, *i),
        Value::Str(s) => push_field(out, s),
        Value::Null | Value::Bool(_) => push_py_str(out, value),
        Value::List(_) | Value::Map(_) => {
            let at = out.len();
            push_py_str(out, value);
            if needs_quotes(&out[at..]) {
                let text = out.split_off(at);
                push_field(out, &text);
            }
        }
    }
}

/// Writes one row as Python's default `csv.writer` does; `None` is an empty
/// cell.
pub fn write_csv_row<W: Write>(w: &mut W, cells: &[Option<&str>]) -> io::Result<()> {
    let mut line = String::new();
    push_csv_row(&mut line, cells.iter().copied());
    w.write_all(line.as_bytes())
}

/// Appends one row as Python's default `csv.writer` writes it, line end
/// included; `None` is an empty cell.
pub fn push_csv_row<'a>(out: &mut String, cells: impl IntoIterator<Item = Option<&'a str>>) {
    let row_start = out.len();
    let mut count = 0;
    for cell in cells {
        if count > 0 {
            out.push(',');
        }
        push_field(out, cell.unwrap_or(""));
        count += 1;
    }
    end_row(out, row_start, count);
}

/// Ends the row of `cells` cells that starts at `row_start` in `out`.
pub fn end_row(out: &mut String, row_start: usize, cells: usize) {
    // Python quotes a lone empty field so that the row is not mistaken for
    // a blank line; two empty fields already show a comma.
    if cells == 1 && out.len() == row_start {
        out.push_str("\"\"");
    }
    out.push_str("\r\n");
}

/// QUOTE_MINIMAL: a field holding the delimiter, the quote or a character
/// of the line terminator is quoted.
fn needs_quotes(field: &str) -> bool {
    field.contains([',', '"', '\r', '\n'])
}

/// Appends a field, quoted if it needs to be, inner quotes doubled.
pub fn push_field(out: &mut String, field: &str) {
    if !needs_quotes(field) {
        out.push_str(field);
        return;
    }

    out.push('"');
    for (i, part) in field.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::value::test_trees::{map, text};

    fn user_csv(tree: &Value) -> String {
        let mut written = Vec::new();
        write_user_csv(&mut written, tree).unwrap();
        String::from_utf8(written).unwrap()
    }

    /// Expected text from bandicoot's `to_csv(tree, path)` body run on
    /// Python 3.11 with the same OrderedDict (written to a `StringIO`).
    #[test]
    fn realistic_tree_matches_python() {
        let tree = map(vec![
            ("name", text("ego")),
            (
                "reporting",
                map(vec![
                    ("groupby", Value::Null),
                    ("weekend", Value::List(vec![Value::Int(6), Value::Int(7)])),
                    ("has_call", Value::Bool(true)),
                    ("bins", Value::Int(3)),
                ]),
            ),
            (
                "active_days",
                map(vec![(
                    "allweek",
                    map(vec![(
                        "allday",
                        map(vec![(
                            "callandtext",
                            map(vec![
                                ("mean", Value::Float(5.333333333333333)),
                                ("std", Value::Float(2.675e-07)),
                            ]),
                        )]),
                    )]),
                )]),
            ),
            ("empty", Value::map()),
            ("tie", Value::Float(0.000125)),
            ("big", Value::Float(1.2345678e16)),
            ("neg", Value::Float(-1e-09)),
        ]);

        let expected = "name,reporting__groupby,reporting__weekend,reporting__has_call,\
            reporting__bins,active_days__allweek__allday__callandtext__mean,\
            active_days__allweek__allday__callandtext__std,tie,big,neg\r\n\
            ego,,\"[6, 7]\",True,3,5.33333,0.0,0.00013,1.2345678e+16,-0.0\r\n";
        assert_eq!(user_csv(&tree), expected);
    }

    /// Python 3.11 with bandicoot's `flatten` and `to_csv` body on
    /// `OrderedDict([('a', {'b': 1}), ('a__b', 2), ('c', 3), ('', {'x': 'lead space',
    /// 'y': ' ,comma', 'z': 'q"uote', 'w': 'line\nbreak', 'v': 'cr\r', 'u': ''})])`
    /// flattens to keys a__b (value 2), c, x, y, z, w, v, u.
    #[test]
    fn duplicate_paths_empty_parent_key_and_quoting_match_python() {
        let tree = map(vec![
            ("a", map(vec![("b", Value::Int(1))])),
            ("a__b", Value::Int(2)),
            ("c", Value::Int(3)),
            (
                "",
                map(vec![
                    ("x", text("lead space")),
                    ("y", text(" ,comma")),
                    ("z", text("q\"uote")),
                    ("w", text("line\nbreak")),
                    ("v", text("cr\r")),
                    ("u", text("")),
                ]),
            ),
        ]);

        let leaves = flatten(&tree);
        let keys: Vec<&str> = leaves.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a__b", "c", "x", "y", "z", "w", "v", "u"]);
        assert_eq!(leaves[0].1, Value::Int(2));

        let expected = "a__b,c,x,y,z,w,v,u\r\n\
            2,3,lead space,\" ,comma\",\"q\"\"uote\",\"line\nbreak\",\"cr\r\",\r\n";
        assert_eq!(user_csv(&tree), expected);
    }

    /// Python 3.11, same `to_csv` body: `{'only': None}` gives 'only\r\n""\r\n',
    /// `{'': ''}` gives '""\r\n""\r\n' and `{'e': {}}` gives '\r\n\r\n'.
    #[test]
    fn lone_empty_fields_are_quoted_and_empty_rows_are_blank() {
        assert_eq!(user_csv(&map(vec![("only", Value::Null)])), "only\r\n\"\"\r\n");
        assert_eq!(user_csv(&map(vec![("", text(""))])), "\"\"\r\n\"\"\r\n");
        assert_eq!(user_csv(&map(vec![("e", Value::map())])), "\r\n\r\n");
    }

    /// Every kind of cell renders as before the one-step float path: floats
    /// as `repr(round(x, 5))` (nan, infinities, signed zeros, tiny and huge
    /// magnitudes, ties), the rest as Python's `str()`.
    #[test]
    fn cells_match_round_then_repr() {
        use crate::pyfmt::{float_repr, round_digits};

        let floats = [
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.5,
            2.675,
            0.000125,
            -0.000125,
            4e-06,
            -4e-06,
            6e-06,
            1e-05,
            1.5e-05,
            0.00012,
            1.0 / 3.0,
            123456.123456,
            9999999999.999996,
            12345678901.234567,
            4503599627.3704955,
            1e15,
            1.2345678e16,
            1e22,
            1e300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for x in floats {
            let mut cell = String::new();
            push_cell(&mut cell, &Value::Float(x));
            assert_eq!(cell, float_repr(round_digits(x, DIGITS)), "cell of {x:e}");
        }
        for (value, expected) in [
            (Value::Int(-42), "-42"),
            (Value::Int(i64::MIN), "-9223372036854775808"),
            (Value::Bool(true), "True"),
            (Value::Bool(false), "False"),
            (Value::Null, ""),
        ] {
            let mut cell = String::new();
            push_cell(&mut cell, &value);
            assert_eq!(cell, expected);
        }
    }

    /// Python 3.11: `csv.writer(f).writerow([None, None, '', 'a,b'])` writes
    /// ',,,"a,b"\r\n'.
    #[test]
    fn generic_rows_leave_several_empty_cells_unquoted() {
        let mut written = Vec::new();
        write_csv_row(&mut written, &[None, None, Some(""), Some("a,b")]).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), ",,,\"a,b\"\r\n");
    }
}
