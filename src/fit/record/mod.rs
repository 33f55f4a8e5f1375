//! The fit record: what `fit` writes to `fits/NAME.json` and every later command reads.
//!
//! A record must be enough to reuse the fit (law, parameters, law options) and to judge it
//! (objective, convergence, agreement of starts, bounds, warnings, metrics, and the sha256 of
//! every file it was fitted on). Writing goes through a temp file and a rename, so a crash never
//! leaves half a record behind.

pub mod backtested;
mod validate;

pub use backtested::{Distance, ErrorModel, Selection, Skipped, Task, TaskSummary};

use super::FitOptions;
use crate::error::{Error, Result};
use crate::fit::metrics::Metrics;
use crate::law::{self, Law};
use crate::runs::manifest::Role;
use crate::runs::{LrSource, Run};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitRecord {
    pub law: String,
    pub params: BTreeMap<String, f64>,
    pub options: FitOptions,
    /// Huber-on-log objective (a sum over fit points) at the best parameters, exact features.
    pub objective: f64,
    /// The priors the fit applied and their penalty at the best parameters; the optimiser
    /// minimised `objective + penalty`. Absent when no prior applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<PriorRecord>,
    /// Present when the law optimised on an approximation of itself (see `Law::fit_features`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_approximation: Option<FitApproximation>,
    /// L-BFGS iterations of the best start.
    pub iterations: u64,
    pub iterations_all_starts: u64,
    pub converged: bool,
    pub termination: String,
    /// Cosine between residuals and Jacobian columns at the best point: 0 at a stationary
    /// point, scale-free (MINPACK's gtol test).
    pub orthogonality: f64,
    pub starts: usize,
    pub starts_failed: usize,
    /// Share of starts that ended within 1e-6 (relative) of the best objective.
    pub starts_at_best: f64,
    /// Parameters that ended at a bound.
    pub at_bound: Vec<String>,
    /// Parameters the starts at the best objective disagree on by more than 5 %: a flat
    /// direction of the objective, so forecasts that depend on them are guesses.
    #[serde(default)]
    pub unidentified: Vec<String>,
    /// Linearised standard error of each parameter relative to its value (Gauss–Newton on the
    /// log residuals, residual scale floored at 1e-4); null where the data do not move the
    /// prediction at all. Above 1 the parameter is listed as unidentified.
    #[serde(default)]
    pub relative_errors: BTreeMap<String, Option<f64>>,
    /// False when the fit did not converge, hit a bound or predicts an invalid loss.
    pub trustworthy: bool,
    pub warnings: Vec<String>,
    pub points_used: usize,
    pub metrics: MetricsRecord,
    pub data: Vec<DataRecord>,
    /// The smallest and largest observed loss the fit saw: what the plausibility gate
    /// (`fit::plausible`) holds a forecast from this fit against. Absent in records written
    /// before it existed, and for those the gate falls back to its no-data rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_range: Option<[f64; 2]>,
    /// What the fit runs covered, so forecasts (and `plan`) can tell interpolation from
    /// extrapolation. Absent for table fits and for records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    /// For a size law: the range of model sizes, tokens and compute it was fitted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_domain: Option<TableDomain>,
    /// Case-bootstrap intervals and parameter samples, when `--bootstrap K` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<super::bootstrap::Bootstrap>,
    /// How `--law auto` chose this law: the backtest on the fit runs, every competitor's means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// The parameters' Laplace covariance and the fit's residual scale: the parameter part of
    /// every forecast interval. Absent for records written before intervals existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub laplace: Option<super::identify::Laplace>,
    /// How forecast error grows beyond the fit, calibrated on a backtest of the fit runs: the
    /// model-error part of every forecast interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<ErrorModel>,
    /// The same calibration per backtest task, where a task had two folds: a forecast of a
    /// schedule inside the fit's range, of a longer run, of the rest of a run and of a larger
    /// model err differently, and each uses its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calibration_by_task: Vec<ErrorModel>,
    pub losscast_version: String,
}

/// The range of the schedule summaries (laws.md §1, with the law's λ and warmup convention) and
/// model sizes over the fit runs' observed points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    pub s1_max: f64,
    pub s2_max: f64,
    /// The smallest S2 at a fit point (warmup makes it negative): with `s2_max`, how much
    /// annealing the fit watched. Absent in records written before intervals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s2_min: Option<f64>,
    pub last_step_max: i64,
    /// Smallest and largest model size among the fit runs, when they carry one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<[f64; 2]>,
}

/// Smallest and largest N, D and C = 6ND among a size law's fit points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDomain {
    pub n: [f64; 2],
    pub d: [f64; 2],
    pub c: [f64; 2],
}

impl TableDomain {
    pub fn of(n: &[f64], d: &[f64]) -> Self {
        let range = |v: &mut dyn Iterator<Item = f64>| {
            v.fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], x| {
                [lo.min(x), hi.max(x)]
            })
        };
        TableDomain {
            n: range(&mut n.iter().copied()),
            d: range(&mut d.iter().copied()),
            c: range(&mut n.iter().zip(d).map(|(n, d)| 6.0 * n * d)),
        }
    }
}

/// How faithful a law's fit-time approximation was at the optimum.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitApproximation {
    /// The objective the optimiser saw.
    pub objective: f64,
    /// Largest |approximate − exact| predicted loss over the fit points.
    pub max_abs_prediction_error: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricsRecord {
    pub runs: Vec<RunMetrics>,
    pub fit_mean: Metrics,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMetrics {
    pub name: String,
    pub role: Role,
    pub points: usize,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// Provenance of one fitted run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataRecord {
    pub name: String,
    pub path: String,
    pub sha256: String,
    pub role: Role,
    pub points_used: usize,
    pub points_filtered_out: usize,
    pub points_dropped_before_learning: usize,
    pub min_step: Option<i64>,
    pub max_step: Option<i64>,
    /// The LR schedule (curve fits; absent for a table of runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_source: Option<LrSource>,
    /// How the points were obtained and filtered (e.g. "D = C/(6N)", "dropped the 5 highest losses").
    pub notes: Vec<String>,
    /// What reading the log warned about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl DataRecord {
    pub fn from_run(r: &Run) -> Self {
        DataRecord {
            name: r.name.clone(),
            path: r.path.clone(),
            sha256: r.sha256.clone(),
            role: r.role,
            points_used: r.loss.len(),
            points_filtered_out: r.filtered_out,
            points_dropped_before_learning: r.dropped_before_learning,
            min_step: r.min_step,
            max_step: r.max_step,
            schedule: Some(r.schedule.clone()),
            lr_source: Some(r.lr_source),
            notes: r.notes.clone(),
            warnings: r.warnings.clone(),
        }
    }
}

impl FitRecord {
    /// Read a fit file.
    pub fn load(path: &Path) -> Result<Self> {
        // A fit file is a JSON object: anything else is refused from its first bytes.
        let text = crate::ingest::read_text_checked(path, |head| {
            let head = crate::ingest::without_bom(head);
            let text = String::from_utf8_lossy(&head[..head.len().min(1024)]);
            let text = text.as_ref();
            let start = text.trim_start();
            if start.is_empty() || start.starts_with('{') {
                return Ok(());
            }
            // Where the first character stands, as serde would name it.
            let before = &text[..text.len() - start.len()];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(Error::at(
                path,
                line,
                column,
                "not a losscast fit file: expected a JSON object with \"law\" and \"params\", \
                 as `losscast fit` writes",
            ))
        })
        .map_err(|e| match e {
            Error::BadInput(m) if m.ends_with("file not found") => {
                Error::file(path, "fit file not found")
            }
            other => other,
        })?;
        Self::parse(&text, path)
    }

    /// A fit file's text as a record, checked against its law ([`FitRecord::validate`]);
    /// `path` names it in messages (a registered fit's label is fine).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        // A fit file is a JSON object; anything else gets one plain sentence, not serde's
        // "expected struct FitRecord with 25 elements".
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::at(
                path,
                e.line(),
                e.column(),
                format!("not a losscast fit file: not valid JSON ({e})"),
            )
        })?;
        if !value.get("law").is_some_and(|l| l.is_string())
            || !value.get("params").is_some_and(|p| p.is_object())
        {
            return Err(Error::file(
                path,
                "not a losscast fit file: expected a JSON object with \"law\" and \"params\", \
                 as `losscast fit` writes",
            ));
        }
        let rec: FitRecord = serde_json::from_str(text).map_err(|e| {
            Error::at(
                path,
                e.line(),
                e.column(),
                format!("not a losscast fit file: {e}"),
            )
        })?;
        let law = rec.build_law().map_err(|e| Error::file(path, e))?;
        rec.validate(law.as_ref())
            .map_err(|m| Error::file(path, format!("fit file {m}")))?;
        Ok(rec)
    }

    /// The record as the pretty JSON a fit file holds.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::failed(format!("cannot serialise fit: {e}")))?;
        Ok(format!("{json}\n").into_bytes())
    }

    /// Why the fit is not trustworthy, in one line; `None` when it is.
    pub fn untrustworthy_summary(&self) -> Option<String> {
        if self.trustworthy {
            return None;
        }
        let mut why = Vec::new();
        if !self.unidentified.is_empty() {
            why.push(format!(
                "the data do not determine {}",
                self.unidentified.join(", ")
            ));
        }
        if !self.at_bound.is_empty() {
            why.push(format!("{} at a bound", self.at_bound.join(", ")));
        }
        if !self.converged {
            why.push("the optimiser did not converge".to_string());
        }
        if why.is_empty() {
            why.push(
                self.warnings
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "see its warnings".into()),
            );
        }
        Some(why.join("; "))
    }

    /// The one-line warning every reader of the fit file at `path` prints when it is not
    /// trustworthy.
    pub fn trust_warning(&self, path: &Path) -> Option<String> {
        self.untrustworthy_summary()
            .map(|why| format!("{} is not a trustworthy fit: {why}", path.display()))
    }

    /// Write the record as pretty JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::output::write_atomic(path, &self.to_bytes()?)
    }

    /// The law with the options it was fitted with.
    pub fn build_law(&self) -> Result<Box<dyn Law>> {
        law::build(&self.law, self.options.law.clone())
    }

    /// Parameter values in the law's order, each checked against its domain (a hand-edited
    /// fit file with a negative exponent is refused, not forecast with).
    pub fn param_vector(&self, law: &dyn Law) -> Result<Vec<f64>> {
        let values: Vec<f64> =
            law.param_names()
                .iter()
                .map(|n| {
                    self.params.get(*n).copied().ok_or_else(|| {
                        Error::input(format!("fit file has no value for parameter {n}"))
                    })
                })
                .collect::<Result<_>>()?;
        law::check_params(law, &values)
            .map_err(|m| Error::input(format!("fit file parameter {m}")))?;
        Ok(values)
    }
}

/// The priors of a fit: each parameter's `ln p ~ Normal(ln center, log_sd²)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PriorRecord {
    pub penalty: f64,
    pub terms: Vec<NamedPrior>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NamedPrior {
    pub param: String,
    pub center: f64,
    pub log_sd: f64,
}
