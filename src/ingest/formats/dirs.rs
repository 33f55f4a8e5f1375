//! Folders as trainers leave them: an HF output or checkpoint folder, an MLflow run or
//! experiment, a W&B run folder, a Lightning version folder, or a TensorBoard log folder with
//! one or many runs. A folder's provenance digest covers every file read (see [`folder_digest`]).

use super::mlflow::{files_under, read_run, run_dirs};
use super::{parse, Format, Run, SeriesLog};
use crate::error::{Error, Result};
use crate::ingest::{read_bytes, sha256_hex, tfevents};
use std::path::{Path, PathBuf};

/// How deep to look for TensorBoard files: `runs/<date_host>/` (HF) and
/// `lightning_logs/version_N/` sit two levels down; leave room for a parent folder or two.
const TB_DEPTH: usize = 5;

pub(super) fn read(dir: &Path) -> Result<SeriesLog> {
    if let Some(f) = hf_state(dir) {
        return single(dir, &f);
    }
    let mlruns = run_dirs(dir);
    if !mlruns.is_empty() {
        return mlflow(dir, &mlruns);
    }
    for rel in [
        "wandb-history.jsonl",
        "files/wandb-history.jsonl",
        "metrics.csv",
    ] {
        let f = dir.join(rel);
        if f.is_file() {
            return single(dir, &f);
        }
    }
    let events: Vec<PathBuf> = files_under(dir, TB_DEPTH)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("tfevents"))
        .collect();
    if !events.is_empty() {
        return tensorboard(dir, &events);
    }
    let binary_wandb = files_under(dir, 1)
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "wandb"));
    let hint = if binary_wandb {
        " This is a current W&B run folder, whose history is only in the binary run-<id>.wandb: \
         export it from the W&B UI (chart CSV) or with run.scan_history() to CSV."
    } else {
        ""
    };
    Err(Error::file(
        dir,
        format!(
            "a folder with no log losscast reads (looked for trainer_state.json, \
             checkpoint-*/trainer_state.json, MLflow metrics/, wandb-history.jsonl, metrics.csv \
             and TensorBoard event files).{hint}"
        ),
    ))
}

/// Whether a file at `path` inside a log folder is one the folder reader would read (now or on
/// the next run): an output there would replace or add to the log itself.
pub(super) fn is_log_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let under_metrics = path
        .ancestors()
        .skip(1)
        .any(|a| a.file_name().is_some_and(|n| n == "metrics"));
    matches!(
        name.as_str(),
        "trainer_state.json" | "wandb-history.jsonl" | "metrics.csv" | "meta.yaml"
    ) || name.contains("tfevents")
        || under_metrics
}

/// `trainer_state.json` in the folder, else the one in the latest `checkpoint-N/`: each
/// checkpoint's history is cumulative, so the latest holds every earlier point.
fn hf_state(dir: &Path) -> Option<PathBuf> {
    let direct = dir.join("trainer_state.json");
    if direct.is_file() {
        return Some(direct);
    }
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n: u64 = name.strip_prefix("checkpoint-")?.parse().ok()?;
            let f = e.path().join("trainer_state.json");
            f.is_file().then_some((n, f))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, f)| f)
}

fn single(dir: &Path, file: &Path) -> Result<SeriesLog> {
    let mut log = parse(file, &read_bytes(file)?)?;
    log.files = vec![rel(dir, file)];
    Ok(log)
}

fn rel(dir: &Path, file: &Path) -> String {
    file.strip_prefix(dir)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned()
}

/// The folder's provenance: sha256 over each file's relative path and sha256, in path order, so
/// that adding, removing or changing any file read changes the digest.
pub(super) fn folder_digest(dir: &Path, files: &[(PathBuf, String)]) -> String {
    let mut listing = String::new();
    let mut sorted: Vec<&(PathBuf, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (p, sha) in sorted {
        listing.push_str(&format!("{}  {sha}\n", rel(dir, p)));
    }
    sha256_hex(listing.as_bytes())
}

fn mlflow(dir: &Path, run_dirs: &[PathBuf]) -> Result<SeriesLog> {
    let mut runs = Vec::new();
    let mut digests = Vec::new();
    for d in run_dirs {
        let (run, files) = read_run(d)?;
        digests.extend(files);
        runs.push(run);
    }
    let mut log = SeriesLog::of(Format::Mlflow, Run::default());
    log.runs = runs;
    log.sha256 = folder_digest(dir, &digests);
    log.files = digests.iter().map(|(f, _)| rel(dir, f)).collect();
    Ok(log)
}

/// TensorBoard event files grouped by folder: one run per folder (`runs/<date_host>`,
/// `version_N`), its files read in the order they were started, so a resumed run's later file
/// overrides the steps it repeats.
fn tensorboard(dir: &Path, events: &[PathBuf]) -> Result<SeriesLog> {
    let mut by_run: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    for f in events {
        let parent = f.parent().unwrap_or(dir).to_path_buf();
        match by_run.iter_mut().find(|(p, _)| *p == parent) {
            Some((_, v)) => v.push(f.clone()),
            None => by_run.push((parent, vec![f.clone()])),
        }
    }
    let mut runs = Vec::new();
    let mut digests = Vec::new();
    let mut warnings = Vec::new();
    for (parent, mut files) in by_run {
        files.sort_by_key(|f| (start_time(f), f.clone()));
        let name = match rel(dir, &parent) {
            r if r.is_empty() => dir
                .file_name()
                .map_or("run".into(), |n| n.to_string_lossy().into_owned()),
            r => r,
        };
        let mut run = Run {
            name: name.clone(),
            ..Run::default()
        };
        for f in &files {
            let bytes = read_bytes(f)?;
            if !tfevents::header_ok(&bytes) {
                warnings.push(format!(
                    "{}: not a TensorBoard event file; skipped",
                    rel(dir, f)
                ));
                continue;
            }
            digests.push((f.clone(), sha256_hex(&bytes)));
            let ev = tfevents::parse(f, &bytes)?;
            for w in ev.warnings {
                warnings.push(format!("{}: {w}", rel(dir, f)));
            }
            for (tag, pts) in &ev.scalars {
                for p in pts {
                    run.add(tag, p.step, p.value);
                }
            }
        }
        if files.len() > 1 {
            warnings.push(format!(
                "run '{name}': {} event files read in start order (a resumed run?)",
                files.len()
            ));
        }
        if !run.series.is_empty() {
            runs.push(run);
        }
    }
    if runs.is_empty() {
        return Err(Error::file(dir, "no scalars in any TensorBoard event file"));
    }
    let mut log = SeriesLog::of(Format::Tensorboard, Run::default());
    log.runs = runs;
    log.warnings = warnings;
    log.sha256 = folder_digest(dir, &digests);
    log.files = digests.iter().map(|(f, _)| rel(dir, f)).collect();
    Ok(log)
}

/// The Unix time in `events.out.tfevents.<time>.<host>...`, when the name has one.
fn start_time(f: &Path) -> u64 {
    f.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split_once("tfevents."))
        .and_then(|(_, rest)| rest.split('.').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}
