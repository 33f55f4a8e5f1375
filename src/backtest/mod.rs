//! Backtests: how well would each law (and fitting option) have forecast the user's own runs?
//!
//! A user's question is never "how well does the law fit" but "how well will it forecast the run
//! I have not paid for". A backtest answers it with runs the user already has: it hides some of
//! them (a whole schedule, the longer horizons, the second half of a run, the larger models),
//! fits on the rest and scores the forecast of what it hid. `folds` makes the splits, `engine`
//! fits and scores one split, this module runs every (split, method) pair and summarises.

pub mod auto;
pub mod calibration;
pub mod compare;
pub mod engine;
pub mod folds;
pub mod rollout;
pub mod select;

use crate::error::{Error, Result};
use crate::fit::{FitOptions, RunWeighting};
use crate::law::{self, LawKind, LawOptions};
use crate::runs::Run;
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write;

pub use crate::fit::record::{Skipped, Task, TaskSummary};
pub use folds::Split;

/// Whether a law of this kind can be scored on `task`: joint size × schedule laws forecast other
/// sizes, schedule laws forecast runs of a size they were fitted on.
fn takes(task: Task, uses_model_size: bool) -> bool {
    match task {
        Task::Size => uses_model_size,
        _ => !uses_model_size,
    }
}

/// One competitor: a law with the options it is fitted with.
#[derive(Debug, Clone)]
pub struct Method {
    /// How tables and JSON name it: the law, plus any option that differs from the default.
    pub name: String,
    pub law: String,
    pub options: FitOptions,
}

impl Method {
    /// `law` fitted as `fit` fits it by default (its default run weighting).
    pub fn new(law: &str, law_options: &LawOptions) -> Method {
        let run_weighting = law::build(law, law_options.clone())
            .map(|l| crate::fit::default_weighting(l.as_ref()))
            .unwrap_or_default();
        Method {
            name: law.to_string(),
            law: law.to_string(),
            options: FitOptions {
                law: law_options.clone(),
                run_weighting,
                priors: true,
                ..FitOptions::default()
            },
        }
    }
}

/// Each method once per skipped fraction (see [`FitOptions::skip_fraction`]); a fraction other
/// than 0 is named in the method, "annealing skip 10 %".
pub fn with_skip_fractions(methods: Vec<Method>, fractions: &[f64]) -> Result<Vec<Method>> {
    let mut seen: Vec<f64> = Vec::new();
    for &f in fractions {
        if !(0.0..1.0).contains(&f) {
            return Err(Error::input(format!(
                "a skipped fraction must be in [0, 1), not {}",
                crate::base::numbers::num(f)
            )));
        }
        if seen.contains(&f) {
            return Err(Error::input(format!(
                "skipped fraction {} given twice",
                crate::base::numbers::num(f)
            )));
        }
        seen.push(f);
    }
    Ok(methods
        .iter()
        .flat_map(|m| {
            seen.iter().map(move |&f| Method {
                name: if f > 0.0 {
                    format!("{} skip {} %", m.name, crate::base::numbers::num(100.0 * f))
                } else {
                    m.name.clone()
                },
                law: m.law.clone(),
                options: FitOptions {
                    skip_fraction: f,
                    ..m.options.clone()
                },
            })
        })
        .collect())
}

/// Each method once per prior choice (`true`: the law's priors on). A law without priors
/// competes once, whatever the choices.
pub fn with_priors(methods: Vec<Method>, choices: &[bool]) -> Vec<Method> {
    methods
        .into_iter()
        .flat_map(|m| {
            let has_priors = law::build(&m.law, m.options.law.clone())
                .map(|l| !l.priors().is_empty())
                .unwrap_or(false);
            let mut out: Vec<Method> = Vec::new();
            for &on in choices {
                let on = on && has_priors;
                if out.iter().any(|o| o.options.priors == on) {
                    continue;
                }
                out.push(Method {
                    name: if on || !has_priors {
                        m.name.clone()
                    } else {
                        format!("{} no prior", m.name)
                    },
                    law: m.law.clone(),
                    options: FitOptions {
                        priors: on,
                        ..m.options.clone()
                    },
                });
            }
            out
        })
        .collect()
}

/// Each method once per run weighting; a weighting other than the law's default is named in
/// the method ("annealing by point", "joint-additive by run").
pub fn with_weightings(methods: Vec<Method>, weightings: &[RunWeighting]) -> Vec<Method> {
    let mut ws: Vec<RunWeighting> = Vec::new();
    for &w in weightings {
        if !ws.contains(&w) {
            ws.push(w);
        }
    }
    methods
        .iter()
        .flat_map(|m| {
            ws.iter().map(move |&w| Method {
                name: if w == m.options.run_weighting {
                    m.name.clone()
                } else {
                    match w {
                        RunWeighting::Points => format!("{} by point", m.name),
                        RunWeighting::Runs => format!("{} by run", m.name),
                    }
                },
                law: m.law.clone(),
                options: FitOptions {
                    run_weighting: w,
                    ..m.options.clone()
                },
            })
        })
        .collect()
}

/// What a backtest runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tasks: Vec<Task>,
    pub methods: Vec<Method>,
    /// Give each fold's forecast the interval `fit` would have stored: calibrated by a
    /// backtest of that fold's fit runs alone (one inner backtest per fold, so slower). The
    /// coverage table then measures exactly what `predict` promises.
    pub nested: bool,
    /// A calibration backtest of fit runs (see `calibration::self_calibrate`): `truncate` cuts
    /// each run at [`folds::SPAN_FRACTIONS`] of its logged span instead of at 25 % and 50 % of
    /// its steps, so a single run, or one already truncated, still gives several folds.
    pub inner: bool,
}

/// The score of one method on one fold.
#[derive(Debug, Clone, Serialize)]
pub struct FoldScore {
    pub task: Task,
    pub fold: String,
    pub method: String,
    pub fit_runs: Vec<String>,
    pub test_runs: Vec<String>,
    /// Points the forecast was scored on.
    pub test_points: usize,
    /// Mean over the held-out curves of mean |L − P| / L.
    pub pred_e: Option<f64>,
    /// Mean over the held-out curves of max |L − P| / L.
    pub worst_e: Option<f64>,
    /// Mean over the held-out curves of the relative error at their last point.
    pub final_err: Option<f64>,
    pub fit_seconds: f64,
    pub trustworthy: bool,
    /// Why the fold has no score (the fit failed or could not start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every held-out point's error (`backtest --residuals`; not in the JSON summary).
    #[serde(skip)]
    pub residuals: Vec<engine::Residual>,
}

/// Everything a backtest found.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    pub tasks: Vec<Task>,
    pub methods: Vec<String>,
    pub summary: Vec<TaskSummary>,
    pub folds: Vec<FoldScore>,
    /// Tasks asked for that these runs cannot pose, with the reason.
    pub skipped: Vec<Skipped>,
    /// The method with the lowest PredE averaged over the tasks every method was scored on,
    /// each task counting once.
    pub overall_best: Option<String>,
    /// Whether a 90 % interval calibrated on the other folds would have held on each fold.
    pub calibration: Vec<calibration::Calibration>,
}

impl Backtest {
    /// The fold labels of a task in the order folds were run: the table numbers folds by it
    /// and the figure draws them in it.
    pub fn fold_labels(&self, task: Task) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in self.folds.iter().filter(|f| f.task == task) {
            if !out.contains(&f.fold.as_str()) {
                out.push(&f.fold);
            }
        }
        out
    }
}

/// Fewest fit points a split must leave: more than any law has parameters.
pub const MIN_FIT_POINTS: usize = 8;

/// The laws that compete by default: every law that applies to `tasks` on these runs.
pub fn default_methods(runs: &[Run], tasks: &[Task], law_options: &LawOptions) -> Vec<Method> {
    let sized = runs.iter().all(|r| r.params.is_some());
    law::LAW_NAMES
        .iter()
        .filter_map(|name| {
            let l = law::build(name, law_options.clone()).ok()?;
            if l.kind() != LawKind::Schedule {
                return None;
            }
            let joint = l.uses_model_size();
            let applies = tasks.iter().any(|t| takes(*t, joint)) && (!joint || sized);
            applies.then(|| Method::new(name, law_options))
        })
        .collect()
}

/// The splits of every task in `tasks`, with the tasks these runs cannot pose.
pub fn splits(runs: &[Run], tasks: &[Task]) -> (Vec<Split>, Vec<Skipped>) {
    splits_for(runs, tasks, false)
}

/// [`splits`], with `truncate` cut as a calibration backtest cuts it when `inner`.
pub fn splits_for(runs: &[Run], tasks: &[Task], inner: bool) -> (Vec<Split>, Vec<Skipped>) {
    let mut all = Vec::new();
    let mut skipped = Vec::new();
    for &t in tasks {
        let (s, why) = match t {
            Task::Schedule => folds::schedule(runs),
            Task::Horizon => folds::horizon(runs),
            Task::Truncate if inner => folds::truncate_span(runs, MIN_FIT_POINTS),
            Task::Truncate => folds::truncate(runs, MIN_FIT_POINTS),
            Task::Size => folds::size(runs, folds::SIZE_FOLDS),
        };
        all.extend(s);
        skipped.extend(why);
    }
    (all, skipped)
}

/// Run the backtest: every method on every split it applies to, in parallel, then the means.
/// `on_fold(done, total)` is called as each (split, method) pair finishes.
pub fn run(runs: &[Run], plan: &Plan, on_fold: &(dyn Fn(usize, usize) + Sync)) -> Result<Backtest> {
    if plan.methods.is_empty() {
        let (splits, skipped) = splits_for(runs, &plan.tasks, plan.inner);
        let why: Vec<String> = skipped
            .iter()
            .map(|s| format!("{}: {}", s.task, s.reason))
            .collect();
        return Err(Error::input(if splits.is_empty() {
            format!("these runs offer no backtest fold: {}", why.join("; "))
        } else {
            "no law applies to these tasks on these runs (size needs params = N on every run \
             and a joint law; the others a schedule law)"
                .to_string()
        }));
    }
    let mut laws = Vec::new();
    for m in &plan.methods {
        let l = law::build(&m.law, m.options.law.clone())?;
        if l.kind() != LawKind::Schedule {
            return Err(Error::input(format!(
                "{} is a size law over tables of finished runs; backtest forecasts loss \
                 curves (validate a size law with eval --rollout n)",
                m.law
            )));
        }
        laws.push(l);
    }
    let (splits, mut skipped) = splits_for(runs, &plan.tasks, plan.inner);
    let jobs: Vec<(usize, usize)> = splits
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            laws.iter()
                .enumerate()
                .filter(move |(_, l)| takes(s.task, l.uses_model_size()))
                .map(move |(mi, _)| (si, mi))
        })
        .collect();
    for &t in &plan.tasks {
        let has_split = splits.iter().any(|s| s.task == t);
        let has_law = laws.iter().any(|l| takes(t, l.uses_model_size()));
        if has_split && !has_law {
            skipped.push(Skipped {
                task: t,
                reason: if t == Task::Size {
                    "no joint size × schedule law among the laws (joint-additive, joint-scaled)"
                        .into()
                } else {
                    "no schedule law among the laws (annealing, multipower)".into()
                },
            });
        }
    }
    if jobs.is_empty() {
        let why: Vec<String> = skipped
            .iter()
            .map(|s| format!("{}: {}", s.task, s.reason))
            .collect();
        return Err(Error::input(format!(
            "these runs offer no backtest fold: {}",
            why.join("; ")
        )));
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = jobs.len();
    let mut folds: Vec<FoldScore> = jobs
        .par_iter()
        .map(|&(si, mi)| {
            let mut score = score_fold(&splits[si], &plan.methods[mi], laws[mi].as_ref());
            if plan.nested {
                calibration::nest(&mut score, &splits[si], &plan.methods[mi]);
            }
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            on_fold(n, total);
            score
        })
        .collect();
    let summary = summarise(&plan.tasks, &plan.methods, &folds);
    let names: Vec<String> = plan.methods.iter().map(|m| m.name.clone()).collect();
    let overall_best = overall_best(&summary, &names);
    let calibration = if plan.nested {
        calibration::coverage(&plan.tasks, &names, &folds)
    } else {
        calibration::check(&plan.tasks, &names, &mut folds)
    };
    Ok(Backtest {
        tasks: plan.tasks.clone(),
        methods: names,
        summary,
        folds,
        skipped,
        overall_best,
        calibration,
    })
}

fn score_fold(split: &Split, method: &Method, law: &dyn law::Law) -> FoldScore {
    let base = FoldScore {
        task: split.task,
        fold: split.label.clone(),
        method: method.name.clone(),
        fit_runs: split.fit.iter().map(|r| r.name.clone()).collect(),
        test_runs: split.test.iter().map(|r| r.name.clone()).collect(),
        test_points: split.test.iter().map(|r| r.loss.len()).sum(),
        pred_e: None,
        worst_e: None,
        final_err: None,
        fit_seconds: 0.0,
        trustworthy: false,
        error: None,
        residuals: Vec::new(),
    };
    let fit_points: usize = split.fit.iter().map(|r| r.loss.len()).sum();
    if fit_points <= law.param_names().len() {
        return FoldScore {
            error: Some(format!(
                "{fit_points} fit points for {} parameters",
                law.param_names().len()
            )),
            ..base
        };
    }
    match engine::fit_and_score(law, &method.options, &split.fit, &split.test) {
        Ok(s) => {
            let finite = |v: f64| v.is_finite().then_some(v);
            // A fold without a finite score is a failed fold, and says why.
            let error = match s.test_mean.map(|m| m.pred_e) {
                Some(p) if p.is_finite() => None,
                Some(p) => Some(format!(
                    "the forecast's error on the held-out runs is {}, not a number",
                    crate::base::numbers::num(p)
                )),
                None => Some("no held-out point to score".to_string()),
            };
            FoldScore {
                error,
                pred_e: s.test_mean.and_then(|m| finite(m.pred_e)),
                worst_e: s.test_mean.and_then(|m| finite(m.worst_e)),
                final_err: s.mean_final_error().and_then(finite),
                fit_seconds: s.fit_seconds,
                trustworthy: s.record.trustworthy,
                residuals: s.residuals,
                ..base
            }
        }
        Err(e) => FoldScore {
            error: Some(e.to_string()),
            ..base
        },
    }
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for x in v {
        s += x;
        n += 1;
    }
    (n > 0).then(|| s / n as f64)
}

fn summarise(tasks: &[Task], methods: &[Method], folds: &[FoldScore]) -> Vec<TaskSummary> {
    let mut out = Vec::new();
    for &t in tasks {
        let start = out.len();
        for m in methods {
            let mine: Vec<&FoldScore> = folds
                .iter()
                .filter(|f| f.task == t && f.method == m.name)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let failed = mine.iter().filter(|f| f.pred_e.is_none()).count();
            let ok = || mine.iter().filter(|f| f.pred_e.is_some());
            out.push(TaskSummary {
                task: t,
                method: m.name.clone(),
                folds: mine.len(),
                failed,
                untrustworthy: ok().filter(|f| !f.trustworthy).count(),
                pred_e: mean(ok().filter_map(|f| f.pred_e)),
                worst_e: mean(ok().filter_map(|f| f.worst_e)),
                final_err: mean(ok().filter_map(|f| f.final_err)),
                fit_seconds: mean(mine.iter().map(|f| f.fit_seconds)).unwrap_or(0.0),
                best: false,
            });
        }
        let best = out[start..]
            .iter()
            .enumerate()
            .filter(|(_, s)| s.failed == 0)
            .filter_map(|(i, s)| s.pred_e.map(|p| (i, p)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| start + i);
        if let Some(i) = best {
            out[i].best = true;
        }
    }
    out
}

/// Each method's PredE averaged over the tasks on which every method scored every fold. Tasks
/// count once each, so thirty truncation folds do not outvote three schedules. A method that
/// failed a fold anywhere is not ranked, and does not stop the others from being compared on
/// that task: a law that cannot fit one fold is no reason to choose none.
pub fn method_scores(summary: &[TaskSummary], methods: &[String]) -> Vec<(String, f64)> {
    let ranked: Vec<&String> = methods
        .iter()
        .filter(|m| summary.iter().all(|s| &s.method != *m || s.failed == 0))
        .collect();
    let tasks: std::collections::BTreeSet<Task> = summary.iter().map(|s| s.task).collect();
    let shared: Vec<Task> = tasks
        .into_iter()
        .filter(|&t| {
            ranked
                .iter()
                .all(|m| summary.iter().any(|s| s.task == t && &s.method == *m))
        })
        .collect();
    ranked
        .into_iter()
        .filter_map(|m| {
            let v = mean(shared.iter().filter_map(|&t| {
                summary
                    .iter()
                    .find(|s| s.task == t && &s.method == m)
                    .and_then(|s| s.pred_e)
            }))?;
            Some((m.clone(), v))
        })
        .collect()
}

/// The method with the lowest [`method_scores`].
fn overall_best(summary: &[TaskSummary], methods: &[String]) -> Option<String> {
    let scores = method_scores(summary, methods);
    let best = scores.iter().map(|s| s.1).min_by(f64::total_cmp)?;
    // Scores this close are one score computed twice (a constant-LR run leaves the
    // Multi-Power Law's extra terms idle, and it forecasts exactly as annealing does). The tie
    // goes to the method with fewer untrustworthy folds (parameters the data leave free), then
    // to the one listed first, the simpler law, never to the rounding.
    let untrusted = |name: &str| -> usize {
        summary
            .iter()
            .filter(|t| t.method == name)
            .map(|t| t.untrustworthy)
            .sum()
    };
    scores
        .iter()
        .enumerate()
        .filter(|(_, s)| s.1 <= best + TIE * best.abs())
        .min_by_key(|(i, s)| (untrusted(&s.0), *i))
        .map(|(_, s)| s.0.clone())
}

/// Relative difference of backtest scores below which two methods tie.
const TIE: f64 = 1e-6;

/// Every held-out point of every scored fold as CSV, one row each (`backtest --residuals`).
pub fn residuals_csv(b: &Backtest) -> String {
    let mut s = String::from(
        "task,fold,method,run,step,observed,predicted,rel_err,step_ratio,s1_ratio,size_ratio,param_sd,residual_sd,lo,hi,s2_excess,noise_sd\n",
    );
    let quote = |t: &str| {
        if t.contains([',', '"', '\n']) {
            format!("\"{}\"", t.replace('"', "\"\""))
        } else {
            t.to_string()
        }
    };
    for f in &b.folds {
        for r in &f.residuals {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                f.task,
                quote(&f.fold),
                quote(&f.method),
                quote(&r.run),
                r.step,
                r.observed,
                r.predicted,
                r.rel_err,
                r.step_ratio,
                r.s1_ratio,
                r.size_ratio.map(|v| v.to_string()).unwrap_or_default(),
                r.param_sd,
                r.residual_sd,
                r.lo.map(|v| v.to_string()).unwrap_or_default(),
                r.hi.map(|v| v.to_string()).unwrap_or_default(),
                r.s2_excess,
                r.noise_sd
            );
        }
    }
    s
}
