//! Other size laws users expect next to Chinchilla (laws.md §4):
//!
//! - `kaplan`: the joint form of Kaplan et al. (2020), `L = [(N_c/N)^(α_N/α_D) + D_c/D]^(α_D)`,
//!   which has no irreducible loss term;
//! - `power`: a saturating power law in one variable, `L = E + A·x^(−α)`, with x the model size
//!   N, the tokens D or the compute C = 6ND (`LawOptions::variable`).
//!
//! Both take a table of finished runs and work on ln N and ln D, like [`super::chinchilla`].

use super::{Features, Law, LawKind, LawOptions, TablePoints, Transform};
use crate::error::{Error, Result};

/// ln N and ln D per point, checking that both are positive and finite.
pub(crate) fn log_columns(t: &TablePoints) -> Result<Features> {
    for (&n, &d) in t.n.iter().zip(t.d) {
        if !(n > 0.0 && d > 0.0 && n.is_finite() && d.is_finite()) {
            return Err(Error::input(format!(
                "model size and tokens must be positive and finite, got N = {}, D = {}",
                crate::base::numbers::num(n),
                crate::base::numbers::num(d)
            )));
        }
    }
    Ok(Features {
        columns: vec![
            t.n.iter().map(|x| x.ln()).collect(),
            t.d.iter().map(|x| x.ln()).collect(),
        ],
        aux: vec![],
    })
}

pub struct Kaplan {
    options: LawOptions,
}

impl Kaplan {
    pub fn new(options: LawOptions) -> Self {
        Kaplan { options }
    }
}

impl Law for Kaplan {
    fn name(&self) -> &'static str {
        "kaplan"
    }

    fn param_names(&self) -> &'static [&'static str] {
        &["Nc", "Dc", "alpha_N", "alpha_D"]
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
        log_columns(t)
    }

    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        let (ln_nc, ln_dc, an, ad) = (p[0].ln(), p[1].ln(), p[2], p[3]);
        for (i, o) in out.iter_mut().enumerate() {
            let u = ((an / ad) * (ln_nc - f.columns[0][i])).exp();
            let v = (ln_dc - f.columns[1][i]).exp();
            *o = (u + v).powf(ad);
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        let (nc, dc, an, ad) = (p[0], p[1], p[2], p[3]);
        for i in 0..out.len() {
            let ln_ratio = nc.ln() - f.columns[0][i];
            let u = ((an / ad) * ln_ratio).exp();
            let v = (dc.ln() - f.columns[1][i]).exp();
            let s = u + v;
            let l = s.powf(ad);
            out[i] = l;
            let row = &mut jac[4 * i..4 * i + 4];
            row[0] = l * an * u / (s * nc);
            row[1] = l * ad * v / (s * dc);
            row[2] = l * u * ln_ratio / s;
            row[3] = l * (s.ln() - u * ln_ratio * an / (ad * s));
        }
    }

    /// Around Kaplan et al.'s published values (N_c 8.8e13, D_c 5.4e13, α_N 0.076, α_D 0.095).
    fn starts(&self, _data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let mut starts = Vec::new();
        for nc in [1e12, 1e13, 8.8e13, 1e15] {
            for dc in [1e11, 1e12, 5.4e13, 1e15] {
                for an in [0.05, 0.076, 0.15, 0.3] {
                    for ad in [0.05, 0.095, 0.2, 0.4] {
                        starts.push(vec![nc, dc, an, ad]);
                    }
                }
            }
        }
        starts
    }
}

/// Which variable a one-variable power law uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    N,
    D,
    C,
}

impl Variable {
    pub fn parse(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "n" | "params" => Ok(Variable::N),
            "d" | "tokens" => Ok(Variable::D),
            "c" | "compute" | "flops" => Ok(Variable::C),
            other => Err(Error::input(format!(
                "unknown power-law variable '{other}': expected n, d or c (steps need a curve law)"
            ))),
        }
    }
}

pub struct Power {
    options: LawOptions,
    variable: Variable,
}

impl Power {
    pub fn new(options: LawOptions) -> Result<Self> {
        let variable = Variable::parse(options.variable.as_deref().unwrap_or("c"))?;
        Ok(Power { options, variable })
    }
}

impl Law for Power {
    fn name(&self) -> &'static str {
        "power"
    }

    fn param_names(&self) -> &'static [&'static str] {
        &["E", "A", "alpha"]
    }

    fn transforms(&self) -> &'static [Transform] {
        &[Transform::Log, Transform::Log, Transform::Identity]
    }

    fn positive_params(&self) -> &'static [&'static str] {
        &["alpha"]
    }

    fn options(&self) -> &LawOptions {
        &self.options
    }

    fn kind(&self) -> LawKind {
        LawKind::Table
    }

    /// One column: ln x.
    fn table_features(&self, t: &TablePoints) -> Result<Features> {
        let logs = log_columns(t)?;
        let ln_x = match self.variable {
            Variable::N => logs.columns[0].clone(),
            Variable::D => logs.columns[1].clone(),
            Variable::C => logs.columns[0]
                .iter()
                .zip(&logs.columns[1])
                .map(|(n, d)| 6f64.ln() + n + d)
                .collect(),
        };
        Ok(Features {
            columns: vec![ln_x],
            aux: vec![],
        })
    }

    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        for (o, &ln_x) in out.iter_mut().zip(&f.columns[0]) {
            *o = p[0] + p[1] * (-p[2] * ln_x).exp();
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        for (i, &ln_x) in f.columns[0].iter().enumerate() {
            let pw = (-p[2] * ln_x).exp();
            out[i] = p[0] + p[1] * pw;
            jac[3 * i] = 1.0;
            jac[3 * i + 1] = pw;
            jac[3 * i + 2] = -p[1] * ln_x * pw;
        }
    }

    /// E below the smallest loss, and for each α on a grid, A through the largest loss.
    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let (mut lo, mut hi, mut x_lo) = (f64::INFINITY, 0.0f64, f64::INFINITY);
        for (f, loss) in data {
            for (&y, &lx) in loss.iter().zip(&f.columns[0]) {
                lo = lo.min(y);
                hi = hi.max(y);
                x_lo = x_lo.min(lx);
            }
        }
        let mut starts = Vec::new();
        for e_frac in [0.5, 0.8, 0.95] {
            for alpha in [0.05, 0.1, 0.2, 0.35, 0.5, 0.8] {
                let e = e_frac * lo;
                let a = ((hi - e).max(1e-6)) * (alpha * x_lo).exp();
                starts.push(vec![e, a, alpha]);
            }
        }
        starts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_jacobian(law: &dyn Law, p: &[f64]) {
        let n = [1e8, 3e8, 1e9, 1e10];
        let d = [2e9, 1e10, 5e10, 2e11];
        let f = law.table_features(&TablePoints { n: &n, d: &d }).unwrap();
        let k = p.len();
        let (mut out, mut jac) = (vec![0.0; 4], vec![0.0; 4 * k]);
        law.predict_jacobian(p, &f, &mut out, &mut jac);
        for j in 0..k {
            let h = 1e-6 * p[j].abs();
            let (mut up, mut dn) = (p.to_vec(), p.to_vec());
            up[j] += h;
            dn[j] -= h;
            let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
            law.predict(&up, &f, &mut a);
            law.predict(&dn, &f, &mut b);
            for i in 0..4 {
                let fd = (a[i] - b[i]) / (2.0 * h);
                assert!(
                    (fd - jac[i * k + j]).abs() <= 1e-6 * fd.abs().max(1e-9),
                    "{} param {j}: {fd} vs {}",
                    law.name(),
                    jac[i * k + j]
                );
            }
        }
    }

    #[test]
    fn jacobians_match_finite_differences() {
        check_jacobian(
            &Kaplan::new(LawOptions::default()),
            &[8.8e13, 5.4e13, 0.076, 0.095],
        );
        for v in ["n", "d", "c"] {
            let law = Power::new(LawOptions {
                variable: Some(v.into()),
                ..LawOptions::default()
            })
            .unwrap();
            check_jacobian(&law, &[1.7, 300.0, 0.3]);
        }
    }

    #[test]
    fn kaplan_matches_its_formula() {
        let law = Kaplan::new(LawOptions::default());
        let f = law
            .table_features(&TablePoints {
                n: &[1e9],
                d: &[2e10],
            })
            .unwrap();
        let mut out = [0.0];
        law.predict(&[8.8e13, 5.4e13, 0.076, 0.095], &f, &mut out);
        let want = ((8.8e13f64 / 1e9).powf(0.076 / 0.095) + 5.4e13 / 2e10).powf(0.095);
        assert!((out[0] - want).abs() < 1e-12 * want);
    }
}
