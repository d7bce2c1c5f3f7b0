//! bandicoot: bandicoot's behavioural indicators for many users at once,
//! computed as a columnar Polars pipeline.
//!
//! The stages, each in its own module: [`cli`] flags become a checked
//! [`batch::Plan`]; [`load`] reads (through [`csvread`]) and validates
//! each user's records into a frame; [`engine`] runs the indicator definitions of [`queries`] over
//! the frame of a chunk of users (the individual and spatial families
//! through [`periods`], in one pass per filter combination); [`tree`] shapes each user's results as
//! bandicoot does, and [`output`] and [`summary`] write them.

pub mod antennas;
pub mod attributes;
pub mod batch;
pub mod calendar;
pub mod cli;
pub mod csvread;
pub mod engine;
pub mod journal;
pub mod load;
pub mod neighbours;
pub mod network;
pub mod options;
pub mod output;
pub mod parquet;
pub mod periods;
pub mod progress;
pub mod pyfmt;
pub mod recharges;
pub mod stats;
pub mod subsets;
pub mod summary;
pub mod synth;
pub mod tree;
pub mod value;
pub mod workers;

#[path = "../queries/mod.rs"]
pub mod queries;
