//! The per-user JSON file, byte-identical to bandicoot's `to_json`, which
//! writes `json.dumps(OrderedDict([(name, tree)]), indent=4,
//! separators=(',', ': '))` with Python's defaults otherwise: ASCII-only
//! output, `NaN`/`Infinity` allowed, no trailing newline.

use std::io::{self, Write};

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
    out.push_str("{\n");
    out.push_str(INDENT);
    push_json_string(out, name);
    out.push_str(": ");
    push_value(out, tree, 1);
    out.push_str("\n}");
}

/// Appends `value` whose opening bracket sits at nesting `level`; Python's
/// encoder puts every list item and map entry on its own line.
fn push_value(out: &mut String, value: &Value, level: usize) {
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
        Value::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                push_item_break(out, i, level + 1);
                push_json_string(out, key);
                out.push_str(": ");
                push_value(out, item, level + 1);
            }
            push_closing_break(out, level);
            out.push('}');
        }
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

    /// Python: `json.dumps(OrderedDict([('x', [])]), indent=4, separators=(',', ': '))`
    #[test]
    fn empty_root_value_stays_on_the_key_line() {
        assert_eq!(to_json_string("x", &Value::List(vec![])), "{\n    \"x\": []\n}");
    }
}
