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

/// The Gauss–Newton precision of the parameters at the optimum, in coordinates scaled by |p|
/// (so its inverse is relative), with the residual scale it used.
struct Precision {
    scaled: DMatrix<f64>,
    scale: Vec<f64>,
    sigma: f64,
    /// RMS of the residuals averaged in blocks of [`NOISE_BLOCKS`] per run: the smooth misfit.
    misfit: f64,
}

/// Blocks per run the misfit is measured on: enough to follow a misfit's shape, few enough
/// that a block of a per-step log averages its noise away.
const NOISE_BLOCKS: usize = 50;

/// The precision of the log-residual least-squares problem at `params` (`at`, one per run),
/// a prior on ln p adding its precision 1/log_sd² (Laplace's approximation). `None` with no
/// more points than parameters.
fn precision(
    params: &[f64],
    at: &[Predicted],
    losses: &[&[f64]],
    priors: &[Prior],
    correlated: bool,
) -> Option<Precision> {
    let k = params.len();
    // Columns scaled by |p_j|, so the errors come out relative; a parameter at 0 keeps scale 1.
    let scale: Vec<f64> = params
        .iter()
        .map(|p| if p.abs() > 1e-300 { p.abs() } else { 1.0 })
        .collect();
    let mut jtj = DMatrix::<f64>::zeros(k, k);
    let (mut ss, mut n, mut lag1) = (0.0, 0usize, 0.0);
    let (mut block_ss, mut blocks) = (0.0, 0usize);
    for (p, loss) in at.iter().zip(losses) {
        let (pred, jac) = (&p.pred, &p.jac);
        let mut previous: Option<f64> = None;
        let size = pred.len().div_ceil(NOISE_BLOCKS).max(1);
        for chunk in (0..pred.len()).collect::<Vec<_>>().chunks(size) {
            let r: Vec<f64> = chunk
                .iter()
                .filter(|&&i| pred[i] > 0.0 && pred[i].is_finite())
                .map(|&i| loss[i].ln() - pred[i].ln())
                .collect();
            if !r.is_empty() {
                let m = r.iter().sum::<f64>() / r.len() as f64;
                block_ss += m * m;
                blocks += 1;
            }
        }
        for i in 0..pred.len() {
            if !(pred[i] > 0.0 && pred[i].is_finite()) {
                continue;
            }
            let r = loss[i].ln() - pred[i].ln();
            ss += r * r;
            n += 1;
            lag1 += previous.map_or(0.0, |q| q * r);
            previous = Some(r);
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
        return None;
    }
    let sigma = (ss / (n - k) as f64).sqrt().max(RESIDUAL_FLOOR);
    // Loss-curve residuals are not independent: a smooth misfit leaves long runs of one sign,
    // and n correlated points carry the information of n(1 − ρ)/(1 + ρ) independent ones
    // (lag-1 autocorrelation ρ, AR(1)). Without this the Laplace errors of a fit to a dense
    // log are too small by the square root of that factor.
    // Identification (relative_standard_errors) keeps the independent-residual precision its
    // ±100 % threshold was set with; forecast intervals (laplace) use the honest one.
    let rho = if ss > 0.0 && correlated {
        (lag1 / ss).clamp(0.0, 0.999)
    } else {
        0.0
    };
    let inflation = (1.0 + rho) / (1.0 - rho);
    let mut scaled = jtj / (sigma * sigma * inflation);
    for p in priors {
        scaled[(p.param, p.param)] += 1.0 / (p.log_sd * p.log_sd);
    }
    // An eigen-decomposition of a matrix with a non-finite entry (sigma overflowed on an
    // extreme row) panics in nalgebra: no precision is the honest answer.
    if !(scaled.iter().all(|x| x.is_finite()) && sigma.is_finite()) {
        return None;
    }
    let misfit = if blocks > 0 {
        (block_ss / blocks as f64)
            .sqrt()
            .clamp(RESIDUAL_FLOOR, sigma)
    } else {
        sigma
    };
    Some(Precision {
        scaled,
        scale,
        sigma,
        misfit,
    })
}

/// Relative standard error of each parameter (`SE(p)/|p|`, infinite where neither the data nor
/// a prior move the prediction), from the Jacobian of the log residuals at `params` (`at`, one
/// per run). A prior on ln p adds its precision, so a parameter the data leave flat but a
/// stated prior holds is reported with the prior's error, not as undetermined.
pub fn relative_standard_errors(
    params: &[f64],
    at: &[Predicted],
    losses: &[&[f64]],
    priors: &[Prior],
) -> Vec<f64> {
    let k = params.len();
    let Some(p) = precision(params, at, losses, priors, false) else {
        return vec![f64::INFINITY; k];
    };
    let eig = SymmetricEigen::new(p.scaled);
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

/// The Laplace (Gauss–Newton) approximation of the parameters' uncertainty at the optimum:
/// what a forecast's parameter interval is computed from, at any point, without refitting.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Laplace {
    /// Covariance of the natural parameters, in the law's order. Directions the data leave
    /// flat get the variance of the smallest eigenvalue kept (1e-12 of the largest), so a
    /// forecast that depends on them gets a huge interval instead of a silent zero.
    pub covariance: Vec<Vec<f64>>,
    /// The fit's smooth misfit: the RMS of its log residuals averaged in 50 blocks per run
    /// (floored at [`RESIDUAL_FLOOR`]), the scale the model-error part of an interval is
    /// measured in.
    pub residual_sd: f64,
    /// The point-to-point noise left: √(RMS² − misfit²) of the log residuals.
    #[serde(default)]
    pub noise_sd: f64,
}

/// [`Laplace`] at `params`; `None` when there are no more points than parameters.
pub fn laplace(
    params: &[f64],
    at: &[Predicted],
    losses: &[&[f64]],
    priors: &[Prior],
) -> Option<Laplace> {
    let k = params.len();
    let p = precision(params, at, losses, priors, true)?;
    let eig = SymmetricEigen::new(p.scaled);
    let top = eig.eigenvalues.iter().copied().fold(0.0f64, f64::max);
    if !(top > 0.0 && top.is_finite()) {
        return None;
    }
    let floor = 1e-12 * top;
    let mut covariance = vec![vec![0.0; k]; k];
    for (m, &lambda) in eig.eigenvalues.iter().enumerate() {
        let inv = 1.0 / lambda.max(floor);
        for (a, row) in covariance.iter_mut().enumerate() {
            for (b, cell) in row.iter_mut().enumerate() {
                *cell += eig.eigenvectors[(a, m)]
                    * eig.eigenvectors[(b, m)]
                    * inv
                    * p.scale[a]
                    * p.scale[b];
            }
        }
    }
    Some(Laplace {
        covariance,
        residual_sd: p.misfit,
        noise_sd: (p.sigma * p.sigma - p.misfit * p.misfit).max(0.0).sqrt(),
    })
}

impl Laplace {
    /// Standard deviation of ln(prediction) at one point, from the prediction and its
    /// Jacobian row (natural parameters).
    pub fn log_sd(&self, pred: f64, jac_row: &[f64]) -> f64 {
        if pred.is_nan() || pred <= 0.0 {
            return f64::INFINITY;
        }
        let g: Vec<f64> = jac_row.iter().map(|j| j / pred).collect();
        let mut var = 0.0;
        for (a, ga) in g.iter().enumerate() {
            for (b, gb) in g.iter().enumerate() {
                var += ga * self.covariance[a][b] * gb;
            }
        }
        if var.is_finite() {
            var.max(0.0).sqrt()
        } else {
            f64::INFINITY
        }
    }
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

    /// With residuals that alternate in sign (no positive autocorrelation) the Laplace
    /// covariance is the inverse of the precision the standard errors come from; a smooth
    /// misfit (runs of one sign) widens it, and the misfit/noise split follows the residuals.
    #[test]
    fn the_laplace_covariance_agrees_with_the_standard_errors_and_widens_for_smooth_misfit() {
        let law = build("annealing", LawOptions::default()).unwrap();
        let s1: Vec<f64> = (1..=200).map(|i| 0.01 * i as f64).collect();
        let s2: Vec<f64> = s1.iter().map(|x| (x - 1.0).max(0.0) * 0.3).collect();
        let ln_s1: Vec<f64> = s1.iter().map(|x| x.ln()).collect();
        let features = Features {
            columns: vec![s1.clone(), s2, ln_s1],
            aux: vec![],
        };
        let params = [2.5, 0.5, 0.5, 0.4];
        let mut clean = vec![0.0; s1.len()];
        law.predict(&params, &features, &mut clean);
        let with = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
            clean
                .iter()
                .enumerate()
                .map(|(i, y)| y * (1.0 + f(i)))
                .collect()
        };
        let alternating = with(&|i| if i % 2 == 0 { 1e-3 } else { -1e-3 });
        let at = [Predicted::new(law.as_ref(), &params, &features)];
        let rel = relative_standard_errors(&params, &at, &[alternating.as_slice()], &[]);
        let l = laplace(&params, &at, &[alternating.as_slice()], &[]).unwrap();
        for j in 0..4 {
            let sd = l.covariance[j][j].sqrt() / params[j];
            assert!(
                (sd - rel[j]).abs() <= 1e-6 * rel[j],
                "{j}: {sd} vs {}",
                rel[j]
            );
        }
        // Alternating residuals average out in blocks: noise, not misfit.
        assert!(l.noise_sd > 5.0 * l.residual_sd, "{l:?}");
        // The same size of residual as a slow wave: misfit, and wider parameters.
        let wave = with(&|i| 1e-3 * (i as f64 / 30.0).sin());
        let w = laplace(&params, &at, &[wave.as_slice()], &[]).unwrap();
        assert!(w.residual_sd > 5.0 * w.noise_sd, "{w:?}");
        assert!(w.covariance[0][0] > 4.0 * l.covariance[0][0]);
    }
}
