//! Hugging Face Trainer `trainer_state.json` (log-formats.md §1): train and eval entries of
//! `log_history` become series named by their keys (`loss`, `learning_rate`, `eval_loss`, ...);
//! the final summary entry (`train_runtime`, a whole-run mean `train_loss`) is left out because
//! it is not a point of the curve.

use super::{Format, Run, SeriesLog};
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// Python's `json.dumps` writes bare `NaN`, `Infinity` and `-Infinity`; quote them (outside
/// strings) so serde_json reads them, then map them back to floats. Line numbers are kept.
pub(super) fn quote_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let (mut in_str, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let token = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        if let Some(t) = token {
            out.push('"');
            out.push_str(t);
            out.push('"');
            rest = &rest[t.len()..];
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

pub(super) fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s == "NaN" => Some(f64::NAN),
        Value::String(s) if s == "Infinity" => Some(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<SeriesLog> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::file(path, "not UTF-8 text"))?;
    let v: Value = serde_json::from_str(&quote_non_finite(text))
        .map_err(|e| Error::at(path, e.line(), e.column(), format!("not valid JSON: {e}")))?;
    let history = v
        .get("log_history")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::file(path, "no 'log_history' list: not a trainer_state.json"))?;
    let mut run = Run {
        name: path
            .parent()
            .and_then(|p| p.file_name())
            .map_or("run".into(), |n| n.to_string_lossy().into_owned()),
        ..Run::default()
    };
    let mut warnings = Vec::new();
    let (mut summaries, mut not_objects, mut bad_steps) = (0, 0, 0);
    // Text where a number belongs ("loss": "2.0"), per key: dropped, and said so.
    let mut text_values: std::collections::BTreeMap<&str, usize> = Default::default();
    for entry in history {
        let Some(obj) = entry.as_object() else {
            not_objects += 1;
            continue;
        };
        if obj.contains_key("train_runtime") {
            summaries += 1;
            continue;
        }
        let Some(step) = obj.get("step").and_then(Value::as_i64) else {
            // predict_* entries have no step at all; a step that is not a whole number is damage.
            if obj.contains_key("step") {
                bad_steps += 1;
            }
            continue;
        };
        for (k, val) in obj {
            if k == "step" {
                continue;
            }
            match as_number(val) {
                Some(x) => run.add(k, step, x),
                None if val.is_string() => *text_values.entry(k.as_str()).or_default() += 1,
                None => {}
            }
        }
    }
    if summaries > 0 {
        warnings.push(format!(
            "{summaries} final summary entry left out of the curve"
        ));
    }
    if not_objects > 0 {
        warnings.push(format!(
            "{not_objects} log_history entry(ies) are not objects; skipped"
        ));
    }
    if bad_steps > 0 {
        warnings.push(format!(
            "{bad_steps} log_history entry(ies) have a step that is not a whole number; skipped"
        ));
    }
    for (k, n) in text_values {
        warnings.push(format!(
            "'{k}': {n} text value(s) where numbers belong; skipped"
        ));
    }
    if run.series.is_empty() {
        return Err(Error::file(path, "log_history has no entries with a step"));
    }
    Ok(SeriesLog {
        format: Format::HfTrainerState,
        sha256: String::new(),
        runs: vec![run],
        tokens_per_step: None,
        warnings,
        files: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_non_finite_tokens_are_read_outside_strings_only() {
        let t = r#"{"a": NaN, "b": -Infinity, "c": "NaN and Infinity", "d": [Infinity]}"#;
        let v: Value = serde_json::from_str(&quote_non_finite(t)).unwrap();
        assert!(as_number(&v["a"]).unwrap().is_nan());
        assert_eq!(as_number(&v["b"]), Some(f64::NEG_INFINITY));
        assert_eq!(v["c"], "NaN and Infinity");
        assert_eq!(as_number(&v["d"][0]), Some(f64::INFINITY));
    }
}
