//! Per-user recharges (top-ups): `DIR/<user>.csv` with `datetime,amount,
//! retailer_id` rows, read into time-sorted [`Recharge`]s and, for a chunk
//! of users, into the frame that the recharge indicators aggregate.

use std::path::Path;

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::calendar;
use crate::load::{is_night, is_weekend, parse_py_float, period_key, read_user_side_file, required_column};
use crate::options::GroupBy;

/// One recharge: when (seconds since the epoch, midnight for a date
/// without a time) and how much.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recharge {
    pub t: i64,
    pub amount: f64,
}

/// `%Y-%m-%d %H:%M:%S`, else `%Y-%m-%d`, as the reference tries them.
pub fn parse_recharge_datetime(s: &str) -> Option<i64> {
    calendar::parse_py_datetime(s).or_else(|| calendar::parse_py_date(s))
}

/// Reads `dir/<user>.csv`, sorted by time (file order breaks ties). A user
/// without a file has no recharges, as in the reference.
///
/// An empty or missing amount counts as 0, as in the reference. A datetime
/// that is neither form, or an amount that is not a finite number, fails
/// the user with the row and column (the reference fails the first and
/// silently reads the second as 0).
pub fn load_recharges(dir: &Path, user: &str) -> Result<Vec<Recharge>> {
    let Some((path, lines, df)) = read_user_side_file(dir, user)? else {
        return Ok(Vec::new());
    };
    if df.height() == 0 {
        return Ok(Vec::new());
    }

    let shown = path.display();
    let column = |name: &str| required_column(&df, &path, name);
    let datetimes = column("datetime")?;
    let amounts = column("amount")?;

    let mut out = Vec::with_capacity(df.height());
    for (i, (datetime, amount)) in datetimes.iter().zip(amounts.iter()).enumerate() {
        let row = lines.get(i).map_or(i + 2, |&(line, _)| line);
        let datetime = datetime.unwrap_or("");
        let Some(t) = parse_recharge_datetime(datetime) else {
            bail!(
                "{shown}: row {row}, column 'datetime': {datetime:?} is neither YYYY-MM-DD HH:MM:SS nor YYYY-MM-DD"
            );
        };
        let amount = match amount.unwrap_or("") {
            "" => 0.0,
            text => match parse_py_float(text) {
                Some(a) if a.is_finite() => a,
                _ => bail!("{shown}: row {row}, column 'amount': {text:?} is not a finite number"),
            },
        };
        out.push(Recharge { t, amount });
    }

    // A stable sort, as the reference's sorted().
    out.sort_by_key(|r| r.t);
    Ok(out)
}

/// The recharges of a chunk's users, one row each in user then time order:
/// `user`, `t`, `amount`, and the `period`, `weekend` and `night` that the
/// engine groups and filters on, as for records.
pub fn chunk_frame(users: &[(u32, &[Recharge])], groupby: GroupBy) -> PolarsResult<DataFrame> {
    let n: usize = users.iter().map(|(_, r)| r.len()).sum();
    let mut user = Vec::with_capacity(n);
    let mut t = Vec::with_capacity(n);
    let mut amount = Vec::with_capacity(n);
    let mut period = Vec::with_capacity(n);
    let mut weekend = Vec::with_capacity(n);
    let mut night = Vec::with_capacity(n);
    for (u, recharges) in users {
        for r in recharges.iter() {
            user.push(*u);
            t.push(r.t);
            amount.push(r.amount);
            period.push(period_key(groupby, r.t));
            weekend.push(is_weekend(r.t));
            night.push(is_night(r.t));
        }
    }
    DataFrame::new(
        n,
        vec![
            Column::new("user".into(), user),
            Column::new("t".into(), t),
            Column::new("amount".into(), amount),
            Column::new("period".into(), period),
            Column::new("weekend".into(), weekend),
            Column::new("night".into(), night),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(content: &str, check: impl FnOnce(Result<Vec<Recharge>>)) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("bandicoot-rch-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("u.csv"), content).unwrap();
        check(load_recharges(&dir, "u"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn both_datetime_forms_sorted_with_file_order_on_ties() {
        // The reference's sample: one-digit months and days, an empty
        // amount (0) and an empty retailer.
        with_file(
            "datetime,amount,retailer_id\n2015-2-3,2,\n2015-1-13 10:00:00,12,1185\n2015-2-3,,\n",
            |r| {
                let got = r.unwrap();
                let jan13 = calendar::days_from_civil(2015, 1, 13) * calendar::SECONDS_PER_DAY;
                let feb3 = calendar::days_from_civil(2015, 2, 3) * calendar::SECONDS_PER_DAY;
                assert_eq!(
                    got,
                    vec![
                        Recharge { t: jan13 + 36_000, amount: 12.0 },
                        Recharge { t: feb3, amount: 2.0 },
                        Recharge { t: feb3, amount: 0.0 },
                    ]
                );
            },
        );
    }

    #[test]
    fn missing_file_or_header_only_means_no_recharges() {
        assert_eq!(load_recharges(&std::env::temp_dir(), "no-such-user-for-sure").unwrap(), vec![]);
        with_file("datetime,amount,retailer_id\n", |r| assert_eq!(r.unwrap(), vec![]));
    }

    #[test]
    fn malformed_rows_name_row_and_column() {
        let cases = [
            ("datetime,amount\n2015-01-02,1\n2015-02-30,2\n", "row 3, column 'datetime': \"2015-02-30\""),
            ("datetime,amount\n2015-01-02,1\n\n,2\n", "row 4, column 'datetime': \"\""),
            ("datetime,amount\n2015-01-02 10:00,1\n", "row 2, column 'datetime'"),
            ("datetime,amount\n2015-01-02,ten\n", "row 2, column 'amount': \"ten\" is not a finite number"),
            ("datetime,amount\n2015-01-02,nan\n", "row 2, column 'amount': \"nan\""),
            ("date,amount\n2015-01-02,1\n", "row 1: missing column 'datetime'"),
            ("datetime,retailer_id\n2015-01-02,1\n", "row 1: missing column 'amount'"),
        ];
        for (content, message) in cases {
            with_file(content, |r| {
                let e = format!("{:#}", r.unwrap_err());
                assert!(e.contains("u.csv: ") && e.contains(message), "{content:?}: {e}");
            });
        }
    }
}
