//! Goodness-of-fit metrics of laws.md §0: per curve, then the unweighted mean over curves (so a
//! 72 000-step run counts as much as a 16 000-step one, as in the papers' tables).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub r2: f64,
    pub mae: f64,
    pub rmse: f64,
    /// Mean relative error, mean(|L − P| / L).
    pub pred_e: f64,
    /// Largest relative error, max(|L − P| / L).
    pub worst_e: f64,
}

/// Metrics of one curve. `observed` and `predicted` have the same, non-zero length.
pub fn curve_metrics(observed: &[f64], predicted: &[f64]) -> Metrics {
    let n = observed.len() as f64;
    let mean = observed.iter().sum::<f64>() / n;
    let (mut ss_res, mut ss_tot, mut abs, mut rel, mut worst) = (0.0, 0.0, 0.0, 0.0, 0.0f64);
    for (&y, &p) in observed.iter().zip(predicted) {
        let e = y - p;
        ss_res += e * e;
        ss_tot += (y - mean) * (y - mean);
        abs += e.abs();
        rel += e.abs() / y;
        worst = worst.max(e.abs() / y);
    }
    Metrics {
        r2: if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            f64::NAN
        },
        mae: abs / n,
        rmse: (ss_res / n).sqrt(),
        pred_e: rel / n,
        worst_e: worst,
    }
}

/// Unweighted mean over curves; `None` for no curves.
pub fn mean(curves: &[Metrics]) -> Option<Metrics> {
    if curves.is_empty() {
        return None;
    }
    let n = curves.len() as f64;
    let avg = |f: fn(&Metrics) -> f64| curves.iter().map(f).sum::<f64>() / n;
    Some(Metrics {
        r2: avg(|m| m.r2),
        mae: avg(|m| m.mae),
        rmse: avg(|m| m.rmse),
        pred_e: avg(|m| m.pred_e),
        worst_e: avg(|m| m.worst_e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        let m = curve_metrics(&[2.0, 4.0], &[1.0, 4.0]);
        assert_eq!(m.mae, 0.5);
        assert!((m.rmse - 0.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(m.pred_e, 0.25);
        assert_eq!(m.worst_e, 0.5);
        // ss_res = 1, ss_tot = 2
        assert_eq!(m.r2, 0.5);
        let avg = mean(&[m, curve_metrics(&[1.0, 3.0], &[1.0, 3.0])]).unwrap();
        assert_eq!(avg.mae, 0.25);
        assert_eq!(avg.r2, 0.75);
    }
}
