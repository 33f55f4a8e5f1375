//! `losscast eval`: a fit scored on every run of a manifest or a log (fit and test runs), with
//! interval coverage; `--rollout` is `rollout.rs`.

use super::applies::{self, Given};
use super::model::{print_warnings, ModelArgs};
use super::source::{RunSource, TableArgs};
use super::{format, to_json};
use crate::error::{Error, Result};
use crate::fit;
use crate::law::LawKind;
use crate::plot;
use crate::runs::manifest;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub(super) struct EvalArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    #[command(flatten)]
    pub(super) source: RunSource,
    #[command(flatten)]
    pub(super) table: TableArgs,
    /// Validate --law by rollout over model size: `n` fits a size law on the smaller sizes of
    /// the table FILE and scores the largest, then the two largest, and so on; `params` does the
    /// same with a joint size × schedule law over the runs of a --manifest (params = N per run),
    /// scoring every held-out curve; `shape` (no law) checks whether a --manifest ladder's
    /// curves collapse: per schedule, the largest size's curve from the smaller sizes' shape,
    /// anchored at its own final loss.
    #[arg(long, value_parser = ["n", "params", "shape"], conflicts_with = "fit")]
    pub(super) rollout: Option<String>,
    /// With --rollout params: draw the held-out curves here (one file per fold, `-foldK` added
    /// to the name, e.g. rollout.png → rollout-fold1.png).
    #[arg(long, requires = "rollout")]
    pub(super) plot: Option<PathBuf>,
    /// Rollout folds: fold k holds out the k largest sizes.
    #[arg(long, default_value_t = 3, requires = "rollout")]
    pub(super) folds: usize,
    /// With --rollout: pin parameters, e.g. E=1.69.
    #[arg(long, requires = "rollout")]
    pub(super) fix: Option<String>,
    /// With --rollout: tie parameters, e.g. alpha=beta.
    #[arg(long, requires = "rollout")]
    pub(super) tie: Option<String>,
    /// With --rollout params: fit without the law's priors (see fit --no-prior).
    #[arg(long, requires = "rollout")]
    pub(super) no_prior: bool,
    /// Print the metrics as JSON.
    #[arg(long)]
    pub(super) json: bool,
    /// With --json: add each run's curve (steps, observed and predicted loss, and the
    /// interval bounds where the fit has them), for plotting elsewhere.
    #[arg(long, requires = "json", conflicts_with = "rollout")]
    pub(super) curves: bool,
}

/// `eval` without `--rollout` (which `rollout::run` takes).
pub(super) fn run(a: EvalArgs, given: Given) -> Result<()> {
    applies::refuse_file_flags_with_manifest(a.source.manifest.is_some(), given)?;
    given.refuse(
        applies::TABLE_ONLY,
        "eval scores a loss-curve law on runs; table filters apply to size laws (plot, \
             eval --rollout n)",
    )?;
    given.refuse(
        &["plot", "fix", "tie", "folds"],
        "it belongs to eval --rollout; plain eval scores a fitted law and draws nothing \
                 (plot draws)",
    )?;
    if a.model.model_size()?.is_some() {
        return Err(Error::input(
            "--params N (a model size) does not apply to eval: each run's size comes \
                     from params = N in the manifest",
        ));
    }
    let m = a.model.load()?;
    let (law, params) = (&m.law, &m.params);
    if law.kind() == LawKind::Table {
        return Err(Error::input(format!(
            "eval scores a loss-curve law on runs; {} is a size law: draw it with plot, or \
             validate it with eval --rollout n --law {}",
            law.name(),
            law.name()
        )));
    }
    let mut runs = a.source.load()?;
    // A log given on its own has no role; one the fit was not made from is held out, and is
    // scored (and its intervals checked) as a test run, not labelled "fit".
    if a.source.manifest.is_none() {
        if let Some(rec) = m.record() {
            for r in &mut runs {
                if !rec.data.iter().any(|d| d.sha256 == r.sha256) {
                    r.role = manifest::Role::Test;
                }
            }
        }
    }
    let (per_run, fit_mean, test_mean) = fit::evaluate(law.as_ref(), params, &runs)?;
    let warnings: Vec<String> = m.trust_warning().into_iter().collect();
    print_warnings(&warnings);
    // How the fit's intervals held on each test run (forecasts, not fits).
    let intervals = m.record().and_then(|r| {
        crate::forecast::interval::Source::of(r, crate::forecast::interval::DEFAULT_LEVEL)
    });
    let held: Vec<Option<crate::forecast::interval::Held>> = runs
        .iter()
        .map(|r| match (&intervals, r.role) {
            (Some(iv), manifest::Role::Test) => iv.held(law.as_ref(), params, r),
            _ => Ok(None),
        })
        .collect::<Result<_>>()?;
    if a.json {
        let mut runs_json: Vec<serde_json::Value> = per_run
            .iter()
            .zip(&held)
            .map(|(r, h)| {
                json!({
                    "name": r.name, "role": r.role, "points": r.points,
                    "r2": r.metrics.r2, "mae": r.metrics.mae, "rmse": r.metrics.rmse,
                    "pred_e": r.metrics.pred_e, "worst_e": r.metrics.worst_e,
                    "interval": h,
                })
            })
            .collect();
        if a.curves {
            for (j, run) in runs_json.iter_mut().zip(&runs) {
                j["curve"] = serde_json::to_value(crate::forecast::predict::run_curve(
                    law.as_ref(),
                    params,
                    run,
                    intervals.as_ref(),
                )?)
                .map_err(|e| Error::failed(format!("cannot encode a curve: {e}")))?;
            }
        }
        outln!(
            "{}",
            to_json(&json!({
                "law": law.name(),
                "runs": runs_json,
                "fit_mean": fit_mean,
                "test_mean": test_mean,
                "fit_trustworthy": m.trustworthy(),
                "warnings": warnings,
            }))?
        );
    } else {
        outln!("{}", plot::title_for(law.as_ref(), params));
        out!(
            "{}",
            format::metrics_table(&per_run, fit_mean.as_ref(), test_mean.as_ref())
        );
        let shown: Vec<(&str, crate::forecast::interval::Held)> = runs
            .iter()
            .zip(&held)
            .filter_map(|(r, h)| h.map(|h| (r.name.as_str(), h)))
            .collect();
        if !shown.is_empty() {
            let n = shown.len() as f64;
            outln!(
                "90 % intervals on the test runs: {:.0} % of points inside, {} of {} final \
                 points; mean half-width {:.3} %",
                100.0 * shown.iter().map(|(_, h)| h.points_in).sum::<f64>() / n,
                shown.iter().filter(|(_, h)| h.final_in).count(),
                shown.len(),
                100.0 * shown.iter().map(|(_, h)| h.mean_half_width).sum::<f64>() / n
            );
        }
    }
    Ok(())
}
