//! MLflow's file store (log-formats.md §4): `mlruns/<experiment>/<run>/metrics/<key>`, one file
//! per metric (a `/` in the key makes subdirectories), each line `<timestamp_ms> <value> <step>`.
//! A line with two fields is from old MLflow and means step 0.

use super::Run;
use crate::error::{Error, Result};
use crate::ingest::{read_bytes, sha256_hex};
use std::path::{Path, PathBuf};

/// A run folder holds `metrics/`.
pub(super) fn is_run(dir: &Path) -> bool {
    dir.join("metrics").is_dir()
}

/// The run folders at `dir`: itself, its children (an experiment), or its grandchildren (an
/// `mlruns` folder), sorted by path so runs come out in a stable order.
pub(super) fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    if is_run(dir) {
        return vec![dir.to_path_buf()];
    }
    let children = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|it| {
                it.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut runs: Vec<PathBuf> = children(dir).into_iter().filter(|c| is_run(c)).collect();
    if runs.is_empty() {
        for c in children(dir) {
            runs.extend(children(&c).into_iter().filter(|g| is_run(g)));
        }
    }
    runs
}

/// Every file under `dir`, recursively, sorted.
pub(super) fn files_under(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(it) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<PathBuf> = it.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if depth > 0 {
                out.extend(files_under(&p, depth - 1));
            }
        } else {
            out.push(p);
        }
    }
    out
}

/// The run's display name: `run_name` in `meta.yaml` (or the `mlflow.runName` tag), else the
/// folder name, which is the run id.
fn run_name(dir: &Path) -> String {
    let from_meta = std::fs::read_to_string(dir.join("meta.yaml"))
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("run_name:"))
                .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())
        })
        .filter(|n| !n.is_empty());
    let from_tag = || {
        std::fs::read_to_string(dir.join("tags").join("mlflow.runName"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|n| !n.is_empty())
    };
    from_meta.or_else(from_tag).unwrap_or_else(|| {
        dir.file_name()
            .map_or("run".into(), |n| n.to_string_lossy().into_owned())
    })
}

/// Read one run folder; returns the run and each metric file read with its sha256.
pub(super) fn read_run(dir: &Path) -> Result<(Run, Vec<(PathBuf, String)>)> {
    let metrics = dir.join("metrics");
    let files = files_under(&metrics, 8);
    let mut digests = Vec::with_capacity(files.len());
    let mut run = Run {
        name: run_name(dir),
        ..Run::default()
    };
    for file in &files {
        let key = file
            .strip_prefix(&metrics)
            .unwrap_or(file)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let bytes = read_bytes(file)?;
        digests.push((file.clone(), sha256_hex(&bytes)));
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::file(file, "not UTF-8 text"))?;
        for (i, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            let bad = |what: &str| {
                Error::at(
                    file,
                    i + 1,
                    1,
                    format!("expected '<timestamp_ms> <value> <step>', {what}"),
                )
            };
            if fields.len() > 3 || fields.len() < 2 {
                return Err(bad(&format!("found {} fields", fields.len())));
            }
            let value = super::text::number(file, i + 1, &key, fields[1])?;
            let step = match fields.get(2) {
                Some(s) => s
                    .parse::<i64>()
                    .map_err(|_| bad(&format!("step '{s}' is not a whole number")))?,
                None => 0,
            };
            run.add(&key, step, value);
        }
    }
    if run.series.is_empty() {
        return Err(Error::file(&metrics, "no metric values"));
    }
    Ok((run, digests))
}
