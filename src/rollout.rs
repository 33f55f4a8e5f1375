//! Validation by rollout over model size: fit a law on the smaller models and score the
//! largest, then hold out the two largest, and so on. Size laws are scored on a table of final
//! losses ([`rollout_sizes`]); joint size × schedule laws on whole training curves
//! ([`rollout_runs`]).
//!
//! A random split would mix large models into the fit and flatter the law; users extrapolate
//! upward, so the honest test is to extrapolate upward too. Each fold's score is the relative
//! error `(predicted − observed)/observed` of every held-out point, summarised by its mean and
//! maximum absolute value.

use crate::backtest::engine;
use crate::error::{Error, Result};
use crate::fit::{self, FitOptions};
use crate::ingest::table::{groups_within, RunTable};
use crate::law::{Law, TablePoints};
use crate::metrics::Metrics;
use crate::runs::Run;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Sizes within this relative distance are one model size: digitised tables (Epoch's Chinchilla
/// points) give the same model as 1.4243507e9 and 1.4243517e9.
pub const SIZE_TOL: f64 = 1e-3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutPoint {
    pub n: f64,
    pub d: f64,
    pub loss: f64,
    pub loss_pred: f64,
    pub rel_err: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutFold {
    /// The held-out model sizes (one representative each), largest last.
    pub held_out: Vec<f64>,
    pub fit_points: usize,
    pub fit_sizes: usize,
    /// The fold's fitted parameters and whether that fit can be trusted.
    pub params: BTreeMap<String, f64>,
    pub trustworthy: bool,
    pub points: Vec<RolloutPoint>,
    pub mean_rel_err: f64,
    pub max_rel_err: f64,
}

/// Distinct model sizes in increasing order, each a group of point indices.
pub fn size_groups(n: &[f64]) -> Vec<Vec<usize>> {
    groups_within(n, SIZE_TOL)
}

/// Run up to `folds` folds (fold k holds out the k largest sizes). Fewer run when fewer than two
/// sizes would be left to fit; none is an error. `on_fold` is called as each fold finishes.
pub fn rollout_sizes(
    law: &dyn Law,
    table: &RunTable,
    options: &FitOptions,
    folds: usize,
    on_fold: &dyn Fn(usize),
) -> Result<Vec<RolloutFold>> {
    let groups = size_groups(&table.n);
    let possible = groups.len().saturating_sub(2);
    if folds == 0 || possible == 0 {
        return Err(Error::input(format!(
            "a rollout needs at least 3 model sizes and --folds >= 1; the table has {} size(s)",
            groups.len()
        )));
    }
    let path = table.path.display().to_string();
    let mut options = options.clone();
    options.table_filters = None; // the caller's filters are already applied to `table`
    options.bootstrap = None;
    let mut out = Vec::new();
    for k in 1..=folds.min(possible) {
        let split = groups.len() - k;
        let train: Vec<usize> = groups[..split].iter().flatten().copied().collect();
        let test: Vec<usize> = groups[split..].iter().flatten().copied().collect();
        let sub = table.subset(&train);
        if sub.loss.len() <= law.param_names().len() {
            if out.is_empty() {
                return Err(Error::input(format!(
                    "fold 1 keeps {} points for {} parameters: too few to fit",
                    sub.loss.len(),
                    law.param_names().len()
                )));
            }
            break;
        }
        let rec = fit::fit_table(law, &sub, &path, &options)?;
        let params = rec.param_vector(law)?;
        let held = table.subset(&test);
        let f = law.table_features(&TablePoints {
            n: &held.n,
            d: &held.d,
        })?;
        let mut pred = vec![0.0; held.loss.len()];
        law.predict(&params, &f, &mut pred);
        let points: Vec<RolloutPoint> = (0..held.loss.len())
            .map(|i| RolloutPoint {
                n: held.n[i],
                d: held.d[i],
                loss: held.loss[i],
                loss_pred: pred[i],
                rel_err: (pred[i] - held.loss[i]) / held.loss[i],
            })
            .collect();
        let abs: Vec<f64> = points.iter().map(|p| p.rel_err.abs()).collect();
        out.push(RolloutFold {
            held_out: groups[split..].iter().map(|g| table.n[g[0]]).collect(),
            fit_points: sub.loss.len(),
            fit_sizes: split,
            params: rec.params.clone(),
            trustworthy: rec.trustworthy,
            mean_rel_err: abs.iter().sum::<f64>() / abs.len() as f64,
            max_rel_err: abs.iter().copied().fold(0.0, f64::max),
            points,
        });
        on_fold(k);
    }
    Ok(out)
}

/// One held-out training curve of a run rollout, scored as `eval` scores curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunScore {
    pub name: String,
    pub params: f64,
    pub r2: f64,
    pub mae: f64,
    pub pred_e: f64,
    pub worst_e: f64,
}

/// One fold of a rollout over the model sizes of training curves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRolloutFold {
    /// The held-out model sizes, largest last.
    pub held_out: Vec<f64>,
    pub fit_runs: usize,
    pub fit_sizes: usize,
    pub params: BTreeMap<String, f64>,
    pub trustworthy: bool,
    pub warnings: Vec<String>,
    pub runs: Vec<RunScore>,
    pub test_mean: Metrics,
    /// The fold's fitted law, for plots.
    #[serde(skip)]
    pub param_vector: Vec<f64>,
}

/// Rollout of a joint size × schedule law over the runs' model sizes: fold k fits on every
/// run but those of the k largest sizes and forecasts each of their whole curves. Folds run
/// while at least one size is left to fit; a fold whose fit cannot determine the size terms
/// says so through `trustworthy` and `warnings`.
pub fn rollout_runs(
    law: &dyn Law,
    runs: &[Run],
    options: &FitOptions,
    folds: usize,
    on_fold: &dyn Fn(usize),
) -> Result<Vec<RunRolloutFold>> {
    let sizes: Vec<f64> = runs
        .iter()
        .map(|r| {
            r.params.ok_or_else(|| {
                Error::input(format!(
                    "run '{}' has no model size: a rollout over params needs params = N for \
                     every run",
                    r.name
                ))
            })
        })
        .collect::<Result<_>>()?;
    let groups = size_groups(&sizes);
    let possible = groups.len().saturating_sub(1);
    if folds == 0 || possible == 0 {
        return Err(Error::input(format!(
            "a rollout over params needs at least 2 model sizes and --folds >= 1; the runs hold \
             {} size(s)",
            groups.len()
        )));
    }
    let mut out = Vec::new();
    for k in 1..=folds.min(possible) {
        let split = groups.len() - k;
        let pick = |idx: &[usize]| -> Vec<Run> { idx.iter().map(|&i| runs[i].clone()).collect() };
        let (train, test) = (
            pick(&groups[..split].concat()),
            pick(&groups[split..].concat()),
        );
        let scored = engine::fit_and_score(law, options, &train, &test)?;
        let (rec, params, per_run, test_mean) = (
            scored.record,
            scored.params,
            scored.per_run,
            scored.test_mean,
        );
        let scores = per_run
            .iter()
            .zip(&test)
            .map(|(m, r)| RunScore {
                name: m.name.clone(),
                params: r.params.unwrap_or(f64::NAN),
                r2: m.metrics.r2,
                mae: m.metrics.mae,
                pred_e: m.metrics.pred_e,
                worst_e: m.metrics.worst_e,
            })
            .collect();
        out.push(RunRolloutFold {
            held_out: groups[split..].iter().map(|g| sizes[g[0]]).collect(),
            fit_runs: train.len(),
            fit_sizes: split,
            params: rec.params.clone(),
            trustworthy: rec.trustworthy,
            warnings: rec.warnings.clone(),
            runs: scores,
            test_mean: test_mean.ok_or_else(|| Error::input("no held-out curve to score"))?,
            param_vector: params,
        });
        on_fold(k);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digitised_sizes() {
        let g = size_groups(&[2e9, 1.4243507e9, 1e8, 1.4243517e9, 1.429e9]);
        assert_eq!(g, vec![vec![2], vec![1, 3], vec![4], vec![0]]);
    }
}
