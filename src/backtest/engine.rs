//! The one evaluation engine: fit a law on some runs, forecast others, score the forecast.
//! `compare`, `eval --rollout params` and every backtest fold go through [`fit_and_score`], so
//! a number printed by one command means the same as the same number printed by another.

use crate::error::Result;
use crate::fit::metrics::{self, Metrics};
use crate::fit::{self, FitOptions, FitRecord, RunMetrics};
use crate::law::Law;
use crate::runs::manifest::Role;
use crate::runs::Run;
use serde::Serialize;
use std::time::Instant;

/// A fit and its forecast of the held-out runs.
#[derive(Debug, Clone)]
pub struct Scored {
    pub record: FitRecord,
    /// The fitted parameters in the law's order.
    pub params: Vec<f64>,
    /// Metrics of every held-out run, in the order given.
    pub per_run: Vec<RunMetrics>,
    /// Unweighted mean over the held-out runs (`None` when there are none).
    pub test_mean: Option<Metrics>,
    /// |predicted − observed| / observed at each held-out run's last point: the number a user
    /// planning a run cares about most.
    pub final_errors: Vec<f64>,
    pub fit_seconds: f64,
    /// Every held-out point's error with how far it lies beyond the fit runs: the data a
    /// calibration of forecast error against extrapolation distance needs.
    pub residuals: Vec<Residual>,
}

/// One held-out point of a forecast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Residual {
    pub run: String,
    pub step: i64,
    pub observed: f64,
    pub predicted: f64,
    /// (predicted − observed) / observed.
    pub rel_err: f64,
    /// The point's step over the fit runs' last step.
    pub step_ratio: f64,
    /// The point's forward area S1 (the law's warmup convention) over the fit runs' largest.
    pub s1_ratio: f64,
    /// How far the point's annealing area S2 exceeds the fit runs' largest, relative to it
    /// (`interval::s2_excess`; 0 when it does not): an anneal deeper than any the fit saw.
    pub s2_excess: f64,
    /// The held-out run's model size over the fit runs' largest, when both are known.
    pub size_ratio: Option<f64>,
    /// Standard deviation of ln(prediction) from the fit's parameter uncertainty (Laplace).
    pub param_sd: f64,
    /// The fit's smooth misfit: the scale its model error is measured in.
    pub residual_sd: f64,
    /// The fit's point-to-point noise.
    pub noise_sd: f64,
    /// The fold-out interval `backtest`'s calibration check drew around the prediction.
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Scored {
    /// Mean final-loss relative error over the held-out runs.
    pub fn mean_final_error(&self) -> Option<f64> {
        (!self.final_errors.is_empty())
            .then(|| self.final_errors.iter().sum::<f64>() / self.final_errors.len() as f64)
    }
}

/// Fit `law` on `fit_runs` (whatever their roles say) and score it on `test_runs`. The law is
/// evaluated as fitted: a law that calibrates itself on the fit runs (the Multi-Power Law's
/// reference LR) forecasts with that calibration.
pub fn fit_and_score(
    law: &dyn Law,
    options: &FitOptions,
    fit_runs: &[Run],
    test_runs: &[Run],
) -> Result<Scored> {
    let train = with_role(fit_runs, Role::Fit);
    let start = Instant::now();
    let record = fit::fit(law, &train, options)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    score_fitted(law, record, fit_seconds, &train, test_runs)
}

/// Score a fit already made on `fit_runs` (`law` as it was fitted) on `test_runs`: the second
/// half of [`fit_and_score`], for a caller that fitted its own way (`--law auto` chooses the law
/// first).
pub fn score_fitted(
    law: &dyn Law,
    record: FitRecord,
    fit_seconds: f64,
    fit_runs: &[Run],
    test_runs: &[Run],
) -> Result<Scored> {
    // A law that calibrated itself on the fit runs (LR scale) or learned from them (the collapse
    // shape) is rebuilt from the record with what it found; any other is used as given, which keeps `--fix`/`--tie` (whose records list
    // only the free parameters until the CLI expands them).
    let built;
    let fitted: &dyn Law = if law.wants_lr_ref() || record.options.law.collapse.is_some() {
        built = record.build_law()?;
        built.as_ref()
    } else {
        law
    };
    let params = record.param_vector(fitted)?;
    let test = with_role(test_runs, Role::Test);
    // One exact evaluation per held-out run gives both its metrics (as `fit::evaluate` scores
    // them) and its last-point error; exact Multi-Power-Law features of a 72 000-step run cost
    // a fifth of a second, so they are not computed twice.
    let feats = fit::features_of(fitted, &test)?;
    let mut per_run = Vec::with_capacity(test.len());
    let mut final_errors = Vec::with_capacity(test.len());
    let mut residuals = Vec::new();
    let domain = match &record.domain {
        Some(d) => d.clone(),
        None => fit::domain_of(fitted, fit_runs),
    };
    let k = params.len();
    for (r, f) in test.iter().zip(&feats) {
        let mut pred = vec![0.0; r.loss.len()];
        let mut jac = vec![0.0; r.loss.len() * k];
        fitted.predict_jacobian(&params, f, &mut pred, &mut jac);
        // A forecast the fit gives no grounds for fails the fold, with the gate's reason.
        record
            .gate()
            .check_all(&pred, |i| format!("step {} of '{}'", r.steps[i], r.name))?;
        let laplace = record.laplace.as_ref();
        if let (Some(&obs), Some(&p)) = (r.loss.last(), pred.last()) {
            final_errors.push((p - obs).abs() / obs);
        }
        let eff = fitted.effective_lr(&r.lr);
        let s1 = crate::law::areas::forward_area(&eff);
        let s2 = crate::law::areas::annealing_area(&eff, fitted.options().lambda);
        let size_ratio = r.params.zip(domain.params).map(|(n, [_, hi])| n / hi);
        for (i, ((&step, &observed), &predicted)) in
            r.steps.iter().zip(&r.loss).zip(&pred).enumerate()
        {
            residuals.push(Residual {
                run: r.name.clone(),
                step,
                observed,
                predicted,
                rel_err: (predicted - observed) / observed,
                step_ratio: step as f64 / domain.last_step_max.max(1) as f64,
                s1_ratio: s1.get(step as usize).copied().unwrap_or(f64::NAN) / domain.s1_max,
                s2_excess: crate::forecast::interval::s2_excess(
                    s2.get(step as usize).copied().unwrap_or(f64::NAN),
                    &domain,
                ),
                size_ratio,
                param_sd: laplace
                    .map_or(f64::NAN, |l| l.log_sd(predicted, &jac[i * k..(i + 1) * k])),
                residual_sd: laplace.map_or(f64::NAN, |l| l.residual_sd),
                noise_sd: laplace.map_or(0.0, |l| l.noise_sd),
                lo: None,
                hi: None,
            });
        }
        per_run.push(RunMetrics {
            name: r.name.clone(),
            role: r.role,
            points: r.loss.len(),
            metrics: metrics::curve_metrics(&r.loss, &pred),
        });
    }
    let test_mean = mean_of(&per_run);
    Ok(Scored {
        record,
        params,
        per_run,
        test_mean,
        final_errors,
        fit_seconds,
        residuals,
    })
}

/// The runs as a fit or a forecast reads them, whatever roles the caller's runs had.
fn with_role(runs: &[Run], role: Role) -> Vec<Run> {
    runs.iter().map(|r| Run { role, ..r.clone() }).collect()
}

/// Mean of the held-out runs' metrics, for callers that keep per-run rows.
pub fn mean_of(per_run: &[RunMetrics]) -> Option<Metrics> {
    metrics::mean(&per_run.iter().map(|r| r.metrics).collect::<Vec<_>>())
}
