//! Shared helpers for integration tests: paths into the bundled data and loading manifests.
#![allow(dead_code)]

use losscast::runs::{self, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(rel)
}

pub fn load_manifest(rel: &str) -> Vec<Run> {
    losscast::manifest::load(&data(rel))
        .unwrap()
        .iter()
        .map(|s| runs::load(s).unwrap())
        .collect()
}

/// |got − want| ≤ rel·|want|
pub fn assert_rel(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: got {got}, want {want} within {}%",
        rel * 100.0
    );
}

/// Run the losscast binary in `dir`.
pub fn losscast(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_losscast"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}
