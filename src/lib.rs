//! losscast: fit scaling laws to training logs and forecast loss.
//!
//! Data flows one way: [`ingest`] reads a log into a Polars frame; [`runs`] joins it with its
//! [`schedule`] into per-step LR arrays; a [`law`] turns each run into features once; [`fit`]
//! minimises the Huber-on-log objective from many starts and writes a [`fit::FitRecord`]; the
//! readers of a record ([`forecast`], [`fit::evaluate`], [`plot`]) never refit. The binary in
//! `main.rs` is a thin shell over [`cli`]. See ARCHITECTURE.md.

pub mod backtest;
pub mod base;
pub mod benchmark;
pub mod cli;
pub mod error;
pub mod fit;
pub mod forecast;
pub mod ingest;
pub mod law;
pub mod output;
pub mod plan;
pub mod plot;
pub mod report;
pub mod runs;
pub mod schedule;
pub mod sizes;
pub mod watch;

pub use error::{Error, Result};

/// This build's version, as fit records cite it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
