//! Row-per-log-call formats: a step column (or key) and one column per metric, where a value
//! absent from a row (`null`, an empty cell) is simply not a point of that series. This covers
//! Lightning/litgpt `metrics.csv`, LLaMA-Factory `trainer_log.jsonl`, W&B API history (CSV or
//! JSON lines, `_step`), and generic CSV, JSON-lines and Parquet logs (log-formats.md §1, §2, §4).
//!
//! A column whose cells are text (a run name, a task tag, a W&B media dict) is not a metric and is
//! skipped; a metric column with one bad cell is an error at that cell, because a silently lost
//! point would shift nothing visibly and still bias a fit.

use super::{Format, Run, SeriesLog};
use crate::error::{Error, Result};
use crate::ingest::csv_text::{parse_number, CsvText};
use crate::ingest::{columns, header_of, Required};
use polars::prelude::*;
use serde_json::Value;
use std::path::Path;

/// Keys of LLaMA-Factory lines that are bookkeeping, not metrics.
const LF_SKIP: &[&str] = &["current_steps", "total_steps", "percentage"];
/// W&B history bookkeeping: wall-clock columns, and the pandas index `to_csv` writes first.
const WANDB_SKIP: &[&str] = &["_runtime", "_timestamp", "_wandb", ""];

pub(super) fn first_line(head: &str) -> Option<&str> {
    head.lines().map(str::trim).find(|l| !l.is_empty())
}

pub(super) fn is_llamafactory(head: &str) -> bool {
    first_line(head).is_some_and(|l| l.starts_with('{') && l.contains("\"current_steps\""))
}

/// The cells of a CSV header line, unquoted (for detection only; parsing is Polars').
pub(super) fn header_cells(head: &str) -> Vec<String> {
    first_line(head)
        .map(|l| {
            l.split(',')
                .map(|c| c.trim().trim_matches('"').to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Lightning's header: `epoch` and `step`, plus `*_step`/`*_epoch` or `lr-*` columns.
pub(super) fn is_lightning(cols: &[String]) -> bool {
    let has = |n: &str| cols.iter().any(|c| c == n);
    has("epoch")
        && has("step")
        && cols
            .iter()
            .any(|c| c.ends_with("_step") || c.ends_with("_epoch") || c.starts_with("lr-"))
}

/// W&B `run.history().to_csv()`: `_step` with `_runtime` or `_timestamp`.
pub(super) fn is_wandb_history(cols: &[String]) -> bool {
    let has = |n: &str| cols.iter().any(|c| c == n);
    has("_step") && (has("_runtime") || has("_timestamp"))
}

fn run_named(path: &Path) -> Run {
    Run {
        name: path
            .file_stem()
            .map_or("run".into(), |n| n.to_string_lossy().into_owned()),
        ..Run::default()
    }
}

fn skipped(name: &str, skip: &[&str]) -> bool {
    skip.contains(&name) || name.starts_with("Unnamed")
}

/// A CSV with a step column: every other numeric column becomes a series.
pub(super) fn parse_csv(
    path: &Path,
    bytes: &[u8],
    format: Format,
    skip: &[&str],
) -> Result<SeriesLog> {
    let text = CsvText::new(path, bytes)?;
    let raw = text.frame()?;
    let header = header_of(&raw);
    let step_col = step_column(path, &header)?;
    let steps = text.steps(&raw, &step_col)?;
    let mut run = run_named(path);
    let mut text_cols = Vec::new();
    for name in &header {
        if *name == step_col || skipped(name, skip) {
            continue;
        }
        let first = text.first_cell(&raw, name)?;
        if first.is_some_and(|c| parse_number(&c).is_none()) {
            text_cols.push(name.clone());
            continue;
        }
        let values = text.floats(&raw, name, Required::No)?;
        for (s, v) in steps.iter().zip(values) {
            if let (Some(s), Some(v)) = (s, v) {
                run.add(name, *s, v);
            }
        }
    }
    let mut log = SeriesLog::of(format, run);
    if !text_cols.is_empty() {
        log.warnings.push(format!(
            "text column(s) skipped, not metrics: {}",
            text_cols.join(", ")
        ));
    }
    Ok(log)
}

fn step_column(path: &Path, header: &[String]) -> Result<String> {
    columns::find_step(header).ok_or_else(|| {
        Error::file(
            path,
            format!(
                "no step column (looked for step, _step, iter, iteration, global_step); \
                 columns are: {}",
                header.join(", ")
            ),
        )
    })
}

/// JSON lines with a step key: every other numeric key becomes a series. `step_key` `None` finds
/// the step key by its usual names.
pub(super) fn parse_jsonl(
    path: &Path,
    bytes: &[u8],
    format: Format,
    step_key: Option<&str>,
    skip: &[&str],
) -> Result<SeriesLog> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::file(path, "not UTF-8 text"))?;
    let mut run = run_named(path);
    let mut step_key = step_key.map(String::from);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&super::hf::quote_non_finite(line))
            .map_err(|e| Error::at(path, i + 1, e.column(), format!("not JSON: {e}")))?;
        let Some(obj) = v.as_object() else {
            return Err(Error::at(path, i + 1, 1, "expected a JSON object per line"));
        };
        let key = match &step_key {
            Some(k) => k.clone(),
            None => {
                let keys: Vec<String> = obj.keys().cloned().collect();
                let k = step_column(path, &keys).map_err(|_| {
                    Error::at(path, i + 1, 1, "no step key (step, _step, iter, ...)")
                })?;
                step_key = Some(k.clone());
                k
            }
        };
        let step = obj
            .get(&key)
            .and_then(whole)
            .ok_or_else(|| Error::at(path, i + 1, 1, format!("expected a whole '{key}'")))?;
        for (k, val) in obj {
            if *k == key || skipped(k, skip) {
                continue;
            }
            if let Some(x) = super::hf::as_number(val) {
                run.add(k, step, x);
            }
        }
    }
    if run.series.is_empty() {
        return Err(Error::file(path, "no metric values"));
    }
    Ok(SeriesLog::of(format, run))
}

fn whole(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x < 9e15)
            .map(|x| x as i64)
    })
}

pub(super) fn parse_llamafactory(path: &Path, bytes: &[u8]) -> Result<SeriesLog> {
    // Newer versions call the LR `lr`, older `learning_rate`; both are LR names.
    parse_jsonl(
        path,
        bytes,
        Format::LlamaFactory,
        Some("current_steps"),
        LF_SKIP,
    )
}

pub(super) fn parse_wandb_history(path: &Path, bytes: &[u8]) -> Result<SeriesLog> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let mut log = if first == Some(&b'{') {
        parse_jsonl(path, bytes, Format::WandbHistory, Some("_step"), WANDB_SKIP)?
    } else {
        parse_csv(path, bytes, Format::WandbHistory, WANDB_SKIP)?
    };
    log.warnings.push(
        "steps are W&B's _step: the wandb.log call counter unless the trainer passed step=".into(),
    );
    Ok(log)
}

/// A Parquet log: a step column and numeric metric columns; nulls are absent points.
pub(super) fn parse_parquet(path: &Path, bytes: &[u8]) -> Result<SeriesLog> {
    let df = ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| Error::file(path, format!("not a readable Parquet file: {e}")))?;
    parse_frame(path, &df, None, Format::Parquet)
}

/// A typed frame (a Parquet file's, or one handed over in memory): the step column (`step`, or
/// found by name) and every numeric column a series; nulls are absent points.
pub(crate) fn parse_frame(
    path: &Path,
    df: &DataFrame,
    step: Option<&str>,
    format: Format,
) -> Result<SeriesLog> {
    let header = header_of(df);
    let step_col = match step {
        Some(s) if header.iter().any(|h| h == s) => s.to_string(),
        Some(s) => {
            return Err(Error::file(
                path,
                format!(
                    "missing step column '{s}'; columns are: {}",
                    header.join(", ")
                ),
            ))
        }
        None => step_column(path, &header)?,
    };
    let as_f64 = |name: &str| -> Result<Vec<Option<f64>>> {
        let c = df
            .column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|e| Error::file(path, format!("column '{name}': {e}")))?;
        let ca = c
            .f64()
            .map_err(|e| Error::file(path, format!("column '{name}': {e}")))?;
        Ok(ca.iter().collect())
    };
    let steps = as_f64(&step_col)?;
    let mut step_ints = Vec::with_capacity(steps.len());
    for (r, s) in steps.iter().enumerate() {
        match s {
            Some(x) if x.fract() == 0.0 && *x >= 0.0 && *x < 9e15 => step_ints.push(*x as i64),
            other => {
                // What the cell held: a number that is no step, text, or nothing.
                let held = match other {
                    Some(x) => x.to_string(),
                    None => match df.column(&step_col).ok().and_then(|c| c.get(r).ok()) {
                        Some(v) if !v.is_null() => {
                            format!("{} (text)", v.to_string().trim_matches('"'))
                        }
                        _ => "an empty cell".into(),
                    },
                };
                return Err(Error::file(
                    path,
                    format!(
                        "row {}, column '{step_col}': {held} is not a whole step number",
                        r + 1
                    ),
                ));
            }
        }
    }
    let mut run = run_named(path);
    let mut text_cols = Vec::new();
    for name in &header {
        if *name == step_col {
            continue;
        }
        let dtype = df.column(name).map(|c| c.dtype().clone());
        if !dtype.is_ok_and(|d| d.is_primitive_numeric()) {
            text_cols.push(name.clone());
            continue;
        }
        for (s, v) in step_ints.iter().zip(as_f64(name)?) {
            if let Some(v) = v {
                run.add(name, *s, v);
            }
        }
    }
    let mut log = SeriesLog::of(format, run);
    if !text_cols.is_empty() {
        log.warnings.push(format!(
            "non-numeric column(s) skipped, not metrics: {}",
            text_cols.join(", ")
        ));
    }
    Ok(log)
}
