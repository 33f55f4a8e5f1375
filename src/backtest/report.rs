//! A backtest for people: the folds, then each task's means with the best marked, and a figure
//! per task.

use super::{Backtest, Task};
use crate::plot::backtest::{BacktestPlot, MethodErrors};
use std::fmt::Write;

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{:.3} %", 100.0 * v),
        None => "-".into(),
    }
}

/// Folds, summary, skipped tasks and the overall pick, as aligned text.
pub fn table(b: &Backtest) -> String {
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
        let labels: Vec<&str> = unique(folds.iter().map(|f| f.fold.as_str()));
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

fn unique<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for x in it {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// The figure of one task, `None` when the task has no fold.
pub fn figure(b: &Backtest, task: Task) -> Option<BacktestPlot> {
    let folds: Vec<_> = b.folds.iter().filter(|f| f.task == task).collect();
    if folds.is_empty() {
        return None;
    }
    let labels: Vec<String> = unique(folds.iter().map(|f| f.fold.as_str()))
        .into_iter()
        .map(String::from)
        .collect();
    let methods = b
        .methods
        .iter()
        .filter(|m| folds.iter().any(|f| &f.method == *m))
        .map(|m| MethodErrors {
            method: m.clone(),
            errors: labels
                .iter()
                .map(|l| {
                    folds
                        .iter()
                        .find(|f| &f.fold == l && &f.method == m)
                        .and_then(|f| Some((f.pred_e?, f.final_err?)))
                })
                .collect(),
        })
        .collect();
    Some(BacktestPlot {
        title: format!("backtest: {task} ({} folds)", labels.len()),
        folds: labels,
        methods,
    })
}

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
