//! Progress on stderr: the run's settings, a line per failed or skipped
//! user (every user with `--verbose`), then on a terminal a bar with users
//! done, records per second, ETA and failures, elsewhere a rate line at a
//! steady interval; and the final report, in the batch command's words.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::batch::{Outcome, Plan};

const RULE: &str = "======================================================================";

/// Seconds between two rate lines.
const INTERVAL: Duration = Duration::from_secs(5);

pub struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    records: usize,
    verbose: bool,
    started: Instant,
    last_line: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: usize, verbose: bool) -> Progress {
        let now = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} users | {msg} | ETA {eta}")
                    .expect("a valid template"),
            );
            bar
        });
        Progress { total, done: 0, failed: 0, records: 0, verbose, started: now, last_line: now, bar }
    }

    /// A line above the bar, or on its own without one.
    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn header(&self, plan: &Plan, users: usize) {
        let antennas = plan.antennas.as_ref().map_or("None".to_string(), |p| p.display().to_string());
        eprintln!("{RULE}\nBandicoot Batch Processing\n{RULE}");
        eprintln!("Records path: {}", plan.records_dir.display());
        eprintln!("Antennas: {antennas}");
        if let Some(dir) = &plan.attributes {
            eprintln!("Attributes: {}", dir.display());
        }
        if let Some(dir) = &plan.recharges {
            eprintln!("Recharges: {}", dir.display());
        }
        eprintln!("Output directory: {}", plan.output_dir.display());
        eprintln!("Groupby: {}", plan.options.groupby);
        eprintln!("Split week: {} | Split day: {}", plan.options.split_week, plan.options.split_day);
        eprintln!("Total users found: {users}\n{RULE}\n");
    }

    fn step(&mut self) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            let rate = self.records as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{rate:.0} records/s | {} failed", self.failed));
            bar.set_position(self.done as u64);
            return;
        }
        if self.last_line.elapsed() >= INTERVAL || self.done == self.total {
            self.last_line = Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64();
            let rate = if elapsed > 0.0 { self.done as f64 / elapsed } else { 0.0 };
            let eta = if rate > 0.0 { (self.total - self.done) as f64 / rate } else { 0.0 };
            eprintln!(
                "    Progress: {}/{} | Rate: {rate:.1}/sec | ETA: {eta:.0}s | Failed: {}",
                self.done, self.total, self.failed
            );
        }
    }

    fn position(&self) -> String {
        format!("[{}/{}]", self.done + 1, self.total)
    }

    pub fn ok(&mut self, user: &str, records: usize) {
        self.records += records;
        if self.verbose {
            self.line(&format!("{} OK: {user} ({records} records)", self.position()));
        }
        self.step();
    }

    pub fn skip(&mut self, user: &str) {
        self.line(&format!("{} SKIP: {user} (no records)", self.position()));
        self.step();
    }

    pub fn fail(&mut self, user: &str, error: &str) {
        self.line(&format!("{} FAIL: {user} - {error}", self.position()));
        self.failed += 1;
        self.step();
    }

    pub fn finish(&self, outcome: &Outcome, elapsed: f64, output_dir: &Path) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
        let rate = if elapsed > 0.0 { outcome.processed as f64 / elapsed } else { 0.0 };
        eprintln!("\n{RULE}\nBatch Processing Complete\n{RULE}");
        eprintln!("Total time: {elapsed:.1} seconds");
        eprintln!("Users processed: {}", outcome.processed);
        eprintln!("Users failed: {}", outcome.failed);
        eprintln!("Users skipped: {}", outcome.skipped);
        eprintln!("Processing rate: {rate:.2} users/second");
        eprintln!("\nResults saved to: {}/\n{RULE}", output_dir.display());
        let _ = std::io::stderr().flush();
    }
}
