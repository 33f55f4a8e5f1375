//! Shared helpers for integration tests: paths into the bundled data and loading manifests.
#![allow(dead_code)]

use losscast::law::{self, Curve, LawOptions};
use losscast::runs::{self, Run};
use losscast::schedule;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(rel)
}

pub fn load_manifest(rel: &str) -> Vec<Run> {
    losscast::runs::manifest::load(&data(rel))
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

/// Run the losscast binary in `dir` and insist that it succeeds.
pub fn losscast_ok(dir: &Path, args: &[&str]) -> Output {
    let out = losscast(dir, args);
    assert!(
        out.status.success(),
        "losscast {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Run the losscast binary in `dir`, insist that it succeeds, and parse its JSON output.
pub fn losscast_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_slice(&losscast_ok(dir, args).stdout).unwrap()
}

/// Run the losscast binary in `dir`, insist that it exits with 2 (bad input), and return its
/// stderr.
pub fn refusal(dir: &Path, args: &[&str]) -> String {
    let out = losscast(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    err
}

/// [`refusal`], with a message that contains `want`.
pub fn refused(dir: &Path, args: &[&str], want: &str) {
    let err = refusal(dir, args);
    assert!(err.contains(want), "{args:?}: want '{want}' in {err}");
}

/// Every file below `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A run of `law` with parameters `truth` under `spec`, logged every 400 steps after warmup,
/// with a deterministic ±`noise` relative pattern.
pub fn synthetic(law_name: &str, truth: &[f64], name: &str, spec: &str, noise: f64) -> Run {
    let total = schedule::parse(spec, Path::new("")).unwrap().total_steps() as i64;
    let steps: Vec<i64> = (1..total / 400)
        .map(|k| 400 * k)
        .filter(|&s| s > 2000)
        .collect();
    synthetic_at(law_name, truth, name, spec, noise, steps, None)
}

/// A run of `law` (a model of `params` parameters, for joint laws) with parameters `truth`
/// under `spec`, logged at `steps`, with a deterministic ±`noise` relative pattern.
pub fn synthetic_at(
    law_name: &str,
    truth: &[f64],
    name: &str,
    spec: &str,
    noise: f64,
    steps: Vec<i64>,
    params: Option<f64>,
) -> Run {
    let law = law::build(law_name, LawOptions::default()).unwrap();
    let sched = schedule::parse(spec, Path::new("")).unwrap();
    let lr = sched.lr_array(sched.total_steps() as usize + 1);
    let f = law
        .features(&Curve {
            lr: &lr,
            steps: &steps,
            params,
            end: None,
        })
        .unwrap();
    let mut loss = vec![0.0; steps.len()];
    law.predict(truth, &f, &mut loss);
    for (i, l) in loss.iter_mut().enumerate() {
        *l *= 1.0 + noise * ((i * 7919 % 13) as f64 / 6.0 - 1.0);
    }
    Run::in_memory(name, spec, lr, steps, loss, params)
}
