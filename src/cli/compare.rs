//! `losscast compare`: several laws fitted on the fit runs and scored on the test runs.

use super::model::print_run_warnings;
use super::{embedded, to_json, write_outputs};
use crate::backtest::compare;
use crate::error::{Error, Result};
use crate::law::LawOptions;
use crate::output::{self, Kind, Output};
use crate::runs::manifest::{self, RunSpec};
use crate::runs::Run;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct CompareArgs {
    /// Run manifest with fit and test runs.
    #[arg(long)]
    pub(super) manifest: PathBuf,
    /// Laws to compare, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = super::lists::name,
        default_value = "annealing,multipower"
    )]
    pub(super) laws: Vec<String>,
    /// Count warmup steps at peak LR (for every law).
    #[arg(long)]
    pub(super) warmup_as_peak: bool,
    /// Momentum decay λ of the annealing area.
    #[arg(long, default_value_t = 0.999)]
    pub(super) lambda: f64,
    /// How each fit weighs runs: runs or points (default: each law's, as `fit`).
    #[arg(long, value_parser = ["points", "runs"])]
    pub(super) weigh: Option<String>,
    /// Fit without the laws' priors (the papers' recipes).
    #[arg(long)]
    pub(super) no_prior: bool,
    /// Also write each law's fit file here, as <manifest stem>-<law>.json.
    #[arg(long)]
    pub(super) out_dir: Option<PathBuf>,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub(super) json: bool,
}

pub(super) fn run(a: CompareArgs) -> Result<()> {
    let specs = embedded::manifest_specs(&a.manifest)?;
    let stem = a
        .manifest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "compare".into());
    let out_paths: Vec<PathBuf> = match &a.out_dir {
        Some(dir) => a
            .laws
            .iter()
            .map(|law| dir.join(format!("{stem}-{law}.json")))
            .collect(),
        None => Vec::new(),
    };
    let mut inputs = vec![a.manifest.clone()];
    inputs.extend(specs.iter().flat_map(RunSpec::input_paths));
    let outs: Vec<Output> = out_paths
        .iter()
        .map(|p| Output::new("--out-dir", p, Kind::Text))
        .collect();
    output::check(&outs, &inputs)?;
    if !specs.iter().any(|s| s.role == manifest::Role::Test) {
        return Err(Error::input(format!(
            "{}: compare scores each law on the test runs, and the manifest has none (role = \
             \"test\")",
            a.manifest.display()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = a.laws.iter().find(|l| !seen.insert(l.trim())) {
        return Err(Error::input(format!("--laws names {dup} twice")));
    }
    let runs: Vec<Run> = specs
        .iter()
        .map(embedded::load_run)
        .collect::<Result<_>>()?;
    print_run_warnings(&runs);
    let options = LawOptions {
        lambda: a.lambda,
        warmup_as_peak: a.warmup_as_peak,
        lr_ref: None,
        variable: None,
        collapse: None,
    };
    let result = compare::compare(&a.laws, &runs, &options, a.weigh.as_deref(), !a.no_prior)?;
    if a.out_dir.is_some() {
        let files: Vec<(&Path, Vec<u8>)> = out_paths
            .iter()
            .map(PathBuf::as_path)
            .zip(result.rows.iter())
            .map(|(p, row)| Ok((p, row.record.to_bytes()?)))
            .collect::<Result<_>>()?;
        write_outputs(&files)?;
    }
    if a.json {
        outln!("{}", to_json(&result)?);
    } else {
        out!("{}", compare::table(&result));
    }
    Ok(())
}
