//! Python-compatible text for numbers and values: `repr(float)`,
//! `round(x, digits)` and `str(value)`, so that the JSON and CSV writers
//! reproduce bandicoot's output byte for byte.

use crate::value::Value;

/// Python's `repr(x)` for a float (Python 3 `str(x)` is the same).
///
/// The digits are Python's: the fewest that read back as `x`, and of those
/// the closest to `x`. They are laid out the way CPython's `float_repr`
/// does: plain notation for decimal exponents in `-4..16`, exponent
/// notation with a signed, at least two-digit exponent otherwise.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }

    // Integers below 2^53 are exact and their shortest digits are all of
    // theirs: the common case (counts, whole seconds) needs no digit search.
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 && !(x == 0.0 && x.is_sign_negative()) {
        return format!("{}.0", x as i64);
    }

    let (sign, digits, exponent) = shortest_digits(x);

    let mut out = String::with_capacity(digits.len() + 8);
    out.push_str(sign);
    if !(-4..16).contains(&exponent) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    } else if exponent >= 0 {
        let integer_len = exponent as usize + 1;
        if digits.len() > integer_len {
            out.push_str(&digits[..integer_len]);
            out.push('.');
            out.push_str(&digits[integer_len..]);
        } else {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', integer_len - digits.len()));
            out.push_str(".0");
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
        out.push_str(&digits);
    }
    out
}

/// The sign, significant digits and decimal exponent of Python's `repr(x)`
/// for a finite `x`, e.g. `("-", "86736173798840335", -16)`.
fn shortest_digits(x: f64) -> (&'static str, String, i32) {
    let shortest = split_scientific(&format!("{x:e}"));

    // Rust's shortest digits round exact ties upwards, while Python's dtoa
    // takes the even one (repr(111275153569243.125) is
    // '111275153569243.12'). With the same number of digits, the correctly
    // rounded text (ties to even) is Python's choice whenever it reads back
    // as `x`; near a power of two it may not, and then only Rust's does.
    let precision = shortest.1.len() - 1;
    let rounded = format!("{x:.precision$e}");
    if rounded.parse::<f64>() == Ok(x) {
        let rounded = split_scientific(&rounded);
        if rounded != shortest {
            return rounded;
        }
    }
    shortest
}

/// Splits Rust's `{:e}` output ("-8.67e-16", "1e16", "-0e0", "1.50e3") into
/// sign, significant digits without trailing zeros, and exponent.
fn split_scientific(text: &str) -> (&'static str, String, i32) {
    let (mantissa, exponent) = text.split_once('e').expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an integer exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(unsigned) => ("-", unsigned),
        None => ("", mantissa),
    };

    let mut digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let significant_len = digits.trim_end_matches('0').len().max(1);
    digits.truncate(significant_len);
    (sign, digits, exponent)
}

// CPython's bounds beyond which `round` gives up rounding: past
// `NDIGITS_MAX` the float is returned unchanged, below `NDIGITS_MIN` it
// becomes a zero of the same sign.
const PY_NDIGITS_MAX: i32 = 323;
const PY_NDIGITS_MIN: i32 = -308;

/// Python's `round(x, digits)`: correctly rounded, ties to even on the exact
/// binary value (so `round(2.675, 2) == 2.67`).
///
/// One difference: where Python raises `OverflowError` because the rounded
/// value is too large (only possible with negative `digits` near `f64::MAX`),
/// this returns an infinity.
pub fn round_digits(x: f64, digits: i32) -> f64 {
    if !x.is_finite() || x == 0.0 || digits > PY_NDIGITS_MAX {
        return x;
    }
    if digits < PY_NDIGITS_MIN {
        return 0.0 * x;
    }

    if digits >= 0 {
        // Every double from 2^52 up is an integer, and an integer is
        // already rounded.
        if x.abs() >= 4_503_599_627_370_496.0 || x.fract() == 0.0 {
            return x;
        }
        // Rust's fixed-precision formatting is exact and rounds ties to even,
        // which is exactly Python's rule.
        let text = format!("{x:.prec$}", prec = digits as usize);
        return text.parse().expect("a formatted float parses back");
    }

    round_to_power_of_ten(x, digits.unsigned_abs() as usize)
}

/// Rounds `x` to a multiple of `10^zeros`, ties to even, from its exact
/// decimal digits; a negative precision cannot be asked of `format!`.
fn round_to_power_of_ten(x: f64, zeros: usize) -> f64 {
    // The integer part prints exactly with `{:.0}`; the fraction only matters
    // to break what would otherwise look like an exact tie.
    let integer_digits = format!("{:.0}", x.abs().trunc());
    let has_fraction = x.fract() != 0.0;
    let sign = if x.is_sign_negative() { "-" } else { "" };

    if integer_digits.len() < zeros {
        return format!("{sign}0").parse().expect("zero parses");
    }

    let (kept, dropped) = integer_digits.split_at(integer_digits.len() - zeros);
    let first_dropped = dropped.as_bytes().first().copied().unwrap_or(b'0');
    let rest_is_zero = dropped.bytes().skip(1).all(|b| b == b'0') && !has_fraction;
    let last_kept_is_odd = kept.as_bytes().last().is_some_and(|b| (b - b'0') % 2 == 1);
    let round_up = match first_dropped {
        b'6'..=b'9' => true,
        b'5' => !rest_is_zero || last_kept_is_odd,
        _ => false,
    };

    let mut rounded = if round_up { increment_decimal(kept) } else { kept.to_string() };
    if rounded.is_empty() {
        rounded.push('0');
    }
    rounded.extend(std::iter::repeat_n('0', zeros));
    format!("{sign}{rounded}").parse().expect("a decimal integer parses")
}

/// Adds one to a string of decimal digits ("" counts as zero).
fn increment_decimal(digits: &str) -> String {
    let mut bytes = digits.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return String::from_utf8(bytes).expect("ASCII digits");
        }
    }
    let mut carried = String::with_capacity(bytes.len() + 1);
    carried.push('1');
    carried.push_str(std::str::from_utf8(&bytes).expect("ASCII digits"));
    carried
}

/// Python's `str(value)` as `csv.writer` puts it in a cell; `None` for
/// Python's `None`, which the writer leaves empty.
///
/// Lists render as Python's list repr. Maps render as a plain `dict` repr,
/// which is not what bandicoot's own `OrderedDict.__repr__` prints; result
/// trees never hold maps inside lists, so no output depends on it.
pub fn py_str(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Str(s) => Some(s.clone()),
        other => {
            let mut out = String::new();
            push_repr(&mut out, other);
            Some(out)
        }
    }
}

/// Appends Python's `repr(value)`.
fn push_repr(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float_repr(*f)),
        Value::Str(s) => push_str_repr(out, s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_repr(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_str_repr(out, key);
                out.push_str(": ");
                push_repr(out, value);
            }
            out.push('}');
        }
    }
}

/// Appends Python's `repr(s)` for a `str`: single quotes unless the text
/// holds a single quote and no double quote, and escapes for backslashes,
/// the chosen quote and non-printable characters.
fn push_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };

    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_py_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
}

/// Code points that Python 3.11 (Unicode 14.0) calls non-printable in
/// categories Cc, Cf, Zs (but space), Zl, Zp and Co, as inclusive ranges.
/// Unassigned code points (Cn) are also non-printable in Python but are
/// left out: the table would grow from 28 to 700 ranges for text that
/// never occurs in bandicoot's results.
const NON_PRINTABLE: [(u32, u32); 28] = [
    (0x0, 0x1f),
    (0x7f, 0xa0),
    (0xad, 0xad),
    (0x600, 0x605),
    (0x61c, 0x61c),
    (0x6dd, 0x6dd),
    (0x70f, 0x70f),
    (0x890, 0x891),
    (0x8e2, 0x8e2),
    (0x1680, 0x1680),
    (0x180e, 0x180e),
    (0x2000, 0x200f),
    (0x2028, 0x202f),
    (0x205f, 0x2064),
    (0x2066, 0x206f),
    (0x3000, 0x3000),
    (0xe000, 0xf8ff),
    (0xfeff, 0xfeff),
    (0xfff9, 0xfffb),
    (0x110bd, 0x110bd),
    (0x110cd, 0x110cd),
    (0x13430, 0x13438),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0001, 0xe0001),
    (0xe0020, 0xe007f),
    (0xf0000, 0xffffd),
    (0x100000, 0x10fffd),
];

fn is_py_printable(c: char) -> bool {
    let cp = c as u32;
    !NON_PRINTABLE.iter().any(|&(first, last)| (first..=last).contains(&cp))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each expected string is Python 3.11's `repr(x)` of the same literal.
    #[test]
    fn integral_fast_path_matches_python() {
        // repr() of each, in Python 3.11.
        for (x, want) in [
            (-5.0, "-5.0"),
            (1e15, "1000000000000000.0"),
            (9007199254740991.0, "9007199254740991.0"),
            (9007199254740992.0, "9007199254740992.0"),
            (1e16, "1e+16"),
            (123456789.0, "123456789.0"),
        ] {
            assert_eq!(float_repr(x), want);
        }
        // round(3.0, 5) and round(-0.0, 5) keep their value and sign.
        assert_eq!(float_repr(round_digits(3.0, 5)), "3.0");
        assert_eq!(float_repr(round_digits(-0.0, 5)), "-0.0");
    }

    #[test]
    fn float_repr_matches_python() {
        let cases: [(f64, &str); 23] = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (123.0, "123.0"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1e16, "1e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e22, "1e+22"),
            (-8.6736173798840335e-16, "-8.6736173798840335e-16"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1152921504606846976.0, "1.152921504606847e+18"),
            (1e100, "1e+100"),
            (1.5e-10, "1.5e-10"),
            (12345.678, "12345.678"),
            (-2.5, "-2.5"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            // An exact tie between two 17-digit texts: Python keeps the even one.
            (111275153569243.0 + 0.125, "111275153569243.12"),
        ];
        for (x, expected) in cases {
            assert_eq!(float_repr(x), expected, "repr of {x:e}");
        }
    }

    /// Each expected string is Python 3.11's `repr(round(x, digits))`.
    #[test]
    fn round_digits_matches_python() {
        let cases: [(f64, i32, &str); 24] = [
            (0.125, 2, "0.12"),
            (0.375, 2, "0.38"),
            (2.675, 2, "2.67"),
            (0.5, 0, "0.0"),
            (1.5, 0, "2.0"),
            (2.5, 0, "2.0"),
            (-0.5, 0, "-0.0"),
            (-1e-06, 5, "-0.0"),
            (1.5e-05, 5, "2e-05"),
            (2.5e-05, 5, "3e-05"),
            (1.0 / 3.0, 5, "0.33333"),
            (1234.5, -2, "1200.0"),
            (150.0, -2, "200.0"),
            (250.0, -2, "200.0"),
            (250.0001, -2, "300.0"),
            (-40.0, -2, "-0.0"),
            (99999.5, -5, "100000.0"),
            (5e-324, 323, "0.0"),
            (5e-324, 324, "5e-324"),
            (123.456, -309, "0.0"),
            (-123.456, -309, "-0.0"),
            (9007199254740994.0, 5, "9007199254740994.0"),
            (4503599627370495.5, 0, "4503599627370496.0"),
            (1e300, -299, "1e+300"),
        ];
        for (x, digits, expected) in cases {
            assert_eq!(float_repr(round_digits(x, digits)), expected, "round({x:e}, {digits})");
        }
    }

    #[test]
    fn round_digits_passes_non_finite_through() {
        assert!(round_digits(f64::NAN, 5).is_nan());
        assert_eq!(round_digits(f64::NEG_INFINITY, 5), f64::NEG_INFINITY);
    }

    #[test]
    fn py_str_of_scalars() {
        assert_eq!(py_str(&Value::Null), None);
        assert_eq!(py_str(&Value::Bool(true)).as_deref(), Some("True"));
        assert_eq!(py_str(&Value::Bool(false)).as_deref(), Some("False"));
        assert_eq!(py_str(&Value::Int(-42)).as_deref(), Some("-42"));
        assert_eq!(py_str(&Value::Float(1e16)).as_deref(), Some("1e+16"));
        assert_eq!(py_str(&Value::Str("it's, \"raw\"\n".to_string())).as_deref(), Some("it's, \"raw\"\n"));
    }

    /// Expected strings from Python 3.11: `str([6, 7])`, `str([])` and
    /// `str([1.5, None, True, False, -3, 'a', "it's", 'say "hi"', 'both \'"',
    /// 'tab\t\\', '\x00\x7f\xa0é😀\u2028\ufeff\U000e0001', [1e-05, []]])`.
    #[test]
    fn py_str_of_lists_is_python_list_repr() {
        let weekend = Value::List(vec![Value::Int(6), Value::Int(7)]);
        assert_eq!(py_str(&weekend).as_deref(), Some("[6, 7]"));
        assert_eq!(py_str(&Value::List(vec![])).as_deref(), Some("[]"));

        let text = |s: &str| Value::Str(s.to_string());
        let mixed = Value::List(vec![
            Value::Float(1.5),
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(-3),
            text("a"),
            text("it's"),
            text("say \"hi\""),
            text("both '\""),
            text("tab\t\\"),
            text("\u{0}\u{7f}\u{a0}é😀\u{2028}\u{feff}\u{e0001}"),
            Value::List(vec![Value::Float(1e-05), Value::List(vec![])]),
        ]);
        let expected = r#"[1.5, None, True, False, -3, 'a', "it's", 'say "hi"', 'both \'"', 'tab\t\\', '\x00\x7f\xa0é😀\u2028\ufeff\U000e0001', [1e-05, []]]"#;
        assert_eq!(py_str(&mixed).as_deref(), Some(expected));
    }
}
