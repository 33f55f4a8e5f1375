//! `losscast inspect PATH...`: what losscast sees in each log before a fit uses it.

use super::to_json;
use crate::error::Result;
use crate::ingest::formats::{inspect, InputReport};
use crate::runs;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct InspectArgs {
    /// Log files or folders: HF trainer_state.json or output folders, TensorBoard event files or
    /// folders, W&B chart/history exports, MLflow folders, llm.c, Megatron-LM, nanoGPT,
    /// Lightning metrics.csv, LLaMA-Factory trainer_log.jsonl, CSV/JSONL/Parquet with a step column.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print {"inputs": [...]} as JSON.
    #[arg(long)]
    json: bool,
}

/// Try each run as `fit` would read it with default options; a refusal becomes the run's
/// `fit_error` and a warning, so that inspect never passes a log fit rejects.
fn check_fit(report: &mut InputReport, path: &Path) {
    let several = report.runs.len() > 1;
    for run in &mut report.runs {
        let last = run
            .series
            .iter()
            .find(|s| Some(&s.name) == run.loss.as_ref())
            .and_then(|s| s.last_step)
            .unwrap_or(1);
        let name = several.then_some(run.name.as_str());
        if let Some(e) = runs::fit_refusal(path, name, run.lr.is_some(), last) {
            report
                .warnings
                .push(format!("run '{}': fit would refuse it: {e}", run.name));
            run.fit_error = Some(e);
        }
    }
}

pub(super) fn run(a: InspectArgs) -> Result<()> {
    let mut reports: Vec<InputReport> =
        a.paths.iter().map(|p| inspect(p)).collect::<Result<_>>()?;
    for (r, path) in reports.iter_mut().zip(&a.paths) {
        check_fit(r, path);
    }
    if a.json {
        outln!("{}", to_json(&json!({ "inputs": reports }))?);
        return Ok(());
    }
    for r in &reports {
        outln!("{}  [{}]", r.path, r.format.name());
        if !r.files.is_empty() {
            outln!("  files: {}", r.files.join(", "));
        }
        for run in &r.runs {
            let uses = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
            outln!(
                "  run {}  (fit loss: {}, LR: {})",
                run.name,
                uses(&run.loss),
                uses(&run.lr)
            );
            for s in &run.series {
                let range = match (s.first_step, s.last_step) {
                    (Some(f), Some(l)) => format!("steps {f}..{l}"),
                    _ => "no finite points".into(),
                };
                outln!("    {:<40} {:>7} points  {range}", s.name, s.points);
            }
        }
        outln!(
            "  LR covering every step the loss needs: {}",
            if r.lr_complete { "yes" } else { "no" }
        );
        if let Some(t) = r.tokens_per_step {
            outln!("  tokens per step: {t}");
        }
        for w in &r.warnings {
            outln!("  warning: {w}");
        }
    }
    Ok(())
}
