//! The parts of a fit file that a backtest of the fit runs writes: how `--law auto` chose the law
//! (`selection`) and how forecast error grows beyond the fit (`calibration`). They are plain
//! data here, beside the record that stores them, so that the record depends on nothing above
//! the fit; the evaluation layer makes them (`backtest::select`, `backtest::calibration`) and
//! gives them their behaviour (`forecast::interval` draws bands from an [`ErrorModel`]).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a backtest hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Leave one run of a size out: another schedule at a known size.
    Schedule,
    /// Fit the shorter runs of a size, forecast the longer ones.
    Horizon,
    /// Fit the first 25 % or 50 % of a run, forecast the rest ("my run is half done").
    Truncate,
    /// Fit the smaller models, forecast the larger ones' whole curves.
    Size,
}

impl Task {
    pub const ALL: [Task; 4] = [Task::Schedule, Task::Horizon, Task::Truncate, Task::Size];

    pub fn name(self) -> &'static str {
        match self {
            Task::Schedule => "schedule",
            Task::Horizon => "horizon",
            Task::Truncate => "truncate",
            Task::Size => "size",
        }
    }

    pub fn parse(s: &str) -> Result<Task> {
        Task::ALL
            .into_iter()
            .find(|t| t.name() == s.trim())
            .ok_or_else(|| {
                Error::input(format!(
                    "unknown backtest task '{s}' (tasks: schedule, horizon, truncate, size)"
                ))
            })
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a task offers no fold on these runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub task: Task,
    pub reason: String,
}

/// A method's mean over a task's folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub task: Task,
    pub method: String,
    pub folds: usize,
    /// Folds whose fit failed; a method that failed any fold is not ranked.
    pub failed: usize,
    /// Folds scored with a fit flagged untrustworthy.
    pub untrustworthy: usize,
    pub pred_e: Option<f64>,
    pub worst_e: Option<f64>,
    pub final_err: Option<f64>,
    #[serde(default)]
    pub fit_seconds: f64,
    /// The lowest mean PredE of the task among methods that scored every fold.
    pub best: bool,
}

/// What `--law auto` recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub chosen: String,
    /// Each competitor's PredE averaged over the tasks every competitor was scored on.
    pub score: Vec<(String, f64)>,
    pub tasks: Vec<Task>,
    pub summary: Vec<TaskSummary>,
    pub skipped: Vec<Skipped>,
    /// Runs the backtest read: the fit runs, no other.
    pub runs: Vec<String>,
    /// Why the backtest could not choose, when it could not (no fold to score, or no law
    /// that forecast every fold): the law chosen is then the default, not a winner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// What a forecast's distance beyond the fit is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// Forward area S1 over the fit runs' largest.
    S1,
    /// Model size over the largest fit size.
    Size,
}

/// The model-error half of an interval, calibrated on a backtest. Its behaviour (the multiplier
/// at a level, bands, the open data's floor) is in `interval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorModel {
    pub distance: Distance,
    /// Slope k of the distance term g(d, x) = 1 + k·ln(max(d, 1)) + m·x.
    pub slope: f64,
    /// Slope m of the deeper-anneal term (x = S2 beyond the fit, over its largest S1).
    #[serde(default)]
    pub s2_slope: f64,
    /// (level, q) pairs: the interval is ln(pred) ± q·σ(x) at that level.
    pub multipliers: Vec<(f64, f64)>,
    /// Held-out points and final points the multipliers were taken from.
    pub points: usize,
    pub finals: usize,
    /// Folds and tasks of the backtest, for the record's reader.
    pub folds: usize,
    pub tasks: Vec<Task>,
    /// Not calibrated on forecasts like the one asked: the open data's multipliers (runs too
    /// short to backtest), or a run's head backtested on itself and widened
    /// ([`ErrorModel::widened_for_inner_folds`]).
    #[serde(default)]
    pub floored: bool,
    /// How far apart the law's errors on two schedules can lie: √2 × the RMS of the signed
    /// final-loss errors (relative) of the backtest's held-out schedules (of all its folds
    /// when it held out fewer than two). `plan` adds it to its parameter draws, so that a gap
    /// between candidates smaller than what the law misjudges is called indistinguishable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_sd: Option<f64>,
}
