//! `fit --law auto`: let the user's own runs pick the law. The backtest runs on the fit runs
//! only (test runs are never loaded), the method that forecast the hidden parts best wins, and
//! its means are kept in the fit file next to its competitors', so a reader can see by how much
//! it won.

use super::{default_methods, run, Backtest, Method, Plan, Task};
use crate::error::{Error, Result};
pub use crate::fit::record::Selection;
use crate::fit::{FitOptions, FitRecord, RunWeighting};
use crate::law::{self, Law};
use crate::runs::manifest::Role;
use crate::runs::Run;

/// The tasks and competitors of `--law auto` on these runs: schedule laws on the per-size
/// tasks when the fit runs have one model size, joint laws on the size task when they have
/// several.
/// Every competitor is fitted with `base`, and with `weigh` if given, else its law's default
/// run weighting.
pub fn plan_for(runs: &[Run], base: &FitOptions, weigh: Option<RunWeighting>) -> Plan {
    let sizes = super::folds::by_size(runs).len();
    let sized = runs.iter().all(|r| r.params.is_some());
    let tasks = if sized && sizes > 1 {
        vec![Task::Size]
    } else {
        vec![Task::Schedule, Task::Horizon, Task::Truncate]
    };
    let methods = default_methods(runs, &tasks, &base.law)
        .into_iter()
        .map(|m| Method {
            options: FitOptions {
                law: m.options.law,
                run_weighting: weigh.unwrap_or(m.options.run_weighting),
                ..base.clone()
            },
            ..m
        })
        .collect();
    Plan {
        tasks,
        methods,
        nested: false,
        inner: false,
    }
}

/// Backtest the fit runs and choose; every competitor is fitted with `base` (its law options
/// and fitting options). `runs` may hold test runs; they are dropped first.
pub fn choose(
    runs: &[Run],
    base: &FitOptions,
    weigh: Option<RunWeighting>,
    on_fold: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Method, Selection, Backtest)> {
    let fit_runs: Vec<Run> = runs
        .iter()
        .filter(|r| r.role == Role::Fit)
        .cloned()
        .collect();
    if fit_runs.is_empty() {
        return Err(Error::input("no run has role \"fit\"; nothing to fit"));
    }
    let plan = plan_for(&fit_runs, base, weigh);
    // Without a fold to choose by, or with no law that forecast every fold, the choice falls
    // to the default law (the plan's first: annealing for one size, joint-additive across
    // sizes). `auto` never refuses: a run 10 % done still gets a forecast, marked as a default.
    let default_law = |why: String, b: Backtest| -> Result<(Method, Selection, Backtest)> {
        let method = plan.methods.first().cloned().ok_or_else(|| {
            Error::input(format!("--law auto: no law applies to these runs ({why})"))
        })?;
        let selection = Selection {
            chosen: method.name.clone(),
            score: super::method_scores(&b.summary, &b.methods),
            tasks: b.tasks.clone(),
            summary: b.summary.clone(),
            skipped: b.skipped.clone(),
            runs: fit_runs.iter().map(|r| r.name.clone()).collect(),
            fallback: Some(why),
        };
        Ok((method, selection, b))
    };
    let b = match run(&fit_runs, &plan, on_fold) {
        Ok(b) => b,
        Err(Error::BadInput(why)) if !plan.methods.is_empty() => {
            let (_, skipped) = super::splits_for(&fit_runs, &plan.tasks, false);
            let empty = Backtest {
                tasks: plan.tasks.clone(),
                methods: plan.methods.iter().map(|m| m.name.clone()).collect(),
                summary: Vec::new(),
                folds: Vec::new(),
                skipped,
                overall_best: None,
                calibration: Vec::new(),
            };
            return default_law(why, empty);
        }
        Err(e) => return Err(e),
    };
    let score = super::method_scores(&b.summary, &b.methods);
    let Some(chosen) = b.overall_best.clone() else {
        let why = format!(
            "no law forecast every backtest fold of the fit runs ({})",
            b.summary
                .iter()
                .filter(|s| s.failed > 0)
                .map(|s| format!(
                    "{} {}: {} of {} folds failed",
                    s.task, s.method, s.failed, s.folds
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return default_law(why, b);
    };
    let method = plan
        .methods
        .iter()
        .find(|m| m.name == chosen)
        .cloned()
        .expect("the overall best is one of the plan's methods");
    let selection = Selection {
        chosen,
        score,
        tasks: b.tasks.clone(),
        summary: b.summary.clone(),
        skipped: b.skipped.clone(),
        runs: fit_runs.iter().map(|r| r.name.clone()).collect(),
        fallback: None,
    };
    Ok((method, selection, b))
}

/// What `fit --law auto` makes.
pub struct Auto {
    /// The chosen law fitted on every fit run, its selection (and interval) inside.
    pub record: FitRecord,
    /// The law as it was fitted (the one the record's parameters belong to).
    pub law: Box<dyn Law>,
    pub method: Method,
    /// The backtest of the fit runs it chose by.
    pub backtest: Backtest,
    /// Seconds spent fitting the chosen law (the backtest not counted).
    pub fit_seconds: f64,
}

/// Choose by backtest ([`choose`]), fit the chosen law on the fit runs and keep the selection in
/// the record; with `intervals`, the interval calibrated on the chosen method's folds too.
/// One function for the command line and the forecasting benchmark, so the benchmark scores
/// exactly what a user gets.
pub fn fit_auto(
    runs: &[Run],
    base: &FitOptions,
    weigh: Option<RunWeighting>,
    intervals: bool,
    on_fold: &(dyn Fn(usize, usize) + Sync),
) -> Result<Auto> {
    let (method, selection, table) = choose(runs, base, weigh, on_fold)?;
    let chosen = law::build(&method.law, method.options.law.clone())?;
    let fit_runs: Vec<Run> = runs
        .iter()
        .filter(|r| r.role == Role::Fit)
        .cloned()
        .collect();
    let start = std::time::Instant::now();
    let mut record = crate::fit::fit(chosen.as_ref(), &fit_runs, &method.options)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let fell_back = selection.fallback.is_some();
    record.selection = Some(selection);
    if intervals {
        // A default law gets the interval `fit --law <it>` would store; a winner, the one its
        // own backtest folds calibrate.
        let calibrated = if fell_back {
            super::calibration::self_calibrate(&fit_runs, &method.law, &method.options, on_fold)?
        } else {
            super::calibration::Calibrated::from_folds(
                &table.tasks,
                &method.name,
                &table.folds,
                false,
            )
        };
        if let Some(c) = calibrated {
            c.store(&mut record);
        }
    }
    Ok(Auto {
        record,
        law: chosen,
        method,
        backtest: table,
        fit_seconds,
    })
}
