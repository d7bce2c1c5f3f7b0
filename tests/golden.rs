//! Golden tests: our binary against outputs of the Python reference.
//!
//! Every directory under tests/golden/ with a CASE file is one run: the
//! binary is called with the case's arguments into a fresh temporary
//! directory, and the result is compared with the committed reference
//! output by the port of compare.py in tests/common. The fixtures come from
//! tests/golden/regenerate.sh.

mod common;

use std::path::Path;

/// How many mismatches to print per case.
const SHOW: usize = 20;

/// Runs one case and returns a description of its failure, if any.
fn check_case(case: &Path) -> Option<String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let out = common::TempDir::new(&format!("golden-{name}"));
    let run = common::run_case(case, out.path());
    let rep = common::compare_dirs(case, out.path());

    // A case where nothing was compared proves nothing: the fixture lost its
    // user results, or the comparison was pointed at the wrong directory.
    if rep.values == 0 {
        return Some(format!("{name}: no value compared"));
    }
    if rep.mismatches.is_empty() {
        eprintln!("{name}: {} values match", rep.values);
        return None;
    }

    let mut msg = format!(
        "{name}: {} mismatches of {} values (bandicoot batch {} exited with {})\n",
        rep.mismatches.len(),
        rep.values,
        common::case_line(case),
        run.status
    );
    for (family, n) in rep.families() {
        msg.push_str(&format!("  {n:6}  {family}\n"));
    }
    for m in rep.mismatches.iter().take(SHOW) {
        msg.push_str(&format!("  e.g. {m}\n"));
    }
    let stderr = String::from_utf8_lossy(&run.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
    if !tail.is_empty() {
        msg.push_str("  stderr (last lines):\n");
        for line in tail.into_iter().rev() {
            msg.push_str(&format!("    {line}\n"));
        }
    }
    Some(msg)
}

#[test]
fn golden_cases_match_the_reference() {
    // BANDICOOT_GOLDEN=name runs only the cases whose name contains it.
    let only = std::env::var("BANDICOOT_GOLDEN").unwrap_or_default();
    let cases: Vec<_> = common::case_dirs()
        .into_iter()
        .filter(|c| c.file_name().unwrap().to_string_lossy().contains(&only))
        .collect();
    assert!(!cases.is_empty(), "no golden case under {} matches {only:?}", common::golden_dir().display());
    // All cases run before the verdict, so one failure does not hide others.
    let failures: Vec<String> = cases.iter().filter_map(|c| check_case(c)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} golden cases differ from the reference:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
