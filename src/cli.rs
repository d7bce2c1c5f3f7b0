//! Command-line flags, parsed by clap, before any check of their values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "bandicoot",
    version,
    about = "Fast batch computation of bandicoot indicators from mobile phone metadata"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compute the indicators of every user file in a records directory.
    Batch(BatchArgs),
    /// Generate a synthetic population of users, for demos, tests and benchmarks.
    Synth(SynthArgs),
}

/// Accepts the spellings of a boolean that the batch command's users type.
fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got {s:?}")),
    }
}

macro_rules! flag_doc {
    () => {
        "true|false; `--flag` alone means true"
    };
}

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// Directory holding one `<user>.csv` records file per user.
    pub records_dir: PathBuf,

    /// CSV file of antenna locations: antenna_id,latitude,longitude.
    pub antennas: Option<PathBuf>,

    /// Directory of `<user>.csv` attribute files (key,value rows).
    #[arg(long, value_name = "DIR")]
    pub attributes: Option<PathBuf>,

    /// Directory of `<user>.csv` recharge files (datetime,amount,retailer_id rows).
    #[arg(long, value_name = "DIR")]
    pub recharges: Option<PathBuf>,

    /// Directory for the results.
    #[arg(long, default_value = "bandicoot_results")]
    pub output_dir: PathBuf,

    /// Period of aggregation: week, month, year, day or none.
    #[arg(long, default_value = "week")]
    pub groupby: String,

    /// Per-user result files: csv, json, both or none.
    #[arg(long, default_value = "both")]
    pub format: String,

    /// Summary level of distributions: extended (7 statistics) or default (mean and std).
    #[arg(long, default_value = "extended")]
    pub stats: String,

    #[doc = concat!("Also report weekdays and weekends separately (", flag_doc!(), ").")]
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = parse_bool, require_equals = true)]
    pub split_week: bool,

    #[doc = concat!("Also report days and nights separately (", flag_doc!(), ").")]
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = parse_bool, require_equals = true)]
    pub split_day: bool,

    #[doc = concat!("Include network indicators (", flag_doc!(), ").")]
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = parse_bool, require_equals = true)]
    pub network: bool,

    #[doc = concat!("Resume an interrupted run in the same output directory (", flag_doc!(), ").")]
    #[arg(long = "continue", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = parse_bool, require_equals = true)]
    pub resume: bool,

    #[doc = concat!("Write the population summaries (", flag_doc!(), ").")]
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = parse_bool, require_equals = true)]
    pub summary: bool,

    /// Worker threads (default: all cores).
    #[arg(long)]
    pub parallel: Option<usize>,

    /// Users processed together; bounds memory.
    #[arg(long, default_value_t = 2000)]
    pub chunk_size: usize,

    /// Print a line for every user processed.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Directory to create the population in.
    pub out_dir: PathBuf,
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    #[arg(long, default_value_t = 4)]
    pub weeks: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Mean records per user and week.
    #[arg(long, default_value_t = 60)]
    pub records_per_week: u32,
    /// Share of rows replaced by invalid ones.
    #[arg(long, default_value_t = 0.0)]
    pub bad_rows: f64,
    /// Extra users whose files are broken.
    #[arg(long, default_value_t = 0)]
    pub broken_files: usize,
    /// Also write attributes/<user>.csv.
    #[arg(long)]
    pub attributes: bool,
    /// Also write recharges/<user>.csv.
    #[arg(long)]
    pub recharges: bool,
}
