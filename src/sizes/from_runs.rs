//! A table of runs for size laws built from a manifest of training logs: each run carries
//! `params = N` and `tokens_per_step = k`, and its loss is read at the last logged step (or at
//! `at_steps`), with D = step × k.
//!
//! Users usually have the logs, not a tidy table; building the table here keeps the fit's
//! provenance down to each log's sha256 instead of a hand-made CSV.

use crate::error::{Error, Result};
use crate::ingest::{self, sha256_hex, table::RunTable};
use crate::runs::manifest::RunSpec;
use std::path::Path;

/// Loss at `step` by linear interpolation between the logged points around it.
fn loss_at(steps: &[i64], loss: &[f64], step: i64) -> Option<f64> {
    let i = steps.partition_point(|&s| s < step);
    if i < steps.len() && steps[i] == step {
        return Some(loss[i]);
    }
    if i == 0 || i == steps.len() {
        return None;
    }
    let t = (step - steps[i - 1]) as f64 / (steps[i] - steps[i - 1]) as f64;
    Some(loss[i - 1] + t * (loss[i] - loss[i - 1]))
}

/// One point per run (its last step) or per listed step, from the manifest at `manifest`.
pub fn table_from_runs(manifest: &Path, specs: &[RunSpec]) -> Result<RunTable> {
    let bytes = ingest::read_bytes(manifest)?;
    let (mut n, mut d, mut loss, mut notes) = (vec![], vec![], vec![], vec![]);
    for spec in specs {
        let ctx = |msg: String| Error::file(manifest, format!("run '{}': {msg}", spec.name));
        if spec.schedule.is_some() {
            return Err(ctx(
                "has a schedule, which a size law does not use (it reads the loss at the last \
                 step or at at_steps); remove it, or fit a schedule law"
                    .into(),
            ));
        }
        let params = spec.params.ok_or_else(|| {
            ctx("has no params = N; a size law needs each run's model size".into())
        })?;
        let log = ingest::read_log(&spec.resolved, &spec.read)?;
        let all_steps = log.steps();
        let all_loss = log.loss();
        let keep: Vec<usize> = (0..all_steps.len())
            .filter(|&i| spec.in_step_range(all_steps[i]))
            .collect();
        let steps: Vec<i64> = keep.iter().map(|&i| all_steps[i]).collect();
        let losses: Vec<f64> = keep.iter().map(|&i| all_loss[i]).collect();
        let tokens: Option<Vec<f64>> = log
            .frame
            .column("tokens")
            .ok()
            .and_then(|c| {
                c.f64()
                    .ok()
                    .map(|ca| keep.iter().map(|&i| ca.get(i)).collect())
            })
            .and_then(|v: Vec<Option<f64>>| v.into_iter().collect());
        let Some(&last) = steps.last() else {
            return Err(ctx("no points left after min_step/max_step".into()));
        };
        let at = spec.at_steps.clone().unwrap_or_else(|| vec![last]);
        for step in at {
            let l = loss_at(&steps, &losses, step).ok_or_else(|| {
                ctx(format!(
                    "step {step} is outside the logged steps {}..{last}",
                    steps[0]
                ))
            })?;
            let tokens_here = match (spec.tokens_per_step, &tokens) {
                (Some(k), _) => step as f64 * k,
                (None, Some(t)) => loss_at(&steps, t, step).unwrap_or(f64::NAN),
                (None, None) => {
                    return Err(ctx(
                        "has no tokens_per_step and its log no tokens column: D is unknown".into(),
                    ))
                }
            };
            if !(tokens_here.is_finite() && tokens_here > 0.0) {
                return Err(ctx(format!(
                    "D at step {step} is {tokens_here}, not positive"
                )));
            }
            if !(l.is_finite() && l > 0.0) {
                return Err(ctx(format!("loss at step {step} is {l}, not positive")));
            }
            n.push(params);
            d.push(tokens_here);
            loss.push(l);
        }
        notes.push(format!(
            "run '{}': {} (sha256 {}), N = {params:e}, D = {}",
            spec.name,
            spec.path,
            log.sha256,
            match spec.tokens_per_step {
                Some(k) => format!("step × {k:e}"),
                None => "the log's tokens column".to_string(),
            }
        ));
    }
    let c = n.iter().zip(&d).map(|(n, d)| 6.0 * n * d).collect();
    Ok(RunTable {
        path: manifest.to_path_buf(),
        sha256: sha256_hex(&bytes),
        n,
        d,
        c,
        loss,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_inside_and_refuses_outside() {
        let s = [100, 200, 400];
        let l = [4.0, 3.0, 2.0];
        assert_eq!(loss_at(&s, &l, 200), Some(3.0));
        assert_eq!(loss_at(&s, &l, 300), Some(2.5));
        assert_eq!(loss_at(&s, &l, 400), Some(2.0));
        assert_eq!(loss_at(&s, &l, 50), None);
        assert_eq!(loss_at(&s, &l, 401), None);
    }
}
