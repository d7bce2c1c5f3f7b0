//! The `bandicoot` command: parses flags, runs, and turns the outcome into
//! an exit status (0 all users done or skipped, 1 some failed, 2 the run
//! could not start).

use std::ffi::{c_int, c_long};
use std::process::ExitCode;

use anyhow::{anyhow, Result};
use clap::Parser;

use bandicoot::batch::{self, Formats, Plan};
use bandicoot::cli::{BatchArgs, Cli, Command, SynthArgs};
use bandicoot::options::{GroupBy, IndicatorOptions, Stats};
use bandicoot::synth;

// Per-user buffers are many and short-lived: glibc's malloc and free were
// a tenth of a run's time, mimalloc's are about half that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`, by its place in the options enum of
/// the mimalloc.h that libmimalloc-sys 0.1.49 builds (3.3), whose Rust
/// bindings do not name it. The test below checks its default.
const MI_OPTION_PURGE_DELAY: c_int = 15;

extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

/// Keeps freed memory for reuse rather than handing it back to the system
/// a second after it is freed, mimalloc's default. A run frees and allocates
/// about the same amounts chunk after chunk, and each page handed back
/// costs a fault and its zeroing when taken again: on 10 million records,
/// 11,000 to 19,000 page faults instead of 1,400, and 4.3 s instead of
/// 3.3 s, for a peak of 252 MB instead of 205 MB.
fn keep_freed_memory() {
    // SAFETY: sets a plain integer option, before any other thread runs.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Batch(args) => run_batch(args),
        Command::Synth(args) => run_synth(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn plan(args: BatchArgs) -> Result<Plan> {
    let groupby = GroupBy::parse(&args.groupby)
        .ok_or_else(|| anyhow!("--groupby must be week, month, year, day or none, not {:?}", args.groupby))?;
    let formats = Formats::parse(&args.format)
        .ok_or_else(|| anyhow!("--format must be csv, json, both or none, not {:?}", args.format))?;
    let stats = match args.stats.as_str() {
        "extended" => Stats::Extended,
        "default" => Stats::Default,
        other => return Err(anyhow!("--stats must be extended or default, not {other:?}")),
    };
    if !args.records_dir.is_dir() {
        return Err(anyhow!("records directory {} does not exist", args.records_dir.display()));
    }
    if let Some(a) = &args.antennas {
        if !a.is_file() {
            return Err(anyhow!("antennas file {} does not exist", a.display()));
        }
    }
    // Checked here because a mistyped directory would otherwise read as
    // users without attributes or recharges.
    for (option, dir) in [("--attributes", &args.attributes), ("--recharges", &args.recharges)] {
        if let Some(dir) = dir {
            if !dir.is_dir() {
                return Err(anyhow!("{option} directory {} does not exist", dir.display()));
            }
        }
    }
    Ok(Plan {
        records_dir: args.records_dir,
        antennas: args.antennas,
        attributes: args.attributes,
        recharges: args.recharges,
        output_dir: args.output_dir,
        options: IndicatorOptions { groupby, split_week: args.split_week, split_day: args.split_day, stats },
        formats,
        summary: args.summary,
        resume: args.resume,
        threads: bandicoot::workers::count(args.parallel),
        chunk_size: args.chunk_size,
        network: args.network,
        kept_records: bandicoot::network::KEPT_RECORDS,
        verbose: args.verbose,
    })
}

fn run_batch(args: BatchArgs) -> Result<ExitCode> {
    if let Some(n) = args.parallel {
        // Before Polars starts its pool, which reads this once.
        std::env::set_var("POLARS_MAX_THREADS", n.max(1).to_string());
        rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global()?;
    }
    let plan = plan(args)?;
    let outcome = batch::run(&plan)?;
    Ok(if outcome.failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn run_synth(args: SynthArgs) -> Result<ExitCode> {
    let cfg = synth::SynthConfig {
        users: args.users,
        weeks: args.weeks,
        seed: args.seed,
        records_per_week: args.records_per_week,
        bad_row_rate: args.bad_rows,
        broken_files: args.broken_files,
        attributes: args.attributes,
        recharges: args.recharges,
    };
    let report = synth::generate(&cfg, &args.out_dir)?;
    eprintln!(
        "generated {} users, {} records ({} bad rows, {} broken files) in {}",
        report.users,
        report.records,
        report.bad_rows,
        report.broken_files.len(),
        args.out_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" {
        fn mi_option_get(option: c_int) -> c_long;
    }

    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"].iter().any(|v| std::env::var_os(v).is_some()) {
            eprintln!("skipped: the environment sets mimalloc's purge delay");
            return;
        }
        // SAFETY: reads and sets a plain integer option.
        unsafe {
            // The default of purge_delay in mimalloc's options.c: 1000 ms,
            // which no neighbouring option has.
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), 1000);
            keep_freed_memory();
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), -1);
        }
    }
}
