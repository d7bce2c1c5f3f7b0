//! The per-user JSON file, byte-identical to bandicoot's `to_json`, which
//! writes `json.dumps(OrderedDict([(name, tree)]), indent=4,
//! separators=(',', ': '))` with Python's defaults otherwise: ASCII-only
//! output, `NaN`/`Infinity` allowed, no trailing newline.

use std::io::{self, Write};

use crate::output::flat::Flat;
use crate::pyfmt::{push_float_repr, push_i64};
use crate::value::Value;

const INDENT: &str = "    ";

/// Writes `{name: tree}` as bandicoot's `to_json` does for one user.
pub fn write_user_json<W: Write>(w: &mut W, name: &str, tree: &Value) -> io::Result<()> {
    w.write_all(to_json_string(name, tree).as_bytes())
}

/// The text [`write_user_json`] writes.
pub fn to_json_string(name: &str, tree: &Value) -> String {
    let mut out = String::with_capacity(4096);
    push_user_json(&mut out, name, tree);
    out
}

/// Appends the text [`write_user_json`] writes.
pub fn push_user_json(out: &mut String, name: &str, tree: &Value) {
    push_name(out, name);
    push_value(out, tree, 1);
    out.push_str("\n}");
}

/// Appends the text [`write_user_json`] writes for `flat`, a flattened
/// tree: from its layout's [`JsonShape`] where it has one, else from the
/// tree, which only then is asked of `tree`.
pub fn push_flat_user_json(out: &mut String, name: &str, flat: &Flat, tree: impl FnOnce() -> Value) {
    match flat.layout.json_shape() {
        Some(shape) => shape.push_user_json(out, name, &flat.values),
        None => push_user_json(out, name, &tree()),
    }
}

/// The text before the tree: the opening brace and the user's name.
fn push_name(out: &mut String, name: &str) {
    out.push_str("{\n");
    out.push_str(INDENT);
    push_json_string(out, name);
    out.push_str(": ");
}

/// The JSON text of every tree of one shape, with the leaves cut out: the
/// keys, brackets and indentation, which are most of a file, are rendered
/// once and copied, and only the user's name and leaf values are rendered
/// per user.
#[derive(Debug)]
pub struct JsonShape {
    /// The text after the user's name, leaves left out.
    text: String,
    /// For each leaf in tree order, where it goes in `text` and the
    /// nesting level it is rendered at.
    cuts: Vec<(usize, usize)>,
}

impl JsonShape {
    pub fn new(tree: &Value) -> JsonShape {
        let mut text = String::new();
        let mut cuts = Vec::new();
        push_tree(&mut text, tree, 1, &mut |text: &mut String, _: &Value, level| {
            cuts.push((text.len(), level));
        });
        text.push_str("\n}");
        JsonShape { text, cuts }
    }

    /// Appends the file of user `name` whose leaves, in tree order, are
    /// `leaves`.
    pub fn push_user_json(&self, out: &mut String, name: &str, leaves: &[Value]) {
        assert_eq!(leaves.len(), self.cuts.len(), "leaves of another shape");
        push_name(out, name);
        let mut from = 0;
        for (&(at, level), leaf) in self.cuts.iter().zip(leaves) {
            out.push_str(&self.text[from..at]);
            push_value(out, leaf, level);
            from = at;
        }
        out.push_str(&self.text[from..]);
    }
}

/// Appends `value` whose opening bracket sits at nesting `level`; Python's
/// encoder puts every list item and map entry on its own line.
fn push_value(out: &mut String, value: &Value, level: usize) {
    push_tree(out, value, level, &mut push_leaf);
}

/// Appends the maps of `value` and hands every other value to `leaf`.
fn push_tree<F>(out: &mut String, value: &Value, level: usize, leaf: &mut F)
where
    F: FnMut(&mut String, &Value, usize),
{
    match value {
        Value::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                push_item_break(out, i, level + 1);
                push_json_string(out, key);
                out.push_str(": ");
                push_tree(out, item, level + 1, leaf);
            }
            push_closing_break(out, level);
            out.push('}');
        }
        other => leaf(out, other, level),
    }
}

/// Appends a value that is not a map.
fn push_leaf(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => push_i64(out, *i),
        Value::Float(f) => push_float(out, *f),
        Value::Str(s) => push_json_string(out, s),
        Value::List(items) if items.is_empty() => out.push_str("[]"),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                push_item_break(out, i, level + 1);
                push_value(out, item, level + 1);
            }
            push_closing_break(out, level);
            out.push(']');
        }
        Value::Map(_) => push_value(out, value, level),
    }
}

/// The separator before item `index` of a container whose items sit at
/// `level`.
fn push_item_break(out: &mut String, index: usize, level: usize) {
    if index > 0 {
        out.push(',');
    }
    out.push('\n');
    for _ in 0..level {
        out.push_str(INDENT);
    }
}

fn push_closing_break(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str(INDENT);
    }
}

/// Python's `allow_nan=True` spellings for the non-finite floats, which are
/// not valid JSON but are what bandicoot writes.
fn push_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f == f64::INFINITY {
        out.push_str("Infinity");
    } else if f == f64::NEG_INFINITY {
        out.push_str("-Infinity");
    } else {
        push_float_repr(out, f);
    }
}

/// Python's `ensure_ascii` string encoding: printable ASCII as is, the
/// usual short escapes, everything else as lowercase `\uXXXX`, with
/// characters beyond the BMP as UTF-16 surrogate pairs.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    // Runs of characters that need no escape are copied whole.
    while let Some(at) = rest.bytes().position(|b| !(b' '..=b'~').contains(&b) || b == b'"' || b == b'\\') {
        out.push_str(&rest[..at]);
        // Every byte before `at` is ASCII, so a character starts there.
        let c = rest[at..].chars().next().expect("a character at a char boundary");
        push_escaped(out, c);
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
    out.push('"');
}

/// Appends the escape of a character that is not printable ASCII, or a
/// quote or backslash.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut units = [0u16; 2];
            for &unit in c.encode_utf16(&mut units).iter() {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::value::test_trees::{map, text};

    /// Expected text from Python 3.11:
    /// `json.dumps(OrderedDict([('ego', tree)]), indent=4, separators=(',', ': '))`
    /// with `tree` the same OrderedDict as built here.
    #[test]
    fn realistic_tree_matches_python() {
        let reporting = map(vec![
            ("antennas_path", Value::Null),
            ("version", text("0.6.0")),
            ("groupby", text("week")),
            ("split_week", Value::Bool(false)),
            ("start_time", text("2014-03-02 07:13:30")),
            ("night_start", text("19:00:00")),
            ("weekend", Value::List(vec![Value::Int(6), Value::Int(7)])),
            ("number_of_records", Value::Int(314)),
            ("has_call", Value::Bool(true)),
            ("percent_records_missing_location", Value::Float(0.0)),
            ("ignored_records", map(vec![("all", Value::Int(0)), ("interaction", Value::Int(0))])),
        ]);
        let active_days = map(vec![(
            "allweek",
            map(vec![(
                "allday",
                map(vec![(
                    "callandtext",
                    map(vec![
                        ("mean", Value::Float(5.333333333333333)),
                        ("std", Value::Float(0.4714045207910317)),
                    ]),
                )]),
            )]),
        )]);
        let call_duration = map(vec![(
            "allweek",
            map(vec![(
                "allday",
                map(vec![(
                    "call",
                    map(vec![
                        ("mean", map(vec![("mean", Value::Float(1e-05)), ("std", Value::Null)])),
                        ("std", Value::map()),
                    ]),
                )]),
            )]),
        )]);
        let tree = map(vec![
            ("name", text("ego")),
            ("reporting", reporting),
            ("active_days", active_days),
            ("call_duration", call_duration),
        ]);

        let expected = r#"{
    "ego": {
        "name": "ego",
        "reporting": {
            "antennas_path": null,
            "version": "0.6.0",
            "groupby": "week",
            "split_week": false,
            "start_time": "2014-03-02 07:13:30",
            "night_start": "19:00:00",
            "weekend": [
                6,
                7
            ],
            "number_of_records": 314,
            "has_call": true,
            "percent_records_missing_location": 0.0,
            "ignored_records": {
                "all": 0,
                "interaction": 0
            }
        },
        "active_days": {
            "allweek": {
                "allday": {
                    "callandtext": {
                        "mean": 5.333333333333333,
                        "std": 0.4714045207910317
                    }
                }
            }
        },
        "call_duration": {
            "allweek": {
                "allday": {
                    "call": {
                        "mean": {
                            "mean": 1e-05,
                            "std": null
                        },
                        "std": {}
                    }
                }
            }
        }
    }
}"#;
        let mut written = Vec::new();
        write_user_json(&mut written, "ego", &tree).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), expected);
    }

    /// Expected text from Python 3.11:
    /// `json.dumps(OrderedDict([('n\U0001F600', OrderedDict([
    ///     ('s', 'q"b\\s/\n\r\t\b\f\x00\x1f\x7f é€😀\u2028'),
    ///     ('k\u00e9y', [1.5, nan, inf, -inf, -0.0, [], {}, [[]], 12345678901234567]),
    ///     ('e', OrderedDict())]))]), indent=4, separators=(',', ': '))`
    #[test]
    fn escapes_special_floats_and_empty_containers_match_python() {
        let tree = map(vec![
            ("s", text("q\"b\\s/\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f} é€😀\u{2028}")),
            (
                "k\u{e9}y",
                Value::List(vec![
                    Value::Float(1.5),
                    Value::Float(f64::NAN),
                    Value::Float(f64::INFINITY),
                    Value::Float(f64::NEG_INFINITY),
                    Value::Float(-0.0),
                    Value::List(vec![]),
                    Value::map(),
                    Value::List(vec![Value::List(vec![])]),
                    Value::Int(12345678901234567),
                ]),
            ),
            ("e", Value::map()),
        ]);

        let expected = r#"{
    "n\ud83d\ude00": {
        "s": "q\"b\\s/\n\r\t\b\f\u0000\u001f\u007f \u00e9\u20ac\ud83d\ude00\u2028",
        "k\u00e9y": [
            1.5,
            NaN,
            Infinity,
            -Infinity,
            -0.0,
            [],
            {},
            [
                []
            ],
            12345678901234567
        ],
        "e": {}
    }
}"#;
        assert_eq!(to_json_string("n\u{1F600}", &tree), expected);
    }

    /// Rendering from a layout's shape and the flattened values gives the
    /// very text of rendering the tree, for trees of every kind of leaf,
    /// nesting and empty container; a repeated key falls back to the tree.
    #[test]
    fn shape_rendering_matches_tree_rendering() {
        use crate::output::flat::Layouts;

        let tree = |x: f64, s: &str| {
            map(vec![
                ("name", text(s)),
                (
                    "reporting",
                    map(vec![
                        ("weekend", Value::List(vec![Value::Int(6), Value::Int(7)])),
                        ("nested", Value::List(vec![map(vec![("k", Value::Float(x))]), Value::List(vec![])])),
                        ("none", Value::Null),
                        ("flag", Value::Bool(x > 0.0)),
                        ("empty", Value::map()),
                    ]),
                ),
                ("a", map(vec![("b", map(vec![("m\u{e9}an", Value::Float(x)), ("n", Value::Int(-3))]))])),
                ("tail", Value::Float(x * 1e20)),
            ])
        };
        let repeated = map(vec![("a", map(vec![("b", Value::Int(1))])), ("a__b", Value::Int(2))]);

        let layouts = Layouts::default();
        for (name, tree) in [
            ("u1", tree(0.1, "plain")),
            ("u\"2\u{1F600}", tree(-2.5e-7, "q\"uote\n")),
            ("u3", tree(f64::NAN, "")),
            ("u4", repeated),
            ("u5", Value::Float(1.5)),
        ] {
            let flat = layouts.flatten(&tree);
            let mut out = String::new();
            push_flat_user_json(&mut out, name, &flat, || tree.clone());
            assert_eq!(out, to_json_string(name, &tree), "{tree:?}");
        }
        assert!(layouts.flatten(&tree(1.0, "x")).layout.json_shape().is_some());
        let repeated = map(vec![("a", map(vec![("b", Value::Int(1))])), ("a__b", Value::Int(2))]);
        assert!(layouts.flatten(&repeated).layout.json_shape().is_none());
    }

    /// A user tree renders from its layout as its whole tree does.
    #[test]
    fn user_tree_rendering_matches_tree_rendering() {
        use crate::output::flat::Layouts;
        use crate::value::UserTree;

        let layouts = Layouts::default();
        let block = layouts.block(vec![
            ("d".into(), map(vec![("mean", Value::Null), ("std", Value::Null)])),
            ("n".into(), Value::Null),
        ]);
        for (name, values) in [
            ("u1", vec![Value::Float(0.1), Value::Float(f64::NAN), Value::Int(4)]),
            ("u\u{e9}", vec![Value::Null, Value::Float(-1e-7), Value::Bool(true)]),
        ] {
            let root = map(vec![
                ("name", text(name)),
                ("reporting", map(vec![("weekend", Value::List(vec![Value::Int(6), Value::Int(7)]))])),
                ("attributes", map(vec![("k", text("v"))])),
            ]);
            let tree = UserTree { root, at: 2, block: block.clone(), values };
            let flat = layouts.flatten_user(&tree);
            let mut out = String::new();
            push_flat_user_json(&mut out, name, &flat, || unreachable!("the shape renders it"));
            assert_eq!(out, to_json_string(name, &tree.to_value()));
        }
    }

    /// Python: `json.dumps(OrderedDict([('x', [])]), indent=4, separators=(',', ': '))`
    #[test]
    fn empty_root_value_stays_on_the_key_line() {
        assert_eq!(to_json_string("x", &Value::List(vec![])), "{\n    \"x\": []\n}");
    }
}
