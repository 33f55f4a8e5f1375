//! `fit --law auto`: let the user's own runs pick the law. The backtest runs on the fit runs
//! only (test runs are never loaded), the method that forecast the hidden parts best wins, and
//! its means are kept in the fit file next to its competitors', so a reader can see by how much
//! it won.

use super::{default_methods, run, Backtest, Method, Plan, Task};
use crate::error::{Error, Result};
pub use crate::fit::record::Selection;
use crate::fit::{FitOptions, RunWeighting};
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
