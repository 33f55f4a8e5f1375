//! `losscast report`: one self-contained HTML page per study. [`build`] gathers what the page
//! shows into [`ReportData`] (serialised into the page as JSON, so the page's numbers are the
//! fit records' own); [`html::render`] writes the page: tables and static SVG figures that need
//! no JavaScript, and interactive uPlot charts drawn from the JSON by `assets/report.js`.
//!
//! Nothing here fits or forecasts on its own: the fits come from fit files or `fit::fit`, the
//! curves from `predict::run_curve`, and the backtest and plan sections from those commands'
//! JSON, so the page says what the CLI says.

pub mod html;
pub mod size;

use crate::error::Result;
use crate::fit::metrics::Metrics;
use crate::fit::{FitRecord, RunMetrics};
use crate::forecast::predict::RunCurve;
use crate::law::Law;
use crate::runs::manifest::Role;
use crate::runs::{LrSource, Run};
use serde::{Deserialize, Serialize};

/// Everything the page shows, as embedded in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportData {
    pub title: String,
    pub losscast_version: String,
    /// The command line that wrote the page.
    pub command: String,
    /// Untrustworthy fits, extrapolations, unidentified parameters, reading warnings: first on
    /// the page.
    pub flags: Vec<Flag>,
    pub runs: Vec<RunInfo>,
    pub laws: Vec<LawSection>,
    /// Size-law fits over their table of runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<size::SizeSection>,
    /// The table of runs a size-law study reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<TableInfo>,
    /// Forecasts of schedules asked for with `--forecast`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forecasts: Vec<Forecast>,
    /// `backtest --json` of the study's runs, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backtest: Option<serde_json::Value>,
    /// `plan --json` under the first law's fit, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
}

/// A size-law study's table of runs, for the page's runs section and provenance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableInfo {
    pub path: String,
    pub sha256: String,
    pub rows: usize,
    pub notes: Vec<String>,
}

/// One line of the trust panel.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Flag {
    /// "error" (a fit not to be trusted), "warning" or "note".
    pub level: String,
    pub text: String,
}

/// A run as the page lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub name: String,
    pub role: Role,
    pub path: String,
    pub sha256: String,
    pub points: usize,
    pub first_step: Option<i64>,
    pub last_step: Option<i64>,
    pub schedule: String,
    pub lr_source: LrSource,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    /// The observed points (after the fit's filters), once for every law; at most
    /// [`CHART_POINTS`] of them ([`shown`]).
    pub step: Vec<i64>,
    pub loss: Vec<f64>,
    /// The LR over the run, at most [`LR_POINTS`] steps, for the LR chart.
    pub lr_step: Vec<i64>,
    pub lr: Vec<f64>,
}

/// How many points of a run's LR the page carries: enough to draw any schedule's shape.
pub const LR_POINTS: usize = 400;

/// One law's fit and what it says about every run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LawSection {
    pub law: String,
    /// The fit file, when the fit came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_file: Option<String>,
    /// The fit record, exactly as the fit file holds it.
    pub record: FitRecord,
    /// Per run, fit and test alike.
    pub metrics: Vec<RunMetrics>,
    pub fit_mean: Option<Metrics>,
    pub test_mean: Option<Metrics>,
    /// Per run, in the order of [`ReportData::runs`], at the run's observed steps.
    pub curves: Vec<Curve>,
}

/// A law's prediction at a run's observed steps, with its interval where the fit has one; seven
/// significant digits, which is what a chart or a readout can show.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Curve {
    pub predicted: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lo: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hi: Option<Vec<f64>>,
}

/// The points of a run the page carries: all of them up to [`CHART_POINTS`], else that many
/// evenly spaced, the last included. A per-step log of 300 000 points would otherwise make a
/// 12 MB page; metrics are computed on every point before this.
pub fn shown(len: usize) -> Vec<usize> {
    crate::plot::evenly_spaced(len, CHART_POINTS)
}

/// At most this many points of a run go into the page's charts.
pub const CHART_POINTS: usize = 1500;

fn pick<T: Copy>(v: &[T], at: &[usize]) -> Vec<T> {
    at.iter().map(|&i| v[i]).collect()
}

impl From<RunCurve> for Curve {
    fn from(c: RunCurve) -> Self {
        let at = shown(c.predicted.len());
        let round = |v: Vec<f64>| pick(&v, &at).into_iter().map(|x| round_sig(x, 7)).collect();
        Curve {
            predicted: round(c.predicted),
            lo: c.lo.map(round),
            hi: c.hi.map(round),
        }
    }
}

/// A schedule's forecast under each law.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Forecast {
    pub schedule: String,
    /// One `predict --json` per law, in the order of [`ReportData::laws`].
    pub by_law: Vec<serde_json::Value>,
}

impl RunInfo {
    pub fn of(run: &Run) -> Self {
        // The LR array is indexed by step, so the indices are the steps.
        let lr_at = crate::plot::evenly_spaced(run.lr.len(), LR_POINTS);
        RunInfo {
            name: run.name.clone(),
            role: run.role,
            path: run.path.clone(),
            sha256: run.sha256.clone(),
            points: run.steps.len(),
            first_step: run.steps.first().copied(),
            last_step: run.steps.last().copied(),
            schedule: run.schedule.clone(),
            lr_source: run.lr_source,
            notes: run.notes.clone(),
            warnings: run.warnings.clone(),
            step: pick(&run.steps, &shown(run.steps.len())),
            loss: pick(&run.loss, &shown(run.loss.len())),
            // Six significant digits draw any schedule and halve the JSON.
            lr: lr_at.iter().map(|&s| round_sig(run.lr[s], 6)).collect(),
            lr_step: lr_at.iter().map(|&s| s as i64).collect(),
        }
    }
}

fn round_sig(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// A law's section: its metrics and curves over every run of the study.
pub fn law_section(
    law: &dyn Law,
    record: &FitRecord,
    fit_file: Option<String>,
    runs: &[Run],
) -> Result<LawSection> {
    let params = record.param_vector(law)?;
    let (metrics, fit_mean, test_mean) = crate::fit::evaluate(law, &params, runs)?;
    let intervals =
        crate::forecast::interval::Source::of(record, crate::forecast::interval::DEFAULT_LEVEL);
    let curves = runs
        .iter()
        .map(|r| {
            crate::forecast::predict::run_curve(law, &params, r, intervals.as_ref())
                .map(Curve::from)
        })
        .collect::<Result<_>>()?;
    Ok(LawSection {
        law: record.law.clone(),
        fit_file,
        record: record.clone(),
        metrics,
        fit_mean,
        test_mean,
        curves,
    })
}

/// What the trust panel says of a fit: not trustworthy (why), unidentified parameters,
/// parameters at a bound, missing intervals.
pub fn fit_flags(r: &FitRecord, fit_file: Option<&str>) -> Vec<Flag> {
    let mut out = Vec::new();
    let who = match fit_file {
        Some(f) => format!("{} ({f})", r.law),
        None => r.law.clone(),
    };
    if !r.trustworthy {
        out.push(Flag {
            level: "error".into(),
            text: format!(
                "the {who} fit is not trustworthy: {}",
                r.untrustworthy_summary()
                    .unwrap_or_else(|| r.warnings.join("; "))
            ),
        });
    } else {
        out.extend(r.warnings.iter().map(|w| Flag {
            level: "warning".into(),
            text: format!("{who}: {w}"),
        }));
    }
    if !r.unidentified.is_empty() {
        out.push(Flag {
            level: "warning".into(),
            text: format!(
                "{who}: unidentified parameter(s) {}: the runs do not pin them, and forecasts \
                 that depend on them are guesses",
                r.unidentified.join(", ")
            ),
        });
    }
    if r.calibration.is_none() && r.table_domain.is_none() {
        out.push(Flag {
            level: "note".into(),
            text: format!("{who}: no forecast intervals (the fit has no calibration)"),
        });
    }
    out
}

/// `losscast: warning: X` and `note: X` lines a command printed, as flags.
pub fn flags_from_stderr(stderr: &str) -> Vec<Flag> {
    stderr
        .lines()
        .filter_map(|l| {
            l.strip_prefix("losscast: warning: ")
                .map(|t| ("warning", t))
                .or_else(|| l.strip_prefix("note: ").map(|t| ("note", t)))
        })
        .map(|(level, text)| Flag {
            level: level.into(),
            text: text.into(),
        })
        .collect()
}

/// Flags in order of severity, each once.
pub fn sorted_flags(mut flags: Vec<Flag>) -> Vec<Flag> {
    let rank = |l: &str| match l {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    };
    flags.sort_by_key(|f| rank(&f.level));
    let mut seen = std::collections::HashSet::new();
    flags.retain(|f| seen.insert(f.text.clone()));
    flags
}
