//! The Chinchilla parametric law (Hoffmann et al. 2022; Epoch AI's replication), laws.md §3:
//! `L(N, D) = E + A/N^α + B/D^β`.
//!
//! laws.md fits it in the log-sum-exp form `log L̂ = LSE(a − α log N, b − β log D, e)`; that is
//! exactly `ln` of the prediction here, with the optimiser moving `e = ln E`, `a = ln A`,
//! `b = ln B` (log transforms) and α, β directly, so the 4 500-point grid of laws.md §3 is used
//! as published. Features are ln N and ln D, so a prediction costs two `exp`s.

use super::{Features, Law, LawKind, LawOptions, TablePoints, Transform};
use crate::error::{Error, Result};

pub struct Chinchilla {
    options: LawOptions,
}

impl Chinchilla {
    pub fn new(options: LawOptions) -> Self {
        Chinchilla { options }
    }
}

const NAMES: &[&str] = &["E", "A", "B", "alpha", "beta"];
const TRANSFORMS: &[Transform] = &[
    Transform::Log,
    Transform::Log,
    Transform::Log,
    Transform::Identity,
    Transform::Identity,
];

impl Law for Chinchilla {
    fn name(&self) -> &'static str {
        "chinchilla"
    }

    fn param_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn transforms(&self) -> &'static [Transform] {
        TRANSFORMS
    }

    fn positive_params(&self) -> &'static [&'static str] {
        &["alpha", "beta"]
    }

    fn options(&self) -> &LawOptions {
        &self.options
    }

    fn kind(&self) -> LawKind {
        LawKind::Table
    }

    fn table_features(&self, t: &TablePoints) -> Result<Features> {
        super::size_forms::log_columns(t)
    }

    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        let (e, a, b, alpha, beta) = (p[0], p[1], p[2], p[3], p[4]);
        for ((o, &ln_n), &ln_d) in out.iter_mut().zip(&f.columns[0]).zip(&f.columns[1]) {
            *o = e + a * (-alpha * ln_n).exp() + b * (-beta * ln_d).exp();
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        let (e, a, b, alpha, beta) = (p[0], p[1], p[2], p[3], p[4]);
        for (i, (&ln_n, &ln_d)) in f.columns[0].iter().zip(&f.columns[1]).enumerate() {
            let pn = (-alpha * ln_n).exp();
            let pd = (-beta * ln_d).exp();
            out[i] = e + a * pn + b * pd;
            let row = &mut jac[5 * i..5 * i + 5];
            row[0] = 1.0;
            row[1] = pn;
            row[2] = pd;
            row[3] = -a * ln_n * pn;
            row[4] = -b * ln_d * pd;
        }
    }

    /// The 4 500-start grid of laws.md §3 (Epoch AI's): α, β ∈ {0, 0.5, 1, 1.5, 2},
    /// e ∈ {−1, −0.5, 0, 0.5, 1}, a, b ∈ {0, 5, …, 25}.
    fn starts(&self, _data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let mut starts = Vec::with_capacity(4500);
        for alpha in [0.0, 0.5, 1.0, 1.5, 2.0] {
            for beta in [0.0, 0.5, 1.0, 1.5, 2.0] {
                for e in [-1.0f64, -0.5, 0.0, 0.5, 1.0] {
                    for a in [0.0f64, 5.0, 10.0, 15.0, 20.0, 25.0] {
                        for b in [0.0f64, 5.0, 10.0, 15.0, 20.0, 25.0] {
                            starts.push(vec![e.exp(), a.exp(), b.exp(), alpha, beta]);
                        }
                    }
                }
            }
        }
        starts
    }

    /// `a = β/(α+β)` and `b = α/(α+β)`: N_opt ∝ C^a and D_opt ∝ C^b.
    fn derived_quantities(&self) -> Vec<super::Derived> {
        vec![
            ("a", |p: &[f64]| p[4] / (p[3] + p[4])),
            ("b", |p: &[f64]| p[3] / (p[3] + p[4])),
        ]
    }

    fn diagnostics(&self, params: &[f64], _fit_features: &[Features]) -> Vec<String> {
        let (alpha, beta) = (params[3], params[4]);
        if alpha <= 0.0 || beta <= 0.0 {
            vec![format!(
                "a non-positive exponent (alpha = {alpha:.4}, beta = {beta:.4}): loss does not fall \
                 with scale, so compute-optimal allocation is undefined"
            )]
        } else {
            Vec::new()
        }
    }
}

/// Compute-optimal allocation under C = 6ND (laws.md §3).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Allocation {
    pub compute: f64,
    pub n_opt: f64,
    pub d_opt: f64,
    pub tokens_per_param: f64,
    pub loss_pred: f64,
}

/// `N_opt(C) = G·(C/6)^a`, `D_opt(C) = G^(−1)·(C/6)^b`, `G = (αA/(βB))^(1/(α+β))`,
/// `a = β/(α+β)`, `b = α/(α+β)`.
pub fn optimal_allocation(params: &[f64], compute: f64) -> Result<Allocation> {
    let (e, a, b, alpha, beta) = (params[0], params[1], params[2], params[3], params[4]);
    if !(alpha > 0.0 && beta > 0.0) {
        return Err(Error::failed(format!(
            "compute-optimal allocation needs alpha, beta > 0 (alpha = {}, beta = {})",
            crate::base::numbers::num(alpha),
            crate::base::numbers::num(beta)
        )));
    }
    if !(compute > 0.0 && compute.is_finite()) {
        return Err(Error::input(format!(
            "--compute must be a finite number > 0, got {}",
            crate::base::numbers::num(compute)
        )));
    }
    let g = (alpha * a / (beta * b)).powf(1.0 / (alpha + beta));
    let (ea, eb) = (beta / (alpha + beta), alpha / (alpha + beta));
    let n_opt = g * (compute / 6.0).powf(ea);
    let d_opt = (compute / 6.0).powf(eb) / g;
    let out = Allocation {
        compute,
        n_opt,
        d_opt,
        tokens_per_param: d_opt / n_opt,
        loss_pred: e + a * n_opt.powf(-alpha) + b * d_opt.powf(-beta),
    };
    // A = 0 or B = 0 leaves one side of the trade-off free: N or D runs to 0 or infinity.
    let all_finite = [out.n_opt, out.d_opt, out.tokens_per_param, out.loss_pred]
        .iter()
        .all(|x| x.is_finite() && *x > 0.0);
    if !all_finite {
        return Err(Error::failed(format!(
            "no finite compute-optimal allocation: N_opt = {}, D_opt = {}, loss = {} (A and B \
             must both be > 0 for N and D to trade off)",
            crate::base::numbers::num(out.n_opt),
            crate::base::numbers::num(out.d_opt),
            crate::base::numbers::num(out.loss_pred)
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// N_opt·D_opt = C/6, and the allocation minimises the loss along the iso-compute line.
    #[test]
    fn allocation_is_the_iso_compute_minimum() {
        let p = [1.8172, 477.83, 2143.35, 0.3473, 0.3672];
        let c = 5.76e23;
        let opt = optimal_allocation(&p, c).unwrap();
        assert!((opt.n_opt * opt.d_opt * 6.0 / c - 1.0).abs() < 1e-12);
        let loss = |n: f64| p[0] + p[1] * n.powf(-p[3]) + p[2] * (c / 6.0 / n).powf(-p[4]);
        for f in [0.9, 1.1] {
            assert!(loss(opt.n_opt * f) > opt.loss_pred);
        }
        assert!((loss(opt.n_opt) - opt.loss_pred).abs() < 1e-12);
    }
}
