//! Python-compatible text for numbers and values: `repr(float)`,
//! `round(x, digits)` and `str(value)`, so that the JSON and CSV writers
//! reproduce bandicoot's output byte for byte.

use crate::value::Value;

/// Python's `repr(x)` for a float (Python 3 `str(x)` is the same).
pub fn float_repr(x: f64) -> String {
    let mut out = String::with_capacity(24);
    push_float_repr(&mut out, x);
    out
}

/// Appends Python's `repr(x)` for a float.
///
/// The digits are Python's: the fewest that read back as `x`, and of those
/// the closest to `x`, ties to even. They are laid out the way CPython's
/// `float_repr` does: plain notation for decimal exponents in `-4..16`,
/// exponent notation with a signed, at least two-digit exponent otherwise.
pub fn push_float_repr(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("nan");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "inf" } else { "-inf" });
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    }

    // Integers below 2^53 are exact and their shortest digits are all of
    // theirs: the common case (counts, whole seconds) needs no digit search.
    let magnitude = x.abs();
    // (Conversions go through i64, a single instruction where u64's are not.)
    if magnitude < TWO_POW_53 && (magnitude as i64) as f64 == magnitude {
        push_u64(out, magnitude as i64 as u64);
        out.push_str(".0");
        return;
    }

    // Nor do short decimals such as 0.125 or 3.75 (means of counts).
    if let Some(n) = short_decimal(magnitude) {
        push_scaled(out, n, SHORT_DECIMALS);
        return;
    }

    let mut shortest = zmij::Buffer::new();
    let text = shortest.format_finite(magnitude);
    // Żmij writes plain notation ("0.000123", "1234.5") for decimal
    // exponents -5 to 15 and Python for -4 to 15, so between 1e-4 and 1e16
    // (both doubles exactly at a power of ten, so no shorter text crosses
    // them) its text is Python's. Elsewhere its notation ("0.0000123",
    // "1.5e-7", "1e+16") differs from Python's and is rebuilt below.
    if (1e-4..1e16).contains(&magnitude) {
        out.push_str(text);
        return;
    }

    let decimal = split_shortest(text.as_bytes());
    push_python_layout(out, decimal.digits(), decimal.exponent);
}

/// 2^53: every double of at least this magnitude is an integer, and every
/// integer below it is a double.
const TWO_POW_53: f64 = 9_007_199_254_740_992.0;

/// How many decimals [`short_decimal`] looks for: the CSV's precision,
/// so that a value its rounding leaves alone also takes the short path.
const SHORT_DECIMALS: u32 = 5;

/// Integers below this have at most 15 digits, and every decimal of at
/// most 15 significant digits is the shortest text of the double nearest
/// it: two such decimals are never nearest to one double (`DBL_DIG`).
const FIFTEEN_DIGITS: u64 = 1_000_000_000_000_000;

/// `n` such that the finite, non-negative `magnitude` is the double nearest
/// `n / 10^SHORT_DECIMALS`, with `n` of at most 15 digits: then that
/// decimal is Python's repr of `magnitude`. None for other values.
fn short_decimal(magnitude: f64) -> Option<u64> {
    let scale = EXACT_POWERS_OF_TEN[SHORT_DECIMALS as usize];
    let scaled = magnitude * scale;
    if !(scaled < FIFTEEN_DIGITS as f64) {
        return None;
    }
    let n = scaled as i64;
    // `n / scale` is correctly rounded (both are exact doubles): it is the
    // double nearest the decimal, which must be `magnitude` itself.
    (n as f64 == scaled && n as f64 / scale == magnitude).then_some(n as u64)
}

/// Appends Python's repr of the double nearest `n / 10^decimals`, for `n`
/// of at most 15 digits (see [`FIFTEEN_DIGITS`]): the decimal itself,
/// trailing zeros dropped, laid out as Python lays out that double.
///
/// Inlined so that the callers' constant `decimals` turns its divisions
/// into multiplications.
#[inline]
fn push_scaled(out: &mut String, n: u64, decimals: u32) {
    debug_assert!(n < FIFTEEN_DIGITS);
    // Python's plain notation starts at 1e-4: there the text is the
    // integer part, a point and the decimals, zero-padded, trailing zeros
    // but one dropped, written in one piece.
    if n == 0 {
        out.push_str("0.0");
        return;
    }
    let scale = match 10u64.checked_pow(decimals) {
        Some(scale) if n.saturating_mul(10_000) >= scale => scale,
        _ => return push_scaled_exponent(out, n, decimals),
    };
    let mut text = [b'0'; 42];
    let integer = u64_digits_into(&mut text[..20], n / scale);
    text[20] = b'.';
    let fraction = &mut text[21..21 + decimals as usize];
    let mut rest = n % scale;
    for digit in fraction.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let last = fraction.iter().rposition(|&d| d != b'0').unwrap_or(0);
    push_ascii(out, &text[20 - integer..22 + last]);
}

/// [`push_scaled`] below 1e-4, in exponent notation.
#[cold]
fn push_scaled_exponent(out: &mut String, n: u64, decimals: u32) {
    let mut buf = [0u8; 20];
    let digits = u64_digits(&mut buf, n);
    let significant = digits.iter().rposition(|&d| d != b'0').map_or(1, |last| last + 1);
    let exponent = digits.len() as i32 - 1 - decimals as i32;
    push_python_layout(out, &digits[..significant], exponent);
}

/// Lays out significant `digits` (`d.ddd`, no trailing zeros) times
/// `10^exponent` the way CPython's `float_repr` does: plain notation for
/// decimal exponents in `-4..16`, exponent notation with a signed, at
/// least two-digit exponent otherwise.
fn push_python_layout(out: &mut String, digits: &[u8], exponent: i32) {
    if !(-4..16).contains(&exponent) {
        push_ascii(out, &digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            push_ascii(out, &digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let exponent = exponent.unsigned_abs();
        if exponent < 10 {
            out.push('0');
        }
        push_u64(out, u64::from(exponent));
    } else if exponent >= 0 {
        let integer_len = exponent as usize + 1;
        if digits.len() > integer_len {
            push_ascii(out, &digits[..integer_len]);
            out.push('.');
            push_ascii(out, &digits[integer_len..]);
        } else {
            push_ascii(out, digits);
            out.extend(std::iter::repeat_n('0', integer_len - digits.len()));
            out.push_str(".0");
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
        push_ascii(out, digits);
    }
}

/// Appends Python's `repr(round(x, digits))`, the text of a CSV cell.
///
/// Where the rounded value has at most 15 significant digits, its text is
/// those digits (see [`FIFTEEN_DIGITS`]), written from the rounded integer
/// without a digit search; elsewhere it is [`push_float_repr`] of
/// [`round_digits`].
#[inline]
pub fn push_rounded_repr(out: &mut String, x: f64, digits: i32) {
    let rounded = match (x != 0.0).then(|| round_scaled(x, digits)).flatten() {
        Some((_, rounded)) if rounded.abs() < FIFTEEN_DIGITS as f64 => rounded,
        _ => return push_float_repr(out, round_digits(x, digits)),
    };
    // A value that rounds to zero keeps its sign, as in Python.
    if rounded.is_sign_negative() {
        out.push('-');
    }
    push_scaled(out, rounded.abs() as i64 as u64, digits as u32);
}

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    push_ascii(out, u64_digits(&mut buf, n));
}

/// The decimal digits of `n`, written at the end of `buf`.
fn u64_digits(buf: &mut [u8; 20], n: u64) -> &[u8] {
    let len = u64_digits_into(buf, n);
    &buf[buf.len() - len..]
}

/// Writes the decimal digits of `n` at the end of `buf`, which must have
/// room for them, and returns how many there are; the bytes before them
/// are left as they were.
fn u64_digits_into(buf: &mut [u8], mut n: u64) -> usize {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.len() - at
}

/// Appends `n` as Python's `str(int)` writes it.
pub fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends bytes known to be ASCII digits or signs.
fn push_ascii(out: &mut String, bytes: &[u8]) {
    // Called for every number written: the digits need no UTF-8 check.
    debug_assert!(bytes.is_ascii());
    // SAFETY: callers pass ASCII digits, signs and points, valid UTF-8.
    out.push_str(unsafe { std::str::from_utf8_unchecked(bytes) });
}

/// Significant decimal digits `d.ddd` (no trailing zeros) and the decimal
/// exponent of their first digit.
struct Decimal {
    buf: [u8; 24],
    len: usize,
    exponent: i32,
}

impl Decimal {
    fn digits(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The digits and exponent of Żmij's text for a finite, positive, non-zero
/// double.
///
/// Żmij finds the same digits as Python's dtoa: the shortest that read
/// back as `x`, the closest of those, exact ties to even. Its text
/// ("1234.5", "0.000123", "1.5e-10", "1e+16") is only taken apart here for
/// digits and exponent, so its own layout does not matter.
fn split_shortest(text: &[u8]) -> Decimal {
    let mut decimal = Decimal { buf: [0; 24], len: 0, exponent: 0 };
    // The value is 0.<digits> * 10^(point + written exponent); `point`
    // counts digits before the '.' less the leading zeros dropped.
    let mut point: i32 = 0;
    let mut before_point = true;
    let mut written_exponent: i32 = 0;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                if before_point {
                    point += 1;
                }
                if decimal.len == 0 && b == b'0' {
                    point -= 1;
                } else {
                    decimal.buf[decimal.len] = b;
                    decimal.len += 1;
                }
            }
            b'.' => before_point = false,
            b'e' | b'E' => {
                let exponent = std::str::from_utf8(&text[i + 1..]).expect("ASCII exponent");
                written_exponent = exponent.parse().expect("Żmij writes an integer exponent");
                break;
            }
            other => unreachable!("unexpected byte {other:#x} in Żmij's text"),
        }
    }
    while decimal.len > 1 && decimal.buf[decimal.len - 1] == b'0' {
        decimal.len -= 1;
    }
    decimal.exponent = point + written_exponent - 1;
    decimal
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
        if x.abs() >= TWO_POW_52 || (x as i64) as f64 == x {
            return x;
        }
        if let Some((scale, rounded)) = round_scaled(x, digits) {
            // `rounded` and `scale` are exact doubles, so the quotient is
            // correctly rounded: the very double the decimal text of
            // R * 10^-digits reads back as.
            return rounded / scale;
        }
        // Rust's fixed-precision formatting is exact and rounds ties to even,
        // which is exactly Python's rule.
        let text = format!("{x:.prec$}", prec = digits as usize);
        return text.parse().expect("a formatted float parses back");
    }

    round_to_power_of_ten(x, digits.unsigned_abs() as usize)
}

/// 2^52: from here up every double is an integer, and below it every
/// half-integer is a double.
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// Powers of ten that are exact doubles: 10^0 to 10^22.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// `10^digits` and R, the exact value t = x * 10^digits rounded half to
/// even to an integer (as a double, with x's sign even when zero), for a
/// finite `x` where the scaled value stays below 2^52; `None` elsewhere.
///
/// Python's `round(x, digits)` is R * 10^-digits. `p`, the double nearest
/// t, and `error = t - p` (exact, by a fused multiply-add) give R: below
/// 2^52 every half-integer is a double, so t lies on the same side of a
/// half-integer as p unless p is that half-integer, where the sign of the
/// error decides and only a zero error is a true tie.
fn round_scaled(x: f64, digits: i32) -> Option<(f64, f64)> {
    let scale = *EXACT_POWERS_OF_TEN.get(usize::try_from(digits).ok()?)?;
    let p = x * scale;
    // An infinite or NaN product (x near the largest doubles, or not
    // finite) also stops here.
    if !(p.abs() < TWO_POW_52) {
        return None;
    }

    // Adding and taking away 2^52 rounds a smaller magnitude to an integer,
    // ties to even, in the default rounding mode: branch-free, and inline
    // where `round_ties_even` is a library call (x86-64 without SSE4.1).
    let magnitude = p.abs();
    let nearest = (magnitude + TWO_POW_52) - TWO_POW_52;
    let rounded = if (magnitude - nearest).abs() != 0.5 {
        nearest.copysign(p)
    } else {
        // Rare, so the fused multiply-add (a library call without FMA
        // instructions) is only paid here.
        let error = x.mul_add(scale, -p);
        if error > 0.0 {
            p.ceil()
        } else if error < 0.0 {
            p.floor()
        } else {
            p.round_ties_even()
        }
    };
    Some((scale, rounded))
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

/// Appends what [`py_str`] returns; nothing for `Null`.
pub fn push_py_str(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::Str(s) => out.push_str(s),
        other => push_repr(out, other),
    }
}

/// Appends Python's `repr(value)`.
fn push_repr(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(i) => push_i64(out, *i),
        Value::Float(f) => push_float_repr(out, *f),
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
        let cases: [(f64, &str); 24] = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (123.0, "123.0"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            // The float just below 1e-4: exponent notation.
            (9.999999999999999e-05, "9.999999999999999e-05"),
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

    /// The former implementations, built on Rust's own float formatting and
    /// parsing: slow, but checked against Python on the cases above and
    /// simple enough to trust. The fast ones must agree with them bit for bit.
    mod oracle {
        pub fn float_repr(x: f64) -> String {
            if x.is_nan() {
                return "nan".to_string();
            }
            if x.is_infinite() {
                return if x > 0.0 { "inf" } else { "-inf" }.to_string();
            }
            let (sign, digits, exponent) = shortest_digits(x);
            let mut out = String::from(sign);
            if !(-4..16).contains(&exponent) {
                out.push_str(&digits[..1]);
                if digits.len() > 1 {
                    out.push('.');
                    out.push_str(&digits[1..]);
                }
                out.push_str(&format!("e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs()));
            } else if exponent >= 0 {
                let integer_len = exponent as usize + 1;
                if digits.len() > integer_len {
                    out.push_str(&format!("{}.{}", &digits[..integer_len], &digits[integer_len..]));
                } else {
                    out.push_str(&format!("{digits}{}.0", "0".repeat(integer_len - digits.len())));
                }
            } else {
                out.push_str(&format!("0.{}{digits}", "0".repeat((-exponent - 1) as usize)));
            }
            out
        }

        fn shortest_digits(x: f64) -> (&'static str, String, i32) {
            let shortest = split_scientific(&format!("{x:e}"));
            // Rust rounds exact ties of the shortest digits upwards; the
            // correctly rounded text (ties to even) is Python's whenever it
            // reads back as x.
            let precision = shortest.1.len() - 1;
            let rounded = format!("{x:.precision$e}");
            if rounded.parse::<f64>() == Ok(x) {
                return split_scientific(&rounded);
            }
            shortest
        }

        fn split_scientific(text: &str) -> (&'static str, String, i32) {
            let (mantissa, exponent) = text.split_once('e').unwrap();
            let (sign, mantissa) = match mantissa.strip_prefix('-') {
                Some(unsigned) => ("-", unsigned),
                None => ("", mantissa),
            };
            let mut digits: String = mantissa.chars().filter(|c| *c != '.').collect();
            let significant_len = digits.trim_end_matches('0').len().max(1);
            digits.truncate(significant_len);
            (sign, digits, exponent.parse().unwrap())
        }

        /// Python's `round(x, digits)` for `digits >= 0` through exact text.
        pub fn round_digits(x: f64, digits: usize) -> f64 {
            if !x.is_finite() || x == 0.0 || x.abs() >= 4_503_599_627_370_496.0 || x.fract() == 0.0 {
                return x;
            }
            format!("{x:.digits$}").parse().unwrap()
        }
    }

    /// SplitMix64: reproducible pseudo-random bits without a dependency.
    struct Bits(u64);

    impl Bits {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// A double with a random mantissa and a decimal magnitude around
        /// 10^`spread` either way.
        fn scaled(&mut self, spread: i32) -> f64 {
            let mantissa = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
            let exponent = (self.next() % (2 * spread as u64 + 1)) as i32 - spread;
            let sign = if self.next() & 1 == 0 { 1.0 } else { -1.0 };
            sign * mantissa * 10f64.powi(exponent)
        }
    }

    /// Doubles of every kind the writers meet and many they do not.
    fn varied_values() -> Vec<f64> {
        let mut bits = Bits(2024);
        let mut values = vec![0.0, -0.0, f64::MIN_POSITIVE, f64::MAX, f64::MIN, 5e-324, -5e-324];
        for _ in 0..150_000 {
            let x = f64::from_bits(bits.next());
            if x.is_finite() {
                values.push(x);
            }
        }
        for _ in 0..100_000 {
            values.push(bits.scaled(25));
        }
        for a in 0..400 {
            for b in 1..300 {
                values.push(a as f64 / b as f64);
                values.push(-(b as f64) / (a as f64 + 7.0));
            }
        }
        for k in -325..309 {
            let p = format!("1e{k}").parse::<f64>().unwrap();
            for x in [p, p * 2.0, p * 5.0, p * 9.99] {
                values.extend([x, x.next_up(), x.next_down(), -x]);
            }
        }
        for k in -1074..1024 {
            let p = 2f64.powi(k);
            values.extend([p, p.next_up(), p.next_down(), p * 3.0]);
        }
        // Decimals of up to 8 places, some short enough for the fast path.
        for _ in 0..50_000 {
            let n = bits.next() >> (bits.next() % 64);
            let x = n as f64 / 10f64.powi((bits.next() % 9) as i32);
            values.extend([x, x.next_up(), -x]);
        }
        for _ in 0..20_000 {
            let n = (bits.next() >> (bits.next() % 64)) as i64;
            values.extend([n as f64, n as f64 / 2.0, n as f64 / 1024.0, -(n as f64) + 0.125]);
        }
        values
    }

    #[test]
    fn float_repr_agrees_with_the_former_implementation() {
        let values = varied_values();
        assert!(values.len() > 500_000);
        let mut out = String::new();
        for x in values {
            out.clear();
            push_float_repr(&mut out, x);
            assert_eq!(out, oracle::float_repr(x), "repr of {x:e} ({:#x})", x.to_bits());
        }
    }

    #[test]
    fn round_digits_agrees_with_the_former_implementation() {
        let mut bits = Bits(7);
        let mut values = varied_values();
        // Exact binary ties at some precision: dyadic rationals.
        for m in 1..3000 {
            for j in 0..24 {
                values.push(m as f64 / f64::from(1u32 << j));
                values.push(-(m as f64) / f64::from(1u32 << j));
            }
        }
        // Decimal halves such as 2.675, whose doubles sit just off the tie,
        // and their neighbours.
        for _ in 0..40_000 {
            let d = (bits.next() % 12) as i32;
            let n = bits.next() % 10u64.pow(1 + (bits.next() % 8) as u32);
            let x: f64 = format!("{n}5e-{}", d + 1).parse().unwrap();
            values.extend([x, x.next_up(), x.next_down(), -x]);
        }
        let digit_counts: Vec<i32> = (0..=24).chain([30, 100]).collect();
        for (i, x) in values.iter().enumerate() {
            // Every value at the CSV's precision, and a varying other one.
            let other = digit_counts[i % digit_counts.len()];
            for digits in [5, other] {
                let got = round_digits(*x, digits);
                let want = oracle::round_digits(*x, digits as usize);
                assert_eq!(got.to_bits(), want.to_bits(), "round({x:e}, {digits}): {got:e} vs {want:e}");
            }
        }
    }

    /// Each expected string is Python 3.11's `repr(round(x, 5))`, the CSV
    /// cell of `x`.
    #[test]
    fn rounded_repr_matches_python() {
        let cases: [(f64, &str); 22] = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (-1e-06, "-0.0"),
            (4e-06, "0.0"),
            (6e-06, "1e-05"),
            (2.5e-05, "3e-05"),
            (0.000125, "0.00013"),
            (0.00012, "0.00012"),
            (2.675, "2.675"),
            (2.0000049999, "2.0"),
            (1.0 / 3.0, "0.33333"),
            (-2.0 / 3.0, "-0.66667"),
            (6.125, "6.125"),
            (3.0, "3.0"),
            (123456789.123456, "123456789.12346"),
            (9999999999.999996, "10000000000.0"),
            (12345678901.234567, "12345678901.23457"),
            (1.2345678e16, "1.2345678e+16"),
            (1e22, "1e+22"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (x, expected) in cases {
            let mut out = String::new();
            push_rounded_repr(&mut out, x, 5);
            assert_eq!(out, expected, "repr(round({x:e}, 5))");
        }
    }

    /// The CSV's one-step rounding and text agree with rounding, then
    /// writing the rounded double, on every value and precision.
    #[test]
    fn rounded_repr_agrees_with_round_then_repr() {
        let mut values = varied_values();
        // Short decimals and the doubles around them, where the text is
        // written from the rounded integer.
        let mut bits = Bits(11);
        for _ in 0..100_000 {
            let decimals = (bits.next() % 9) as i32;
            let n = (bits.next() >> (bits.next() % 64)) as f64;
            let x = n / 10f64.powi(decimals);
            values.extend([x, x.next_up(), x.next_down(), -x]);
        }
        let mut got = String::new();
        let mut want = String::new();
        for (i, &x) in values.iter().enumerate() {
            for digits in [5, (i % 25) as i32, -((i % 4) as i32)] {
                got.clear();
                want.clear();
                push_rounded_repr(&mut got, x, digits);
                push_float_repr(&mut want, round_digits(x, digits));
                assert_eq!(got, want, "repr(round({x:e}, {digits})) ({:#x})", x.to_bits());
            }
        }
    }

    /// Short decimals are written from their scaled integer; the text must
    /// be the one Python's digit search finds.
    #[test]
    fn short_decimals_match_python() {
        for (x, expected) in [
            (0.5, "0.5"),
            (6.125, "6.125"),
            (-1.75, "-1.75"),
            (0.00012, "0.00012"),
            (1e-05, "1e-05"),
            (3e-05, "3e-05"),
            (0.30001, "0.30001"),
            (9999999999.99999, "9999999999.99999"),
            (123.45, "123.45"),
        ] {
            assert_eq!(float_repr(x), expected, "repr of {x:e}");
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
