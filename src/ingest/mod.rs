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
mod files;
pub mod formats;
pub mod memory;
pub mod table;
pub mod tfevents;

pub use columns::{ColumnChoice, ColumnNames};
pub use files::{
    io_error, read_bytes, read_bytes_checked, read_text, read_text_checked, refuse_binary,
    sha256_hex, without_bom, MAX_INPUT_BYTES,
};
pub(crate) use files::{open_input, refuse_nul};

use crate::error::{Error, Result};
use polars::prelude::*;
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
    /// What the format's reader warned about (`inspect` shows the same lines).
    pub warnings: Vec<String>,
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

/// The bytes of a log file, its head checked as [`read_log`] checks it: for `watch`, which
/// parses only the complete records itself.
pub fn read_log_file(path: &Path, opts: &ReadOptions) -> Result<Vec<u8>> {
    read_bytes_checked(path, |head| match formats::detect_file(path, head) {
        Some(_) => Ok(()),
        None => check_plain_head(path, head, opts),
    })
}

/// Read a training log into canonical columns: a plain CSV (one row per step, every problem
/// reported at its line and column), or any format or folder [`formats`] recognises.
pub fn read_log(path: &Path, opts: &ReadOptions) -> Result<RunLog> {
    if path.is_dir() {
        return read_series_log(path, formats::read(path)?, opts);
    }
    // Sniff the head first: a trainer's format is read by its own reader, and anything else as
    // a plain CSV (which names its own problems by line), from one read of the file.
    let opened = open_input(path, formats::SNIFF_BYTES)?;
    let format = formats::detect_file(path, &opened.head);
    if format.is_none() {
        check_plain_head(path, &opened.head, opts)?;
    }
    let bytes = opened.read_all(path)?;
    read_log_parsed(path, format, &bytes, opts)
}

/// A file in no recognised format is read as a plain CSV, whole. Before that, its first
/// [`formats::SNIFF_BYTES`] must look like one: text without NUL bytes, a first line that ends
/// inside them, and a header whose step and loss columns can be found. A 3 GB file of junk is
/// then refused after 64 KB, as the README promises, instead of being read into 9 GB of
/// memory; the messages are the CSV reader's own, at the same lines.
fn check_plain_head(path: &Path, head: &[u8], opts: &ReadOptions) -> Result<()> {
    refuse_nul(
        path,
        head,
        "binary data (NUL bytes): not a CSV log, nor a format losscast recognises",
    )?;
    formats::refuse_own_files(path, head)?;
    let whole = head.len() < formats::SNIFF_BYTES;
    let prefix = match head.iter().rposition(|&b| b == b'\n') {
        _ if whole => head,
        Some(end) => &head[..=end],
        None => {
            return Err(Error::at(
                path,
                1,
                1,
                format!(
                    "the first line is longer than {} KB: not a CSV log, nor a format losscast \
                     recognises",
                    formats::SNIFF_BYTES / 1024
                ),
            ))
        }
    };
    if whole {
        // The whole file is in hand: the full reader names its problems itself.
        return Ok(());
    }
    let text = csv_text::CsvText::new(path, prefix)?;
    let raw = text.frame()?;
    opts.names.choose(path, &header_of(&raw)).map(|_| ())
}

/// [`read_log`] of bytes already read from the file at `path` (named in messages and used to
/// recognise the format): `watch` reads a growing log itself and hands over only its complete
/// records.
pub fn read_log_bytes(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<RunLog> {
    let head = &bytes[..bytes.len().min(formats::SNIFF_BYTES)];
    read_log_parsed(path, formats::detect_file(path, head), bytes, opts)
}

fn read_log_parsed(
    path: &Path,
    format: Option<formats::Format>,
    bytes: &[u8],
    opts: &ReadOptions,
) -> Result<RunLog> {
    match format {
        None | Some(formats::Format::Csv) => {}
        Some(_) => return read_series_log(path, formats::from_bytes(path, bytes)?, opts),
    }
    let sha256 = sha256_hex(bytes);
    let text = csv_text::CsvText::new(path, bytes)?;
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
                format!(
                    "loss is {}, expected a finite number",
                    crate::base::numbers::num(l)
                ),
            ));
        }
        if l <= 0.0 {
            return Err(text.err_at(
                r,
                &choice.loss,
                format!("loss is {}, expected > 0", crate::base::numbers::num(l)),
            ));
        }
        if let Some(&prev) = step.last() {
            if s <= prev {
                let hint = if opts.select.is_none() {
                    " (a resumed run, or several runs in one file: pick one with --select \
                     COLUMN=VALUE)"
                } else {
                    " (a resumed run? keep one record per step)"
                };
                return Err(text.err_at(
                    r,
                    &choice.step,
                    format!("steps must increase: {s} follows {prev}{hint}"),
                ));
            }
        }
        step.push(s);
        loss.push(l);
    }
    let steps_kept = step.clone();
    let mut notes = Vec::new();
    let mut cols = vec![
        Column::new("step".into(), step),
        Column::new("loss".into(), loss),
    ];
    let mut lr_points = None;
    for (canon, source) in [("lr", &choice.lr), ("tokens", &choice.tokens)] {
        let Some(source) = source else { continue };
        let mut all = text.floats(&raw, source, Required::No)?;
        if canon == "lr" {
            // Round-off below zero (a decay to 0 logged as -4.2e-22) is 0; a real negative is
            // an error at its cell.
            let mut present: Vec<f64> = rows.iter().filter_map(|&r| all[r]).collect();
            let at: Vec<usize> = rows.iter().copied().filter(|&r| all[r].is_some()).collect();
            match zero_lr_round_off(&mut present) {
                Ok(0) => {}
                Ok(n) => {
                    notes.push(round_off_note(source, n));
                    for (&r, &x) in at.iter().zip(&present) {
                        all[r] = Some(x);
                    }
                }
                Err(i) => {
                    return Err(text.err_at(
                        at[i],
                        source,
                        format!(
                            "lr is {}, a real negative (more than {LR_ROUND_OFF:e} x the peak); \
                             a learning rate must be >= 0",
                            crate::base::numbers::num(present[i])
                        ),
                    ))
                }
            }
        }
        let mut v: Vec<Option<f64>> = Vec::with_capacity(rows.len());
        for &r in &rows {
            if let Some(x) = all[r] {
                if !x.is_finite() || x < 0.0 {
                    return Err(text.err_at(
                        r,
                        source,
                        format!(
                            "{canon} is {}, expected a finite number >= 0",
                            crate::base::numbers::num(x)
                        ),
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
        notes,
        warnings: Vec::new(),
    })
}

/// A log in a trainer's own format: the chosen loss series (`--loss TAG`, `eval`, or the
/// training loss) of the chosen run, with the LR series (`--lr TAG` or the one the log names as
/// LR) at its own steps.
pub(crate) fn read_series_log(
    path: &Path,
    log: formats::SeriesLog,
    opts: &ReadOptions,
) -> Result<RunLog> {
    if let Some(step) = &opts.names.step {
        return Err(Error::file(
            path,
            format!(
                "--step-col '{step}' names a column of a plain CSV; this is a {} log, whose steps \
                 losscast reads itself",
                log.format.name()
            ),
        ));
    }
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
                loss.steps[i],
                crate::base::numbers::num(loss.values[i])
            ),
        ));
    }
    if loss.steps.is_empty() {
        return Err(Error::file(
            path,
            format!("series {loss_name} has no finite points"),
        ));
    }
    negative_step(path, loss_name, &loss.steps)?;
    let mut notes = loss.hygiene.notes(loss_name);
    let mut cols = vec![
        Column::new("step".into(), loss.steps.clone()),
        Column::new("loss".into(), loss.values.clone()),
    ];
    let mut lr_points = None;
    if let Some(name) = lr_name {
        let mut lr = run.series[name].finish();
        negative_step(path, name, &lr.steps)?;
        notes.extend(lr.hygiene.notes(name));
        match zero_lr_round_off(&mut lr.values) {
            Ok(0) => {}
            Ok(n) => notes.push(round_off_note(name, n)),
            Err(i) => {
                return Err(Error::file(
                    path,
                    format!(
                        "{name} at step {} is {}, a real negative (more than {LR_ROUND_OFF:e} x \
                         the peak); a learning rate must be >= 0",
                        lr.steps[i],
                        crate::base::numbers::num(lr.values[i])
                    ),
                ))
            }
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
        warnings: log.warnings.clone(),
    })
}

/// Steps count optimizer steps from 0; a negative one (sorted first) is corrupt data.
fn negative_step(path: &Path, series: &str, steps: &[i64]) -> Result<()> {
    match steps.first() {
        Some(&s) if s < 0 => Err(Error::file(
            path,
            format!("{series} has a point at step {s}; steps count optimizer steps from 0"),
        )),
        _ => Ok(()),
    }
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

/// An LR below this share of the series' peak is floating-point round-off, not a learning rate:
/// a linear decay to zero logged by a real trainer ends in values like `-4.2e-22`.
pub const LR_ROUND_OFF: f64 = 1e-12;

/// Set round-off negatives (|η| ≤ [`LR_ROUND_OFF`] × peak) to 0. Returns how many were zeroed,
/// or the index of the first real negative.
pub fn zero_lr_round_off(values: &mut [f64]) -> std::result::Result<usize, usize> {
    let peak = values.iter().copied().fold(0.0f64, f64::max);
    let mut zeroed = 0;
    for (i, v) in values.iter_mut().enumerate() {
        if *v < 0.0 {
            if -*v > LR_ROUND_OFF * peak {
                return Err(i);
            }
            *v = 0.0;
            zeroed += 1;
        }
    }
    Ok(zeroed)
}

/// The record's line for LRs [`zero_lr_round_off`] set to 0.
pub fn round_off_note(series: &str, zeroed: usize) -> String {
    format!(
        "{series}: {zeroed} slightly negative value(s) (|LR| <= {LR_ROUND_OFF:e} x peak, float \
         round-off) set to 0"
    )
}

/// The longest run of missing steps a `file:` schedule may have, given its last step: 1 % of
/// the run, and never less than one step. Longer gaps are refused, because a straight line
/// across them invents the schedule.
pub fn max_lr_gap(last_step: i64) -> i64 {
    (last_step / 100).max(1)
}

/// Read a per-step LR array for a `file:` schedule, with notes for the record. Without a step
/// column row `i` is step `i`. With one, steps must increase; short runs of missing steps (a
/// logger that skipped a row) are filled by linear interpolation and the largest is noted,
/// gaps beyond [`max_lr_gap`] are refused by name.
pub fn read_lr_array(path: &Path, column: Option<&str>) -> Result<(Vec<f64>, Vec<String>)> {
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
        if !x.is_finite() {
            return Err(text.err_at(
                r,
                &lr_col,
                format!(
                    "LR is {}, expected a finite number >= 0",
                    crate::base::numbers::num(x)
                ),
            ));
        }
        values.push(x);
    }
    if values.is_empty() {
        return Err(Error::file(path, "no LR values"));
    }
    let mut notes = Vec::new();
    match zero_lr_round_off(&mut values) {
        Ok(0) => {}
        Ok(n) => notes.push(round_off_note(&format!("file:{}", path.display()), n)),
        Err(r) => {
            return Err(text.err_at(
                r,
                &lr_col,
                format!(
                    "LR is {}, a real negative (more than {LR_ROUND_OFF:e} x the peak); a \
                     learning rate must be >= 0",
                    crate::base::numbers::num(values[r])
                ),
            ))
        }
    }
    let Some(step_col) = columns::find_step(&header) else {
        crate::base::limits::check_step(values.len() as u64 - 1, &path.display().to_string())?;
        return Ok((values, notes));
    };
    let steps = text.steps(&raw, &step_col)?;
    let mut known: Vec<(i64, f64)> = Vec::with_capacity(steps.len());
    for (r, s) in steps.iter().enumerate() {
        let s = s.ok_or_else(|| text.err_at(r, &step_col, "empty step"))?;
        if let Some(&(prev, _)) = known.last() {
            if s <= prev {
                return Err(text.err_at(
                    r,
                    &step_col,
                    format!("steps must increase: {s} follows {prev}"),
                ));
            }
        }
        known.push((s, values[r]));
    }
    let last = known.last().map_or(0, |k| k.0);
    crate::base::limits::check_step(last as u64, &path.display().to_string())?;
    let bound = max_lr_gap(last);
    // Missing steps before the first row, and between rows.
    let mut gaps: Vec<(i64, i64)> = Vec::new();
    if known[0].0 > 0 {
        gaps.push((0, known[0].0 - 1));
    }
    gaps.extend(
        known
            .windows(2)
            .filter(|w| w[1].0 > w[0].0 + 1)
            .map(|w| (w[0].0 + 1, w[1].0 - 1)),
    );
    let too_long: Vec<String> = gaps
        .iter()
        .filter(|(a, b)| b - a + 1 > bound)
        .map(|(a, b)| format!("{a}..={b} ({} steps)", b - a + 1))
        .collect();
    if !too_long.is_empty() {
        let shown: Vec<&str> = too_long.iter().take(5).map(String::as_str).collect();
        return Err(Error::file(
            path,
            format!(
                "a file: schedule needs the LR of every step from 0; {} gap(s) are longer than \
                 {bound} step(s) (1 % of the run), too long to interpolate: steps {}{}",
                too_long.len(),
                shown.join(", "),
                if too_long.len() > 5 { ", ..." } else { "" }
            ),
        ));
    }
    if let Some((a, b)) = gaps.iter().max_by_key(|(a, b)| b - a) {
        notes.push(format!(
            "file:{}: {} gap(s) in the steps filled by linear interpolation (largest: steps \
             {a}..={b}, {} step(s); the first row's LR held before it)",
            path.display(),
            gaps.len(),
            b - a + 1
        ));
    }
    let mut out = Vec::with_capacity(last as usize + 1);
    let mut k = 0;
    for s in 0..=last {
        while k + 1 < known.len() && known[k + 1].0 <= s {
            k += 1;
        }
        let (s0, v0) = known[k];
        out.push(match known.get(k + 1) {
            Some(&(s1, v1)) if s >= s0 => v0 + (v1 - v0) * (s - s0) as f64 / (s1 - s0) as f64,
            _ => v0,
        });
    }
    Ok((out, notes))
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
