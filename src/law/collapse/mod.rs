//! `--law collapse`: a larger model's whole curve as its final loss (the anchor) times the
//! ladder's shared normalised shape (Qiu et al. 2025; Bergsma et al. 2025).
//!
//! Unlike every other law, half of this one is data: the shape. A fit first *learns* it from
//! the fit runs ([`Law::learn`]): the runs are grouped by their normalised LR schedule, each
//! group's curves become a [`shape::Shape`], and the groups are put on one level (an
//! additive shift of their final losses at the sizes they share). The learned state lives in
//! [`LawOptions::collapse`], so a fit file carries it and `predict`, `plot` and `backtest` rebuild
//! the same law from the record. Only then are the parameters fitted: those of the anchor, a
//! final-loss law from the registry (`power` in N, or `chinchilla`, `overtrain`,
//! `chinchilla-nd`), on *every* point of every fit run through the shape (each point is the
//! run's level times a known factor), not only the final ones, so a noisy last point does not
//! decide a size's level.
//!
//! What the data cannot pin is assumed, and the record says so: with one run length per
//! schedule the anchor has no data term; with two sizes, a log-normal prior holds α at
//! Chinchilla's 0.34 (Hoffmann et al. 2022). The shape's drift in ln N is used only when
//! holding out the largest fit size shows that it forecasts better than the mean shape.

mod learn;
pub mod shape;

use super::{Curve, Features, Law, LawOptions, Prior, TablePoints, Transform};
use crate::error::{Error, Result};
use learn::learn;
use serde::{Deserialize, Serialize};
use shape::interpolate_ln_x;

/// Samples of a run's normalised LR schedule, uniform in the run fraction.
pub const PROFILE_POINTS: usize = 64;
/// Two schedules are one shape when their LR, as a fraction of peak, differs by at most this
/// anywhere both are known.
pub const PROFILE_TOL: f64 = 0.1;
/// How far before its start (as a factor in run fraction) a shape is continued; earlier steps
/// are refused.
pub const EXTEND_BEFORE: f64 = 2.0;
/// Model sizes or run lengths within this relative distance are the same.
const SAME: f64 = 0.02;
/// Chinchilla's exponents (Hoffmann et al. 2022, approach 3), the centres of the priors used
/// when the ladder cannot pin them.
pub const PRIOR_ALPHA: f64 = 0.34;
pub const PRIOR_BETA: f64 = 0.28;
pub const PRIOR_LOG_SD: f64 = 0.25;

/// How well a final-loss law forecasts the largest size of a table when fitted on the others:
/// mean |relative error|, `None` where that fold cannot be fitted. The anchor is chosen by it
/// among the forms that compete; the fit that calls [`Law::learn`] supplies it
/// (`fit::size_rollout::score_largest`), since a law cannot fit.
pub type ScoreHeldOut<'a> = dyn Fn(&dyn Law, &crate::ingest::table::RunTable) -> Option<f64> + 'a;

/// One fit run as [`Law::learn`] sees it.
pub struct LearnRun<'a> {
    pub name: &'a str,
    pub curve: Curve<'a>,
    pub loss: &'a [f64],
}

/// The shape a fit learned, stored in the fit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollapseState {
    /// The final-loss law the anchor is: `power` (E + A·N^(−α)) when every schedule ran at one
    /// length, else `chinchilla`, `overtrain` or `chinchilla-nd`, chosen by holding out the
    /// largest size of the ladder's levels where four sizes allow it. N is in parameters and
    /// D in steps (the runs' own unit), both over the references below.
    pub anchor: String,
    /// The anchor reads N/n_ref and D/d_ref (the largest fit size and the longest fit run), so
    /// that its coefficient A is the loss term at the ladder's top, not at one parameter: in raw
    /// N, A and alpha trade off through ln N ≈ 20 and A alone looks undetermined.
    pub n_ref: f64,
    pub d_ref: f64,
    /// Whether forecasts extrapolate the shape's drift in ln N.
    pub trend: bool,
    /// Distinct model sizes, and the most run lengths any one schedule had.
    pub sizes: usize,
    pub lengths: usize,
    pub groups: Vec<GroupShape>,
    /// How the shape was built and what it assumes.
    pub notes: Vec<String>,
    /// What the user must see before trusting a forecast (spread beyond noise, a missing level).
    pub warnings: Vec<String>,
}

/// The runs of one normalised schedule and their shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupShape {
    pub runs: Vec<String>,
    /// LR / peak LR at `(k + ½)/PROFILE_POINTS` of the run; `None` past the runs' logged end.
    pub profile: Vec<Option<f64>>,
    /// Run lengths (steps) the ladder ran this schedule for.
    pub lengths: Vec<f64>,
    pub grid: Vec<f64>,
    /// [`Shape::mean`] (of ln ℓ) and its slope in ln M (tokens per parameter) about `centre_m`.
    pub mean: Vec<f64>,
    pub mean_m: Vec<f64>,
    /// The trend at `mean_ln_n` and `centre_m` ([`Shape::centred`]), its slopes in ln N and ln M.
    pub centred: Vec<f64>,
    pub slope: Vec<f64>,
    pub slope_m: Vec<f64>,
    pub mean_ln_n: f64,
    pub centre_m: f64,
    /// This schedule's final loss minus the reference schedule's (the first group's), at the
    /// sizes they share: an additive shift, as in Chinchilla's and the annealing law's forms,
    /// where what a longer run or an annealed end saves does not scale with the model's loss.
    pub shift: f64,
}

impl GroupShape {
    /// ℓ(x) for a model of `n` parameters trained for `length` steps (the shape is held in
    /// logs). Before the shape starts (a larger model logged earlier than the ladder did), ℓ is
    /// continued as a power of x fitted to the shape's opening (early loss curves are close to
    /// power laws in steps), for at most a factor [`EXTEND_BEFORE`] in x (features refuse
    /// earlier steps).
    fn factor(&self, x: f64, n: f64, length: f64, trend: bool) -> f64 {
        let x0 = self.grid[0];
        let (base, base_m) = if trend {
            (&self.centred, &self.slope_m)
        } else {
            (&self.mean, &self.mean_m)
        };
        let dm = length.ln() - n.ln() - self.centre_m;
        let dn = if trend { n.ln() - self.mean_ln_n } else { 0.0 };
        let at = |ys: &[f64], x: f64| interpolate_ln_x(&self.grid, ys, x);
        let ln_l = |x: f64| at(base, x) + at(base_m, x) * dm + at(&self.slope, x) * dn;
        let ln_l = if x >= x0 {
            ln_l(x)
        } else {
            let xk = self.grid[(self.grid.len() / 20).max(1)];
            let power = (ln_l(xk) - ln_l(x0)) / (xk / x0).ln();
            ln_l(x0) + power * (x.max(x0 / EXTEND_BEFORE) / x0).ln()
        };
        ln_l.exp()
    }
}

pub struct Collapse {
    options: LawOptions,
    /// The final-loss law whose parameters the fit moves (Chinchilla until a shape is learned).
    anchor: Box<dyn Law>,
}

/// The anchor law of a state's name; `power` is read in N.
fn anchor_law(name: &str) -> Box<dyn Law> {
    let options = LawOptions {
        variable: (name == "power").then(|| "n".to_string()),
        ..LawOptions::default()
    };
    let inner = super::build(name, options)
        .unwrap_or_else(|_| Box::new(super::chinchilla::Chinchilla::new(LawOptions::default())));
    Box::new(Anchor { inner })
}

/// A final-loss law as the collapse anchor: the law itself, with starts from least squares on
/// the data for Chinchilla, whose paper recipe (4 500 starts on a fixed grid) is made for one
/// table fit, not for every point of a ladder's curves.
struct Anchor {
    inner: Box<dyn Law>,
}

impl Law for Anchor {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn param_names(&self) -> &'static [&'static str] {
        self.inner.param_names()
    }
    fn transforms(&self) -> &'static [Transform] {
        self.inner.transforms()
    }
    fn options(&self) -> &LawOptions {
        self.inner.options()
    }
    fn kind(&self) -> super::LawKind {
        self.inner.kind()
    }
    fn table_features(&self, t: &TablePoints) -> Result<Features> {
        self.inner.table_features(t)
    }
    fn to_internal(&self, p: &[f64]) -> Vec<f64> {
        self.inner.to_internal(p)
    }
    fn to_natural(&self, u: &[f64]) -> Vec<f64> {
        self.inner.to_natural(u)
    }
    fn natural_jacobian(&self, u: &[f64]) -> Vec<f64> {
        self.inner.natural_jacobian(u)
    }
    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        self.inner.predict(p, f, out)
    }
    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        self.inner.predict_jacobian(p, f, out, jac)
    }
    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        if self.inner.name() != "chinchilla" {
            return self.inner.starts(data);
        }
        // E, A, B by least squares over a grid of exponents (columns ln N, ln D); the best four.
        let mut candidates = Vec::new();
        for alpha in [0.1, 0.2, 0.34, 0.5, 0.8] {
            for beta in [0.1, 0.2, 0.28, 0.5, 0.8] {
                let Some(c) = super::joint::linear_coefficients(data, |f, i| {
                    vec![
                        1.0,
                        (-alpha * f.columns[0][i]).exp(),
                        (-beta * f.columns[1][i]).exp(),
                    ]
                }) else {
                    continue;
                };
                let floor = |x: f64, fallback: f64| if x > 0.0 { x } else { fallback };
                candidates.push(vec![
                    floor(c[0], 0.5),
                    floor(c[1], 1.0),
                    floor(c[2], 1.0),
                    alpha,
                    beta,
                ]);
            }
        }
        let starts = super::best_candidates(self.inner.as_ref(), data, candidates, 4);
        if starts.is_empty() {
            return self.inner.starts(data);
        }
        starts
    }
    fn diagnostics(&self, params: &[f64], fit_features: &[Features]) -> Vec<String> {
        self.inner.diagnostics(params, fit_features)
    }
    fn structurally_unidentified(&self, fit_features: &[Features]) -> Vec<&'static str> {
        self.inner.structurally_unidentified(fit_features)
    }
}

impl Collapse {
    pub fn new(options: LawOptions) -> Self {
        let anchor = anchor_law(
            options
                .collapse
                .as_ref()
                .map_or("chinchilla", |s| &s.anchor),
        );
        Collapse { options, anchor }
    }

    fn state(&self) -> Result<&CollapseState> {
        self.options.collapse.as_deref().ok_or_else(|| {
            Error::input(
                "law collapse learns its shape from the fit runs: fit it first (fit --law \
                 collapse on a manifest of a ladder), then predict or plot from the fit file; it \
                 cannot be used with --params, --fix or --tie",
            )
        })
    }

    /// Whether the anchor reads the run length (every form but `power`).
    fn anchor_d(&self) -> bool {
        self.options
            .collapse
            .as_ref()
            .is_none_or(|s| s.anchor != "power")
    }

    /// The anchor's features at (N, D) repeated `k` times, then the schedule's level shift and
    /// the shape factor.
    fn with_factor(&self, n: f64, d: f64, shift: f64, factor: Vec<f64>) -> Result<Features> {
        let k = factor.len();
        let (n, d) = self
            .options
            .collapse
            .as_ref()
            .map_or((n, d), |s| (n / s.n_ref, d / s.d_ref));
        let mut f = self.anchor.table_features(&TablePoints {
            n: &vec![n; k],
            d: &vec![d; k],
        })?;
        f.columns.push(vec![shift; k]);
        f.columns.push(factor);
        Ok(f)
    }
}

/// The shape factor: the last feature column.
fn factor_of(f: &Features) -> &[f64] {
    &f.columns[f.columns.len() - 1]
}

/// The schedule's level shift: the column before the factor.
fn shift_of(f: &Features) -> &[f64] {
    &f.columns[f.columns.len() - 2]
}

/// The run's length in steps: its schedule's total when it has one, else its last LR step.
fn run_length(c: &Curve) -> f64 {
    c.end
        .map(|e| e as f64)
        .unwrap_or(c.lr.len().saturating_sub(1) as f64)
}

fn profile(c: &Curve) -> Vec<Option<f64>> {
    let peak = c.lr.iter().copied().fold(0.0f64, f64::max);
    let len = run_length(c);
    (0..PROFILE_POINTS)
        .map(|k| {
            let at = ((k as f64 + 0.5) / PROFILE_POINTS as f64 * len).round() as usize;
            (peak > 0.0 && at < c.lr.len()).then(|| c.lr[at] / peak)
        })
        .collect()
}

/// Largest difference of two profiles where both are known (∞ when nowhere).
fn profile_distance(a: &[Option<f64>], b: &[Option<f64>]) -> f64 {
    let d = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some((x.as_ref()? - y.as_ref()?).abs()))
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    d.unwrap_or(f64::INFINITY)
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= SAME * a.abs().max(b.abs())
}

/// The first step of a `total`-step run that every schedule shape of a collapse fit can
/// forecast (`None` for other laws), so that default forecast steps start where the shape does.
pub fn first_forecast_step(options: &LawOptions, total: i64) -> Option<i64> {
    let s = options.collapse.as_deref()?;
    let start = s
        .groups
        .iter()
        .map(|g| g.grid[0] / EXTEND_BEFORE)
        .fold(0.0, f64::max);
    Some((start * total as f64 * (1.0 - 1e-9)).ceil() as i64)
}

impl Law for Collapse {
    fn name(&self) -> &'static str {
        "collapse"
    }

    fn param_names(&self) -> &'static [&'static str] {
        self.anchor.param_names()
    }

    fn transforms(&self) -> &'static [Transform] {
        self.anchor.transforms()
    }

    fn options(&self) -> &LawOptions {
        &self.options
    }

    fn uses_model_size(&self) -> bool {
        true
    }

    fn learn(
        &self,
        runs: &[LearnRun],
        score_held_out: &ScoreHeldOut,
    ) -> Option<Result<LawOptions>> {
        Some(learn(runs, score_held_out).map(|state| LawOptions {
            collapse: Some(Box::new(state)),
            ..self.options.clone()
        }))
    }

    /// The anchor's columns, the schedule's level shift and its shape factor ℓ(x). A schedule the
    /// ladder never ran has no shape, and a length it never ran has no level when the anchor
    /// has no data term: both are refused rather than guessed.
    fn features(&self, curve: &Curve) -> Result<Features> {
        let s = self.state()?;
        let n = curve.params.ok_or_else(|| {
            Error::input(
                "law collapse forecasts a model of a given size: give it (--params N with \
                 predict or plot, params = N for each run in a manifest)",
            )
        })?;
        let length = run_length(curve);
        let mine = profile(curve);
        let (best, dist) = s
            .groups
            .iter()
            .map(|g| (g, profile_distance(&g.profile, &mine)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .ok_or_else(|| Error::input("the collapse fit holds no shape"))?;
        if dist > PROFILE_TOL {
            return Err(Error::input(format!(
                "this LR schedule matches none of the ladder's schedules (the closest, that of \
                 '{}', differs by {:.0} % of peak LR); collapse forecasts only schedules its \
                 ladder ran",
                best.runs[0],
                100.0 * dist.min(9.99)
            )));
        }
        if !self.anchor_d() && !best.lengths.iter().any(|&l| same(l, length)) {
            return Err(Error::input(format!(
                "the ladder ran this schedule only for {} steps, not {}; a forecast at another \
                 length needs a ladder with several run lengths per schedule",
                best.lengths
                    .iter()
                    .map(|&l| crate::base::numbers::num(l))
                    .collect::<Vec<_>>()
                    .join(", "),
                crate::base::numbers::num(length)
            )));
        }
        let earliest = best.grid[0] / EXTEND_BEFORE;
        if let Some(&st) = curve
            .steps
            .iter()
            .find(|&&st| (st as f64) < earliest * length * (1.0 - 1e-9))
        // ln/exp round-off
        {
            return Err(Error::input(format!(
                "step {st} lies before the ladder's shape, which starts at {:.3} % of the run \
                 (step {:.0} of {}); forecast from there on (predict --steps), or leave the earlier \
                 points out (min_step in the manifest)",
                100.0 * best.grid[0],
                (best.grid[0] * length).round(),
                crate::base::numbers::num(length)
            )));
        }
        let factor = curve
            .steps
            .iter()
            .map(|&st| best.factor(st.max(1) as f64 / length, n, length, s.trend))
            .collect();
        self.with_factor(n, length, best.shift, factor)
    }

    fn predict(&self, p: &[f64], f: &Features, out: &mut [f64]) {
        self.anchor.predict(p, f, out);
        for ((o, m), s) in out.iter_mut().zip(factor_of(f)).zip(shift_of(f)) {
            *o = (*o + s) * m;
        }
    }

    fn predict_jacobian(&self, p: &[f64], f: &Features, out: &mut [f64], jac: &mut [f64]) {
        self.anchor.predict_jacobian(p, f, out, jac);
        let k = p.len();
        for (i, (m, s)) in factor_of(f).iter().zip(shift_of(f)).enumerate() {
            out[i] = (out[i] + s) * m;
            jac[i * k..(i + 1) * k].iter_mut().for_each(|j| *j *= m);
        }
    }

    /// The anchor's own starts, on each point's implied level (loss over its shape factor).
    fn starts(&self, data: &[(&Features, &[f64])]) -> Vec<Vec<f64>> {
        let levels: Vec<Vec<f64>> = data
            .iter()
            .map(|(f, y)| {
                y.iter()
                    .zip(factor_of(f))
                    .zip(shift_of(f))
                    .map(|((l, m), s)| l / m - s)
                    .collect()
            })
            .collect();
        let anchor_data: Vec<(&Features, &[f64])> = data
            .iter()
            .zip(&levels)
            .map(|((f, _), l)| (*f, l.as_slice()))
            .collect();
        self.anchor.starts(&anchor_data)
    }

    /// Exponents two sizes (or two lengths) cannot pin, held near Chinchilla's.
    fn priors(&self) -> Vec<Prior> {
        let Some(s) = self.options.collapse.as_deref() else {
            return Vec::new();
        };
        let mut wanted = Vec::new();
        if s.sizes < 3 {
            wanted.extend([("alpha", PRIOR_ALPHA), ("eta", PRIOR_ALPHA / 2.0)]);
        }
        if self.anchor_d() && s.lengths < 3 {
            wanted.push(("beta", PRIOR_BETA));
        }
        let names = self.param_names();
        wanted
            .into_iter()
            .filter_map(|(name, center)| {
                Some(Prior {
                    param: names.iter().position(|n| *n == name)?,
                    center,
                    log_sd: PRIOR_LOG_SD,
                })
            })
            .collect()
    }

    fn structurally_unidentified(&self, fit_features: &[Features]) -> Vec<&'static str> {
        self.anchor.structurally_unidentified(fit_features)
    }

    fn diagnostics(&self, params: &[f64], fit_features: &[Features]) -> Vec<String> {
        let Some(s) = self.options.collapse.as_deref() else {
            return Vec::new();
        };
        let mut out = s.warnings.clone();
        out.extend(self.anchor.diagnostics(params, fit_features));
        if s.sizes < 3 {
            out.push(format!(
                "collapse from two sizes assumes the size exponent (alpha ~ {PRIOR_ALPHA}, \
                 Chinchilla) and a shape that does not drift with N"
            ));
        }
        out
    }
}
