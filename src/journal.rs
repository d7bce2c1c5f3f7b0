//! The run journal in `<output-dir>/.bandicoot/`: the settings of the run
//! and, for every finished chunk, a Parquet shard listing its users with
//! their flattened results. A shard is written only after its users' files
//! are in place (while the run goes on), so `--continue` can trust it. The
//! summaries are built from the shards, which makes them cover every user
//! of the output directory: a run keeps its own shards in memory and reads
//! those of the earlier runs it continues.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;

use crate::batch::{remove_stale_temporaries, write_atomic, write_bytes_atomic};
use crate::parquet::{self, Purpose};

const DIR: &str = ".bandicoot";
const SETTINGS: &str = "settings.json";

pub struct Journal {
    dir: PathBuf,
    next_shard: usize,
    /// The shard being written, on a thread of its own.
    writing: Option<JoinHandle<Result<()>>>,
}

impl Journal {
    /// Opens the journal of `output_dir`. Without `resume`, a previous
    /// journal is discarded; with it, the settings must be the same.
    pub fn open(output_dir: &Path, settings: &serde_json::Value, resume: bool) -> Result<Journal> {
        let dir = output_dir.join(DIR);
        let settings_path = dir.join(SETTINGS);

        if resume && settings_path.exists() {
            let text = fs::read_to_string(&settings_path)
                .with_context(|| format!("cannot read {}", settings_path.display()))?;
            let previous: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("the run journal {} is damaged", settings_path.display()))?;
            let differences = differences(&previous, settings);
            if !differences.is_empty() {
                bail!(
                    "cannot continue the run in {}: its settings differ ({}); rerun without --continue to start over",
                    output_dir.display(),
                    differences.join(", ")
                );
            }
        } else if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("cannot reset {}", dir.display()))?;
        }
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        remove_stale_temporaries(&dir)?;
        let text = serde_json::to_string_pretty(settings)?;
        write_bytes_atomic(&settings_path, text.as_bytes())?;

        let next_shard = shard_paths(&dir)?.len();
        Ok(Journal { dir, next_shard, writing: None })
    }

    /// The frames of the shards written so far, in order: read at the start
    /// of a resumed run, they are the earlier runs' users.
    pub fn read(&self) -> Result<Vec<DataFrame>> {
        shard_paths(&self.dir)?
            .into_iter()
            .map(|p| {
                let file = fs::File::open(&p).with_context(|| format!("cannot open {}", p.display()))?;
                ParquetReader::new(file)
                    .finish()
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("the run journal shard {} is damaged", p.display()))
            })
            .collect()
    }

    /// Records a finished chunk. The shard is written on a thread of its
    /// own, while the run goes on: nothing but a later run reads it. The
    /// next append, [`Journal::finish`] or dropping the journal waits for it.
    pub fn append(&mut self, shard: DataFrame) -> Result<()> {
        self.wait()?;
        let path = self.dir.join(format!("shard-{:06}.parquet", self.next_shard));
        self.writing = Some(std::thread::spawn(move || write_shard(&path, shard)));
        self.next_shard += 1;
        Ok(())
    }

    /// Waits for the last shard to be in place.
    pub fn finish(mut self) -> Result<()> {
        self.wait()
    }

    fn wait(&mut self) -> Result<()> {
        match self.writing.take() {
            Some(writing) => writing.join().map_err(|_| anyhow!("writing a run journal shard panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Journal {
    /// A run that stops on an error still leaves its last shard whole.
    fn drop(&mut self) {
        let _ = self.wait();
    }
}

fn write_shard(path: &Path, mut shard: DataFrame) -> Result<()> {
    write_atomic(path, |w| parquet::write(w, &mut shard, Purpose::Internal).map_err(std::io::Error::other))
}

fn shard_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("shard-") && n.ends_with(".parquet"))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// The settings that differ between two runs, named.
fn differences(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return vec!["journal format".into()];
    };
    // A setting that an older journal lacks was then at its default, null.
    let null = serde_json::Value::Null;
    new.iter()
        .filter(|(k, v)| old.get(*k).unwrap_or(&null) != *v)
        .map(|(k, v)| format!("{k}: {} then, {v} now", old.get(k).unwrap_or(&serde_json::Value::Null)))
        .collect()
}
