//! The antennas file: antenna id (compared as text) to location.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use polars::prelude::{InitHashMaps, PlHashMap};

use crate::load::{parse_csv, parse_py_float, read_text};

/// Antenna locations, keyed by the antenna id exactly as written.
#[derive(Debug, Clone)]
pub struct Antennas {
    pub path: PathBuf,
    locations: PlHashMap<String, (f64, f64)>,
}

impl Antennas {
    /// Reads `antenna_id,latitude,longitude`; later rows win over earlier
    /// ones with the same id, as in the reference.
    pub fn read(path: &Path) -> Result<Antennas> {
        let df = parse_csv(read_text(path)?.into_bytes(), path)?;
        let column = |name: &str| {
            df.column(name).ok().and_then(|c| c.str().ok()).ok_or_else(|| {
                anyhow!("{}: row 1: missing column '{name}' in the antennas file", path.display())
            })
        };
        let (ids, lats, lons) = (column("antenna_id")?, column("latitude")?, column("longitude")?);

        let mut locations = PlHashMap::with_capacity(df.height());
        for i in 0..df.height() {
            let coordinate = |c: &polars::prelude::StringChunked, name: &str| {
                let text = c.get(i).unwrap_or("");
                parse_py_float(text).ok_or_else(|| {
                    anyhow!("{}: row {}, column '{name}': {text:?} is not a number", path.display(), i + 2)
                })
            };
            let location = (coordinate(lats, "latitude")?, coordinate(lons, "longitude")?);
            locations.insert(ids.get(i).unwrap_or("").to_string(), location);
        }
        if locations.is_empty() {
            bail!("{}: the antennas file has no antenna", path.display());
        }
        Ok(Antennas { path: path.to_path_buf(), locations })
    }

    pub fn get(&self, antenna: &str) -> Option<(f64, f64)> {
        self.locations.get(antenna).copied()
    }

    /// The number of distinct antenna ids, as the reference reports it.
    pub fn len(&self) -> usize {
        self.locations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.locations.is_empty()
    }
}
