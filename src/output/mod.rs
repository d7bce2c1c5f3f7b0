//! Writers for the per-user result files, reproducing bandicoot's
//! `to_json` and `to_csv` byte for byte.

pub mod csv;
pub mod flat;
pub mod json;
