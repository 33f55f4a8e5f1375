//! The forecasting benchmark: every open ladder × task × method, scored as a user would meet it.
//!
//! A backtest answers "which law for my runs"; the benchmark answers "are losscast's defaults
//! good on runs nobody tuned them on". Each case fits runs and forecasts others (a longer run,
//! a larger model, another schedule); every law that applies competes, and so does `auto`,
//! which chooses by backtesting the case's fit runs exactly as `fit --law auto` does, and is the
//! number a change of default must improve. Errors are reported per held-out curve, and the
//! signed error at each curve's last point is binned by how far beyond the fit it lies, since a
//! bias that grows with distance is what a mean hides.

pub mod cases;

use crate::backtest::{self, engine, Method, Task};
use crate::error::{Error, Result};
use crate::fit::FitOptions;
use crate::law::{self, LawOptions};
use crate::runs::Run;
use cases::Case;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also run the cases kept aside (`check = true`), and only them.
    pub check: bool,
    /// Only these ladders (default: all).
    pub ladders: Option<Vec<String>>,
    /// Only these methods (`auto` or law names; default: auto and every law that applies).
    pub methods: Option<Vec<String>>,
    /// Fitting options as `fit` takes them, for every method (auto's candidates too): what a
    /// user would get with `fit --skip-fraction F` or `--no-prior`, so a proposed default can be
    /// measured before it is one.
    pub skip_fraction: f64,
    pub no_prior: bool,
}

/// The name `auto` competes under.
pub const AUTO: &str = "auto";

/// Upper edges of the distance bins (how far beyond the fit a curve's last point lies: its step
/// over the fit's last step, or its model size over the fit's largest, whichever is further).
pub const BIN_EDGES: [f64; 2] = [2.0, 5.0];
/// How the bins are named in tables.
pub const BIN_NAMES: [&str; 3] = ["×1–2", "×2–5", "> ×5"];

/// One held-out curve's forecast by one method.
#[derive(Debug, Clone, Serialize)]
pub struct CurveScore {
    pub ladder: String,
    pub task: String,
    pub case: String,
    pub method: String,
    pub run: String,
    pub points: usize,
    /// Mean |L − P| / L over the curve's held-out points.
    pub pred_e: f64,
    pub mae: f64,
    /// (P − L) / L at the curve's last point: positive when the forecast is too high.
    pub final_err: f64,
    /// How far beyond the fit the last point lies (see [`BIN_EDGES`]).
    pub distance: f64,
    /// The law `auto` chose for this case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chose: Option<String>,
}

/// A case a method could not forecast, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub ladder: String,
    pub task: String,
    pub case: String,
    pub method: String,
    pub error: String,
}

/// Signed final errors of the curves whose last point falls in one distance bin.
#[derive(Debug, Clone, Serialize)]
pub struct Bin {
    pub name: &'static str,
    pub curves: usize,
    pub mean_signed: Option<f64>,
    pub max_abs: Option<f64>,
}

/// One (ladder, task, method): what the table prints.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub ladder: String,
    pub task: String,
    pub method: String,
    pub cases: usize,
    pub failed: usize,
    pub curves: usize,
    /// Mean over the forecast curves of their PredE.
    pub pred_e: Option<f64>,
    pub mae: Option<f64>,
    pub bins: Vec<Bin>,
    /// What `auto` chose, with how many cases each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chose: Vec<(String, usize)>,
}

/// Everything a benchmark run found.
#[derive(Debug, Clone, Serialize)]
pub struct Benchmark {
    pub spec: String,
    pub check: bool,
    pub cases: usize,
    pub cells: Vec<Cell>,
    /// Each method's PredE averaged over the (ladder, task) cells it forecast without failing,
    /// each cell once, with the number of such cells.
    pub overall: Vec<(String, f64, usize)>,
    pub curves: Vec<CurveScore>,
    pub failures: Vec<Failure>,
    pub seconds: f64,
}

/// Run the benchmark a spec file describes. `on_job(done, total)` is called as each
/// (case, method) pair finishes.
pub fn run(
    spec: &Path,
    options: &Options,
    on_job: &(dyn Fn(usize, usize) + Sync),
) -> Result<Benchmark> {
    let start = std::time::Instant::now();
    let entries = cases::read_spec(spec)?;
    let mut all: Vec<Case> = Vec::new();
    for (entry, manifest) in entries {
        if entry.check != options.check {
            continue;
        }
        if let Some(l) = &options.ladders {
            if !l.contains(&entry.ladder) {
                continue;
            }
        }
        let runs: Vec<Run> = crate::runs::manifest::load(&manifest)?
            .iter()
            .map(crate::runs::load)
            .collect::<Result<_>>()?;
        all.extend(cases::expand(&entry, &runs)?);
    }
    if all.is_empty() {
        return Err(Error::input(format!(
            "{}: no case {}",
            spec.display(),
            if options.check {
                "kept aside (check = true)"
            } else {
                "selected"
            }
        )));
    }
    let mut jobs: Vec<(usize, String)> = Vec::new();
    for (i, c) in all.iter().enumerate() {
        for m in methods_for(c) {
            if options.methods.as_ref().is_none_or(|ms| ms.contains(&m)) {
                jobs.push((i, m));
            }
        }
    }
    if jobs.is_empty() {
        return Err(Error::input("no method applies to the selected cases"));
    }
    // `auto` backtests before it fits: start those first so the pool ends together.
    jobs.sort_by_key(|(i, m)| (m != AUTO, *i));
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = jobs.len();
    let results: Vec<std::result::Result<Vec<CurveScore>, Failure>> = jobs
        .par_iter()
        .map(|(i, m)| {
            let r = score(&all[*i], m, options);
            on_job(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            r
        })
        .collect();
    let mut curves = Vec::new();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(c) => curves.extend(c),
            Err(f) => failures.push(f),
        }
    }
    let cells = cells(&all, &jobs, &curves, &failures);
    let overall = overall(&cells);
    Ok(Benchmark {
        spec: spec.display().to_string(),
        check: options.check,
        cases: all.len(),
        cells,
        overall,
        curves,
        failures,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The task a case poses to a backtest's law filter: a size forecast needs a joint law, any
/// other a schedule law fitted on the model's own runs.
fn law_task(c: &Case) -> Task {
    if c.task == "size" {
        Task::Size
    } else {
        Task::Schedule
    }
}

/// `auto`, then every law that applies to the case, by name.
fn methods_for(c: &Case) -> Vec<String> {
    let mut out = vec![AUTO.to_string()];
    out.extend(
        backtest::default_methods(&c.fit, &[law_task(c)], &LawOptions::default())
            .into_iter()
            .map(|m| m.name),
    );
    out
}

/// The fitting options `fit` uses on the command line when no flag is given.
/// What `fit` uses on the command line, with the prior the other ladders give: no ladder is
/// judged with a prior its own curves set (`law::priors`).
fn command_line_options(o: &Options, ladder: &str) -> FitOptions {
    FitOptions {
        priors: !o.no_prior,
        skip_fraction: o.skip_fraction,
        prior_centers: [(
            "alpha".to_string(),
            crate::law::priors::alpha_center(Some(ladder)),
        )]
        .into(),
        ..FitOptions::default()
    }
}

fn score(c: &Case, method: &str, o: &Options) -> std::result::Result<Vec<CurveScore>, Failure> {
    let fail = |e: Error| Failure {
        ladder: c.ladder.clone(),
        task: c.task.clone(),
        case: c.label.clone(),
        method: method.to_string(),
        error: e.to_string(),
    };
    let (scored, chose) = if method == AUTO {
        let auto = backtest::auto::fit_auto(
            &c.fit,
            &command_line_options(o, &c.ladder),
            None,
            false,
            &|_, _| {},
        )
        .map_err(fail)?;
        let chose = auto.method.name.clone();
        let s = engine::score_fitted(
            auto.law.as_ref(),
            auto.record,
            auto.fit_seconds,
            &c.fit,
            &c.test,
        )
        .map_err(fail)?;
        (s, Some(chose))
    } else {
        let mut m = Method::new(method, &LawOptions::default());
        let cl = command_line_options(o, &c.ladder);
        m.options.skip_fraction = cl.skip_fraction;
        m.options.priors = cl.priors;
        m.options.prior_centers = cl.prior_centers;
        let l = law::build(&m.law, m.options.law.clone()).map_err(fail)?;
        let s = engine::fit_and_score(l.as_ref(), &m.options, &c.fit, &c.test).map_err(fail)?;
        (s, None)
    };
    let mut out = Vec::new();
    for r in &scored.per_run {
        let Some(last) = scored.residuals.iter().rev().find(|p| p.run == r.name) else {
            continue;
        };
        out.push(CurveScore {
            ladder: c.ladder.clone(),
            task: c.task.clone(),
            case: c.label.clone(),
            method: method.to_string(),
            run: r.name.clone(),
            points: r.points,
            pred_e: r.metrics.pred_e,
            mae: r.metrics.mae,
            final_err: last.rel_err,
            distance: last.step_ratio.max(last.size_ratio.unwrap_or(1.0)),
            chose: chose.clone(),
        });
    }
    if out.iter().any(|s| !s.pred_e.is_finite()) {
        return Err(fail(Error::failed("a forecast error is not a number")));
    }
    Ok(out)
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Bins are closed above: a run forecast to exactly 5× its fit's last step is in ×2–5.
fn bin_of(distance: f64) -> usize {
    BIN_EDGES
        .iter()
        .take_while(|&&e| distance > e * (1.0 + 1e-9))
        .count()
}

/// One cell per (ladder, task, method) in the order cases and methods first appear.
fn cells(
    all: &[Case],
    jobs: &[(usize, String)],
    curves: &[CurveScore],
    failures: &[Failure],
) -> Vec<Cell> {
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for (i, c) in all.iter().enumerate() {
        for (_, m) in jobs.iter().filter(|(j, _)| *j == i) {
            let k = (c.ladder.clone(), c.task.clone(), m.clone());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys.into_iter()
        .map(|(ladder, task, method)| {
            let mine: Vec<&CurveScore> = curves
                .iter()
                .filter(|s| s.ladder == ladder && s.task == task && s.method == method)
                .collect();
            let failed = failures
                .iter()
                .filter(|f| f.ladder == ladder && f.task == task && f.method == method)
                .count();
            let cases = all
                .iter()
                .filter(|c| c.ladder == ladder && c.task == task)
                .count();
            let bins = (0..BIN_NAMES.len())
                .map(|b| {
                    let errs: Vec<f64> = mine
                        .iter()
                        .filter(|s| bin_of(s.distance) == b)
                        .map(|s| s.final_err)
                        .collect();
                    Bin {
                        name: BIN_NAMES[b],
                        curves: errs.len(),
                        mean_signed: mean(&errs),
                        max_abs: errs.iter().map(|e| e.abs()).max_by(f64::total_cmp),
                    }
                })
                .collect();
            let mut chose: Vec<(String, usize)> = Vec::new();
            let mut seen_cases: Vec<&str> = Vec::new();
            for s in &mine {
                if let Some(ch) = &s.chose {
                    if seen_cases.contains(&s.case.as_str()) {
                        continue;
                    }
                    seen_cases.push(&s.case);
                    match chose.iter_mut().find(|(n, _)| n == ch) {
                        Some(e) => e.1 += 1,
                        None => chose.push((ch.clone(), 1)),
                    }
                }
            }
            Cell {
                pred_e: mean(&mine.iter().map(|s| s.pred_e).collect::<Vec<_>>()),
                mae: mean(&mine.iter().map(|s| s.mae).collect::<Vec<_>>()),
                curves: mine.len(),
                ladder,
                task,
                method,
                cases,
                failed,
                bins,
                chose,
            }
        })
        .collect()
}

/// Each method's mean PredE over the cells of its kind (size forecasts, or forecasts of a
/// model's own runs) that every method of that kind forecast without a failure: the same
/// cells for every method, so the means compare.
fn overall(cells: &[Cell]) -> Vec<(String, f64, usize)> {
    let mut out = Vec::new();
    for size in [false, true] {
        let kind: Vec<&Cell> = cells
            .iter()
            .filter(|c| (c.task == "size") == size)
            .collect();
        let mut methods: Vec<&str> = Vec::new();
        for c in &kind {
            if !methods.contains(&c.method.as_str()) {
                methods.push(&c.method);
            }
        }
        let mut keys: Vec<(&str, &str)> = Vec::new();
        for c in &kind {
            if !keys.contains(&(c.ladder.as_str(), c.task.as_str())) {
                keys.push((&c.ladder, &c.task));
            }
        }
        let clean = |m: &str, k: &(&str, &str)| -> Option<f64> {
            kind.iter()
                .find(|c| c.method == m && c.ladder == k.0 && c.task == k.1)
                .filter(|c| c.failed == 0)
                .and_then(|c| c.pred_e)
        };
        let shared: Vec<&(&str, &str)> = keys
            .iter()
            .filter(|k| methods.iter().all(|m| clean(m, k).is_some()))
            .collect();
        for m in methods {
            let v: Vec<f64> = shared.iter().filter_map(|k| clean(m, k)).collect();
            if let Some(p) = mean(&v) {
                let kind_name = if size { "size" } else { "own runs" };
                out.push((format!("{m} ({kind_name})"), p, v.len()));
            }
        }
    }
    out
}
