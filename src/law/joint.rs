//! Joint model-size × schedule laws (laws.md §4): one law over the runs of every model size, so
//! that the whole curve of a larger model can be forecast under any schedule from smaller runs.
//!
//! - `joint-additive`: `L = L0 + A·S1^(−α) + B·n^(−β) − C·S2`, the annealing law plus a size term
//!   (the Forward–Momentum law of Wang et al. has this shape);
//! - `joint-scaled`: the annealing law with L0, A and C each a power law in N,
//!   `L = E + B·n^(−β) + a·n^p·S1^(−α) − c·n^q·S2`, α shared.
//!
//! `n = N / N_REF` with `N_REF = 1e8`: B, a and c are the terms of a 100M-parameter model, so
//! they have the scale of the annealing law's parameters, and ln n stays near 0 for the sizes
//! people run. Otherwise a and p would be almost perfectly correlated (ln N ≈ 17–23).
//!
//! Features are S1, S2, ln S1 (as in the annealing law) and ln n at each logged step.

use super::areas::{annealing_area, annealing_form_gradient, forward_area, observed_indices};
use super::{Curve, Features, Law, LawOptions, Transform};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// The model size the size terms are measured from.
pub const N_REF: f64 = 1e8;

/// S1, S2, ln S1 and ln(N/N_REF) at the logged steps.
fn joint_features(law: &dyn Law, curve: &Curve) -> Result<Features> {
    let n = curve.params.ok_or_else(|| {
        Error::input(format!(
            "law {} needs each run's model size: params = N on the run in a manifest (predict \
             and plan take it as --params N)",
            law.name()
        ))
    })?;
    if !(n.is_finite() && n > 0.0) {
        return Err(Error::input(format!(
            "model size {} is not a positive number",
            crate::base::numbers::num(n)
        )));
    }
    let lr = law.effective_lr(curve.lr);
    let s1 = forward_area(&lr);
    let s2 = annealing_area(&lr, law.options().lambda);
    let idx = observed_indices(curve.steps, &s1)?;
    let a: Vec<f64> = idx.iter().map(|&i| s1[i]).collect();
    let b: Vec<f64> = idx.iter().map(|&i| s2[i]).collect();
    let ln_s1 = a.iter().map(|x| x.ln()).collect();
    let ln_n = vec![(n / N_REF).ln(); idx.len()];
    Ok(Features {
        columns: vec![a, b, ln_s1, ln_n],
        aux: vec![],
    })
}

/// ln(N/N_REF) of a forecast's model size, which a joint law cannot do without.
fn ln_size(law: &dyn Law, model_size: Option<f64>) -> Result<f64> {
    match model_size {
        Some(n) if n.is_finite() && n > 0.0 => Ok((n / N_REF).ln()),
        Some(n) => Err(Error::input(format!(
            "model size {} is not a positive number",
            crate::base::numbers::num(n)
        ))),
        None => Err(Error::input(format!(
            "law {} forecasts a model of a given size: give --params N",
            law.name()
        ))),
    }
}

/// Least squares for the coefficients of fixed basis columns, the data-driven starts of both
/// laws: for fixed exponents each law is linear in its coefficients.
pub(super) fn linear_coefficients(
    data: &[(&Features, &[f64])],
    basis: impl Fn(&Features, usize) -> Vec<f64>,
) -> Option<Vec<f64>> {
    let n: usize = data.iter().map(|(f, _)| f.len()).sum();
    let k = data
        .first()
        .filter(|(f, _)| !f.is_empty())
        .map(|(f, _)| basis(f, 0).len())?;
    if n < k {
        return None;
    }
    let mut x = DMatrix::zeros(n, k);
    let mut y = DVector::zeros(n);
    let mut row = 0;
    for (f, loss) in data {
        for i in 0..f.len() {
            for (j, v) in basis(f, i).into_iter().enumerate() {
                x[(row, j)] = v;
            }
            y[row] = loss[i];
            row += 1;
        }
    }
    let sol = crate::base::linalg::lstsq(x, &y, 1e-12)?;
    Some(sol.iter().copied().collect())
}

/// How many model sizes the fit runs hold: a size exponent needs three.
fn sizes(fit_features: &[Features]) -> usize {
    let mut ns: Vec<f64> = fit_features
        .iter()
        .filter_map(|f| f.columns.get(3).and_then(|c| c.first().copied()))
        .collect();
    ns.sort_by(f64::total_cmp);
    ns.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
    ns.len()
}

fn size_warnings(fit_features: &[Features], beta_fixed_hint: &str) -> Vec<String> {
    match sizes(fit_features) {
        0 | 1 => vec![
            "the fit runs hold one model size: the size terms are not identified, and forecasts \
             for other sizes are meaningless"
                .into(),
        ],
        2 => vec![format!(
            "the fit runs hold two model sizes: L0(N) = E + B·n^(−β) has three parameters for two \
             levels, so β is not identified by the data; fix it ({beta_fixed_hint}) or add a size"
        )],
        _ => Vec::new(),
    }
}

pub struct JointAdditive {
    options: LawOptions,
}

impl JointAdditive {
    pub fn new(options: LawOptions) -> Self {
        JointAdditive { options }
    }
}

const ADD_NAMES: &[&str] = &["L0", "A", "alpha", "B", "beta", "C"];
const ADD_TRANSFORMS: &[Transform] = &[Transform::Log; 6];

impl Law for JointAdditive {
    fn name(&self) -> &'static str {
        "joint-additive"
    }

    fn param_names(&self) -> &'static [&'static str] {
        ADD_NAMES
    }

    fn transforms(&self) -> &'static [Transform] {
        ADD_TRANSFORMS
    }

    fn options(&self) -> &LawOptions {
        &self.options
    }

    fn features(&self, curve: &Curve) -> Result<Features> {
        joint_features(self, curve)
    }

    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        let (l0, a, alpha, b, beta, c) = (p[0], p[1], p[2], p[3], p[4], p[5]);
        for (i, o) in out.iter_mut().enumerate() {
            let (s2, ln_s1, ln_n) = (f.columns[1][i], f.columns[2][i], f.columns[3][i]);
            *o = l0 + a * (-alpha * ln_s1).exp() + b * (-beta * ln_n).exp() - c * s2;
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        let (l0, a, alpha, b, beta, c) = (p[0], p[1], p[2], p[3], p[4], p[5]);
        for i in 0..out.len() {
            let (s2, ln_s1, ln_n) = (f.columns[1][i], f.columns[2][i], f.columns[3][i]);
            let pow_s = (-alpha * ln_s1).exp();
            let pow_n = (-beta * ln_n).exp();
            out[i] = l0 + a * pow_s + b * pow_n - c * s2;
            let row = &mut jac[6 * i..6 * i + 6];
            row[0] = 1.0;
            row[1] = pow_s;
            row[2] = -a * ln_s1 * pow_s;
            row[3] = pow_n;
            row[4] = -b * ln_n * pow_n;
            row[5] = -s2;
        }
    }

    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let mut starts = vec![vec![2.0, 1.0, 0.5, 0.5, 0.3, 1.0]];
        for alpha in [0.3, 0.5, 0.7] {
            for beta in [0.15, 0.35, 0.7] {
                let sol = linear_coefficients(data, |f, i| {
                    vec![
                        1.0,
                        (-alpha * f.columns[2][i]).exp(),
                        (-beta * f.columns[3][i]).exp(),
                        -f.columns[1][i],
                    ]
                });
                if let Some(s) = sol {
                    starts.push(vec![
                        s[0].max(1e-3),
                        s[1].max(1e-3),
                        alpha,
                        s[2].max(1e-3),
                        beta,
                        s[3].max(1e-3),
                    ]);
                }
            }
        }
        starts
    }

    fn diagnostics(&self, _params: &[f64], fit_features: &[Features]) -> Vec<String> {
        size_warnings(fit_features, "--fix beta=0.34, Chinchilla's N exponent")
    }

    fn final_loss_lr_gradient(
        &self,
        p: &[f64],
        lr: &[f64],
        model_size: Option<f64>,
    ) -> Option<Result<(f64, Vec<f64>)>> {
        Some(ln_size(self, model_size).map(|x| {
            let l0 = p[0] + p[3] * (-p[4] * x).exp();
            let lr = self.effective_lr(lr);
            annealing_form_gradient(l0, p[1], p[2], p[5], &lr, self.options.lambda)
        }))
    }

    fn uses_model_size(&self) -> bool {
        true
    }

    fn structurally_unidentified(&self, fit_features: &[Features]) -> Vec<&'static str> {
        let mut out = match sizes(fit_features) {
            0 | 1 => vec!["B", "beta"],
            2 => vec!["beta"],
            _ => vec![],
        };
        if !super::areas::anneals(fit_features, 1) {
            out.push("C");
        }
        out
    }
}

pub struct JointScaled {
    options: LawOptions,
}

impl JointScaled {
    pub fn new(options: LawOptions) -> Self {
        JointScaled { options }
    }
}

const SCALED_NAMES: &[&str] = &["E", "B", "beta", "a", "p", "alpha", "c", "q"];
/// How fast the S1 and S2 terms may change with model size: |p|, |q| ≤ 1, so over a 100×
/// ladder a term changes at most 100-fold. Unbounded, a fit that could not pin q sent it to
/// 40 and forecast losses of 10⁸ nats for a model 1.3× larger (Gemstones, issue 26); the
/// size laws people fit put the reducible loss's size exponent near 0.3.
pub const SIZE_EXPONENT_BOUND: f64 = 1.0;
const SCALED_TRANSFORMS: &[Transform] = &[
    Transform::Log,
    Transform::Log,
    Transform::Log,
    Transform::Log,
    Transform::Interval {
        lo: -SIZE_EXPONENT_BOUND,
        hi: SIZE_EXPONENT_BOUND,
    },
    Transform::Log,
    Transform::Log,
    Transform::Interval {
        lo: -SIZE_EXPONENT_BOUND,
        hi: SIZE_EXPONENT_BOUND,
    },
];

impl Law for JointScaled {
    fn name(&self) -> &'static str {
        "joint-scaled"
    }

    fn param_names(&self) -> &'static [&'static str] {
        SCALED_NAMES
    }

    fn transforms(&self) -> &'static [Transform] {
        SCALED_TRANSFORMS
    }

    fn options(&self) -> &LawOptions {
        &self.options
    }

    fn features(&self, curve: &Curve) -> Result<Features> {
        joint_features(self, curve)
    }

    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        let (e, b, beta, a, pw, alpha, c, q) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
        for (i, o) in out.iter_mut().enumerate() {
            let (s2, ln_s1, ln_n) = (f.columns[1][i], f.columns[2][i], f.columns[3][i]);
            *o = e + b * (-beta * ln_n).exp() + a * (pw * ln_n - alpha * ln_s1).exp()
                - c * (q * ln_n).exp() * s2;
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        let (e, b, beta, a, pw, alpha, c, q) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
        for i in 0..out.len() {
            let (s2, ln_s1, ln_n) = (f.columns[1][i], f.columns[2][i], f.columns[3][i]);
            let size = (-beta * ln_n).exp();
            let fwd = (pw * ln_n - alpha * ln_s1).exp();
            let ann = (q * ln_n).exp() * s2;
            out[i] = e + b * size + a * fwd - c * ann;
            let row = &mut jac[8 * i..8 * i + 8];
            row[0] = 1.0;
            row[1] = size;
            row[2] = -b * ln_n * size;
            row[3] = fwd;
            row[4] = a * ln_n * fwd;
            row[5] = -a * ln_s1 * fwd;
            row[6] = -ann;
            row[7] = -c * ln_n * ann;
        }
    }

    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let mut starts = vec![vec![1.5, 0.5, 0.3, 1.0, 0.0, 0.5, 1.0, 0.0]];
        for alpha in [0.3, 0.5, 0.7] {
            for beta in [0.15, 0.35, 0.7] {
                for pw in [-0.2, 0.0] {
                    let sol = linear_coefficients(data, |f, i| {
                        let ln_n = f.columns[3][i];
                        vec![
                            1.0,
                            (-beta * ln_n).exp(),
                            (pw * ln_n - alpha * f.columns[2][i]).exp(),
                            -f.columns[1][i],
                        ]
                    });
                    if let Some(s) = sol {
                        starts.push(vec![
                            s[0].max(1e-3),
                            s[1].max(1e-3),
                            beta,
                            s[2].max(1e-3),
                            pw,
                            alpha,
                            s[3].max(1e-3),
                            0.0,
                        ]);
                    }
                }
            }
        }
        starts
    }

    fn diagnostics(&self, _params: &[f64], fit_features: &[Features]) -> Vec<String> {
        size_warnings(
            fit_features,
            "--fix beta=0.34, or --fix B=0 for a size-free L0",
        )
    }

    fn final_loss_lr_gradient(
        &self,
        p: &[f64],
        lr: &[f64],
        model_size: Option<f64>,
    ) -> Option<Result<(f64, Vec<f64>)>> {
        Some(ln_size(self, model_size).map(|x| {
            let (e, b, beta, a, pw, alpha, c, q) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
            let lr = self.effective_lr(lr);
            annealing_form_gradient(
                e + b * (-beta * x).exp(),
                a * (pw * x).exp(),
                alpha,
                c * (q * x).exp(),
                &lr,
                self.options.lambda,
            )
        }))
    }

    fn uses_model_size(&self) -> bool {
        true
    }

    fn structurally_unidentified(&self, fit_features: &[Features]) -> Vec<&'static str> {
        let mut out = match sizes(fit_features) {
            0 | 1 => vec!["B", "beta", "p", "q"],
            2 => vec!["beta"],
            _ => vec![],
        };
        if !super::areas::anneals(fit_features, 1) {
            for name in ["c", "q"] {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }
}
