//! Validation by rollout over model size: fit a law on the smaller models and score the
//! largest, then hold out the two largest, and so on. Joint size × schedule laws are scored on
//! whole training curves ([`rollout_runs`]), a collapse shape on its own ([`rollout_shape`]);
//! size laws on a table of final losses by `fit::size_rollout`, which the fit layer owns because
//! the collapse law chooses its anchor by it while it learns.
//!
//! A random split would mix large models into the fit and flatter the law; users extrapolate
//! upward, so the honest test is to extrapolate upward too. Each fold's score is the relative
//! error `(predicted − observed)/observed` of every held-out point, summarised by its mean and
//! maximum absolute value.

use crate::backtest::engine;
use crate::base::groups::size_groups;
use crate::error::{Error, Result};
use crate::fit::metrics::Metrics;
use crate::fit::FitOptions;
use crate::law::Law;
use crate::runs::Run;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The law's options as the fold's fit left them: a law that learned from the fold's fit
    /// runs (collapse) is rebuilt from these, not from the options it started with.
    #[serde(skip)]
    pub law_options: crate::law::LawOptions,
}

/// Rollout of a joint size × schedule law over the runs' model sizes: fold k fits on every
/// run but those of the k largest sizes and forecasts each of their whole curves. Folds run
/// while two sizes are left to fit (as in the backtest's size task, [`folds::size`]); a fold
/// whose fit cannot determine the size terms says so through `trustworthy` and `warnings`.
///
/// [`folds::size`]: crate::backtest::folds::size
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
    let possible = groups.len().saturating_sub(2);
    if folds == 0 || possible == 0 {
        return Err(Error::input(format!(
            "a rollout over params needs at least 3 model sizes (two to fit, one to forecast) \
             and --folds >= 1; the runs hold \
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
            law_options: rec.options.law.clone(),
        });
        on_fold(k);
    }
    Ok(out)
}

/// One schedule's shape rollout: the largest model's curve from the smaller models' shape,
/// anchored at its own observed final loss, so the score is the shape's error alone.
#[derive(Debug, Clone, Serialize)]
pub struct ShapeFold {
    /// The runs' schedule, shared by every run of the fold.
    pub schedule: String,
    /// Common horizon (steps): the shortest run's last step; longer runs are cut there.
    pub horizon: i64,
    pub fit_runs: Vec<String>,
    pub held_out: String,
    pub points: usize,
    /// PredE (mean |L − P|/L) with the mean shape, and with its drift in ln N extrapolated.
    pub pred_e_mean: f64,
    pub pred_e_trend: f64,
    /// RMS distance of each fit run's normalised curve from the mean shape.
    pub spread: Vec<f64>,
    pub noise: f64,
    pub warnings: Vec<String>,
}

/// Shape-only rollout: for every schedule that at least three model sizes ran, build the
/// collapse shape ([`crate::law::collapse::shape::Shape`]) from all sizes but the largest, and forecast the
/// largest one's curve from its true final loss. A ladder whose shape does not transfer here
/// cannot be forecast by collapse, whatever the final-loss law. Returns the folds and why other
/// schedules were skipped.
pub fn rollout_shape(runs: &[Run]) -> Result<(Vec<ShapeFold>, Vec<String>)> {
    let mut by_schedule: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for r in runs {
        if r.params.is_none() {
            return Err(Error::input(format!(
                "run '{}' has no model size: a shape rollout needs params = N for every run",
                r.name
            )));
        }
        by_schedule.entry(r.schedule.as_str()).or_default().push(r);
    }
    let (mut folds, mut skipped) = (Vec::new(), Vec::new());
    for (schedule, mut group) in by_schedule {
        group.sort_by(|a, b| a.params.unwrap_or(0.0).total_cmp(&b.params.unwrap_or(0.0)));
        let sizes: Vec<f64> = group.iter().filter_map(|r| r.params).collect();
        if size_groups(&sizes).len() != group.len() || group.len() < 3 {
            skipped.push(format!(
                "{schedule}: needs one run at each of at least 3 model sizes, has {} run(s) at {} \
                 size(s)",
                group.len(),
                size_groups(&sizes).len()
            ));
            continue;
        }
        let horizon = group
            .iter()
            .filter_map(|r| r.steps.last().copied())
            .min()
            .unwrap_or(0);
        let cut: Vec<(Vec<f64>, Vec<f64>)> = group.iter().map(|r| up_to(r, horizon)).collect();
        let (held, fit) = (group.len() - 1, &group[..group.len() - 1]);
        let curves: Vec<crate::law::collapse::shape::LadderCurve> = fit
            .iter()
            .zip(&cut)
            .map(|(r, (x, y))| crate::law::collapse::shape::LadderCurve {
                name: &r.name,
                n: r.params.unwrap_or(1.0),
                d: horizon as f64,
                x,
                loss: y,
            })
            .collect();
        let shape = match crate::law::collapse::shape::Shape::new(&curves) {
            Ok(s) => s,
            Err(e) => {
                skipped.push(format!("{schedule}: {e}"));
                continue;
            }
        };
        let (x, y) = &cut[held];
        let n = group[held].params.unwrap_or(1.0);
        let keep: Vec<usize> = (0..x.len()).filter(|&i| x[i] >= shape.grid[0]).collect();
        let xs: Vec<f64> = keep.iter().map(|&i| x[i]).collect();
        let obs: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
        let last = y[y.len() - 1];
        let score = |trend: bool| -> Result<f64> {
            let p = shape.forecast(&xs, n, horizon as f64, last, trend)?;
            Ok(p.iter()
                .zip(&obs)
                .map(|(p, o)| ((p - o) / o).abs())
                .sum::<f64>()
                / obs.len() as f64)
        };
        let names: Vec<&str> = fit.iter().map(|r| r.name.as_str()).collect();
        folds.push(ShapeFold {
            schedule: schedule.to_string(),
            horizon,
            fit_runs: names.iter().map(|s| s.to_string()).collect(),
            held_out: group[held].name.clone(),
            points: obs.len(),
            pred_e_mean: score(false)?,
            pred_e_trend: score(true)?,
            spread: shape.spread(false),
            noise: shape.noise,
            warnings: shape.diagnostics(&names),
        });
    }
    if folds.is_empty() {
        return Err(Error::input(format!(
            "no schedule was run at three or more model sizes: {}",
            skipped.join("; ")
        )));
    }
    Ok((folds, skipped))
}

/// A run's points up to `horizon` as run fractions and losses, the loss at the horizon
/// interpolated when the run logged past it without a point there.
fn up_to(r: &Run, horizon: i64) -> (Vec<f64>, Vec<f64>) {
    let h = horizon as f64;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (i, (&s, &l)) in r.steps.iter().zip(&r.loss).enumerate() {
        if s > 0 && s <= horizon {
            x.push(s as f64 / h);
            y.push(l);
        } else if s > horizon {
            // The horizon is the shortest run's last step, so a longer run has a point on each
            // side of it unless it logged nothing before.
            if i > 0 && r.steps[i - 1] < horizon {
                let (ps, pl) = (r.steps[i - 1], r.loss[i - 1]);
                let t = (h - ps as f64) / (s - ps) as f64;
                x.push(1.0);
                y.push(pl + t * (l - pl));
            }
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that logged past the common horizon is cut there, its loss at the horizon
    /// interpolated between the points either side.
    #[test]
    fn runs_are_cut_at_the_common_horizon() {
        let run = Run::in_memory(
            "r",
            "constant",
            vec![1e-3; 301],
            vec![0, 100, 200, 300],
            vec![9.0, 4.0, 3.0, 2.0],
            Some(1e8),
        );
        let (x, y) = up_to(&run, 250);
        assert_eq!(x, vec![0.4, 0.8, 1.0]);
        assert_eq!(y, vec![4.0, 3.0, 2.5]);
        let (x, y) = up_to(&run, 200);
        assert_eq!((x, y), (vec![0.5, 1.0], vec![4.0, 3.0]));
    }
}
