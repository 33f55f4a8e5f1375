//! `fit --law auto` whole: choose by backtest ([`super::select`]), fit the choice, and give it
//! the interval its backtest calibrates ([`super::calibration`]). Apart from `select` because
//! calibration itself asks `select` which tasks a fit's runs pose.

use super::select::choose;
use super::{Backtest, Method};
use crate::error::Result;
use crate::fit::{FitOptions, FitRecord, RunWeighting};
use crate::law::{self, Law};
use crate::runs::manifest::Role;
use crate::runs::Run;

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
