//! A law with some parameters pinned (`--fix E=1.69`) or tied to others (`--tie alpha=beta`).
//!
//! Users with few points need both. Rather than teach every law about constraints, this wraps
//! any law: the optimiser sees only the free parameters, predictions expand them to the full
//! set, and the Jacobian adds a tied parameter's column to its source's. The fit record stores
//! the full parameter set, so every reader of a fit works unchanged.

use super::{Curve, Derived, Features, Law, LawKind, LawOptions, TablePoints, Transform};
use crate::error::{Error, Result};

pub struct Constrained {
    inner: Box<dyn Law>,
    /// Inner indices of the free parameters, in order.
    free: Vec<usize>,
    fixed: Vec<(usize, f64)>,
    /// (dependent, source): the dependent parameter takes the source's value.
    tied: Vec<(usize, usize)>,
    names: &'static [&'static str],
    transforms: &'static [Transform],
}

/// `NAME=VALUE,...` for `--fix`.
pub fn parse_fixed(law: &dyn Law, text: &str) -> Result<Vec<(usize, f64)>> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| Error::input(format!("--fix: '{item}' should be NAME=VALUE")))?;
        let idx = index_of(law, k.trim(), "--fix")?;
        let v: f64 = v
            .trim()
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| Error::input(format!("--fix: {k}='{v}' is not a finite number")))?;
        super::check_value(law, idx, v).map_err(|m| Error::input(format!("--fix: {m}")))?;
        out.push((idx, v));
    }
    Ok(out)
}

/// `A=B,...` for `--tie`: A takes B's value.
pub fn parse_tied(law: &dyn Law, text: &str) -> Result<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (a, b) = item
            .split_once('=')
            .ok_or_else(|| Error::input(format!("--tie: '{item}' should be NAME=NAME")))?;
        out.push((
            index_of(law, a.trim(), "--tie")?,
            index_of(law, b.trim(), "--tie")?,
        ));
    }
    Ok(out)
}

fn index_of(law: &dyn Law, name: &str, flag: &str) -> Result<usize> {
    law.param_names()
        .iter()
        .position(|n| *n == name)
        .ok_or_else(|| {
            Error::input(format!(
                "{flag}: law {} has no parameter '{name}'; it has {}",
                law.name(),
                law.param_names().join(", ")
            ))
        })
}

impl Constrained {
    pub fn new(
        inner: Box<dyn Law>,
        fixed: Vec<(usize, f64)>,
        tied: Vec<(usize, usize)>,
    ) -> Result<Self> {
        let k = inner.param_names().len();
        let mut role = vec![None; k];
        for &(i, v) in &fixed {
            if role[i].replace("fixed").is_some() {
                return Err(Error::input(format!(
                    "{} is constrained twice",
                    inner.param_names()[i]
                )));
            }
            // A fixed parameter never goes through its transform, so 0 is allowed: it removes a
            // term (e.g. --fix B=0 drops a joint law's size term).
            super::check_value(inner.as_ref(), i, v)
                .map_err(|m| Error::input(format!("--fix: {m}")))?;
        }
        for &(dep, src) in &tied {
            if dep == src || role[dep].replace("tied").is_some() {
                return Err(Error::input(format!(
                    "{} is constrained twice or tied to itself",
                    inner.param_names()[dep]
                )));
            }
        }
        for &(_, src) in &tied {
            if role[src].is_some() {
                return Err(Error::input(format!(
                    "--tie: the source {} must be a free parameter",
                    inner.param_names()[src]
                )));
            }
        }
        let free: Vec<usize> = (0..k).filter(|&i| role[i].is_none()).collect();
        if free.is_empty() {
            return Err(Error::input(
                "every parameter is fixed or tied: nothing to fit",
            ));
        }
        // The trait hands out 'static slices; a constrained law is built once per command, so
        // leaking its few names is the simple, bounded way to provide them.
        let names: Vec<&'static str> = free.iter().map(|&i| inner.param_names()[i]).collect();
        let transforms: Vec<Transform> = free.iter().map(|&i| inner.transforms()[i]).collect();
        Ok(Constrained {
            names: Box::leak(names.into_boxed_slice()),
            transforms: Box::leak(transforms.into_boxed_slice()),
            inner,
            free,
            fixed,
            tied,
        })
    }

    /// Free parameters to the inner law's full set.
    pub fn expand(&self, p: &[f64]) -> Vec<f64> {
        let mut full = vec![0.0; self.inner.param_names().len()];
        for (&i, &v) in self.free.iter().zip(p) {
            full[i] = v;
        }
        for &(i, v) in &self.fixed {
            full[i] = v;
        }
        for &(dep, src) in &self.tied {
            full[dep] = full[src];
        }
        full
    }

    /// The full set to the free parameters.
    pub fn restrict(&self, full: &[f64]) -> Vec<f64> {
        self.free.iter().map(|&i| full[i]).collect()
    }

    pub fn inner(&self) -> &dyn Law {
        self.inner.as_ref()
    }
}

impl Law for Constrained {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn param_names(&self) -> &'static [&'static str] {
        self.names
    }
    fn transforms(&self) -> &'static [Transform] {
        self.transforms
    }
    fn options(&self) -> &LawOptions {
        self.inner.options()
    }
    fn kind(&self) -> LawKind {
        self.inner.kind()
    }
    fn features(&self, curve: &Curve) -> Result<Features> {
        self.inner.features(curve)
    }
    fn fit_features(&self, curve: &Curve) -> Result<Features> {
        self.inner.fit_features(curve)
    }
    fn table_features(&self, table: &TablePoints) -> Result<Features> {
        self.inner.table_features(table)
    }
    fn effective_lr(&self, lr: &[f64]) -> Vec<f64> {
        self.inner.effective_lr(lr)
    }
    fn areas_in_features(&self, f: &Features, i: usize) -> Option<(f64, f64)> {
        self.inner.areas_in_features(f, i)
    }
    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        self.inner.predict(&self.expand(p), f, out);
    }
    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        let k_full = self.inner.param_names().len();
        let k = self.free.len();
        let mut full_jac = vec![0.0; out.len() * k_full];
        self.inner
            .predict_jacobian(&self.expand(p), f, out, &mut full_jac);
        for i in 0..out.len() {
            let row = &full_jac[i * k_full..(i + 1) * k_full];
            for (j, &src) in self.free.iter().enumerate() {
                let tied_sum: f64 = self
                    .tied
                    .iter()
                    .filter(|(_, s)| *s == src)
                    .map(|(dep, _)| row[*dep])
                    .sum();
                jac[i * k + j] = row[src] + tied_sum;
            }
        }
    }
    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let mut starts: Vec<Vec<f64>> = self
            .inner
            .starts(data)
            .iter()
            .map(|s| self.restrict(s))
            .collect();
        starts.sort_by(|a, b| {
            a.iter()
                .zip(b)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        starts.dedup();
        starts
    }
    fn diagnostics(&self, p: &[f64], feats: &[Features]) -> Vec<String> {
        let free = self.param_names();
        // The inner law's warning about parameters the data cannot determine no longer applies
        // once the user has pinned every one of them.
        let unid = self.inner.structurally_unidentified(feats);
        let all_pinned = !unid.is_empty() && unid.iter().all(|n| !free.contains(n));
        self.inner
            .diagnostics(&self.expand(p), feats)
            .into_iter()
            .filter(|w| !(all_pinned && w.contains("not identified")))
            .collect()
    }
    fn uses_model_size(&self) -> bool {
        self.inner.uses_model_size()
    }
    fn priors(&self) -> Vec<super::Prior> {
        // A pinned or tied parameter's prior has nothing left to act on.
        self.inner
            .priors()
            .into_iter()
            .filter_map(|p| {
                let param = self.free.iter().position(|&i| i == p.param)?;
                Some(super::Prior { param, ..p })
            })
            .collect()
    }
    fn structurally_unidentified(&self, feats: &[Features]) -> Vec<&'static str> {
        let free = self.param_names();
        self.inner
            .structurally_unidentified(feats)
            .into_iter()
            .filter(|n| free.contains(n))
            .collect()
    }
    fn derived_quantities(&self) -> Vec<Derived> {
        // Derived quantities are defined on the inner parameters; the bootstrap expands first.
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::{build, LawOptions};

    /// A pinned parameter's prior is dropped and the others follow their parameter to its
    /// place among the free ones.
    #[test]
    fn priors_follow_the_free_parameters() {
        let inner = build("multipower", LawOptions::default()).unwrap();
        let full = inner.priors();
        let names = inner.param_names();
        assert_eq!(
            full.iter().map(|p| names[p.param]).collect::<Vec<_>>(),
            ["beta", "gamma"]
        );
        let fixed = parse_fixed(inner.as_ref(), "L0=2.4,beta=0.6").unwrap();
        let law = Constrained::new(inner, fixed, vec![]).unwrap();
        let priors = law.priors();
        assert_eq!(priors.len(), 1);
        assert_eq!(law.param_names()[priors[0].param], "gamma");
        assert_eq!(priors[0].center, full[1].center);
    }

    /// The reduced Jacobian (fixed columns dropped, tied columns added to their source) matches
    /// finite differences of the constrained prediction.
    #[test]
    fn reduced_jacobian_matches_finite_differences() {
        let inner = build("chinchilla", LawOptions::default()).unwrap();
        let fixed = parse_fixed(inner.as_ref(), "E=1.69").unwrap();
        let tied = parse_tied(inner.as_ref(), "alpha=beta").unwrap();
        let law = Constrained::new(inner, fixed, tied).unwrap();
        assert_eq!(law.param_names(), &["A", "B", "beta"]);
        let n = [1e8, 1e9, 1e10];
        let d = [1e10, 1e11, 1e12];
        let f = law.table_features(&TablePoints { n: &n, d: &d }).unwrap();
        let p = [400.0, 2000.0, 0.33];
        let (mut out, mut jac) = (vec![0.0; 3], vec![0.0; 9]);
        law.predict_jacobian(&p, &f, &mut out, &mut jac);
        assert_eq!(law.expand(&p), vec![1.69, 400.0, 2000.0, 0.33, 0.33]);
        for j in 0..3 {
            let h = 1e-6 * p[j];
            let (mut up, mut dn) = (p, p);
            up[j] += h;
            dn[j] -= h;
            let (mut a, mut b) = (vec![0.0; 3], vec![0.0; 3]);
            law.predict(&up, &f, &mut a);
            law.predict(&dn, &f, &mut b);
            for i in 0..3 {
                let fd = (a[i] - b[i]) / (2.0 * h);
                assert!(
                    (fd - jac[i * 3 + j]).abs() <= 1e-6 * fd.abs().max(1e-9),
                    "{i},{j}"
                );
            }
        }
    }

    #[test]
    fn bad_constraints_are_rejected() {
        let law = || build("chinchilla", LawOptions::default()).unwrap();
        assert!(parse_fixed(law().as_ref(), "Q=1")
            .unwrap_err()
            .to_string()
            .contains("no parameter 'Q'"));
        assert!(parse_tied(law().as_ref(), "alpha").is_err());
        let tied = parse_tied(law().as_ref(), "alpha=alpha").unwrap();
        assert!(Constrained::new(law(), vec![], tied).is_err());
        let e = parse_fixed(law().as_ref(), "E=-1").unwrap_err().to_string();
        assert!(e.contains("E = -1 is negative"), "{e}");
        assert!(Constrained::new(law(), vec![(0, -1.0)], vec![]).is_err());
        // 0 removes a term and is allowed.
        let fixed = parse_fixed(law().as_ref(), "E=0").unwrap();
        assert!(Constrained::new(law(), fixed, vec![]).is_ok());
    }
}
