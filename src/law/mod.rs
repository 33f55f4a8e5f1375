//! Laws: a formula with named parameters, its gradient, and where a fit should start.
//!
//! A law knows nothing about fitting. It turns a run into [`Features`] once (for the annealing
//! law, S1 and S2 at each logged step), then predicts from flat slices, so the fit's hot loop
//! never allocates or touches a DataFrame. Adding a law means one file here and one line in
//! [`build`].

pub mod annealing;
pub mod areas;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How the optimiser sees a parameter. `Log` keeps it positive (the optimiser moves `ln p`),
/// which replaces the bounds argmin's L-BFGS cannot enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Log,
    Identity,
}

impl Transform {
    pub fn to_internal(self, p: f64) -> f64 {
        match self {
            // A start at exactly 0 (the authors' α = 0) becomes a tiny positive value.
            Transform::Log => p.max(1e-8).ln(),
            Transform::Identity => p,
        }
    }

    pub fn to_natural(self, u: f64) -> f64 {
        match self {
            Transform::Log => u.exp(),
            Transform::Identity => u,
        }
    }

    /// dp/du, to chain natural-space gradients into the optimiser's space.
    pub fn derivative(self, u: f64) -> f64 {
        match self {
            Transform::Log => u.exp(),
            Transform::Identity => 1.0,
        }
    }
}

/// One run as a law sees it: the LR at every step from 0, and the steps where loss was observed.
pub struct Curve<'a> {
    pub lr: &'a [f64],
    pub steps: &'a [i64],
}

/// Per-point inputs of a law, computed once per run. `columns[j][i]` is input `j` at point `i`.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub columns: Vec<Vec<f64>>,
}

impl Features {
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Options that change what a schedule law computes, so they are part of a fit's definition and
/// are stored in its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LawOptions {
    /// Momentum decay of the annealing area (laws.md §1: 0.999 in the authors' script).
    pub lambda: f64,
    /// Count warmup steps at peak LR, as the authors' script does.
    pub warmup_as_peak: bool,
}

impl Default for LawOptions {
    fn default() -> Self {
        LawOptions {
            lambda: 0.999,
            warmup_as_peak: false,
        }
    }
}

/// A loss law with named parameters.
pub trait Law: Send + Sync {
    fn name(&self) -> &'static str;
    fn param_names(&self) -> &'static [&'static str];
    fn transforms(&self) -> &'static [Transform];
    fn options(&self) -> &LawOptions;

    /// The LR array a law sums over, after options such as warmup-as-peak.
    fn effective_lr(&self, lr: &[f64]) -> Vec<f64>;

    fn features(&self, curve: &Curve) -> Result<Features>;

    /// Predicted loss at every point of `f`.
    fn predict(&self, params: &[f64], f: &Features, out: &mut [f64]);

    /// Predictions and their derivatives with respect to the natural parameters; `jac` is
    /// row-major, one row of `param_names().len()` entries per point.
    fn predict_jacobian(&self, params: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]);

    /// Starting points in natural parameters, from the law's published recipe and from the data.
    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>>;

    /// Warnings only this law can give about a fit (e.g. a parameter the data cannot identify).
    fn diagnostics(&self, _params: &[f64], _fit_features: &[Features]) -> Vec<String> {
        Vec::new()
    }
}

/// The laws `--law` accepts.
pub const LAW_NAMES: &[&str] = &["annealing"];

/// The law registry: `--law` name to implementation.
pub fn build(name: &str, options: LawOptions) -> Result<Box<dyn Law>> {
    if !(options.lambda > 0.0 && options.lambda < 1.0) {
        return Err(Error::input(format!(
            "--lambda must lie in (0, 1), got {}",
            options.lambda
        )));
    }
    match name {
        "annealing" => Ok(Box::new(annealing::Annealing::new(options))),
        other => Err(Error::input(format!(
            "unknown law '{other}', expected one of: {}",
            LAW_NAMES.join(", ")
        ))),
    }
}

/// Parse `"L0=2.6,A=0.4,..."` into values in the law's parameter order; every parameter must be
/// given exactly once.
pub fn parse_params(law: &dyn Law, text: &str) -> Result<Vec<f64>> {
    let names = law.param_names();
    let mut values = vec![None; names.len()];
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| Error::input(format!("--params: '{item}' should be NAME=VALUE")))?;
        let idx = names.iter().position(|n| *n == k.trim()).ok_or_else(|| {
            Error::input(format!(
                "--params: law {} has no parameter '{}'; it has {}",
                law.name(),
                k.trim(),
                names.join(", ")
            ))
        })?;
        let x: f64 = v
            .trim()
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| Error::input(format!("--params: {k}='{v}' is not a finite number")))?;
        if values[idx].replace(x).is_some() {
            return Err(Error::input(format!("--params: {k} given twice")));
        }
    }
    names
        .iter()
        .zip(values)
        .map(|(n, v)| v.ok_or_else(|| Error::input(format!("--params: missing {n}"))))
        .collect()
}
