//! Plain-text training logs: llm.c (`main.log` and stdout), Megatron-LM and nanoGPT
//! (log-formats.md §4). Lines that are not metric lines (banners, config tables, warnings) are
//! skipped; a metric line with a value that is not a number is an error at its line.

use super::{Format, Run, SeriesLog};
use crate::error::{Error, Result};
use std::path::Path;

/// Recognise a text format from the first lines.
pub(super) fn detect(head: &str) -> Option<Format> {
    for line in head.lines().take(2000) {
        let l = strip_prefix(line);
        if l.starts_with("s:") && (l.contains(" trl:") || l.contains(" tel:")) {
            return Some(Format::LlmcMainLog);
        }
        if l.starts_with("step ") && l.contains(" | loss ") && l.contains('/') {
            return Some(Format::LlmcStdout);
        }
        if l.starts_with("iteration ")
            && (l.contains("| lm loss:") || l.contains("| learning rate:"))
        {
            return Some(Format::Megatron);
        }
        if (l.starts_with("iter ") && l.contains(": loss "))
            || (l.starts_with("step ") && l.contains(": train loss "))
        {
            return Some(Format::Nanogpt);
        }
    }
    None
}

/// Drop a launcher prefix (`[host:3]: [2025-03-31 05:54:07] `) and ANSI colour codes.
fn strip_prefix(line: &str) -> &str {
    let mut l = line.trim();
    while l.starts_with('[') {
        match l.find(']') {
            Some(end) => l = l[end + 1..].trim_start_matches(':').trim_start(),
            None => break,
        }
    }
    l
}

pub(super) fn number(path: &Path, line_no: usize, what: &str, text: &str) -> Result<f64> {
    let t = text.trim().trim_end_matches(',');
    t.parse::<f64>()
        .or_else(|_| match t.to_ascii_lowercase().as_str() {
            "nan" | "-nan" => Ok(f64::NAN),
            "inf" | "infinity" => Ok(f64::INFINITY),
            "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
            _ => Err(Error::at(
                path,
                line_no,
                1,
                format!("{what}: expected a number, found '{t}'"),
            )),
        })
}

fn step_number(path: &Path, line_no: usize, text: &str) -> Result<i64> {
    text.trim().parse::<i64>().map_err(|_| {
        Error::at(
            path,
            line_no,
            1,
            format!("expected a step number, found '{}'", text.trim()),
        )
    })
}

pub(super) fn parse(path: &Path, format: Format, bytes: &[u8]) -> Result<SeriesLog> {
    let text = String::from_utf8_lossy(bytes);
    let mut run = Run {
        name: path
            .file_stem()
            .map_or("run".into(), |n| n.to_string_lossy().into_owned()),
        ..Run::default()
    };
    let mut tokens_per_step = None;
    let mut last_step: i64 = 0;
    let mut warnings = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let l = strip_prefix(raw);
        match format {
            Format::LlmcMainLog => {
                // s:N trl:X lr:Y norm:Z | s:N tel:X | s:N eval:X
                let Some(rest) = l.strip_prefix("s:") else {
                    continue;
                };
                let mut parts = rest.split_whitespace();
                let step = step_number(path, no, parts.next().unwrap_or(""))?;
                for kv in parts {
                    let Some((k, v)) = kv.split_once(':') else {
                        continue;
                    };
                    let name = match k {
                        "trl" => "train/loss",
                        "tel" => "val/loss",
                        "lr" => "lr",
                        "norm" => "grad_norm",
                        "eval" => "hellaswag",
                        other => other,
                    };
                    run.add(name, step, number(path, no, k, v)?);
                }
            }
            Format::LlmcStdout => {
                // stdout prints 1-based steps ("step 1/19560" is iteration 0, main.log's s:0),
                // and "val loss" inside iteration k before that iteration's step line.
                if let Some(v) = l.strip_prefix("val loss ") {
                    run.add("val/loss", last_step, number(path, no, "val loss", v)?);
                    continue;
                }
                if l.starts_with('|') {
                    let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                    if cells.len() >= 3 && cells[1] == "total batch size" {
                        tokens_per_step = cells[2].parse::<f64>().ok();
                    }
                    continue;
                }
                let Some(rest) = l.strip_prefix("step ") else {
                    continue;
                };
                if !rest.contains(" | loss ") {
                    continue;
                }
                let mut cells = rest.split('|');
                let head = cells.next().unwrap_or("");
                let k = step_number(path, no, head.split('/').next().unwrap_or(""))?;
                last_step = k;
                let mut found = 0;
                for cell in cells {
                    let mut words = cell.split_whitespace();
                    let (Some(key), Some(val)) = (words.next(), words.next()) else {
                        continue;
                    };
                    let name = match key {
                        "loss" => "train/loss",
                        "norm" => "grad_norm",
                        "lr" => "lr",
                        _ => continue,
                    };
                    run.add(name, k - 1, number(path, no, key, val)?);
                    found += 1;
                }
                if found < 3 {
                    warnings.push(format!(
                        "{}:{no}: step line is garbled (another message interleaved?); kept the \
                         {found} value(s) that were readable",
                        path.display()
                    ));
                }
            }
            Format::Megatron => {
                if let Some(rest) = l.strip_prefix("iteration ") {
                    let mut cells = rest.split('|');
                    let head = cells.next().unwrap_or("");
                    let step = step_number(path, no, head.split('/').next().unwrap_or(""))?;
                    for cell in cells {
                        let Some((k, v)) = cell.split_once(':') else {
                            continue;
                        };
                        let v = v.trim();
                        if v.is_empty() {
                            continue;
                        }
                        run.add(k.trim(), step, number(path, no, k.trim(), v)?);
                    }
                } else if let Some(rest) = l.strip_prefix("validation loss at iteration ") {
                    let mut cells = rest.split('|');
                    let step = step_number(path, no, cells.next().unwrap_or(""))?;
                    for cell in cells {
                        let Some((k, v)) = cell.split_once(':') else {
                            continue;
                        };
                        if v.trim().is_empty() {
                            continue;
                        }
                        let name = format!("validation/{}", k.trim());
                        run.add(&name, step, number(path, no, k.trim(), v)?);
                    }
                }
            }
            Format::Nanogpt => {
                // iter N: loss X, time T, mfu M   |   step N: train loss X, val loss Y
                let (rest, is_iter) = match (l.strip_prefix("iter "), l.strip_prefix("step ")) {
                    (Some(r), _) => (r, true),
                    (None, Some(r)) => (r, false),
                    _ => continue,
                };
                let Some((n, metrics)) = rest.split_once(':') else {
                    continue;
                };
                if !metrics.contains("loss") {
                    continue;
                }
                let step = step_number(path, no, n)?;
                for part in metrics.split(',') {
                    let part = part.trim();
                    let Some(pos) = part.rfind(' ') else { continue };
                    let (k, v) = (part[..pos].trim(), &part[pos + 1..]);
                    let keep = if is_iter {
                        k == "loss"
                    } else {
                        k == "train loss" || k == "val loss"
                    };
                    if keep {
                        run.add(k, step, number(path, no, k, v)?);
                    }
                }
            }
            _ => unreachable!("not a text format"),
        }
    }
    if run.series.is_empty() {
        return Err(Error::file(
            path,
            format!("no {} metric lines", format.name()),
        ));
    }
    Ok(SeriesLog {
        format,
        sha256: String::new(),
        runs: vec![run],
        tokens_per_step,
        warnings,
        files: Vec::new(),
    })
}
