//! Laws: a formula with named parameters, its gradient, and where a fit should start.
//!
//! A law knows nothing about fitting. It turns a run into [`Features`] once (for the annealing
//! law, S1 and S2 at each logged step), then predicts from flat slices, so the fit's hot loop
//! never allocates or touches a DataFrame. Adding a law means one file here and one line in
//! [`build`].

pub mod annealing;
pub mod areas;
pub mod chinchilla;
pub mod collapse;
pub mod constrained;
pub mod final_loss;
pub mod joint;
pub mod multipower;
pub mod priors;
pub mod size_forms;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How the optimiser sees a parameter. `Log` keeps it positive (the optimiser moves `ln p`) and
/// `Interval` keeps it inside `(lo, hi)` through a logistic map; together they replace the
/// bounds argmin's L-BFGS cannot enforce.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transform {
    Log,
    Identity,
    Interval { lo: f64, hi: f64 },
}

/// A parameter this close to a bound (relative to its size, or to the interval's width) is
/// reported as stuck there.
const AT_BOUND: f64 = 1e-6;

impl Transform {
    pub fn to_internal(self, p: f64) -> f64 {
        match self {
            // A start at exactly 0 (the authors' α = 0) becomes a tiny positive value.
            Transform::Log => p.max(1e-8).ln(),
            Transform::Identity => p,
            Transform::Interval { lo, hi } => {
                let z = ((p - lo) / (hi - lo)).clamp(1e-9, 1.0 - 1e-9);
                (z / (1.0 - z)).ln()
            }
        }
    }

    pub fn to_natural(self, u: f64) -> f64 {
        match self {
            Transform::Log => u.exp(),
            Transform::Identity => u,
            Transform::Interval { lo, hi } => lo + (hi - lo) / (1.0 + (-u).exp()),
        }
    }

    /// dp/du, to chain natural-space gradients into the optimiser's space.
    pub fn derivative(self, u: f64) -> f64 {
        match self {
            Transform::Log => u.exp(),
            Transform::Identity => 1.0,
            Transform::Interval { lo, hi } => {
                let s = 1.0 / (1.0 + (-u).exp());
                (hi - lo) * s * (1.0 - s)
            }
        }
    }

    /// Which bound, if any, `p` has reached.
    pub fn bound_hit(self, p: f64) -> Option<String> {
        match self {
            Transform::Log if p < AT_BOUND * p.abs().max(1.0) => Some("lower bound 0".into()),
            Transform::Interval { lo, hi } if p - lo < AT_BOUND * (hi - lo) => {
                Some(format!("lower bound {lo}"))
            }
            Transform::Interval { lo, hi } if hi - p < AT_BOUND * (hi - lo) => {
                Some(format!("upper bound {hi}"))
            }
            _ => None,
        }
    }
}

/// One run as a law sees it: the LR at every step from 0, the steps where loss was observed, and
/// the model size, which joint size × schedule laws need and the others ignore.
pub struct Curve<'a> {
    pub lr: &'a [f64],
    pub steps: &'a [i64],
    pub params: Option<f64>,
    /// The run's length in steps (its schedule's total) when known; `lr` may stop earlier, at
    /// the last logged step. Laws that read a run's progress as a fraction need it.
    pub end: Option<i64>,
}

/// A named quantity computed from a law's parameters.
pub type Derived = (&'static str, fn(&[f64]) -> f64);

/// Whether a law describes a loss curve under an LR schedule or the final loss of runs of
/// different model sizes and token counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LawKind {
    Schedule,
    Table,
}

/// Finished runs as a size law sees them: parameters N and training tokens D per point.
pub struct TablePoints<'a> {
    pub n: &'a [f64],
    pub d: &'a [f64],
}

/// Per-point inputs of a law, computed once per run. `columns[j][i]` is input `j` at point `i`;
/// `aux` holds run-level arrays a law needs beyond per-point values (the Multi-Power Law's list
/// of LR drops).
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub columns: Vec<Vec<f64>>,
    pub aux: Vec<Vec<f64>>,
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
    /// Reference LR of a law's internal reparametrisation (the Multi-Power Law's C). It only
    /// conditions the optimisation; a fit sets it to the fit runs' peak LR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_ref: Option<f64>,
    /// The variable of a one-variable power law: `n`, `d` or `c` (C = 6ND).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// The shape `--law collapse` learned from its fit runs (see [`Law::learn`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapse: Option<Box<collapse::CollapseState>>,
}

impl Default for LawOptions {
    fn default() -> Self {
        LawOptions {
            lambda: 0.999,
            warmup_as_peak: false,
            lr_ref: None,
            variable: None,
            collapse: None,
        }
    }
}

/// Prior knowledge of one parameter: `ln p ~ Normal(ln center, log_sd²)`. It holds a parameter
/// along a direction the fit data leave flat (the Multi-Power Law's β and γ when the fit runs
/// anneal little), where an unpenalised optimum wanders to values that forecast badly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prior {
    /// Index into the law's parameters.
    pub param: usize,
    pub center: f64,
    pub log_sd: f64,
}

/// The LR array `law` sums over ([`Law::effective_lr`]), borrowed when no option changes it:
/// a plan of 20-million-step schedules must not copy each one to read it.
pub fn effective<'a, L: Law + ?Sized>(law: &L, lr: &'a [f64]) -> std::borrow::Cow<'a, [f64]> {
    if law.options().warmup_as_peak {
        std::borrow::Cow::Owned(law.effective_lr(lr))
    } else {
        std::borrow::Cow::Borrowed(lr)
    }
}

/// A loss law with named parameters.
pub trait Law: Send + Sync {
    fn name(&self) -> &'static str;
    fn param_names(&self) -> &'static [&'static str];
    fn transforms(&self) -> &'static [Transform];
    fn options(&self) -> &LawOptions;

    /// Parameters whose value must be strictly positive although the fit moves them freely
    /// (an Identity transform keeps the published grids of §3 usable): a size law's exponents,
    /// which make loss fall as N and D grow. A negative one turns the law upside down and
    /// forecasts 1e27 nats, so `--fix`, `--params` and fit files refuse it.
    fn positive_params(&self) -> &'static [&'static str] {
        &[]
    }

    /// S1 and S2 (with the law's warmup convention and λ) at point `i` of `features`, when
    /// the features hold them: `plan` then reads a candidate's end areas from the features it
    /// computed anyway, instead of a second pass over a 20-million-step LR array.
    fn areas_in_features(&self, _features: &Features, _i: usize) -> Option<(f64, f64)> {
        None
    }

    /// The LR array a law sums over, after options such as warmup-as-peak.
    fn effective_lr(&self, lr: &[f64]) -> Vec<f64> {
        if self.options().warmup_as_peak {
            areas::warmup_as_peak(lr)
        } else {
            lr.to_vec()
        }
    }

    /// What the law is fitted to: one training curve per run, or a table of finished runs.
    fn kind(&self) -> LawKind {
        LawKind::Schedule
    }

    /// Features of one training curve (schedule laws).
    fn features(&self, _curve: &Curve) -> Result<Features> {
        Err(Error::input(format!(
            "law {} is fitted to a table of runs (model size, tokens, loss), not to one training curve",
            self.name()
        )))
    }

    /// Features of a table of finished runs (size laws).
    fn table_features(&self, _table: &TablePoints) -> Result<Features> {
        Err(Error::input(format!(
            "law {} is fitted to training curves with their LR schedule, not to a table of runs",
            self.name()
        )))
    }

    /// Features used inside a fit. A law whose exact evaluation is costly may return a faithful
    /// approximation here (and say how faithful in its diagnostics); metrics always use
    /// [`Law::features`].
    fn fit_features(&self, curve: &Curve) -> Result<Features> {
        self.features(curve)
    }

    /// Parameters as the optimiser moves them. The default applies [`Law::transforms`] one by
    /// one; a law may mix parameters to decorrelate them.
    fn to_internal(&self, p: &[f64]) -> Vec<f64> {
        self.transforms()
            .iter()
            .zip(p)
            .map(|(t, &x)| t.to_internal(x))
            .collect()
    }

    fn to_natural(&self, u: &[f64]) -> Vec<f64> {
        self.transforms()
            .iter()
            .zip(u)
            .map(|(t, &x)| t.to_natural(x))
            .collect()
    }

    /// ∂p_i/∂u_j, row-major `k × k`, to chain gradients into the optimiser's space.
    fn natural_jacobian(&self, u: &[f64]) -> Vec<f64> {
        let k = u.len();
        let mut j = vec![0.0; k * k];
        for (i, (t, &x)) in self.transforms().iter().zip(u).enumerate() {
            j[i * k + i] = t.derivative(x);
        }
        j
    }

    /// Predicted loss at every point of `f`.
    fn predict(&self, params: &[f64], f: &Features, out: &mut [f64]);

    /// Predictions and their derivatives with respect to the natural parameters; `jac` is
    /// row-major, one row of `param_names().len()` entries per point.
    fn predict_jacobian(&self, params: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]);

    /// Starting points in natural parameters, from the law's published recipe and from the data.
    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>>;

    /// Quantities derived from the parameters that deserve intervals of their own (e.g. the
    /// compute-optimal exponents of a size law).
    fn derived_quantities(&self) -> Vec<Derived> {
        Vec::new()
    }

    /// Whether the law's parametrisation uses [`LawOptions::lr_ref`] (set by the fit from data).
    fn wants_lr_ref(&self) -> bool {
        false
    }

    /// Warnings only this law can give about a fit (e.g. a parameter the data cannot identify).
    fn diagnostics(&self, _params: &[f64], _fit_features: &[Features]) -> Vec<String> {
        Vec::new()
    }

    /// The predicted loss at the last step of `lr` and its gradient with respect to the LR at
    /// every step, for a model of `model_size` parameters (joint laws). `None` when the law has
    /// no analytic LR gradient; `plan --free` needs one.
    fn final_loss_lr_gradient(
        &self,
        _params: &[f64],
        _lr: &[f64],
        _model_size: Option<f64>,
    ) -> Option<Result<(f64, Vec<f64>)>> {
        None
    }

    /// Whether a forecast needs the model size N (joint size × schedule laws).
    fn uses_model_size(&self) -> bool {
        false
    }

    /// Parameters the structure of the fit data cannot determine, whatever the optimiser finds
    /// (a joint law's size exponent from two model sizes). The fit marks them and is not
    /// trustworthy; [`Law::diagnostics`] says why.
    fn structurally_unidentified(&self, _fit_features: &[Features]) -> Vec<&'static str> {
        Vec::new()
    }

    /// A law part of which is learned from the fit runs themselves (the collapse shape)
    /// returns its options with that learning in them; the fit then rebuilds the law from them,
    /// and the record keeps them, so every reader of the fit file sees the same law.
    ///
    /// `score_held_out` scores a final-loss law on a table by fitting all but its largest size
    /// (see [`collapse::ScoreHeldOut`]): laws cannot fit, so the fit that calls `learn` hands it
    /// over.
    fn learn(
        &self,
        _runs: &[collapse::LearnRun],
        _score_held_out: &collapse::ScoreHeldOut,
    ) -> Option<Result<LawOptions>> {
        None
    }

    /// Priors a fit applies unless told not to (`--no-prior`); none for most laws.
    fn priors(&self) -> Vec<Prior> {
        Vec::new()
    }
}

/// The `keep` candidate parameter vectors whose predictions fit `data` best (sum of squared log
/// residuals), best first; candidates with a non-finite fit are dropped. The last step of every
/// least-squares-on-a-grid start.
pub(crate) fn best_candidates(
    law: &dyn Law,
    data: &[(&Features, &[f64])],
    candidates: Vec<Vec<f64>>,
    keep: usize,
) -> Vec<Vec<f64>> {
    let mut scored: Vec<(f64, Vec<f64>)> = candidates
        .into_iter()
        .filter_map(|p| {
            let mut sse = 0.0;
            for (f, y) in data {
                let mut pred = vec![0.0; y.len()];
                law.predict(&p, f, &mut pred);
                sse += pred
                    .iter()
                    .zip(y.iter())
                    .map(|(a, b)| (a / b).ln().powi(2))
                    .sum::<f64>();
            }
            sse.is_finite().then_some((sse, p))
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.into_iter().take(keep).map(|(_, p)| p).collect()
}

/// The laws `--law` accepts.
pub const LAW_NAMES: &[&str] = &[
    "annealing",
    "multipower",
    "joint-additive",
    "joint-scaled",
    "collapse",
    "chinchilla",
    "overtrain",
    "chinchilla-nd",
    "kaplan",
    "power",
];

/// The law registry: `--law` name to implementation.
pub fn build(name: &str, options: LawOptions) -> Result<Box<dyn Law>> {
    if !(options.lambda > 0.0 && options.lambda < 1.0) {
        return Err(Error::input(format!(
            "--lambda must lie in (0, 1), got {}",
            crate::base::numbers::num(options.lambda)
        )));
    }
    match name {
        "annealing" => Ok(Box::new(annealing::Annealing::new(options))),
        "multipower" => Ok(Box::new(multipower::MultiPower::new(options))),
        "joint-additive" => Ok(Box::new(joint::JointAdditive::new(options))),
        "joint-scaled" => Ok(Box::new(joint::JointScaled::new(options))),
        "collapse" => Ok(Box::new(collapse::Collapse::new(options))),
        "chinchilla" => Ok(Box::new(chinchilla::Chinchilla::new(options))),
        "overtrain" => Ok(Box::new(final_loss::Overtrain::new(options))),
        "chinchilla-nd" => Ok(Box::new(final_loss::ChinchillaNd::new(options))),
        "kaplan" => Ok(Box::new(size_forms::Kaplan::new(options))),
        "power" => Ok(Box::new(size_forms::Power::new(options)?)),
        other => Err(Error::input(format!(
            "unknown law '{other}', expected one of: {}",
            LAW_NAMES.join(", ")
        ))),
    }
}

/// Whether `value` lies in the domain of the law's parameter `index`: finite, non-negative for a
/// parameter the fit keeps positive (0 is allowed, to switch a term off with `--fix`), inside
/// the interval of a bounded one. One check for `--fix`, `--params` and fit files, so that no
/// path forecasts with, say, a negative exponent.
pub fn check_value(law: &dyn Law, index: usize, value: f64) -> std::result::Result<(), String> {
    let name = law.param_names()[index];
    let shown = crate::base::numbers::num(value);
    if !value.is_finite() {
        return Err(format!("{name} = {shown} is not a finite number"));
    }
    if law.positive_params().contains(&name) && value <= 0.0 {
        return Err(format!(
            "{name} = {shown} is not positive; law {} needs {name} > 0 (an exponent at or \
             below 0 makes loss grow or stay flat with scale)",
            law.name()
        ));
    }
    match law.transforms()[index] {
        Transform::Log if value < 0.0 => Err(format!(
            "{name} = {shown} is negative; law {} needs {name} >= 0",
            law.name()
        )),
        Transform::Interval { lo, hi } if !(lo..=hi).contains(&value) => Err(format!(
            "{name} = {shown} lies outside [{}, {}], the range law {} allows",
            crate::base::numbers::num(lo),
            crate::base::numbers::num(hi),
            law.name()
        )),
        _ => Ok(()),
    }
}

/// [`check_value`] for every parameter.
pub fn check_params(law: &dyn Law, params: &[f64]) -> std::result::Result<(), String> {
    params
        .iter()
        .enumerate()
        .try_for_each(|(i, &v)| check_value(law, i, v))
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
        check_value(law, idx, x).map_err(|m| Error::input(format!("--params: {m}")))?;
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
