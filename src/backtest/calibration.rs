//! Forecast intervals from a backtest: the model-error half of `interval`, calibrated on the
//! held-out points of the user's own runs, and the check that it holds.
//!
//! - [`check`] is the acceptance test `backtest` prints: each fold held out in turn, an
//!   [`ErrorModel`] calibrated on the other folds, the held-out fold's points and final points
//!   counted inside or out (issue 14 asks 85–95 % of points and 80–97 % of finals at 90 %). The
//!   intervals it drew are written back to the residuals (`--residuals` gains `lo`, `hi`).
//! - [`self_calibrate`] is what `fit` stores: the same backtest on the fit runs alone, every
//!   fold pooled, so `predict`, `plot`, `plan` and `watch` can draw intervals later without
//!   refitting.
//!
//! `docs/studies/interval-design.md` compares the scale designs on the open data.

use super::engine::Residual;
use super::{FoldScore, Method, Plan, Task};
use crate::error::Result;
use crate::fit::record::{Distance, ErrorModel};
use crate::fit::FitOptions;
use crate::forecast::interval::{self, Scored, DEFAULT_LEVEL};
use crate::runs::manifest::Role;
use crate::runs::Run;
use serde::Serialize;

/// Fold-out coverage of one task and method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub task: Task,
    pub method: String,
    /// Scored folds the check used (it needs two).
    pub folds: usize,
    pub level: f64,
    /// Share of held-out points inside their fold-out interval.
    pub point_coverage: f64,
    /// Share of held-out runs whose last point is inside.
    pub final_coverage: f64,
    /// Mean half-width, relative to the loss.
    pub mean_half_width: f64,
    /// Intervals from each fold's own fit runs (`--nested`, what `predict` gets), not from
    /// the other folds.
    pub nested: bool,
}

/// How far a held-out point lies beyond the fit, in the unit its task extrapolates in.
fn distance_of(task: Task, r: &Residual) -> f64 {
    match task {
        Task::Size => r.size_ratio.unwrap_or(1.0),
        _ => r.s1_ratio,
    }
}

/// Whether each residual is its run's last held-out point. Linear in the residuals: a
/// held-out tail of a per-step log has tens of thousands of points.
fn final_flags(residuals: &[Residual]) -> Vec<bool> {
    let mut last: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for r in residuals {
        let l = last.entry(r.run.as_str()).or_insert(r.step);
        *l = (*l).max(r.step);
    }
    residuals
        .iter()
        .map(|r| last[r.run.as_str()] == r.step)
        .collect()
}

/// The misfit scale of a residual's fit, floored where the fit had none.
fn residual_sd(r: &Residual) -> f64 {
    if r.residual_sd.is_finite() {
        r.residual_sd
    } else {
        crate::fit::identify::RESIDUAL_FLOOR
    }
}

/// A fold's residuals as the calibration scores them, each run's last point marked final and
/// every point tagged with the fold it was held out in.
fn scored(task: Task, residuals: &[Residual], fold: usize) -> Vec<Scored> {
    residuals
        .iter()
        .zip(final_flags(residuals))
        .filter(|(r, _)| r.observed > 0.0 && r.predicted > 0.0)
        .map(|(r, is_final)| Scored {
            log_err: (r.observed / r.predicted).ln(),
            param_sd: r.param_sd,
            residual_sd: residual_sd(r),
            noise_sd: r.noise_sd,
            distance: distance_of(task, r),
            s2_excess: if task == Task::Size { 0.0 } else { r.s2_excess },
            is_final,
            fold,
        })
        .collect()
}

fn distance_kind(tasks: &[Task]) -> Distance {
    if tasks.contains(&Task::Size) {
        Distance::Size
    } else {
        Distance::S1
    }
}

/// The check for every task and method with two or more scored folds; the fold-out intervals
/// are written into the folds' residuals.
pub fn check(tasks: &[Task], methods: &[String], folds: &mut [FoldScore]) -> Vec<Calibration> {
    for &task in tasks {
        for method in methods {
            let mine: Vec<usize> = (0..folds.len())
                .filter(|&i| {
                    let f = &folds[i];
                    f.task == task && &f.method == method && !f.residuals.is_empty()
                })
                .collect();
            if mine.len() < 2 {
                continue;
            }
            let points: Vec<Vec<Scored>> = mine
                .iter()
                .map(|&i| scored(task, &folds[i].residuals, i))
                .collect();
            for (h, &fi) in mine.iter().enumerate() {
                let others: Vec<Scored> = points
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != h)
                    .flat_map(|(_, p)| p.iter().copied())
                    .collect();
                let Some(model) = interval::calibrate(
                    &others,
                    distance_kind(&[task]),
                    mine.len() - 1,
                    vec![task],
                    interval::default_slopes(law_of(&folds[fi].method)),
                ) else {
                    continue;
                };
                let held = &mut folds[fi].residuals;
                let valid: Vec<usize> = (0..held.len())
                    .filter(|&i| held[i].observed > 0.0 && held[i].predicted > 0.0)
                    .collect();
                for (p, &i) in points[h].iter().zip(&valid) {
                    let r = &mut held[i];
                    let at = interval::Beyond {
                        ratio: p.distance,
                        s2_excess: p.s2_excess,
                    };
                    let b = model.band(
                        DEFAULT_LEVEL,
                        r.predicted,
                        p.param_sd,
                        p.residual_sd,
                        p.noise_sd,
                        at,
                    );
                    (r.lo, r.hi) = (Some(b.lo), Some(b.hi));
                }
            }
        }
    }
    tally(tasks, methods, folds, false)
}

/// Draw a fold's intervals as `fit` would have: calibrated by a backtest of the fold's fit runs
/// alone. A fold whose fit runs offer no calibration keeps no interval (and counts as such in
/// [`coverage`]).
pub fn nest(fold: &mut FoldScore, split: &super::Split, method: &Method) {
    if fold.residuals.is_empty() {
        return;
    }
    // The fold's fit runs are what its fit saw, whatever the manifest called them.
    let fit: Vec<Run> = split
        .fit
        .iter()
        .map(|r| Run {
            role: Role::Fit,
            ..r.clone()
        })
        .collect();
    let Ok(Some(cal)) = self_calibrate(&fit, &method.law, &method.options, &|_, _| {}) else {
        return;
    };
    for r in &mut fold.residuals {
        let at = match cal.pooled.distance {
            Distance::Size => interval::Beyond {
                ratio: r.size_ratio.unwrap_or(1.0),
                s2_excess: 0.0,
            },
            Distance::S1 => interval::Beyond {
                ratio: r.s1_ratio,
                s2_excess: r.s2_excess,
            },
        };
        let model = cal.for_point(fold.task == Task::Truncate, at);
        let b = model.band(
            DEFAULT_LEVEL,
            r.predicted,
            r.param_sd,
            residual_sd(r),
            r.noise_sd,
            at,
        );
        (r.lo, r.hi) = (Some(b.lo), Some(b.hi));
    }
}

/// Coverage of the intervals [`nest`] drew on the folds' residuals, per task and method.
pub fn coverage(tasks: &[Task], methods: &[String], folds: &[FoldScore]) -> Vec<Calibration> {
    tally(tasks, methods, folds, true)
}

/// Coverage of the intervals drawn on the folds' residuals, per task and method (fold-out
/// checks need two folds). Points without an interval count as not covered: a forecast with
/// no interval does not hold one.
fn tally(
    tasks: &[Task],
    methods: &[String],
    folds: &[FoldScore],
    nested: bool,
) -> Vec<Calibration> {
    let mut out = Vec::new();
    for &task in tasks {
        for method in methods {
            let mine: Vec<&FoldScore> = folds
                .iter()
                .filter(|f| f.task == task && &f.method == method && !f.residuals.is_empty())
                .collect();
            if mine.len() < if nested { 1 } else { 2 } {
                continue;
            }
            let (mut inside, mut n, mut width, mut banded) = (0usize, 0usize, 0.0, 0usize);
            let (mut finals_inside, mut finals) = (0usize, 0usize);
            for f in &mine {
                for (r, is_final) in f.residuals.iter().zip(final_flags(&f.residuals)) {
                    let hit = match (r.lo, r.hi) {
                        (Some(lo), Some(hi)) => {
                            banded += 1;
                            width += (hi / r.predicted).ln();
                            lo <= r.observed && r.observed <= hi
                        }
                        _ => false,
                    };
                    inside += usize::from(hit);
                    n += 1;
                    if is_final {
                        finals += 1;
                        finals_inside += usize::from(hit);
                    }
                }
            }
            if n == 0 || finals == 0 {
                continue;
            }
            out.push(Calibration {
                task,
                method: method.clone(),
                folds: mine.len(),
                level: DEFAULT_LEVEL,
                point_coverage: inside as f64 / n as f64,
                final_coverage: finals_inside as f64 / finals as f64,
                mean_half_width: if banded > 0 {
                    width / banded as f64
                } else {
                    f64::NAN
                },
                nested,
            });
        }
    }
    out
}

/// The error model of `method` from every scored fold of `folds`, pooled; `None` with fewer
/// than two scored folds (one fold's errors are one draw, not a distribution).
pub fn pooled(tasks: &[Task], method: &str, folds: &[FoldScore]) -> Option<ErrorModel> {
    pooled_of(tasks, method, folds)
}

fn pooled_of(tasks: &[Task], method: &str, folds: &[FoldScore]) -> Option<ErrorModel> {
    let mine: Vec<&FoldScore> = folds
        .iter()
        .filter(|f| f.method == method && !f.residuals.is_empty())
        .collect();
    if mine.len() < 2 {
        return None;
    }
    let points: Vec<Scored> = mine
        .iter()
        .enumerate()
        .flat_map(|(i, f)| scored(f.task, &f.residuals, i))
        .collect();
    let used: Vec<Task> = tasks
        .iter()
        .copied()
        .filter(|t| mine.iter().any(|f| f.task == *t))
        .collect();
    interval::calibrate(
        &points,
        distance_kind(&used),
        mine.len(),
        used,
        interval::default_slopes(law_of(method)),
    )
}

/// The law a method name starts with ("annealing skip 10 %" is annealing).
fn law_of(method: &str) -> &str {
    method.split_whitespace().next().unwrap_or(method)
}

/// Calibrate intervals for a fit of `law_name` with `options` on the fit runs of `runs`: the
/// tasks `fit --law auto` would pose on them, this one method, every fold pooled. A single run,
/// or runs that offer fewer than two such folds, are cut at fractions of their logged span
/// instead, and the result is widened by `interval::INNER_WIDENING`, since those folds are
/// easier than forecasting the rest of the run. When even that gives fewer than two folds, a
/// schedule law gets the open data's calibration and a joint law `Ok(None)`.
pub fn self_calibrate(
    runs: &[Run],
    law_name: &str,
    options: &FitOptions,
    on_fold: &(dyn Fn(usize, usize) + Sync),
) -> Result<Option<Calibrated>> {
    // The folds see the runs as the fit saw them: thinned to the fit's points per run. A fold
    // then fits and scores a few thousand points, not a million (a 1M-point log took 41 s to
    // calibrate, against 11 s for its fit).
    let fit_runs: Vec<Run> = runs
        .iter()
        .filter(|r| r.role == Role::Fit)
        .map(|r| {
            let mut r = r.clone();
            crate::fit::thin::thin_run(&mut r, options.max_points_per_run);
            r
        })
        .collect();
    let tasks = super::select::plan_for(&fit_runs, options, None).tasks;
    // One run (a run in progress, or a single finished one): its own head forecasting its
    // tail at 40–85 % of its span is the closest thing to its question; 25 % and 50 % cuts
    // of its steps would fit the warmup transient and forecast far worse than the full fit.
    let inner = fit_runs.len() == 1 || super::splits_for(&fit_runs, &tasks, false).0.len() < 2;
    if inner && super::splits_for(&fit_runs, &tasks, true).0.len() < 2 {
        // Too short to backtest. A schedule law falls back on the open data's calibration;
        // a size forecast from two sizes has nothing to go on, and gets no interval.
        let schedule_law = fit_runs.iter().all(|r| r.params.is_none())
            || !crate::law::build(law_name, options.law.clone())?.uses_model_size();
        return Ok(schedule_law.then(|| Calibrated {
            pooled: ErrorModel::open_data(law_of(law_name)),
            by_task: Vec::new(),
        }));
    }
    let plan = Plan {
        tasks: tasks.clone(),
        methods: vec![Method {
            name: law_name.to_string(),
            law: law_name.to_string(),
            options: options.clone(),
        }],
        nested: false,
        inner,
    };
    let b = super::run(&fit_runs, &plan, on_fold)?;
    Ok(Calibrated::from_folds(&tasks, law_name, &b.folds, inner))
}

/// [`ErrorModel::gap_sd`] from a backtest's folds of `method`: √2 × the RMS of the signed
/// relative error at each held-out run's last point, over the held-out schedules (task
/// schedule) when there are two, else over every fold. The RMS keeps a shared bias, which
/// cancels in a difference: it errs towards calling two schedules indistinguishable.
fn gap_sd(method: &str, folds: &[FoldScore]) -> Option<f64> {
    let finals = |task: Option<Task>| -> Vec<f64> {
        folds
            .iter()
            .filter(|f| f.method == method && task.is_none_or(|t| f.task == t))
            .flat_map(|f| {
                // Residuals run by run, step by step: each run's last one is its final point.
                f.residuals
                    .iter()
                    .enumerate()
                    .filter(|(i, r)| f.residuals.get(i + 1).is_none_or(|n| n.run != r.run))
                    .map(|(_, r)| r.rel_err)
                    .filter(|e| e.is_finite())
            })
            .collect()
    };
    let mut e = finals(Some(Task::Schedule));
    if e.len() < 2 {
        e = finals(None);
    }
    if e.len() < 2 {
        return None;
    }
    let rms = (e.iter().map(|x| x * x).sum::<f64>() / e.len() as f64).sqrt();
    Some(std::f64::consts::SQRT_2 * rms)
}

/// A fit's interval calibration: every task pooled, and per task.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrated {
    pub pooled: ErrorModel,
    pub by_task: Vec<ErrorModel>,
}

impl Calibrated {
    /// From a backtest's folds of `method`; `inner` (the folds cut runs short of where they
    /// are now) widens every model.
    pub fn from_folds(
        tasks: &[Task],
        method: &str,
        folds: &[FoldScore],
        inner: bool,
    ) -> Option<Calibrated> {
        let widen = |m: ErrorModel| {
            if inner {
                m.widened_for_inner_folds()
            } else {
                m
            }
        };
        let mut pooled = pooled(tasks, method, folds).map(widen)?;
        pooled.gap_sd = gap_sd(method, folds);
        let by_task = tasks
            .iter()
            .filter_map(|&t| {
                let mine: Vec<FoldScore> = folds.iter().filter(|f| f.task == t).cloned().collect();
                pooled_of(&[t], method, &mine).map(widen)
            })
            .collect();
        Some(Calibrated { pooled, by_task })
    }

    /// The model calibrated on `task`, or the pooled one.
    pub fn for_task(&self, task: Task) -> &ErrorModel {
        interval::model_for_task(&self.pooled, &self.by_task, task)
    }

    /// The model for one forecast point: the rest of a run in progress (`truncate`), else
    /// as `predict` chooses (see `interval::Source::for_point`).
    pub fn for_point(&self, continuing: bool, at: interval::Beyond) -> &ErrorModel {
        if continuing {
            self.for_task(Task::Truncate)
        } else {
            interval::model_for_point(&self.pooled, &self.by_task, at)
        }
    }

    /// Store in a fit record.
    pub fn store(self, record: &mut crate::fit::FitRecord) {
        record.calibration = Some(self.pooled);
        record.calibration_by_task = self.by_task;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(label: &str, errors: &[f64]) -> FoldScore {
        FoldScore {
            task: Task::Schedule,
            fold: label.into(),
            method: "m".into(),
            fit_runs: vec![],
            test_runs: vec![],
            test_points: errors.len(),
            pred_e: Some(0.0),
            worst_e: Some(0.0),
            final_err: Some(0.0),
            fit_seconds: 0.0,
            trustworthy: true,
            error: None,
            residuals: errors
                .iter()
                .enumerate()
                .map(|(i, &e)| Residual {
                    run: format!("{label}-run"),
                    step: i as i64,
                    observed: 1.0,
                    predicted: 1.0 + e,
                    rel_err: e,
                    step_ratio: 0.5,
                    s1_ratio: 0.5,
                    s2_excess: 0.0,
                    size_ratio: None,
                    param_sd: 0.0,
                    residual_sd: 1e-3,
                    noise_sd: 0.0,
                    lo: None,
                    hi: None,
                })
                .collect(),
        }
    }

    /// Folds whose errors are exchangeable (and normal, as the multiplier assumes) get close to
    /// the nominal coverage; a fold far worse than the others is not covered, and the check
    /// shows it.
    #[test]
    fn exchangeable_folds_are_covered_and_an_outlier_fold_is_not() {
        // Normal quantiles at evenly spaced probabilities, shuffled: sd `shift`.
        let errors = |shift: f64| -> Vec<f64> {
            (0..200)
                .map(|i| {
                    let u = (((i * 7919) % 200) as f64 + 0.5) / 200.0;
                    shift * crate::base::stats::normal_quantile(u)
                })
                .collect()
        };
        let mut folds: Vec<FoldScore> = (0..5)
            .map(|k| fold(&format!("f{k}"), &errors(0.01)))
            .collect();
        let c = check(&[Task::Schedule], &["m".into()], &mut folds);
        assert_eq!(c.len(), 1);
        assert!((c[0].point_coverage - 0.9).abs() < 0.03, "{c:?}");
        // The intervals drawn are written back to the residuals.
        assert!(folds[0].residuals.iter().all(|r| r.lo.is_some()));
        let mut worse = folds.clone();
        worse[0] = fold("f0", &errors(0.1));
        // Its points fall outside the others' width, and the others' widths swell with its
        // errors: the aggregate drops below the 85 % the issue accepts.
        let c = check(&[Task::Schedule], &["m".into()], &mut worse);
        assert!(c[0].point_coverage < 0.85, "{c:?}");
        // One fold cannot be checked against others, nor pooled.
        assert!(check(&[Task::Schedule], &["m".into()], &mut folds[..1]).is_empty());
        assert!(pooled(&[Task::Schedule], "m", &folds[..1]).is_none());
        let m = pooled(&[Task::Schedule], "m", &folds).unwrap();
        assert_eq!((m.folds, m.points, m.finals), (5, 1000, 5));
    }
}
