//! Rollout of a size law over a table of final losses: fit on the smaller models and score the
//! largest, then hold out the two largest, and so on (`eval --rollout n`).
//!
//! A random split would mix large models into the fit and flatter the law; users extrapolate
//! upward, so the honest test is to extrapolate upward too. Each fold's score is the relative
//! error `(predicted − observed)/observed` of every held-out point, summarised by its mean and
//! maximum absolute value.
//!
//! It lives with the fit, beside the bootstrap (both refit a table's subsets), because a law
//! uses it while it is being fitted: the collapse law chooses its anchor by holding out the
//! largest size of its ladder's levels, and receives [`score_largest`] from [`super::fit`].

use super::{fit_table, FitOptions};
use crate::base::groups::size_groups;
use crate::error::{Error, Result};
use crate::ingest::table::RunTable;
use crate::law::{Law, TablePoints};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
        let rec = fit_table(law, &sub, &path, &options)?;
        let params = rec.param_vector(law)?;
        let held = table.subset(&test);
        let f = law.table_features(&TablePoints {
            n: &held.n,
            d: &held.d,
        })?;
        let mut pred = vec![0.0; held.loss.len()];
        law.predict(&params, &f, &mut pred);
        rec.gate().check_all(&pred, |i| {
            format!(
                "held-out N = {} (rollout fold {k})",
                crate::base::numbers::num(held.n[i])
            )
        })?;
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

/// Mean |relative error| on the largest size of `table` of `law` fitted on the others with the
/// default options (fold 1 of [`rollout_sizes`]); `None` where the fold cannot be fitted.
pub fn score_largest(law: &dyn Law, table: &RunTable) -> Option<f64> {
    let folds = rollout_sizes(law, table, &FitOptions::default(), 1, &|_| {}).ok()?;
    Some(folds.first()?.mean_rel_err)
}
