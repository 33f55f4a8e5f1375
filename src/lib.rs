//! losscast: fit scaling laws to training logs and forecast loss.
//!
//! Data flows one way: [`ingest`] reads a log into a Polars frame; [`runs`] joins it with its
//! [`schedule`] into per-step LR arrays; a [`law`] turns each run into features once; [`fit`]
//! minimises the Huber-on-log objective from many starts and writes a [`fit::FitRecord`]; the
//! readers of a record ([`predict`], [`fit::evaluate`], [`plot`]) never refit. The binary in
//! `main.rs` is a thin shell over [`cli`]. See ARCHITECTURE.md.

pub mod backtest;
pub mod cli;
pub mod cli_format;
pub mod collapse;
pub mod compare;
pub mod error;
pub mod extrapolate;
pub mod fit;
pub mod ingest;
pub mod interval;
pub mod isoflop;
pub mod law;
pub mod manifest;
pub mod metrics;
pub mod output;
pub mod plan;
pub mod plot;
pub mod predict;
pub mod report;
pub mod rollout;
pub mod runs;
pub mod schedule;
pub mod size_table;
pub mod watch;

pub use error::{Error, Result};

/// This build's version, as fit records cite it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
