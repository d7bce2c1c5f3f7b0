//! Per-user attributes: `DIR/<user>.csv` with `key,value` rows (age,
//! gender, plan, ...), reported under `attributes` in the results and kept
//! per user so that network indicators can compare neighbours' attributes.

use std::path::Path;

use anyhow::{bail, Result};

use crate::load::{read_user_side_file, required_column};

/// A user's attributes in file order. A key given twice keeps its first
/// place and its last value, as a Python dict built from the rows does.
pub type Attributes = Vec<(String, String)>;

/// Reads `dir/<user>.csv`. A user without a file has no attributes, as in
/// the reference; a file that cannot be used fails the user with the file,
/// row and column at fault.
pub fn load_attributes(dir: &Path, user: &str) -> Result<Attributes> {
    let Some((path, lines, df)) = read_user_side_file(dir, user)? else {
        return Ok(Vec::new());
    };
    if df.width() == 0 {
        return Ok(Vec::new());
    }

    let shown = path.display();
    let column = |name: &str| required_column(&df, &path, name);
    let keys = column("key")?;
    let values = column("value")?;
    let value_field = df.get_column_names().iter().position(|c| c.as_str() == "value").unwrap_or(0);

    let mut out: Attributes = Vec::new();
    for (i, (key, value)) in keys.iter().zip(values.iter()).enumerate() {
        // The CSV reader reads an empty field and a missing one alike; only
        // the second is an error (the reference would report a None value).
        let (line, fields) = lines.get(i).copied().unwrap_or((i + 2, usize::MAX));
        if fields <= value_field {
            bail!("{shown}: row {line}, column 'value': missing (the row has {fields} field(s))");
        }
        let key = key.unwrap_or("").to_string();
        let value = value.unwrap_or("").to_string();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(content: &str, check: impl FnOnce(Result<Attributes>)) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("bandicoot-attr-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("u.csv"), content).unwrap();
        check(load_attributes(&dir, "u"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rows_in_file_order_with_dict_semantics() {
        with_file("key,value\ngender,female\nage,42\n\ngender,male\nnote,\"a, b\"\nempty,\n", |r| {
            let got = r.unwrap();
            let want: Attributes = [("gender", "male"), ("age", "42"), ("note", "a, b"), ("empty", "")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want);
        });
    }

    #[test]
    fn missing_file_or_no_rows_means_no_attributes() {
        let dir = std::env::temp_dir();
        assert_eq!(load_attributes(&dir, "no-such-user-for-sure").unwrap(), Vec::new());
        with_file("", |r| assert_eq!(r.unwrap(), Vec::new()));
        with_file("key,value\n", |r| assert_eq!(r.unwrap(), Vec::new()));
    }

    #[test]
    fn malformed_files_name_row_and_column() {
        with_file("name,value\nage,42\n", |r| {
            let e = format!("{:#}", r.unwrap_err());
            assert!(e.contains("u.csv: row 1: missing column 'key'"), "{e}");
        });
        with_file("key,value\nage,42\n\ngender\n", |r| {
            let e = format!("{:#}", r.unwrap_err());
            assert!(e.contains("u.csv: row 4, column 'value': missing"), "{e}");
        });
    }
}
