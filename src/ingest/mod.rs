//! Reading training logs into a canonical Polars frame: `step` (i64), `loss` (f64), and when the
//! log has them `lr` (f64) and `tokens` (f64).
//!
//! Everything downstream (schedules, laws, fits) sees only that frame, so the messy part (which
//! column is the loss, CRLF line ends, a stray text cell, a resumed run) is dealt with here, once.
//! Every problem is reported with the file, the line and the column, because a user with a
//! 50 000-line log cannot hunt for "invalid data" by eye.

mod columns;
pub mod condition;
mod csv_text;
pub mod formats;
pub mod table;
pub mod tfevents;

pub use columns::{ColumnChoice, ColumnNames};

use crate::error::{Error, Result};
use polars::prelude::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A log read from disk, with what is needed to cite it in a fit record.
#[derive(Debug, Clone)]
pub struct RunLog {
    pub path: PathBuf,
    pub sha256: String,
    /// Canonical columns: `step`, `loss`, optionally `lr` and `tokens`. Sorted by step.
    pub frame: DataFrame,
    /// Which source column became which canonical column.
    pub columns: ColumnChoice,
    /// The LR at the steps it was logged, which need not be the loss's steps.
    pub lr_points: Option<LrPoints>,
    /// What hygiene did (repeated steps, sorting, NaN dropped), for the fit record.
    pub notes: Vec<String>,
}

/// Optional row selection applied before anything else: `column=value` keeps the rows of one run
/// from a file that holds several (as W&B exports and the Tissue reference points do).
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub names: ColumnNames,
    pub select: Option<(String, String)>,
    /// The logged LR at step s is used for step s + lr_shift: HF Trainer releases before late
    /// 2024 logged the LR after the scheduler step, one step ahead (log-formats.md §1).
    pub lr_shift: i64,
}

impl ReadOptions {
    /// Parse a `column=value` selector.
    pub fn parse_select(text: &str) -> Result<(String, String)> {
        text.split_once('=')
            .map(|(c, v)| (c.trim().to_string(), v.trim().to_string()))
            .filter(|(c, _)| !c.is_empty())
            .ok_or_else(|| Error::input(format!("bad select '{text}': expected COLUMN=VALUE")))
    }
}

/// Hex sha256 of a file's bytes, for provenance.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::file(path, "file not found"),
        _ => Error::file(path, format!("cannot read: {e}")),
    })
}

/// Read a training log into canonical columns: a plain CSV (one row per step, every problem
/// reported at its line and column), or any format or folder [`formats`] recognises.
pub fn read_log(path: &Path, opts: &ReadOptions) -> Result<RunLog> {
    if path.is_dir() {
        return read_series_log(path, formats::read(path)?, opts);
    }
    let bytes = read_bytes(path)?;
    match formats::detect(&bytes) {
        None | Some(formats::Format::Csv) => {}
        Some(_) => return read_series_log(path, formats::read(path)?, opts),
    }
    let sha256 = sha256_hex(&bytes);
    let text = csv_text::CsvText::new(path, &bytes)?;
    let raw = text.frame()?;
    let header = header_of(&raw);

    // Rows of the selected run only; remember which source rows survive for line numbers.
    let rows: Vec<usize> = match &opts.select {
        None => (0..raw.height()).collect(),
        Some((col, value)) => {
            let values = text.strings(&raw, col)?;
            let rows: Vec<usize> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.as_deref() == Some(value.as_str()))
                .map(|(i, _)| i)
                .collect();
            if rows.is_empty() {
                return Err(Error::file(
                    path,
                    format!("no row has {col}={value} (select)"),
                ));
            }
            rows
        }
    };

    let choice = opts.names.choose(path, &header)?;
    let steps_all = text.steps(&raw, &choice.step)?;
    let loss_all = text.floats(&raw, &choice.loss, Required::Yes)?;
    let mut step = Vec::with_capacity(rows.len());
    let mut loss = Vec::with_capacity(rows.len());
    for &r in &rows {
        let (s, l) = (steps_all[r], loss_all[r]);
        let s = s.ok_or_else(|| text.err_at(r, &choice.step, "empty step"))?;
        let l = l.ok_or_else(|| text.err_at(r, &choice.loss, "empty loss"))?;
        if !l.is_finite() {
            return Err(text.err_at(
                r,
                &choice.loss,
                format!("loss is {l}, expected a finite number"),
            ));
        }
        if l <= 0.0 {
            return Err(text.err_at(r, &choice.loss, format!("loss is {l}, expected > 0")));
        }
        if let Some(&prev) = step.last() {
            if s <= prev {
                return Err(text.err_at(
                    r,
                    &choice.step,
                    format!("steps must increase: {s} follows {prev}"),
                ));
            }
        }
        step.push(s);
        loss.push(l);
    }
    let steps_kept = step.clone();
    let mut cols = vec![
        Column::new("step".into(), step),
        Column::new("loss".into(), loss),
    ];
    let mut lr_points = None;
    for (canon, source) in [("lr", &choice.lr), ("tokens", &choice.tokens)] {
        let Some(source) = source else { continue };
        let all = text.floats(&raw, source, Required::No)?;
        let mut v: Vec<Option<f64>> = Vec::with_capacity(rows.len());
        for &r in &rows {
            if let Some(x) = all[r] {
                if !x.is_finite() || x < 0.0 {
                    return Err(text.err_at(
                        r,
                        source,
                        format!("{canon} is {x}, expected a finite number >= 0"),
                    ));
                }
            }
            v.push(all[r]);
        }
        if canon == "lr" {
            let (s, x): (Vec<i64>, Vec<f64>) = steps_kept
                .iter()
                .zip(&v)
                .filter_map(|(s, x)| x.map(|x| (*s, x)))
                .unzip();
            let points = LrPoints::shifted(s, x, opts.lr_shift);
            v = points.at(&steps_kept);
            lr_points = Some(points);
        }
        cols.push(Column::new(canon.into(), v));
    }
    let frame = DataFrame::new_infer_height(cols)
        .map_err(|e| Error::file(path, format!("cannot build frame: {e}")))?;
    Ok(RunLog {
        path: path.to_path_buf(),
        sha256,
        frame,
        columns: choice,
        lr_points,
        notes: Vec::new(),
    })
}

/// A log in a trainer's own format: the chosen loss series (`--loss TAG`, `eval`, or the
/// training loss) of the chosen run, with the LR series (`--lr TAG` or the one the log names as
/// LR) at its own steps.
fn read_series_log(path: &Path, log: formats::SeriesLog, opts: &ReadOptions) -> Result<RunLog> {
    let run_name = match &opts.select {
        None => None,
        Some((k, v)) if k == "run" => Some(v.as_str()),
        Some((k, _)) => {
            return Err(Error::file(
                path,
                format!(
                    "select '{k}=...': in a {} log, select picks a run: run=NAME",
                    log.format.name()
                ),
            ))
        }
    };
    let run = log.run(path, run_name)?;
    let loss_name =
        formats::loss_series(run, opts.names.loss.as_deref()).map_err(|m| Error::file(path, m))?;
    let lr_name = match opts.names.lr.as_deref() {
        Some(want) => Some(
            run.series
                .get_key_value(want)
                .map(|(k, _)| k.as_str())
                .ok_or_else(|| Error::file(path, format!("no LR series '{want}' (from --lr)")))?,
        ),
        None => formats::lr_series(run),
    };
    let loss = run.series[loss_name].finish();
    let bad = loss.values.iter().position(|&l| l <= 0.0);
    if let Some(i) = bad {
        return Err(Error::file(
            path,
            format!(
                "{loss_name} at step {} is {}, expected > 0",
                loss.steps[i], loss.values[i]
            ),
        ));
    }
    if loss.steps.is_empty() {
        return Err(Error::file(
            path,
            format!("series {loss_name} has no finite points"),
        ));
    }
    let mut notes = loss.hygiene.notes(loss_name);
    let mut cols = vec![
        Column::new("step".into(), loss.steps.clone()),
        Column::new("loss".into(), loss.values.clone()),
    ];
    let mut lr_points = None;
    if let Some(name) = lr_name {
        let lr = run.series[name].finish();
        notes.extend(lr.hygiene.notes(name));
        if let Some(i) = lr.values.iter().position(|&v| v < 0.0) {
            return Err(Error::file(
                path,
                format!(
                    "{name} at step {} is {}, expected >= 0",
                    lr.steps[i], lr.values[i]
                ),
            ));
        }
        let points = LrPoints::shifted(lr.steps, lr.values, opts.lr_shift);
        cols.push(Column::new("lr".into(), points.at(&loss.steps)));
        lr_points = Some(points);
    }
    if log.runs.len() > 1 {
        notes.push(format!("run '{}' of {}", run.name, log.runs.len()));
    }
    let frame = DataFrame::new_infer_height(cols)
        .map_err(|e| Error::file(path, format!("cannot build frame: {e}")))?;
    Ok(RunLog {
        path: path.to_path_buf(),
        sha256: log.sha256.clone(),
        frame,
        columns: ColumnChoice {
            step: "step".into(),
            loss: loss_name.to_string(),
            lr: lr_name.map(String::from),
            tokens: None,
        },
        lr_points,
        notes,
    })
}

/// The LR as the log has it, at its own steps with `lr_shift` applied: it may be denser than the
/// loss (llm.c logs the LR every step, the eval loss every 250) or sparser (HF `logging_steps`).
#[derive(Debug, Clone, PartialEq)]
pub struct LrPoints {
    pub steps: Vec<i64>,
    pub values: Vec<f64>,
}

impl LrPoints {
    fn shifted(steps: Vec<i64>, values: Vec<f64>, shift: i64) -> Self {
        let (steps, values) = steps
            .into_iter()
            .zip(values)
            .map(|(s, v)| (s + shift, v))
            .filter(|(s, _)| *s >= 0)
            .unzip();
        LrPoints { steps, values }
    }

    /// The value logged at each of `at` steps, `None` where none was.
    pub fn at(&self, at: &[i64]) -> Vec<Option<f64>> {
        at.iter()
            .map(|s| self.steps.binary_search(s).ok().map(|i| self.values[i]))
            .collect()
    }
}

pub(crate) fn header_of(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Whether empty cells are an error (loss, step) or simply absent values (a sparse LR column).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Required {
    Yes,
    No,
}

/// Read a per-step LR array for a `file:` schedule. With a `step` column the file must cover every
/// step from 0; without one, row `i` is step `i`.
pub fn read_lr_array(path: &Path, column: Option<&str>) -> Result<Vec<f64>> {
    let bytes = read_bytes(path)?;
    let text = csv_text::CsvText::new(path, &bytes)?;
    let raw = text.frame()?;
    let header = header_of(&raw);
    let lr_col = match column {
        Some(c) => {
            if !header.iter().any(|h| h == c) {
                return Err(Error::file(
                    path,
                    format!("no column '{c}'; columns are: {}", header.join(", ")),
                ));
            }
            c.to_string()
        }
        None => columns::find_lr(&header)
            .or_else(|| (header.len() == 1).then(|| header[0].clone()))
            .ok_or_else(|| {
                Error::file(
                    path,
                    format!(
                        "no LR column found (looked for lr, learning_rate, train/learning_rate); name one with file:PATH#COLUMN; columns are: {}",
                        header.join(", ")
                    ),
                )
            })?,
    };
    let lr = text.floats(&raw, &lr_col, Required::Yes)?;
    let mut values = Vec::with_capacity(lr.len());
    for (r, x) in lr.iter().enumerate() {
        let x = x.ok_or_else(|| text.err_at(r, &lr_col, "empty LR"))?;
        if !x.is_finite() || x < 0.0 {
            return Err(text.err_at(
                r,
                &lr_col,
                format!("LR is {x}, expected a finite number >= 0"),
            ));
        }
        values.push(x);
    }
    if let Some(step_col) = columns::find_step(&header) {
        let steps = text.steps(&raw, &step_col)?;
        for (r, s) in steps.iter().enumerate() {
            if *s != Some(r as i64) {
                return Err(text.err_at(
                    r,
                    &step_col,
                    format!("a file: schedule needs one row per step from 0; expected step {r}"),
                ));
            }
        }
    }
    if values.is_empty() {
        return Err(Error::file(path, "no LR values"));
    }
    Ok(values)
}

impl RunLog {
    pub fn steps(&self) -> Vec<i64> {
        self.frame
            .column("step")
            .and_then(|c| c.i64().map(|ca| ca.into_no_null_iter().collect()))
            .unwrap_or_default()
    }

    pub fn loss(&self) -> Vec<f64> {
        self.frame
            .column("loss")
            .and_then(|c| c.f64().map(|ca| ca.into_no_null_iter().collect()))
            .unwrap_or_default()
    }

    /// The logged LR at each row, `None` where the row has none. `None` overall if no LR column.
    pub fn lr(&self) -> Option<Vec<Option<f64>>> {
        let c = self.frame.column("lr").ok()?;
        Some(c.f64().ok()?.iter().collect())
    }
}

#[cfg(test)]
mod tests;
