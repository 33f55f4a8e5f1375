//! Training logs as trainers write them, read into named series of (step, value) per run.
//!
//! Each format is recognised by its content, not its file name (log-formats.md §0): users rename
//! files, and `main.log` says nothing. A reader only extracts series; choosing which series is
//! the loss and which the LR, and the hygiene every format needs (resumed runs repeat steps,
//! steps out of order, NaN), happen once, in [`Series::finish`].

mod dirs;
mod hf;
mod mlflow;
pub(crate) mod rows;
mod text;
mod wandb;

use super::{sha256_hex, tfevents};
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The formats losscast reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    HfTrainerState,
    Tensorboard,
    LlmcMainLog,
    LlmcStdout,
    Megatron,
    Nanogpt,
    LlamaFactory,
    LightningCsv,
    WandbChart,
    WandbHistory,
    Mlflow,
    Csv,
    Jsonl,
    Parquet,
    /// Columns handed over in memory (`ingest::memory`), never detected from bytes.
    Frame,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::HfTrainerState => "hf_trainer_state",
            Format::Tensorboard => "tensorboard",
            Format::LlmcMainLog => "llmc_main_log",
            Format::LlmcStdout => "llmc_stdout",
            Format::Megatron => "megatron",
            Format::Nanogpt => "nanogpt",
            Format::LlamaFactory => "llamafactory_jsonl",
            Format::LightningCsv => "lightning_csv",
            Format::WandbChart => "wandb_chart_csv",
            Format::WandbHistory => "wandb_history",
            Format::Mlflow => "mlflow",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
            Format::Frame => "frame",
        }
    }
}

/// JSON shows the same name as the text output.
impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Points of one series as read, before hygiene.
#[derive(Debug, Clone, Default)]
pub struct Series {
    points: Vec<(i64, f64)>,
}

/// What hygiene did to a series.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Hygiene {
    /// Points whose step appeared again later with another value (a resumed run); the last
    /// record was kept.
    pub repeated_steps: usize,
    /// Whether the steps had to be sorted (exact repeats of earlier records aside).
    pub sorted: bool,
    /// Records that repeat an earlier one exactly (step and value): the same events written
    /// twice, as in a copied or concatenated event file. One of each is kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub duplicated: usize,
    /// NaN or infinite values dropped.
    pub non_finite: usize,
}

impl Hygiene {
    /// One line per thing hygiene did to `series`, for `inspect` and fit records.
    pub fn notes(&self, series: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.repeated_steps > 0 {
            out.push(format!(
                "{series}: {} repeated step(s) (a resumed run?); kept the last record of each",
                self.repeated_steps
            ));
        }
        if self.duplicated > 0 {
            out.push(format!(
                "{series}: {} record(s) repeat an earlier one exactly (step and value): the same \
                 events written twice (a copied or concatenated log?); kept one of each",
                self.duplicated
            ));
        }
        if self.sorted {
            out.push(format!("{series}: steps out of order; sorted"));
        }
        if self.non_finite > 0 {
            out.push(format!(
                "{series}: {} NaN or infinite value(s) dropped",
                self.non_finite
            ));
        }
        out
    }
}

/// A finished series: steps strictly increasing, values finite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clean {
    pub steps: Vec<i64>,
    pub values: Vec<f64>,
    pub hygiene: Hygiene,
}

impl Series {
    pub fn push(&mut self, step: i64, value: f64) {
        self.points.push((step, value));
    }

    /// Sort by step (stable, so file order decides among equal steps), keep the last record of
    /// each step, drop non-finite values.
    pub fn finish(&self) -> Clean {
        // Exact repeats (the whole log written twice) are not disorder: name them as what
        // they are, and judge the order of the first records alone.
        // A record repeated at once (Lightning logs `epoch` in a train row and a val row of one
        // step) is one record written in two rows, not a repeat.
        if self.points.windows(2).all(|w| w[1].0 > w[0].0) {
            // The common case, in order and without repeats: nothing to look up.
            return self.finish_with(Hygiene::default());
        }
        let mut seen = std::collections::HashSet::new();
        let (mut firsts, mut duplicated) = (Vec::<i64>::new(), 0usize);
        let mut previous: Option<(i64, u64)> = None;
        for p in &self.points {
            let key = (p.0, p.1.to_bits());
            if previous == Some(key) {
                continue;
            }
            previous = Some(key);
            if seen.insert(key) {
                firsts.push(p.0);
            } else {
                duplicated += 1;
            }
        }
        self.finish_with(Hygiene {
            sorted: firsts.windows(2).any(|w| w[1] < w[0]),
            duplicated,
            ..Hygiene::default()
        })
    }

    /// Sort, keep the last record of each step, drop non-finite values, counting into `h`.
    fn finish_with(&self, mut h: Hygiene) -> Clean {
        let mut pts = self.points.clone();
        pts.sort_by_key(|p| p.0);
        let mut dedup: Vec<(i64, f64)> = Vec::with_capacity(pts.len());
        for p in pts {
            match dedup.last_mut() {
                // The same value again (Lightning logs `epoch` in a train row and a val row of
                // one step) is one point; a different value means the step was run twice.
                Some(last) if last.0 == p.0 => {
                    if last.1.to_bits() != p.1.to_bits() {
                        h.repeated_steps += 1;
                    }
                    *last = p;
                }
                _ => dedup.push(p),
            }
        }
        let before = dedup.len();
        dedup.retain(|p| p.1.is_finite());
        h.non_finite = before - dedup.len();
        Clean {
            steps: dedup.iter().map(|p| p.0).collect(),
            values: dedup.iter().map(|p| p.1).collect(),
            hygiene: h,
        }
    }
}

/// One run of a log: its series by name.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub name: String,
    pub series: BTreeMap<String, Series>,
}

impl Run {
    fn add(&mut self, name: &str, step: i64, value: f64) {
        self.series
            .entry(name.to_string())
            .or_default()
            .push(step, value);
    }
}

/// A log read from disk.
#[derive(Debug, Clone)]
pub struct SeriesLog {
    pub format: Format,
    pub sha256: String,
    pub runs: Vec<Run>,
    /// Tokens per optimiser step, when the log states it (llm.c `total batch size`) or its token
    /// counter grows by a constant amount per step.
    pub tokens_per_step: Option<f64>,
    pub warnings: Vec<String>,
    /// For a folder, the files read, relative to it.
    pub files: Vec<String>,
}

impl SeriesLog {
    /// A log of one run, digest and the rest filled in by the caller.
    pub(crate) fn of(format: Format, run: Run) -> Self {
        SeriesLog {
            format,
            sha256: String::new(),
            runs: vec![run],
            tokens_per_step: None,
            warnings: Vec::new(),
            files: Vec::new(),
        }
    }

    /// The run to fit: the only one, or the one `name` picks.
    pub fn run(&self, path: &Path, name: Option<&str>) -> Result<&Run> {
        let names = || {
            self.runs
                .iter()
                .map(|r| format!("'{}'", r.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(n) => self.runs.iter().find(|r| r.name == n).ok_or_else(|| {
                Error::file(path, format!("no run '{n}'; the runs are: {}", names()))
            }),
            None if self.runs.len() == 1 => Ok(&self.runs[0]),
            None => Err(Error::file(
                path,
                format!(
                    "{} runs; pick one with --select run=NAME (select = \"run=NAME\" in a \
                     manifest): {}",
                    self.runs.len(),
                    names()
                ),
            )),
        }
    }
}

/// Recognise a format from a file's first bytes.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if bytes.len() >= 12 && tfevents::header_ok(bytes) {
        return Some(Format::Tensorboard);
    }
    if bytes.starts_with(b"PAR1") {
        return Some(Format::Parquet);
    }
    // Past a byte-order mark: it is no part of the first column's name.
    let text = super::without_bom(bytes);
    let head = String::from_utf8_lossy(&text[..text.len().min(64 * 1024)]);
    let head = head.as_ref();
    if head.trim_start().starts_with('{') && head.contains("\"log_history\"") {
        return Some(Format::HfTrainerState);
    }
    if rows::is_llamafactory(head) {
        return Some(Format::LlamaFactory);
    }
    if let Some(first) = rows::first_line(head).filter(|l| l.starts_with('{')) {
        let keys: Vec<String> =
            serde_json::from_str::<serde_json::Value>(&hf::quote_non_finite(first))
                .ok()?
                .as_object()?
                .keys()
                .cloned()
                .collect();
        return if keys.iter().any(|k| k == "_step") {
            Some(Format::WandbHistory)
        } else {
            super::columns::find_step(&keys).map(|_| Format::Jsonl)
        };
    }
    if let Some(f) = text::detect(head) {
        return Some(f);
    }
    let cols = rows::header_cells(head);
    if wandb::is_chart(&cols) {
        Some(Format::WandbChart)
    } else if rows::is_wandb_history(&cols) {
        Some(Format::WandbHistory)
    } else if rows::is_lightning(&cols) {
        Some(Format::LightningCsv)
    } else if cols.len() > 1 && super::columns::find_step(&cols).is_some() {
        Some(Format::Csv)
    } else {
        None
    }
}

/// Whether a file inside a log folder is part of the log as the folder reader sees it
/// (`trainer_state.json`, event files, MLflow metrics, ...), so that no output may be written
/// there.
pub fn is_log_file_in_folder(path: &Path) -> bool {
    dirs::is_log_file(path)
}

/// Read a log in any recognised format, from a file or a folder. A file whose first
/// [`SNIFF_BYTES`] are no known format is refused without reading the rest.
pub fn read(path: &Path) -> Result<SeriesLog> {
    if path.is_dir() {
        return Ok(with_tokens_per_step(dirs::read(path)?));
    }
    let opened = super::open_input(path, SNIFF_BYTES)?;
    if detect_file(path, &opened.head).is_none() {
        refuse_own_files(path, &opened.head)?;
        return Err(unrecognised(path));
    }
    from_bytes(path, &opened.read_all(path)?)
}

/// A log file's bytes, parsed: [`parse`] and the tokens per step.
pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<SeriesLog> {
    Ok(with_tokens_per_step(parse(path, bytes)?))
}

fn with_tokens_per_step(mut log: SeriesLog) -> SeriesLog {
    if log.tokens_per_step.is_none() {
        let (tps, warning) = tokens_per_step(&log.runs[0]);
        log.tokens_per_step = tps;
        log.warnings.extend(warning);
    }
    log
}

/// Token counters trainers log (log-formats.md §6).
const TOKEN_COUNTERS: &[&str] = &[
    "num_input_tokens_seen",
    "num_tokens",
    "total_tokens",
    "tokens",
    "n_tokens_seen",
    "throughput/total_tokens",
    "throughput/total tokens",
    "train/num_input_tokens_seen",
];

/// Tokens per step from a constant batch size column, or from a token counter that grows by the
/// same amount per step (within 1 %). A counter that does not is reported, not averaged: a
/// changing batch size makes "tokens per step" meaningless.
fn tokens_per_step(run: &Run) -> (Option<f64>, Option<String>) {
    if let Some(s) = run.series.get("batch_size_in_tokens") {
        let c = s.finish();
        if let (Some(lo), Some(hi)) = (
            c.values.iter().copied().reduce(f64::min),
            c.values.iter().copied().reduce(f64::max),
        ) {
            if lo == hi && lo > 0.0 {
                return (Some(lo), None);
            }
        }
    }
    let Some(name) = TOKEN_COUNTERS.iter().find(|n| run.series.contains_key(**n)) else {
        return (None, None);
    };
    let c = run.series[*name].finish();
    let mut rates: Vec<f64> = c
        .steps
        .windows(2)
        .zip(c.values.windows(2))
        .filter(|(s, _)| s[1] > s[0])
        .map(|(s, v)| (v[1] - v[0]) / (s[1] - s[0]) as f64)
        .collect();
    if rates.is_empty() {
        return (None, None);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let (lo, hi) = (rates[0], rates[rates.len() - 1]);
    if median > 0.0 && (hi - lo) <= 0.01 * median {
        (Some(median), None)
    } else {
        (
            None,
            Some(format!(
                "'{name}' grows by {lo:.6e} to {hi:.6e} tokens per step: no single tokens per step"
            )),
        )
    }
}

/// How many leading bytes recognise a format: a file that is not a log is refused after
/// reading this much, not after reading all of it.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// [`detect`], knowing the file's name: an event file whose first record is damaged fails the
/// framing check that recognises it, but its name or its opening Event still says what it is,
/// and the reader then names the offset of the damage.
pub fn detect_file(path: &Path, head: &[u8]) -> Option<Format> {
    let named_tfevents = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("tfevents"));
    detect(head).or_else(|| {
        (named_tfevents || tfevents::mentions_event(head)).then_some(Format::Tensorboard)
    })
}

/// losscast's own fit files and manifests, given where a log belongs, are named as what they
/// are: read as a CSV they would fail on a cell count that says nothing of the mix-up.
pub fn refuse_own_files(path: &Path, head: &[u8]) -> Result<()> {
    let text = String::from_utf8_lossy(super::without_bom(head));
    let t = text.trim_start();
    if t.starts_with('{') && t.contains("\"law\"") && t.contains("\"params\"") {
        return Err(Error::file(
            path,
            "a losscast fit file, not a training log: use it with --fit (predict, eval, plot, \
             plan)",
        ));
    }
    let toml_ext = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if toml_ext || t.lines().any(|l| l.trim() == "[[run]]") {
        return Err(Error::file(
            path,
            "a manifest (TOML), not a training log: pass it with --manifest",
        ));
    }
    Ok(())
}

fn unrecognised(path: &Path) -> Error {
    Error::file(
        path,
        "unrecognised log format (looked for a HF trainer_state.json, a TensorBoard event file, \
         llm.c, Megatron-LM and nanoGPT output, W&B exports, Lightning metrics.csv, \
         LLaMA-Factory trainer_log.jsonl, and CSV, JSON lines or Parquet with a step column)",
    )
}

/// Parse a log's bytes in any recognised format.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<SeriesLog> {
    let format = detect_file(path, bytes).ok_or_else(|| unrecognised(path))?;
    let sha256 = sha256_hex(bytes);
    // A text log's byte-order mark is no part of its text; the digest above is of the file as
    // it is.
    let bytes = match format {
        Format::Tensorboard | Format::Parquet => bytes,
        _ => super::without_bom(bytes),
    };
    let mut log = match format {
        Format::Tensorboard => {
            let ev = tfevents::parse(path, bytes)?;
            let mut run = Run {
                name: path
                    .file_name()
                    .map_or("run".into(), |n| n.to_string_lossy().into_owned()),
                ..Run::default()
            };
            for (tag, pts) in &ev.scalars {
                for p in pts {
                    run.add(tag, p.step, p.value);
                }
            }
            let mut log = SeriesLog::of(format, run);
            log.warnings = ev.warnings;
            log
        }
        Format::HfTrainerState => hf::parse(path, bytes)?,
        Format::LlamaFactory => rows::parse_llamafactory(path, bytes)?,
        Format::LightningCsv | Format::Csv => rows::parse_csv(path, bytes, format, &[])?,
        Format::Jsonl => rows::parse_jsonl(path, bytes, format, None, &[])?,
        Format::Parquet => rows::parse_parquet(path, bytes)?,
        Format::WandbHistory => rows::parse_wandb_history(path, bytes)?,
        Format::WandbChart => wandb::parse_chart(path, bytes)?,
        Format::Mlflow => unreachable!("MLflow logs are folders"),
        Format::Frame => unreachable!("frames are not detected from bytes"),
        Format::LlmcMainLog | Format::LlmcStdout | Format::Megatron | Format::Nanogpt => {
            text::parse(path, format, bytes)?
        }
    };
    log.sha256 = sha256;
    Ok(log)
}

/// Names trainers give the training loss, in order of preference.
const TRAIN_LOSS: &[&str] = &[
    "train/loss",
    "loss",
    "lm loss",
    "train_loss_step",
    "train_loss",
];
/// ... and the evaluation loss (`--loss eval`).
const EVAL_LOSS: &[&str] = &[
    "val/loss",
    "eval/loss",
    "eval_loss",
    "validation/lm loss value",
    "val loss",
    "val_loss",
];

/// The loss series of a run: `wanted` names it exactly, `eval` picks the evaluation loss, and
/// nothing picks the training loss (what fits use by default).
pub fn loss_series<'r>(run: &'r Run, wanted: Option<&str>) -> std::result::Result<&'r str, String> {
    let names: Vec<&str> = run.series.keys().map(String::as_str).collect();
    let pick = |cands: &[&str]| {
        cands
            .iter()
            .find_map(|c| names.iter().find(|n| *n == c).copied())
    };
    let found = match wanted {
        Some("eval") => pick(EVAL_LOSS),
        Some(w) => names.iter().find(|n| **n == w).copied(),
        None => pick(TRAIN_LOSS),
    };
    found.ok_or_else(|| {
        format!(
            "no {} series; the log has: {} (choose one with --loss-col TAG, or --loss-col eval)",
            wanted.map_or("training-loss".to_string(), |w| format!("'{w}'")),
            names.join(", ")
        )
    })
}

/// Names trainers give the learning rate (log-formats.md §0).
const LR_NAMES: &[&str] = &[
    "lr",
    "learning_rate",
    "learning rate",
    "train/learning_rate",
    "train/lr",
    "optim/learning_rate_group0",
];

/// The LR series of a run, if it has one.
pub fn lr_series(run: &Run) -> Option<&str> {
    run.series
        .keys()
        .find(|k| {
            let l = k.to_ascii_lowercase();
            LR_NAMES.contains(&l.as_str()) || l.starts_with("lr-")
        })
        .map(String::as_str)
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesReport {
    pub name: String,
    pub points: usize,
    pub first_step: Option<i64>,
    pub last_step: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub name: String,
    /// The series a fit reads as the loss by default, and the LR series, if any.
    pub loss: Option<String>,
    pub lr: Option<String>,
    pub series: Vec<SeriesReport>,
    /// Why `fit` with default options would refuse this run (filled in by `inspect`), so that a
    /// log inspect passes is one fit reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit_error: Option<String>,
}

/// What `losscast inspect` shows for one input.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub path: String,
    pub format: Format,
    pub sha256: String,
    pub runs: Vec<RunReport>,
    /// Every run has an LR series with a value at every step from its first to the last step
    /// of the training loss.
    pub lr_complete: bool,
    pub tokens_per_step: Option<f64>,
    /// For a folder, the files read, relative to it.
    pub files: Vec<String>,
    pub warnings: Vec<String>,
}

/// Whether a run's LR covers every step its loss needs, and what a fit will do if it does not.
fn lr_coverage(run: &Run, clean: &BTreeMap<&str, Clean>) -> (bool, Option<String>) {
    let Some(lr) = lr_series(run) else {
        return (
            false,
            Some(format!(
                "run '{}': no LR series; fits need a schedule (--schedule, or schedule = \"...\" \
                 in a manifest)",
                run.name
            )),
        );
    };
    let c = &clean[lr];
    let (Some(&first), Some(&last)) = (c.steps.first(), c.steps.last()) else {
        return (
            false,
            Some(format!(
                "run '{}': LR '{lr}' has no finite points",
                run.name
            )),
        );
    };
    let loss_last = loss_series(run, None)
        .ok()
        .and_then(|n| clean[n].steps.last().copied())
        .unwrap_or(last);
    let span = last - first + 1;
    if span == c.steps.len() as i64 && loss_last <= last {
        return (true, None);
    }
    let gap = c.steps.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    (
        false,
        Some(format!(
            "run '{}': LR '{lr}' logged at {} steps of {first}..{last} (largest gap {gap}); fits \
             interpolate it linearly between logged steps",
            run.name,
            c.steps.len()
        )),
    )
}

/// Read a log and describe it.
pub fn inspect(path: &Path) -> Result<InputReport> {
    let log = read(path)?;
    let mut warnings = log.warnings.clone();
    let mut all_lr_complete = true;
    let mut runs = Vec::new();
    for run in &log.runs {
        // Each series cleaned once: the report and the LR check both read it.
        let clean: BTreeMap<&str, Clean> = run
            .series
            .iter()
            .map(|(name, s)| (name.as_str(), s.finish()))
            .collect();
        let mut series = Vec::new();
        for (name, c) in &clean {
            for note in c.hygiene.notes(name) {
                warnings.push(format!("{}/{note}", run.name));
            }
            series.push(SeriesReport {
                name: name.to_string(),
                points: c.steps.len(),
                first_step: c.steps.first().copied(),
                last_step: c.steps.last().copied(),
            });
        }
        let (complete, warning) = lr_coverage(run, &clean);
        all_lr_complete &= complete;
        warnings.extend(warning);
        runs.push(RunReport {
            name: run.name.clone(),
            loss: loss_series(run, None).ok().map(String::from),
            lr: lr_series(run).map(String::from),
            series,
            fit_error: None,
        });
    }
    Ok(InputReport {
        path: path.display().to_string(),
        format: log.format,
        sha256: log.sha256,
        runs,
        lr_complete: all_lr_complete && !log.runs.is_empty(),
        tokens_per_step: log.tokens_per_step,
        files: log.files,
        warnings,
    })
}
