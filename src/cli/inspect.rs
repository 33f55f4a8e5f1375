//! `losscast inspect PATH...`: what losscast sees in each log before a fit uses it.

use super::to_json;
use crate::error::Result;
use crate::ingest::formats::{inspect, InputReport};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

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

pub(super) fn run(a: InspectArgs) -> Result<()> {
    let reports: Vec<InputReport> = a.paths.iter().map(|p| inspect(p)).collect::<Result<_>>()?;
    if a.json {
        println!("{}", to_json(&json!({ "inputs": reports }))?);
        return Ok(());
    }
    for r in &reports {
        println!("{}  [{}]", r.path, r.format.name());
        if !r.files.is_empty() {
            println!("  files: {}", r.files.join(", "));
        }
        for run in &r.runs {
            let uses = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
            println!(
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
                println!("    {:<40} {:>7} points  {range}", s.name, s.points);
            }
        }
        println!(
            "  LR covering every step the loss needs: {}",
            if r.lr_complete { "yes" } else { "no" }
        );
        if let Some(t) = r.tokens_per_step {
            println!("  tokens per step: {t}");
        }
        for w in &r.warnings {
            println!("  warning: {w}");
        }
    }
    Ok(())
}
