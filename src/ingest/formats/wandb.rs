//! A W&B chart exported from the UI as CSV (log-formats.md §2a): the chart's x-axis first, then
//! for each run `"<run> - <key>"`, `"<run> - <key>__MIN"` and `"<run> - <key>__MAX"`. Each run of
//! the chart becomes a run here. MIN and MAX equal the value for single runs, so only the value
//! column is read.

use super::{Format, Run, SeriesLog};
use crate::error::{Error, Result};
use crate::ingest::csv_text::CsvText;
use crate::ingest::{header_of, Required};
use std::path::Path;

/// A chart export has at least one `"<run> - <key>__MIN"` column.
pub(super) fn is_chart(cols: &[String]) -> bool {
    cols.iter()
        .skip(1)
        .any(|c| (c.ends_with("__MIN") || c.ends_with("__MAX")) && c.contains(" - "))
}

/// Run names may contain ` - `; the key never does, so split on the last one.
fn run_and_key(col: &str) -> Option<(&str, &str)> {
    col.rsplit_once(" - ")
}

pub(super) fn parse_chart(path: &Path, bytes: &[u8]) -> Result<SeriesLog> {
    let text = CsvText::new(path, bytes)?;
    let raw = text.frame()?;
    let header = header_of(&raw);
    let x_col = header[0].clone();
    let mut runs: Vec<Run> = Vec::new();
    let mut keys_of: Vec<Vec<(String, String)>> = Vec::new();
    for col in &header[1..] {
        if col.ends_with("__MIN") || col.ends_with("__MAX") {
            continue;
        }
        let Some((run, key)) = run_and_key(col) else {
            return Err(Error::file(
                path,
                format!("column '{col}' is not '<run> - <key>' as in a W&B chart export"),
            ));
        };
        let at = match runs.iter().position(|r| r.name == run) {
            Some(i) => i,
            None => {
                runs.push(Run {
                    name: run.to_string(),
                    ..Run::default()
                });
                keys_of.push(Vec::new());
                runs.len() - 1
            }
        };
        keys_of[at].push((key.to_string(), col.clone()));
    }
    if runs.is_empty() {
        return Err(Error::file(path, "a W&B chart export with no run columns"));
    }
    let x_is_step = x_col.eq_ignore_ascii_case("step") || x_col.ends_with("global_step");
    let x_steps = if x_is_step {
        Some(text.steps(&raw, &x_col)?)
    } else {
        None
    };
    let mut warnings = vec![
        "a W&B chart export holds what the panel showed: long runs are sampled, not every step"
            .to_string(),
    ];
    for (run, keys) in runs.iter_mut().zip(&keys_of) {
        // With a custom x-axis, the run's own `_step` column gives the steps.
        let own_steps = keys.iter().find(|(k, _)| k == "_step");
        let steps: Vec<Option<i64>> = match (own_steps, &x_steps) {
            (Some((_, col)), _) => text
                .floats(&raw, col, Required::No)?
                .into_iter()
                .map(|v| {
                    v.filter(|x| x.fract() == 0.0 && *x >= 0.0)
                        .map(|x| x as i64)
                })
                .collect(),
            (None, Some(xs)) => xs.clone(),
            (None, None) => {
                return Err(Error::file(
                    path,
                    format!(
                        "the chart's x-axis is '{x_col}', not steps, and run '{}' has no \
                         '_step' column; export the chart with Step as its x-axis",
                        run.name
                    ),
                ))
            }
        };
        if own_steps.is_some() {
            warnings.push(format!(
                "run '{}': steps are its '_step' column (x-axis was '{x_col}')",
                run.name
            ));
        }
        for (key, col) in keys {
            if key == "_step" {
                continue;
            }
            let values = text.floats(&raw, col, Required::No)?;
            for (s, v) in steps.iter().zip(values) {
                if let (Some(s), Some(v)) = (s, v) {
                    run.add(key, *s, v);
                }
            }
        }
    }
    let mut log = SeriesLog::of(Format::WandbChart, Run::default());
    log.runs = runs;
    log.warnings = warnings;
    Ok(log)
}
