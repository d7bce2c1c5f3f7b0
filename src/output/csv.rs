//! The per-user CSV file and the CSV row format, byte-identical to
//! bandicoot's `to_csv(results, path, digits=5)` for one user: flattened
//! keys as the header, one value row, written by Python's `csv.writer` with
//! its default dialect (`,`, `"`, minimal quoting, `\r\n` line ends).

use std::collections::HashMap;
use std::io::{self, Write};

use crate::pyfmt::{float_repr, py_str, round_digits};
use crate::value::Value;

/// The separator bandicoot's `flatten` puts between nested keys.
const KEY_SEPARATOR: &str = "__";

/// Float cells are written as `repr(round(x, DIGITS))`.
const DIGITS: i32 = 5;

/// bandicoot's `utils.flatten(tree)`: leaves keyed by their `__`-joined
/// path, depth first, in tree order.
///
/// Like Python's dict, a key produced twice keeps its first position and its
/// last value. A nested empty map produces no key, and a root that is not a
/// map has no leaves.
pub fn flatten(tree: &Value) -> Vec<(String, &Value)> {
    let mut leaves = Vec::new();
    let mut position_of = HashMap::new();
    push_leaves(tree, "", &mut leaves, &mut position_of);
    leaves
}

fn push_leaves<'a>(
    node: &'a Value,
    parent_key: &str,
    leaves: &mut Vec<(String, &'a Value)>,
    position_of: &mut HashMap<String, usize>,
) {
    let Value::Map(entries) = node else {
        return;
    };

    for (key, value) in entries {
        // Python tests the parent key for truth, so an empty parent key
        // adds no separator.
        let path =
            if parent_key.is_empty() { key.clone() } else { format!("{parent_key}{KEY_SEPARATOR}{key}") };

        if let Value::Map(_) = value {
            push_leaves(value, &path, leaves, position_of);
        } else if let Some(&at) = position_of.get(&path) {
            leaves[at].1 = value;
        } else {
            position_of.insert(path.clone(), leaves.len());
            leaves.push((path, value));
        }
    }
}

/// Writes the header row of flattened keys and the row of their values.
pub fn write_user_csv<W: Write>(w: &mut W, tree: &Value) -> io::Result<()> {
    let leaves = flatten(tree);

    let header: Vec<Option<&str>> = leaves.iter().map(|(key, _)| Some(key.as_str())).collect();
    write_csv_row(w, &header)?;

    let cells: Vec<Option<String>> = leaves.iter().map(|(_, value)| cell_text(value)).collect();
    let cells: Vec<Option<&str>> = cells.iter().map(Option::as_deref).collect();
    write_csv_row(w, &cells)
}

/// `to_csv`'s `make_repr`: floats rounded, everything else `str()`.
fn cell_text(value: &Value) -> Option<String> {
    match value {
        Value::Float(f) => Some(float_repr(round_digits(*f, DIGITS))),
        other => py_str(other),
    }
}

/// Writes one row as Python's default `csv.writer` does; `None` is an empty
/// cell.
pub fn write_csv_row<W: Write>(w: &mut W, cells: &[Option<&str>]) -> io::Result<()> {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_field(&mut line, cell.unwrap_or(""));
    }

    // Python quotes a lone empty field so that the row is not mistaken for
    // a blank line; two empty fields already show a comma.
    if cells.len() == 1 && line.is_empty() {
        line.push_str("\"\"");
    }

    line.push_str("\r\n");
    w.write_all(line.as_bytes())
}

/// QUOTE_MINIMAL: quote a field holding the delimiter, the quote or a
/// character of the line terminator, doubling inner quotes.
fn push_field(line: &mut String, field: &str) {
    let needs_quotes = field.contains([',', '"', '\r', '\n']);
    if !needs_quotes {
        line.push_str(field);
        return;
    }

    line.push('"');
    for c in field.chars() {
        if c == '"' {
            line.push('"');
        }
        line.push(c);
    }
    line.push('"');
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
        assert_eq!(leaves[0].1, &Value::Int(2));

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

    /// Python 3.11: `csv.writer(f).writerow([None, None, '', 'a,b'])` writes
    /// ',,,"a,b"\r\n'.
    #[test]
    fn generic_rows_leave_several_empty_cells_unquoted() {
        let mut written = Vec::new();
        write_csv_row(&mut written, &[None, None, Some(""), Some("a,b")]).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), ",,,\"a,b\"\r\n");
    }
}
