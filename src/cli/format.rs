//! Human-readable printers. JSON printers are serde; these are the tables people read. Both print
//! the same library values, so the two never disagree.

use crate::backtest::Backtest;
use crate::base::numbers::{fixed, short};
use crate::fit::metrics::Metrics;
use crate::fit::{FitRecord, RunMetrics};
use std::fmt::Write;

pub fn metrics_header() -> String {
    format!(
        "{:<24} {:>5} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "run", "role", "points", "R²", "MAE", "RMSE", "PredE", "WorstE"
    )
}

pub fn metrics_row(name: &str, role: &str, points: &str, m: &Metrics) -> String {
    let f = |x: f64| fixed(x, 5);
    format!(
        "{:<24} {:>5} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        name,
        role,
        points,
        f(m.r2),
        f(m.mae),
        f(m.rmse),
        f(m.pred_e),
        f(m.worst_e)
    )
}

/// The metrics table of `eval` (and the fit summary).
pub fn metrics_table(
    runs: &[RunMetrics],
    fit_mean: Option<&Metrics>,
    test_mean: Option<&Metrics>,
) -> String {
    let mut s = metrics_header();
    s.push('\n');
    for r in runs {
        let _ = writeln!(
            s,
            "{}",
            metrics_row(
                &r.name,
                &r.role.to_string(),
                &r.points.to_string(),
                &r.metrics
            )
        );
    }
    if let Some(m) = fit_mean {
        let _ = writeln!(s, "{}", metrics_row("mean over fit runs", "fit", "", m));
    }
    if let Some(m) = test_mean {
        let _ = writeln!(s, "{}", metrics_row("mean over test runs", "test", "", m));
    }
    s
}

/// The summary `fit` prints.
pub fn fit_summary(rec: &FitRecord, names: &[&str]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} law fitted to {} run(s), {} points",
        rec.law,
        rec.data.len(),
        rec.points_used
    );
    for n in names {
        if let Some(v) = rec.params.get(*n) {
            let bound = if rec.at_bound.iter().any(|b| b == n) {
                "  (at bound)"
            } else {
                ""
            };
            let _ = writeln!(s, "  {n:<8} = {}{bound}", short(*v));
        }
    }
    let at_best = (rec.starts_at_best * rec.starts as f64).round();
    let _ = writeln!(
        s,
        "objective {:.6e}, {} after {} L-BFGS iterations; {at_best}/{} starts reached the best",
        rec.objective,
        if rec.converged {
            "converged"
        } else {
            "NOT converged"
        },
        rec.iterations,
        rec.starts
    );
    s.push_str(&metrics_table(
        &rec.metrics.runs,
        Some(&rec.metrics.fit_mean),
        None,
    ));
    // What a law learned from the fit runs, and what it had to assume (collapse).
    if let Some(c) = &rec.options.law.collapse {
        for n in &c.notes {
            let _ = writeln!(s, "collapse: {n}");
        }
    }
    if let Some(c) = rec.calibration.as_ref().filter(|c| c.folds == 0) {
        let _ = writeln!(
            s,
            "intervals: the fit runs are too short to backtest; intervals use the open data's \
             calibration of this law (90 % multiplier {}), which transfers unevenly between \
             data sets: treat them as rough",
            short(c.multiplier(0.9).unwrap_or(f64::NAN))
        );
    } else if let Some(c) = &rec.calibration {
        let tasks: Vec<&str> = c.tasks.iter().map(|t| t.name()).collect();
        let _ = writeln!(
            s,
            "intervals: calibrated on {} held-out points of {} backtest folds of the fit runs \
             ({}); 90 % multiplier {}, distance slope {}",
            c.points,
            c.folds,
            tasks.join(", "),
            short(c.multiplier(0.9).unwrap_or(f64::NAN)),
            short(c.slope)
        );
    }
    if !rec.trustworthy {
        s.push_str("NOT TRUSTWORTHY: see the warnings\n");
    }
    for w in &rec.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{:.3} %", 100.0 * v),
        None => "-".into(),
    }
}

/// Folds, summary, skipped tasks and the overall pick, as aligned text.
pub fn backtest_table(b: &Backtest) -> String {
    let mut s = String::new();
    let width = b
        .folds
        .iter()
        .map(|f| f.fold.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mw = b
        .methods
        .iter()
        .map(|m| m.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    for &t in &b.tasks {
        let folds: Vec<_> = b.folds.iter().filter(|f| f.task == t).collect();
        if folds.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "{t}\n  {:>3}  {:<width$}  {:<mw$} {:>9} {:>9} {:>9} {:>7}\n",
            "#", "held out", "method", "PredE", "WorstE", "final", "fit s"
        ));
        let labels = b.fold_labels(t);
        for f in &folds {
            let k = labels.iter().position(|l| *l == f.fold).unwrap_or(0) + 1;
            let flag = match (&f.error, f.trustworthy) {
                (Some(e), _) => format!("  failed: {e}"),
                (None, false) => "  (untrustworthy fit)".into(),
                _ => String::new(),
            };
            s.push_str(&format!(
                "  {k:>3}  {:<width$}  {:<mw$} {:>9} {:>9} {:>9} {:>7.2}{flag}\n",
                f.fold,
                f.method,
                pct(f.pred_e),
                pct(f.worst_e),
                pct(f.final_err),
                f.fit_seconds
            ));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "{:<10} {:<mw$} {:>5} {:>10} {:>10} {:>10} {:>7}\n",
        "task", "method", "folds", "PredE", "WorstE", "final", "fit s"
    ));
    for r in &b.summary {
        let mut note = String::new();
        if r.failed > 0 {
            note.push_str(&format!("  {} failed, not ranked", r.failed));
        }
        if r.untrustworthy > 0 {
            note.push_str(&format!("  {} untrustworthy", r.untrustworthy));
        }
        s.push_str(&format!(
            "{:<10} {:<mw$} {:>5} {:>10}{} {:>10} {:>10} {:>7.2}{note}\n",
            r.task.name(),
            r.method,
            r.folds,
            pct(r.pred_e),
            if r.best { "*" } else { " " },
            pct(r.worst_e),
            pct(r.final_err),
            r.fit_seconds
        ));
    }
    s.push_str(
        "* lowest mean PredE of the task. PredE, WorstE and final are means over folds of the \
         held-out curves' mean, largest and last-point relative errors.\n",
    );
    for k in &b.skipped {
        s.push_str(&format!("{}: not run: {}\n", k.task, k.reason));
    }
    if let Some(best) = &b.overall_best {
        s.push_str(&format!(
            "best over the tasks every method was scored on: {best}\n"
        ));
    }
    if !b.calibration.is_empty() {
        let how = if b.calibration.iter().any(|c| c.nested) {
            "each fold's calibrated on its own fit runs, as fit stores it"
        } else {
            "each fold's calibrated on the other folds of its task"
        };
        s.push_str(&format!(
            "\ndo the 90 % intervals hold? ({how}; parameter and model error, growing with the \
             distance beyond the fit)\n{:<10} {:<mw$} {:>5} {:>10} {:>10} \
             {:>11}\n",
            "task", "method", "folds", "points in", "finals in", "half-width"
        ));
        for c in &b.calibration {
            s.push_str(&format!(
                "{:<10} {:<mw$} {:>5} {:>9.0}% {:>9.0}% {:>10.3}%\n",
                c.task.name(),
                c.method,
                c.folds,
                100.0 * c.point_coverage,
                100.0 * c.final_coverage,
                100.0 * c.mean_half_width
            ));
        }
    }
    s
}
