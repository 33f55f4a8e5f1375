//! Side-by-side comparison of laws on one manifest: fit each on the fit runs, score it on the
//! test runs. The question a user asks is "which law forecasts *my* runs best", so the table is
//! about held-out metrics, with the fit objective and time beside them. It is one fold of a
//! backtest: the manifest's roles are the split ([`engine::fit_and_score`]).

use crate::backtest::engine;
use crate::error::{Error, Result};
use crate::fit::metrics::Metrics;
use crate::fit::{FitOptions, FitRecord};
use crate::law::{self, LawOptions};
use crate::runs::manifest::Role;
use crate::runs::Run;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    pub law: String,
    pub n_params: usize,
    /// Training objective (Huber on log residuals, summed over fit points).
    pub objective: f64,
    /// Mean over test runs; `None` when the manifest has no test run.
    pub test: Option<Metrics>,
    pub fit_seconds: f64,
    pub trustworthy: bool,
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub record: FitRecord,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub rows: Vec<ComparisonRow>,
    /// For each column, the law that is best in it (fewest parameters, lowest objective,
    /// highest R², lowest errors, fastest fit).
    pub best: BestPerColumn,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct BestPerColumn {
    pub n_params: Option<String>,
    pub objective: Option<String>,
    pub r2: Option<String>,
    pub mae: Option<String>,
    pub rmse: Option<String>,
    pub pred_e: Option<String>,
    pub worst_e: Option<String>,
    pub fit_seconds: Option<String>,
}

/// Fit every law in `laws` on `runs` and score each on the test runs.
/// `weigh` is `--weigh` ("points" or "runs"); `None` fits each law with its default
/// ([`crate::fit::default_weighting`]). `priors` applies each law's priors ([`crate::law::Law::priors`]).
pub fn compare(
    laws: &[String],
    runs: &[Run],
    law_options: &LawOptions,
    weigh: Option<&str>,
    priors: bool,
) -> Result<Comparison> {
    if laws.is_empty() {
        return Err(Error::input("--laws needs at least one law"));
    }
    let mut rows = Vec::new();
    for name in laws {
        let law = law::build(name, law_options.clone())?;
        let options = FitOptions {
            law: law.options().clone(),
            run_weighting: crate::fit::weighting(weigh, law.as_ref()),
            priors,
            ..FitOptions::default()
        };
        let (fit_runs, test_runs): (Vec<Run>, Vec<Run>) =
            runs.iter().cloned().partition(|r| r.role == Role::Fit);
        let scored = engine::fit_and_score(law.as_ref(), &options, &fit_runs, &test_runs)?;
        let (record, params, test, fit_seconds) = (
            scored.record,
            scored.params,
            scored.test_mean,
            scored.fit_seconds,
        );
        rows.push(ComparisonRow {
            law: record.law.clone(),
            n_params: params.len(),
            objective: record.objective,
            test,
            fit_seconds,
            trustworthy: record.trustworthy,
            warnings: record.warnings.clone(),
            record,
        });
    }
    let best = best_per_column(&rows);
    Ok(Comparison { rows, best })
}

fn best_per_column(rows: &[ComparisonRow]) -> BestPerColumn {
    let pick = |key: &dyn Fn(&ComparisonRow) -> Option<f64>| -> Option<String> {
        rows.iter()
            .filter_map(|r| key(r).filter(|v| v.is_finite()).map(|v| (v, &r.law)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, l)| l.clone())
    };
    BestPerColumn {
        n_params: pick(&|r| Some(r.n_params as f64)),
        objective: pick(&|r| Some(r.objective)),
        r2: pick(&|r| r.test.map(|m| -m.r2)),
        mae: pick(&|r| r.test.map(|m| m.mae)),
        rmse: pick(&|r| r.test.map(|m| m.rmse)),
        pred_e: pick(&|r| r.test.map(|m| m.pred_e)),
        worst_e: pick(&|r| r.test.map(|m| m.worst_e)),
        fit_seconds: pick(&|r| Some(r.fit_seconds)),
    }
}

/// The comparison as a table for people; `*` marks the best law in each column.
pub fn table(c: &Comparison) -> String {
    let mark = |best: &Option<String>, law: &str| {
        if best.as_deref() == Some(law) {
            "*"
        } else {
            " "
        }
    };
    let mut s = format!(
        "{:<12} {:>7} {:>13} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}\n",
        "law", "params", "objective", "test R²", "MAE", "RMSE", "PredE", "WorstE", "fit s"
    );
    for r in &c.rows {
        let b = &c.best;
        let m = |v: Option<f64>, best: &Option<String>| match v {
            Some(v) => format!("{v:.5}{}", mark(best, &r.law)),
            None => "-".into(),
        };
        s.push_str(&format!(
            "{:<12} {:>7} {:>13} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}\n",
            r.law,
            format!("{}{}", r.n_params, mark(&b.n_params, &r.law)),
            format!("{:.4e}{}", r.objective, mark(&b.objective, &r.law)),
            m(r.test.map(|t| t.r2), &b.r2),
            m(r.test.map(|t| t.mae), &b.mae),
            m(r.test.map(|t| t.rmse), &b.rmse),
            m(r.test.map(|t| t.pred_e), &b.pred_e),
            m(r.test.map(|t| t.worst_e), &b.worst_e),
            format!("{:.3}{}", r.fit_seconds, mark(&b.fit_seconds, &r.law)),
        ));
    }
    s.push_str("* best in its column (test metrics are means over the manifest's test runs)\n");
    for r in &c.rows {
        if !r.trustworthy {
            s.push_str(&format!("{}: NOT TRUSTWORTHY\n", r.law));
        }
        for w in &r.warnings {
            s.push_str(&format!("{}: warning: {w}\n", r.law));
        }
    }
    s
}
