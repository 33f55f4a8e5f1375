//! Logs and tables handed over in memory as typed columns (a pandas or polars frame, or a dict
//! of numpy arrays, from the Python module) instead of as a file. They are read the way a
//! Parquet file with the same columns is: a step column found by name, every numeric column a
//! series, nulls and NaN absent points; a label stands in for the path in every message and in
//! the fit record's provenance.

use super::formats::{self, Format};
use super::{sha256_hex, ReadOptions, RunLog};
use crate::error::{Error, Result};
use polars::prelude::*;
use std::path::Path;

/// One column as it crossed from the caller.
#[derive(Debug, Clone)]
pub enum MemColumn {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Text(Vec<Option<String>>),
}

impl MemColumn {
    fn len(&self) -> usize {
        match self {
            MemColumn::F64(v) => v.len(),
            MemColumn::I64(v) => v.len(),
            MemColumn::Text(v) => v.len(),
        }
    }
}

/// Named columns of equal length.
#[derive(Debug, Clone, Default)]
pub struct MemFrame {
    pub columns: Vec<(String, MemColumn)>,
}

impl MemFrame {
    /// The digest a fit record cites: over every column's name, type and values, so the same
    /// frame gives the same digest in any session.
    pub fn sha256(&self) -> String {
        let mut bytes = Vec::new();
        for (name, col) in &self.columns {
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(0);
            match col {
                MemColumn::F64(v) => {
                    bytes.push(b'f');
                    v.iter()
                        .for_each(|x| bytes.extend_from_slice(&x.to_le_bytes()));
                }
                MemColumn::I64(v) => {
                    bytes.push(b'i');
                    v.iter()
                        .for_each(|x| bytes.extend_from_slice(&x.to_le_bytes()));
                }
                MemColumn::Text(v) => {
                    bytes.push(b's');
                    for s in v {
                        match s {
                            Some(s) => {
                                bytes.push(1);
                                bytes.extend_from_slice(s.as_bytes());
                                bytes.push(0);
                            }
                            None => bytes.push(0),
                        }
                    }
                }
            }
        }
        sha256_hex(&bytes)
    }

    /// The frame as Polars holds it, after checking that it has rows and that its columns agree.
    pub fn to_polars(&self, path: &Path) -> Result<DataFrame> {
        let Some((_, first)) = self.columns.first() else {
            return Err(Error::file(path, "no columns"));
        };
        let rows = first.len();
        if rows == 0 {
            return Err(Error::file(path, "no rows"));
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut cols = Vec::with_capacity(self.columns.len());
        for (name, col) in &self.columns {
            if !seen.insert(name.as_str()) {
                return Err(Error::file(path, format!("column '{name}' appears twice")));
            }
            if col.len() != rows {
                return Err(Error::file(
                    path,
                    format!(
                        "column '{name}' has {} rows, the first column {rows}",
                        col.len()
                    ),
                ));
            }
            cols.push(match col {
                MemColumn::F64(v) => Column::new(name.into(), v),
                MemColumn::I64(v) => Column::new(name.into(), v),
                MemColumn::Text(v) => Column::new(name.into(), v),
            });
        }
        DataFrame::new_infer_height(cols)
            .map_err(|e| Error::file(path, format!("cannot build frame: {e}")))
    }
}

/// The rows of `df` whose `column` holds `value`, compared as `--where` compares. A frame has no lines, so errors name the label and the column.
fn select_rows(path: &Path, df: &DataFrame, column: &str, value: &str) -> Result<DataFrame> {
    let col = df.column(column).map_err(|_| {
        Error::file(
            path,
            format!(
                "select: no column '{column}'; columns are: {}",
                super::header_of(df).join(", ")
            ),
        )
    })?;
    // `--where`'s equality: numeric when both sides are numbers ("1.0" selects 1), else text.
    let cond = super::condition::Condition {
        column: column.to_string(),
        op: super::condition::Op::Eq,
        value: value.to_string(),
    };
    let cast = col
        .cast(&DataType::String)
        .map_err(|e| Error::file(path, format!("column '{column}': {e}")))?;
    let cells = cast
        .str()
        .map_err(|e| Error::file(path, format!("column '{column}': {e}")))?;
    let mask: Vec<bool> = cells.iter().map(|c| cond.matches(c)).collect();
    if !mask.iter().any(|m| *m) {
        return Err(Error::file(
            path,
            format!("no row has {column}={value} (select)"),
        ));
    }
    df.filter(&BooleanChunked::from_slice("keep".into(), &mask))
        .map_err(|e| Error::file(path, format!("select: {e}")))
}

/// A frame whose steps go back (or repeat) beside a text column is several runs in one frame (a
/// long frame with a `run` column), not a resumed run: read as one log, the hygiene would sort
/// the runs' points together and keep the last of each step from whichever run came last.
fn refuse_mixed_runs(path: &Path, df: &DataFrame, opts: &ReadOptions) -> Result<()> {
    let header = super::header_of(df);
    let step = opts
        .names
        .step
        .clone()
        .or_else(|| super::columns::find_step(&header));
    let Some(step) = step else { return Ok(()) };
    let Ok(col) = df.column(&step).and_then(|c| c.cast(&DataType::Float64)) else {
        return Ok(());
    };
    let Ok(values) = col.f64() else { return Ok(()) };
    let steps: Vec<f64> = values.iter().flatten().collect();
    let repeats = steps.windows(2).filter(|w| w[1] <= w[0]).count();
    let text: Vec<String> = header
        .iter()
        .filter(|h| df.column(h).is_ok_and(|c| c.dtype() == &DataType::String))
        .cloned()
        .collect();
    if repeats > 0 && !text.is_empty() {
        return Err(Error::file(
            path,
            format!(
                "steps go back or repeat {repeats} time(s) and the frame has text column(s) \
                 {}: several runs in one frame? Split it into runs (by=COLUMN in Python) or \
                 keep one with select=COLUMN=VALUE",
                text.join(", ")
            ),
        ));
    }
    Ok(())
}

/// A log from an in-memory frame: `select` keeps the rows of one run (any column), `step`
/// names the step column (else found by name), then the loss and LR series are chosen as in
/// any log.
pub fn read_log(path: &Path, frame: &MemFrame, opts: &ReadOptions) -> Result<RunLog> {
    let mut df = frame.to_polars(path)?;
    if let Some((column, value)) = &opts.select {
        df = select_rows(path, &df, column, value)?;
    }
    refuse_mixed_runs(path, &df, opts)?;
    let mut log = formats::rows::parse_frame(path, &df, opts.names.step.as_deref(), Format::Frame)?;
    log.sha256 = frame.sha256();
    let series_opts = ReadOptions {
        names: super::ColumnNames {
            step: None,
            ..opts.names.clone()
        },
        select: None,
        lr_shift: opts.lr_shift,
    };
    let mut read = super::read_series_log(path, log, &series_opts)?;
    if let Some((column, value)) = &opts.select {
        read.notes.push(format!("rows where {column}={value}"));
    }
    Ok(read)
}
