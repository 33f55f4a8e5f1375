//! Which parameters the data determine, for every law, from the shape of the objective at the
//! optimum.
//!
//! Starts that agree tell nothing when only one start is run, or when every start begins where
//! the data leave a parameter alone: a Multi-Power-Law fit to a constant-LR run ends with B, C,
//! β and γ exactly at their start values, because no LR drop ever moves them. The linearised
//! (Gauss–Newton) standard error of each parameter sees that directly: a parameter whose
//! Jacobian column the others can reproduce, or that no prediction depends on, has an error
//! bar larger than itself.

use crate::law::{Features, Law, Prior};
use nalgebra::{DMatrix, SymmetricEigen};

/// The smallest RMS log residual a standard error is computed with. A fit to exact synthetic
/// data has residuals of ~1e-12; with that scale every parameter would look determined to the
/// last digit, however flat its direction. 1e-4 (0.01 % of the loss) is well below the noise of
/// any real loss curve.
pub const RESIDUAL_FLOOR: f64 = 1e-4;

/// A parameter whose relative standard error exceeds this (±100 %) is not determined: the data
/// are as consistent with it doubled or halved, and with it gone.
pub const MAX_RELATIVE_ERROR: f64 = 1.0;

/// Predictions and row-major Jacobian (points × parameters) of one run at fixed parameters.
pub struct Predicted {
    pub pred: Vec<f64>,
    pub jac: Vec<f64>,
}

impl Predicted {
    pub fn new(law: &dyn Law, params: &[f64], f: &Features) -> Self {
        let m = f.len();
        let (mut pred, mut jac) = (vec![0.0; m], vec![0.0; m * params.len()]);
        law.predict_jacobian(params, f, &mut pred, &mut jac);
        Predicted { pred, jac }
    }
}

/// Relative standard error of each parameter (`SE(p)/|p|`, infinite where neither the data nor
/// a prior move the prediction), from the Jacobian of the log residuals at `params` (`at`, one per run). A prior on
/// ln p adds its precision 1/log_sd² (Laplace's approximation), so a parameter the data leave
/// flat but a stated prior holds is reported with the prior's error, not as undetermined.
pub fn relative_standard_errors(
    params: &[f64],
    at: &[Predicted],
    losses: &[&[f64]],
    priors: &[Prior],
) -> Vec<f64> {
    let k = params.len();
    // Columns scaled by |p_j|, so the errors come out relative; a parameter at 0 keeps scale 1.
    let scale: Vec<f64> = params
        .iter()
        .map(|p| if p.abs() > 1e-300 { p.abs() } else { 1.0 })
        .collect();
    let mut jtj = DMatrix::<f64>::zeros(k, k);
    let (mut ss, mut n) = (0.0, 0usize);
    for (p, loss) in at.iter().zip(losses) {
        let (pred, jac) = (&p.pred, &p.jac);
        for i in 0..pred.len() {
            if !(pred[i] > 0.0 && pred[i].is_finite()) {
                continue;
            }
            let r = loss[i].ln() - pred[i].ln();
            ss += r * r;
            n += 1;
            let row: Vec<f64> = (0..k)
                .map(|j| jac[i * k + j] * scale[j] / pred[i])
                .collect();
            if row.iter().any(|x| !x.is_finite()) {
                continue;
            }
            for a in 0..k {
                for b in 0..k {
                    jtj[(a, b)] += row[a] * row[b];
                }
            }
        }
    }
    if n <= k {
        return vec![f64::INFINITY; k];
    }
    let sigma2 = (ss / (n - k) as f64).max(RESIDUAL_FLOOR * RESIDUAL_FLOOR);
    let mut precision = jtj / sigma2;
    for p in priors {
        precision[(p.param, p.param)] += 1.0 / (p.log_sd * p.log_sd);
    }
    let eig = SymmetricEigen::new(precision);
    let top = eig.eigenvalues.iter().copied().fold(0.0f64, f64::max);
    (0..k)
        .map(|j| {
            let mut var = 0.0;
            for (m, &lambda) in eig.eigenvalues.iter().enumerate() {
                let v2 = eig.eigenvectors[(j, m)].powi(2);
                if lambda <= 1e-14 * top || lambda <= 0.0 {
                    if v2 > 1e-6 {
                        return f64::INFINITY;
                    }
                } else {
                    var += v2 / lambda;
                }
            }
            var.sqrt()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::{build, LawOptions};

    /// Without an anneal (S2 = 0) nothing moves the annealing law's C: the data alone leave its
    /// error infinite, and a prior on ln C bounds it by the prior's standard deviation.
    #[test]
    fn a_prior_bounds_what_the_data_leave_undetermined() {
        let law = build("annealing", LawOptions::default()).unwrap();
        let s1: Vec<f64> = (1..=40).map(|i| 0.01 * i as f64).collect();
        let ln_s1: Vec<f64> = s1.iter().map(|x| x.ln()).collect();
        let features = Features {
            columns: vec![s1.clone(), vec![0.0; s1.len()], ln_s1],
            aux: vec![],
        };
        let params = [2.5, 0.5, 0.5, 0.4];
        let mut loss = vec![0.0; s1.len()];
        law.predict(&params, &features, &mut loss);
        for (i, y) in loss.iter_mut().enumerate() {
            *y *= 1.0 + 1e-3 * ((i * 7 % 5) as f64 - 2.0);
        }
        let feats = [features];
        let losses = [loss.as_slice()];
        let at = [Predicted::new(law.as_ref(), &params, &feats[0])];
        let bare = relative_standard_errors(&params, &at, &losses, &[]);
        assert!(bare[3].is_infinite(), "{bare:?}");
        assert!(bare[..3].iter().all(|e| e.is_finite()), "{bare:?}");
        let prior = Prior {
            param: 3,
            center: 0.4,
            log_sd: 0.3,
        };
        let held = relative_standard_errors(&params, &at, &losses, &[prior]);
        assert!((held[3] - 0.3).abs() < 1e-9, "{held:?}");
        for j in 0..3 {
            assert!(
                (held[j] - bare[j]).abs() <= 1e-9 * bare[j],
                "{held:?} vs {bare:?}"
            );
        }
    }
}
