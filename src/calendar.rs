//! Calendar arithmetic on naive timestamps (seconds since 1970-01-01
//! 00:00:00, no time zone), and the parser that accepts exactly the
//! datetimes that Python's `datetime.strptime(s, "%Y-%m-%d %H:%M:%S")`
//! accepts, since that parser decides which records bandicoot keeps.

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// ISO weekday, 1 for Monday to 7 for Sunday.
pub fn iso_weekday(days: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    ((days + 3).rem_euclid(7) + 1) as u32
}

/// Monday-based week number since the epoch: consecutive ISO weeks differ by one.
pub fn week_index(days: i64) -> i64 {
    (days - 4).div_euclid(7)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Formats a timestamp as Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS`.
pub fn format_datetime(t: i64) -> String {
    let days = t.div_euclid(SECONDS_PER_DAY);
    let sod = t.rem_euclid(SECONDS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// Reads a one- or two-digit field the way Python's strptime regex does:
/// the two-digit reading wins when its digits form a value in `two`,
/// otherwise a single digit in `one` is taken.
fn field(s: &[u8], at: &mut usize, two: (u32, u32), one: (u32, u32)) -> Option<u32> {
    let digit = |i: usize| s.get(i).filter(|c| c.is_ascii_digit()).map(|c| u32::from(c - b'0'));
    let first = digit(*at)?;
    if let Some(second) = digit(*at + 1) {
        let v = first * 10 + second;
        if (two.0..=two.1).contains(&v) {
            *at += 2;
            return Some(v);
        }
    }
    if (one.0..=one.1).contains(&first) {
        *at += 1;
        return Some(first);
    }
    None
}

fn expect(s: &[u8], at: &mut usize, c: u8) -> Option<()> {
    (s.get(*at) == Some(&c)).then(|| *at += 1)
}

/// Reads `%Y-%m-%d` at the start of `s` with Python's strptime rules
/// (one-digit month and day, a day written ` 5`): the year, month, day and
/// the position after the day. Whether the date exists is checked later.
fn date_prefix(s: &[u8]) -> Option<(i64, u32, u32, usize)> {
    if s.len() < 4 || !s[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = s[..4].iter().fold(0i64, |a, c| a * 10 + i64::from(c - b'0'));
    let mut at = 4;

    expect(s, &mut at, b'-')?;
    // %m: 1[0-2]|0[1-9]|[1-9]
    let month = field(s, &mut at, (1, 12), (1, 9)).filter(|m| *m >= 1)?;
    expect(s, &mut at, b'-')?;
    // %d: 3[01]|[12]\d|0[1-9]|[1-9]| [1-9]
    let day = if s.get(at) == Some(&b' ') {
        at += 1;
        field(s, &mut at, (u32::MAX, u32::MAX), (1, 9))?
    } else {
        field(s, &mut at, (1, 31), (1, 9))?
    };
    Some((year, month, day, at))
}

/// Days since the epoch of a date that datetime() accepts.
fn checked_days(year: i64, month: u32, day: u32) -> Option<i64> {
    if year < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Parses `%Y-%m-%d %H:%M:%S` with Python's leniency: one-digit month,
/// day, hour, minute and second, a day written ` 5`, any run of
/// whitespace between date and time, and nothing else before or after.
/// Returns seconds since the epoch, or `None` where Python raises.
pub fn parse_py_datetime(text: &str) -> Option<i64> {
    canonical_datetime(text.as_bytes()).or_else(|| lenient_datetime(text.as_bytes()))
}

/// [`parse_py_datetime`] for the times of one file, which come many to a
/// day: the day number of the last canonical date read is kept, so that
/// a time on the same date reads its clock alone.
#[derive(Default)]
pub struct DatetimeReader {
    date: [u8; 10],
    days: Option<i64>,
}

impl DatetimeReader {
    pub fn parse(&mut self, text: &str) -> Option<i64> {
        let s = text.as_bytes();
        if let Some(clock) = canonical_clock(s) {
            let days = match self.days {
                Some(days) if s[..10] == self.date => Some(days),
                _ => canonical_days(s).inspect(|&days| {
                    self.date.copy_from_slice(&s[..10]);
                    self.days = Some(days);
                }),
            };
            if let Some(days) = days {
                return Some(days * SECONDS_PER_DAY + clock);
            }
        }
        lenient_datetime(s)
    }
}

/// Two ASCII digits at `i` as a number.
fn two_digits(s: &[u8], i: usize) -> Option<u32> {
    let (a, b) = (s[i].wrapping_sub(b'0'), s[i + 1].wrapping_sub(b'0'));
    (a < 10 && b < 10).then(|| u32::from(a) * 10 + u32::from(b))
}

/// `YYYY-MM-DD HH:MM:SS` with every field in range, as nearly every
/// records file writes its times: read at fixed places, without the
/// lenient rules' branches. Anything else is left to them.
fn canonical_datetime(s: &[u8]) -> Option<i64> {
    let clock = canonical_clock(s)?;
    Some(canonical_days(s)? * SECONDS_PER_DAY + clock)
}

/// The seconds of the day of a canonical datetime (see
/// [`canonical_datetime`]), whose shape it checks.
fn canonical_clock(s: &[u8]) -> Option<i64> {
    if s.len() != 19 || s[4] != b'-' || s[7] != b'-' || s[10] != b' ' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (two_digits(s, 11)?, two_digits(s, 14)?, two_digits(s, 17)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(i64::from(hour * 3600 + minute * 60 + second))
}

/// The day number of the date of a canonical datetime whose shape
/// [`canonical_clock`] checked.
fn canonical_days(s: &[u8]) -> Option<i64> {
    let year = i64::from(two_digits(s, 0)? * 100 + two_digits(s, 2)?);
    let (month, day) = (two_digits(s, 5)?, two_digits(s, 8)?);
    if !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    checked_days(year, month, day)
}

/// [`parse_py_datetime`] by the general rules.
fn lenient_datetime(s: &[u8]) -> Option<i64> {
    let (year, month, day, mut at) = date_prefix(s)?;

    // A space in the format matches any run of whitespace.
    let ws_start = at;
    while s.get(at).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) {
        at += 1;
    }
    if at == ws_start {
        return None;
    }

    // %H: 2[0-3]|[0-1]\d|\d ; %M: [0-5]\d|\d ; %S: 6[0-1]|[0-5]\d|\d
    let hour = field(s, &mut at, (0, 23), (0, 9))?;
    expect(s, &mut at, b':')?;
    let minute = field(s, &mut at, (0, 59), (0, 9))?;
    expect(s, &mut at, b':')?;
    let second = field(s, &mut at, (0, 61), (0, 9))?;
    if at != s.len() {
        return None; // "unconverted data remains"
    }

    // datetime() itself rejects what the regex let through.
    if second > 59 {
        return None;
    }
    let days = checked_days(year, month, day)?;
    Some(days * SECONDS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second))
}

/// Parses `%Y-%m-%d` as Python's strptime does (see [`parse_py_datetime`]);
/// the time is midnight.
pub fn parse_py_date(text: &str) -> Option<i64> {
    let s = text.as_bytes();
    let (year, month, day, at) = date_prefix(s)?;
    if at != s.len() {
        return None;
    }
    Some(checked_days(year, month, day)? * SECONDS_PER_DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ISO (year, week) of a day number, as Python's `isocalendar()[0:2]`.
    fn iso_week(days: i64) -> (i64, u32) {
        let thursday = days - i64::from(iso_weekday(days)) + 4;
        let (year, _, _) = civil_from_days(thursday);
        let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
        (year, week as u32)
    }

    #[test]
    fn week_index_groups_days_as_iso_weeks_do() {
        // Two days share a week index exactly when they share an ISO week.
        let start = days_from_civil(2013, 12, 1);
        for a in start..start + 800 {
            for b in [a + 1, a + 6, a + 7] {
                assert_eq!(iso_week(a) == iso_week(b), week_index(a) == week_index(b), "{a} {b}");
            }
        }
    }

    fn dt(s: &str) -> Option<String> {
        parse_py_datetime(s).map(format_datetime)
    }

    #[test]
    fn accepts_what_python_strptime_accepts() {
        assert_eq!(dt("2014-08-20 20:30:37").as_deref(), Some("2014-08-20 20:30:37"));
        assert_eq!(dt("2014-3-5 7:05:09").as_deref(), Some("2014-03-05 07:05:09"));
        assert_eq!(dt("2014-03- 5 07:05:09").as_deref(), Some("2014-03-05 07:05:09"));
        assert_eq!(dt("2014-03-05 \t 7:5:9").as_deref(), Some("2014-03-05 07:05:09"));
        assert_eq!(dt("2016-02-29 00:00:00").as_deref(), Some("2016-02-29 00:00:00"));
    }

    #[test]
    fn rejects_what_python_strptime_rejects() {
        for bad in [
            "2014-02-30 10:00:00",
            "2014-13-01 10:00:00",
            "2014-00-01 10:00:00",
            "2014-01-00 10:00:00",
            "2014-01-01 24:00:00",
            "2014-01-01 10:60:00",
            "2014-01-01 10:00:60",
            "2014-01-01 10:00:00 ",
            " 2014-01-01 10:00:00",
            "2014-01-0110:00:00",
            "14-01-01 10:00:00",
            "2015-02-29 00:00:00",
            "0000-01-01 00:00:00",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_py_datetime(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fixed_place_reading_agrees_with_the_lenient_rules() {
        // Every field at and around its limits, and non-digits in it.
        let fields: [&[&str]; 6] = [
            &["0000", "0001", "1969", "2000", "2015", "2016", "2100", "9999", "20a4"],
            &["00", "01", "02", "09", "10", "12", "13", "1x", " 1"],
            &["00", "01", "09", "28", "29", "30", "31", "32", "3 "],
            &["00", "07", "19", "23", "24", "99", "-1"],
            &["00", "59", "60", "5:"],
            &["00", "59", "60", "61", "62", "+1"],
        ];
        let (mut checked, mut taken) = (0, 0);
        // One reader for all: consecutive texts share their date, or not.
        let mut reader = DatetimeReader::default();
        for y in fields[0] {
            for mo in fields[1] {
                for d in fields[2] {
                    for h in fields[3] {
                        for mi in fields[4] {
                            for s in fields[5] {
                                let text = format!("{y}-{mo}-{d} {h}:{mi}:{s}");
                                let lenient = lenient_datetime(text.as_bytes());
                                assert_eq!(parse_py_datetime(&text), lenient, "{text:?}");
                                assert_eq!(reader.parse(&text), lenient, "{text:?} after others");
                                // The fixed places read what the rules read, and
                                // every valid time written in full takes them.
                                let fast = canonical_datetime(text.as_bytes());
                                if fast.is_some() {
                                    assert_eq!(fast, lenient, "{text:?}");
                                }
                                let in_full = text.len() == 19
                                    && text
                                        .bytes()
                                        .enumerate()
                                        .all(|(i, c)| [4, 7, 10, 13, 16].contains(&i) || c.is_ascii_digit());
                                assert_eq!(fast.is_some(), in_full && lenient.is_some(), "{text:?}");
                                taken += usize::from(fast.is_some());
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 9 * 9 * 9 * 7 * 4 * 6);
        assert!(taken > 1000, "{taken} times");
    }

    #[test]
    fn dates_as_python_strptime_reads_them() {
        let d = |s: &str| parse_py_date(s).map(format_datetime);
        assert_eq!(d("2015-1-13").as_deref(), Some("2015-01-13 00:00:00"));
        assert_eq!(d("2015-02-03").as_deref(), Some("2015-02-03 00:00:00"));
        assert_eq!(d("2015-02- 3").as_deref(), Some("2015-02-03 00:00:00"));
        assert_eq!(d("2016-2-29").as_deref(), Some("2016-02-29 00:00:00"));
        for bad in ["2015-02-30", "2015-2-3 ", " 2015-2-3", "2015-02-03 10:00:00", "2015/02/03", "15-2-3", ""]
        {
            assert_eq!(parse_py_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn iso_weeks_match_python_isocalendar() {
        // datetime.date(2014, 12, 29).isocalendar() == (2015, 1, 1)
        assert_eq!(iso_week(days_from_civil(2014, 12, 29)), (2015, 1));
        // datetime.date(2016, 1, 3).isocalendar() == (2015, 53, 7)
        assert_eq!(iso_week(days_from_civil(2016, 1, 3)), (2015, 53));
        assert_eq!(iso_weekday(days_from_civil(2016, 1, 3)), 7);
        // datetime.date(2014, 8, 20).isocalendar() == (2014, 34, 3)
        assert_eq!(iso_week(days_from_civil(2014, 8, 20)), (2014, 34));
        assert_eq!(iso_weekday(days_from_civil(2014, 8, 20)), 3);
    }

    #[test]
    fn civil_round_trip() {
        for z in -800_000..800_000i64 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
