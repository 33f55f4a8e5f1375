//! The LR-annealing law of Tissue et al. (2024), laws.md §1:
//! `L(s) = L0 + A·S1(s)^(−α) − C·S2(s)`.
//!
//! Features are S1, S2 and ln S1 at each logged step (ln S1 once here saves a `powf` and a `ln`
//! per point in every objective evaluation). All four parameters are positive (log
//! parametrisation in the fit). Starts are the authors' 54-point grid plus a few data-driven
//! ones: for fixed α the law is linear in (L0, A, C), so a least-squares solve gives a start that
//! is usually already near the optimum.

use super::areas::{annealing_form_gradient, observed_areas};
use super::{Curve, Features, Law, LawOptions, Transform};
use crate::error::Result;
use nalgebra::{DMatrix, DVector};

pub struct Annealing {
    options: LawOptions,
}

const NAMES: &[&str] = &["L0", "A", "alpha", "C"];
const TRANSFORMS: &[Transform] = &[Transform::Log; 4];

impl Annealing {
    pub fn new(options: LawOptions) -> Self {
        Annealing { options }
    }
}

impl Law for Annealing {
    fn name(&self) -> &'static str {
        "annealing"
    }

    fn param_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn transforms(&self) -> &'static [Transform] {
        TRANSFORMS
    }

    fn options(&self) -> &LawOptions {
        &self.options
    }

    fn features(&self, curve: &Curve) -> Result<Features> {
        // The areas at the observed steps only: no per-step arrays, so a forecast at the end of
        // a 20-million-step plan costs the LR array and nothing more.
        let lr = super::effective(self, curve.lr);
        let (a, b) = observed_areas(&lr, self.options.lambda, curve.steps)?;
        let ln_s1 = a.iter().map(|x| x.ln()).collect();
        Ok(Features {
            columns: vec![a, b, ln_s1],
            aux: vec![],
        })
    }

    fn areas_in_features(&self, f: &Features, i: usize) -> Option<(f64, f64)> {
        Some((*f.columns[0].get(i)?, *f.columns[1].get(i)?))
    }

    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        let (l0, a, alpha, c) = (p[0], p[1], p[2], p[3]);
        for ((o, &ln_s1), &s2) in out.iter_mut().zip(&f.columns[2]).zip(&f.columns[1]) {
            *o = l0 + a * (-alpha * ln_s1).exp() - c * s2;
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        let (l0, a, alpha, c) = (p[0], p[1], p[2], p[3]);
        for (i, (&ln_s1, &s2)) in f.columns[2].iter().zip(&f.columns[1]).enumerate() {
            let pow = (-alpha * ln_s1).exp();
            out[i] = l0 + a * pow - c * s2;
            let row = &mut jac[4 * i..4 * i + 4];
            row[0] = 1.0;
            row[1] = pow;
            row[2] = -a * ln_s1 * pow;
            row[3] = -s2;
        }
    }

    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        // The authors' grid (laws.md §1).
        let mut starts = Vec::new();
        for l0 in [0.1, 2.1] {
            for a in [1.0, 11.5, 22.0] {
                for c in [1.0, 11.5, 22.0] {
                    for alpha in [0.0, 0.4, 0.8] {
                        starts.push(vec![l0, a, alpha, c]);
                    }
                }
            }
        }
        // Variable projection: for fixed α, (L0, A, C) by linear least squares.
        let n: usize = data.iter().map(|(f, _)| f.len()).sum();
        if n >= 3 {
            for alpha in [0.2, 0.35, 0.5, 0.65, 0.8, 1.0] {
                let mut x = DMatrix::zeros(n, 3);
                let mut y = DVector::zeros(n);
                let mut row = 0;
                for (f, loss) in data {
                    for i in 0..f.len() {
                        x[(row, 0)] = 1.0;
                        x[(row, 1)] = (-alpha * f.columns[2][i]).exp();
                        x[(row, 2)] = -f.columns[1][i];
                        y[row] = loss[i];
                        row += 1;
                    }
                }
                if let Some(sol) = crate::base::linalg::lstsq(x, &y, 1e-12) {
                    if sol.iter().all(|v| v.is_finite()) {
                        starts.push(vec![
                            sol[0].max(1e-3),
                            sol[1].max(1e-3),
                            alpha,
                            sol[2].max(1e-3),
                        ]);
                    }
                }
            }
        }
        starts
    }

    fn final_loss_lr_gradient(
        &self,
        p: &[f64],
        lr: &[f64],
        _model_size: Option<f64>,
    ) -> Option<Result<(f64, Vec<f64>)>> {
        let lr = self.effective_lr(lr);
        Some(Ok(annealing_form_gradient(
            p[0],
            p[1],
            p[2],
            p[3],
            &lr,
            self.options.lambda,
        )))
    }

    fn diagnostics(&self, _params: &[f64], fit_features: &[Features]) -> Vec<String> {
        // C is identified only by runs whose LR decreases; then the momentum turns positive and
        // S2 rises between logged points. (Warmup alone makes S2 negative and falling, and that
        // pins C only weakly; S2's sign says nothing, since warmup can outweigh a decay.)
        if super::areas::anneals(fit_features, 1) {
            Vec::new()
        } else {
            vec![
                "no fit run anneals (S2 never rises between logged points): C is not identified \
                 by the data, forecasts of decaying schedules are unreliable"
                    .into(),
            ]
        }
    }

    fn structurally_unidentified(&self, fit_features: &[Features]) -> Vec<&'static str> {
        if super::areas::anneals(fit_features, 1) {
            Vec::new()
        } else {
            vec!["C"]
        }
    }

    fn priors(&self) -> Vec<super::Prior> {
        // α only: a weak prior learned from the open ladders (`priors`); L0, A and C scale
        // with the data and have no value that carries across runs.
        vec![super::Prior {
            param: 2,
            center: super::priors::alpha_center(None),
            log_sd: super::priors::ALPHA_LOG_SD,
        }]
    }
}
