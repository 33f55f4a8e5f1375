//! Final-loss laws over (N, D) beyond Chinchilla, for ladders whose runs differ in tokens per
//! parameter or whose data exponent visibly changes with model size:
//!
//! - `overtrain` (Gadre et al. 2024, "Language models scale reliably with over-training"):
//!   `L = E + (a·M^η + b·M^(−η))·C^(−η)` with `C = 6ND` and `M = D/N` tokens per parameter. It is
//!   Chinchilla with one exponent for N and D (α = β = 2η), written so that a ladder at one
//!   `M` pins η from compute alone and over-trained runs move only the `M` terms;
//! - `chinchilla-nd`: Chinchilla whose data term's coefficient and exponent depend on N,
//!   `L = E + A·n^(−α) + B·n^(−κ)·d^(−β·n^ρ)`, the shape Farseer (Li et al. 2025) argues for
//!   (`L = E + U(N) + B(N)·D^(−A(N))`) with power laws for `B(N)` and `A(N)`; κ = ρ = 0 is
//!   Chinchilla.
//!
//! Both read ln N and ln D like [`super::chinchilla`]. `chinchilla-nd` measures `n = N/1e9` and
//! `d = D/1e10` so that its coefficients stay O(1) and ρ does not trade off against β through
//! the scale of ln N.

use super::joint::linear_coefficients;
use super::{Features, Law, LawKind, LawOptions, TablePoints, Transform};
use crate::error::Result;

/// Reference scales of `chinchilla-nd`.
pub const N_REF: f64 = 1e9;
pub const D_REF: f64 = 1e10;

const LN_6: f64 = 1.791_759_469_228_055;

pub struct Overtrain {
    options: LawOptions,
}

impl Overtrain {
    pub fn new(options: LawOptions) -> Self {
        Overtrain { options }
    }
}

/// ln M and ln C of point `i`.
fn ln_m_c(f: &Features, i: usize) -> (f64, f64) {
    let (ln_n, ln_d) = (f.columns[0][i], f.columns[1][i]);
    (ln_d - ln_n, LN_6 + ln_n + ln_d)
}

impl Law for Overtrain {
    fn name(&self) -> &'static str {
        "overtrain"
    }

    fn param_names(&self) -> &'static [&'static str] {
        &["E", "a", "b", "eta"]
    }

    fn transforms(&self) -> &'static [Transform] {
        &[Transform::Log; 4]
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
        let (e, a, b, eta) = (p[0], p[1], p[2], p[3]);
        for (i, o) in out.iter_mut().enumerate() {
            let (ln_m, ln_c) = ln_m_c(f, i);
            *o = e + a * (eta * (ln_m - ln_c)).exp() + b * (-eta * (ln_m + ln_c)).exp();
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        let (e, a, b, eta) = (p[0], p[1], p[2], p[3]);
        for (i, o) in out.iter_mut().enumerate() {
            let (ln_m, ln_c) = ln_m_c(f, i);
            let up = (eta * (ln_m - ln_c)).exp();
            let down = (-eta * (ln_m + ln_c)).exp();
            *o = e + a * up + b * down;
            let row = &mut jac[4 * i..4 * i + 4];
            row[0] = 1.0;
            row[1] = up;
            row[2] = down;
            row[3] = a * up * (ln_m - ln_c) - b * down * (ln_m + ln_c);
        }
    }

    /// For fixed η the law is linear in (E, a, b): least squares on a grid of η, every
    /// solution with positive coefficients a start.
    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let mut starts = Vec::new();
        for eta in [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4] {
            let sol = linear_coefficients(data, |f, i| {
                let (ln_m, ln_c) = ln_m_c(f, i);
                vec![
                    1.0,
                    (eta * (ln_m - ln_c)).exp(),
                    (-eta * (ln_m + ln_c)).exp(),
                ]
            });
            if let Some(s) = sol {
                let floor = |x: f64, fallback: f64| if x > 0.0 { x } else { fallback };
                let e = floor(s[0], 0.5 * data_min(data));
                starts.push(vec![e, floor(s[1], 1.0), floor(s[2], 1.0), eta]);
            }
        }
        if starts.is_empty() {
            starts.push(vec![1.0, 100.0, 100.0, 0.15]);
        }
        starts
    }

    /// The equivalent Chinchilla exponents (α = β = 2η) and the compute exponent of the loss
    /// at fixed tokens per parameter (η).
    fn derived_quantities(&self) -> Vec<super::Derived> {
        vec![("alpha_beta", |p: &[f64]| 2.0 * p[3])]
    }
}

/// The smallest observed loss, a scale for starts whose fitted E came out non-positive.
fn data_min(data: &[(&Features, &[f64])]) -> f64 {
    data.iter()
        .flat_map(|(_, y)| y.iter().copied())
        .fold(f64::INFINITY, f64::min)
        .min(10.0)
}

pub struct ChinchillaNd {
    options: LawOptions,
}

impl ChinchillaNd {
    pub fn new(options: LawOptions) -> Self {
        ChinchillaNd { options }
    }
}

const ND_NAMES: &[&str] = &["E", "A", "alpha", "B", "kappa", "beta", "rho"];
const ND_TRANSFORMS: &[Transform] = &[
    Transform::Log,
    Transform::Log,
    Transform::Log,
    Transform::Log,
    Transform::Identity,
    Transform::Log,
    Transform::Identity,
];

/// ln n and ln d of point `i` (reference scales applied).
fn ln_nd(f: &Features, i: usize) -> (f64, f64) {
    (f.columns[0][i] - N_REF.ln(), f.columns[1][i] - D_REF.ln())
}

/// The size term, the data term, and the data exponent β·n^ρ of point `i`.
fn nd_terms(p: &[f64], f: &Features, i: usize) -> (f64, f64, f64, f64, f64) {
    let (a_, alpha, b_, kappa, beta, rho) = (p[1], p[2], p[3], p[4], p[5], p[6]);
    let (ln_n, ln_d) = ln_nd(f, i);
    let size = a_ * (-alpha * ln_n).exp();
    let exponent = beta * (rho * ln_n).exp();
    let data = b_ * (-kappa * ln_n - exponent * ln_d).exp();
    (size, data, exponent, ln_n, ln_d)
}

impl Law for ChinchillaNd {
    fn name(&self) -> &'static str {
        "chinchilla-nd"
    }

    fn param_names(&self) -> &'static [&'static str] {
        ND_NAMES
    }

    fn transforms(&self) -> &'static [Transform] {
        ND_TRANSFORMS
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
        for (i, o) in out.iter_mut().enumerate() {
            let (size, data, ..) = nd_terms(p, f, i);
            *o = p[0] + size + data;
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        let (a_, b_) = (p[1], p[3]);
        for (i, o) in out.iter_mut().enumerate() {
            let (size, data, exponent, ln_n, ln_d) = nd_terms(p, f, i);
            *o = p[0] + size + data;
            let row = &mut jac[7 * i..7 * i + 7];
            row[0] = 1.0;
            row[1] = size / a_;
            row[2] = -ln_n * size;
            row[3] = data / b_;
            row[4] = -ln_n * data;
            // ∂exponent/∂β = n^ρ = exponent/β; ∂exponent/∂ρ = exponent·ln n.
            row[5] = -ln_d * data * exponent / p[5];
            row[6] = -ln_d * data * exponent * ln_n;
        }
    }

    /// For fixed exponents the law is linear in (E, A, B): least squares on a grid of
    /// (α, β, κ, ρ) around Chinchilla's, the best solutions with positive coefficients.
    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let mut candidates = Vec::new();
        for alpha in [0.15, 0.3, 0.5] {
            for beta in [0.15, 0.3, 0.5] {
                for kappa in [-0.2, 0.0, 0.2] {
                    for rho in [-0.1, 0.0, 0.1] {
                        let p0 = [1.0, 1.0, alpha, 1.0, kappa, beta, rho];
                        let Some(s) = linear_coefficients(data, |f, i| {
                            let (size, dterm, ..) = nd_terms(&p0, f, i);
                            vec![1.0, size, dterm]
                        }) else {
                            continue;
                        };
                        if s[0] > 0.0 && s[1] > 0.0 && s[2] > 0.0 {
                            candidates.push(vec![s[0], s[1], alpha, s[2], kappa, beta, rho]);
                        }
                    }
                }
            }
        }
        let mut starts = super::best_candidates(self, data, candidates, 8);
        if starts.is_empty() {
            starts.push(vec![0.5 * data_min(data), 1.0, 0.3, 1.0, 0.0, 0.3, 0.0]);
        }
        starts
    }

    /// How many model sizes the table holds: ρ and κ need at least three to be more than a
    /// restatement of the data.
    fn diagnostics(&self, _params: &[f64], fit_features: &[Features]) -> Vec<String> {
        let mut ns: Vec<f64> = fit_features
            .iter()
            .flat_map(|f| f.columns[0].iter().copied())
            .collect();
        ns.sort_by(f64::total_cmp);
        ns.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
        if ns.len() < 4 {
            vec![format!(
                "chinchilla-nd lets the data term change with N; {} model size(s) cannot \
                 determine that (use chinchilla, or a ladder of ≥ 4 sizes)",
                ns.len()
            )]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::{build, LawOptions};

    fn features() -> Features {
        let n = [7e7, 4e8, 1.2e9, 7e9, 7e10];
        let d = [1.4e9, 3e10, 2.4e10, 2e11, 1.4e12];
        log_features(&n, &d)
    }

    fn log_features(n: &[f64], d: &[f64]) -> Features {
        crate::law::size_forms::log_columns(&TablePoints { n, d }).unwrap()
    }

    fn jacobian_matches(law: &dyn Law, p: &[f64]) {
        let f = features();
        let (m, k) = (f.len(), p.len());
        let (mut out, mut jac) = (vec![0.0; m], vec![0.0; m * k]);
        law.predict_jacobian(p, &f, &mut out, &mut jac);
        let mut plain = vec![0.0; m];
        law.predict(p, &f, &mut plain);
        assert_eq!(out, plain);
        for j in 0..k {
            let h = 1e-6 * p[j].abs().max(1e-3);
            let (mut up, mut dn) = (p.to_vec(), p.to_vec());
            up[j] += h;
            dn[j] -= h;
            let (mut yu, mut yd) = (vec![0.0; m], vec![0.0; m]);
            law.predict(&up, &f, &mut yu);
            law.predict(&dn, &f, &mut yd);
            for i in 0..m {
                let fd = (yu[i] - yd[i]) / (2.0 * h);
                let an = jac[i * k + j];
                assert!(
                    (fd - an).abs() <= 1e-6 * an.abs().max(1e-6),
                    "{} param {j} point {i}: {fd} vs {an}",
                    law.name()
                );
            }
        }
    }

    #[test]
    fn jacobians_match_finite_differences() {
        let o = build("overtrain", LawOptions::default()).unwrap();
        jacobian_matches(o.as_ref(), &[1.7, 3e3, 5e2, 0.16]);
        let nd = build("chinchilla-nd", LawOptions::default()).unwrap();
        jacobian_matches(nd.as_ref(), &[1.7, 0.4, 0.34, 0.5, 0.1, 0.28, -0.05]);
    }

    /// Gadre et al.'s law is Chinchilla with α = β = 2η and A, B rescaled by 6^(−η): both
    /// give the same loss everywhere.
    #[test]
    fn overtrain_is_chinchilla_with_one_exponent() {
        let (e, a, b, eta) = (1.8, 4e3, 7e2, 0.17);
        let f = features();
        let mut got = vec![0.0; f.len()];
        build("overtrain", LawOptions::default())
            .unwrap()
            .predict(&[e, a, b, eta], &f, &mut got);
        let chin = [
            e,
            a * 6f64.powf(-eta),
            b * 6f64.powf(-eta),
            2.0 * eta,
            2.0 * eta,
        ];
        let mut want = vec![0.0; f.len()];
        build("chinchilla", LawOptions::default())
            .unwrap()
            .predict(&chin, &f, &mut want);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-12 * w, "{g} vs {w}");
        }
    }

    /// With κ = ρ = 0 the N-dependent law is Chinchilla at the reference scales.
    #[test]
    fn chinchilla_nd_reduces_to_chinchilla() {
        let (e, a, alpha, b, beta) = (1.7, 0.5, 0.34, 0.8, 0.28);
        let f = features();
        let mut got = vec![0.0; f.len()];
        build("chinchilla-nd", LawOptions::default())
            .unwrap()
            .predict(&[e, a, alpha, b, 0.0, beta, 0.0], &f, &mut got);
        let chin = [e, a * N_REF.powf(alpha), b * D_REF.powf(beta), alpha, beta];
        let mut want = vec![0.0; f.len()];
        build("chinchilla", LawOptions::default())
            .unwrap()
            .predict(&chin, &f, &mut want);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-12 * w, "{g} vs {w}");
        }
    }
}
