//! Human-readable printers. JSON printers are serde; these are the tables people read. Both print
//! the same library values, so the two never disagree.

use crate::fit::{FitRecord, RunMetrics};
use crate::metrics::Metrics;
use std::fmt::Write;

/// A number in 6 significant digits, switching to exponent form for very small or large values.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.5e}")
    } else {
        let digits = if a == 0.0 {
            5
        } else {
            (5 - a.log10().floor() as i32).clamp(0, 9) as usize
        };
        format!("{v:.digits$}")
    }
}

/// A number as a user typed it, but never as a 150-digit decimal: Rust's `{}` writes 1e150 out
/// in full, so anything long switches to the shortest exponent form (`1e150`, `-4.2e-22`).
pub fn num(v: f64) -> String {
    let plain = format!("{v}");
    if plain.len() <= 12 {
        plain
    } else {
        format!("{v:e}")
    }
}

/// `x` with `digits` decimals, as tables print losses, switching to the exponent form where
/// fixed notation would run to hundreds of digits.
pub fn fixed(x: f64, digits: usize) -> String {
    let a = x.abs();
    if a.is_finite() && a >= 1e6 {
        format!("{x:.digits$e}")
    } else {
        format!("{x:.digits$}")
    }
}

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

#[cfg(test)]
mod tests {
    use super::{num, short};

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(num(1e150), "1e150");
        assert_eq!(num(-4.2e-22), "-4.2e-22");
        assert_eq!(num(3e-4), "0.0003");
        assert_eq!(num(24000.0), "24000");
        assert_eq!(num(f64::INFINITY), "inf");
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(2.6278012), "2.62780");
        assert_eq!(short(0.42966), "0.429660");
        assert_eq!(short(523.42464371), "523.425");
        assert_eq!(short(1.6292e-5), "1.62920e-5");
    }
}
