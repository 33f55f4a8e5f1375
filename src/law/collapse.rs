//! `--law collapse`: a larger model's whole curve as its final loss (the anchor) times the
//! ladder's shared normalised shape (Qiu et al. 2025; Bergsma et al. 2025).
//!
//! Unlike every other law, half of this one is data: the shape. A fit first *learns* it from
//! the fit runs ([`Law::learn`]): the runs are grouped by their normalised LR schedule, each
//! group's curves become a [`crate::collapse::Shape`], and the groups are put on one level (an
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

use super::{Curve, Features, Law, LawOptions, Prior, TablePoints, Transform};
use crate::collapse::{interpolate_ln_x, LadderCurve, Shape};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

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

/// The distinct values (within [`SAME`]), increasing: one representative per group.
fn distinct(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let values: Vec<f64> = values.into_iter().collect();
    crate::ingest::table::groups_within(&values, SAME)
        .iter()
        .map(|g| values[g[0]])
        .collect()
}

/// One run prepared for the shape: size, length, fractions, losses.
struct Prepared<'a> {
    name: &'a str,
    n: f64,
    length: f64,
    x: Vec<f64>,
    loss: &'a [f64],
    profile: Vec<Option<f64>>,
}

fn prepare<'a>(r: &'a LearnRun) -> Result<Prepared<'a>> {
    let n = r.curve.params.ok_or_else(|| {
        Error::input(format!(
            "run '{}' has no model size: collapse needs params = N for every run",
            r.name
        ))
    })?;
    let length = run_length(&r.curve);
    // A point at step 0 has no place on a log grid of run fractions; the shape starts after it.
    let first = r.curve.steps.partition_point(|&s| s <= 0);
    if length <= 0.0 || r.curve.steps.len() < first + 3 {
        return Err(Error::input(format!(
            "run '{}': collapse needs at least 3 points after step 0",
            r.name
        )));
    }
    Ok(Prepared {
        name: r.name,
        n,
        length,
        x: r.curve.steps[first..]
            .iter()
            .map(|&s| s as f64 / length)
            .collect(),
        loss: &r.loss[first..],
        profile: profile(&r.curve),
    })
}

fn shape_of(runs: &[&Prepared]) -> Result<Shape> {
    let curves: Vec<LadderCurve> = runs
        .iter()
        .map(|r| LadderCurve {
            name: r.name,
            n: r.n,
            d: r.length,
            x: &r.x,
            loss: r.loss,
        })
        .collect();
    Shape::new(&curves)
}

/// Mean |relative error| of forecasting `held`'s curves from `shape` with their own level.
fn shape_error(shape: &Shape, held: &[&Prepared], trend: bool) -> (f64, usize) {
    let end = shape.grid[shape.grid.len() - 1];
    let (mut sum, mut count) = (0.0, 0);
    for r in held {
        let level = interpolate_ln_x(&r.x, r.loss, end);
        for (&x, &y) in r.x.iter().zip(r.loss) {
            if x >= shape.grid[0] && x <= end {
                sum += ((level * shape.at(x, r.n, r.length, trend) - y) / y).abs();
                count += 1;
            }
        }
    }
    (sum, count)
}

/// Learn the collapse state from the fit runs.
pub fn learn(runs: &[LearnRun]) -> Result<CollapseState> {
    if runs.len() < 2 {
        return Err(Error::input(format!(
            "collapse needs the curves of a ladder (runs at two or more model sizes), got {} run(s)",
            runs.len()
        )));
    }
    let prepared: Vec<Prepared> = runs.iter().map(prepare).collect::<Result<_>>()?;
    // Group by normalised schedule, first come first served.
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, r) in prepared.iter().enumerate() {
        match members
            .iter_mut()
            .find(|g| profile_distance(&prepared[g[0]].profile, &r.profile) <= PROFILE_TOL)
        {
            Some(g) => g.push(i),
            None => members.push(vec![i]),
        }
    }
    members.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let sizes = distinct(prepared.iter().map(|r| r.n));
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let mut shapes = Vec::new();
    for g in &members {
        let rs: Vec<&Prepared> = g.iter().map(|&i| &prepared[i]).collect();
        if distinct(rs.iter().map(|r| r.n)).len() < 2 {
            let names: Vec<&str> = rs.iter().map(|r| r.name).collect();
            return Err(Error::input(format!(
                "collapse needs every schedule at two or more model sizes; {} ran only at N = {}",
                quoted(&names),
                crate::cli_format::num(rs[0].n)
            )));
        }
        let shape = shape_of(&rs)?;
        let names: Vec<&str> = rs.iter().map(|r| r.name).collect();
        let label = if members.len() > 1 {
            format!("schedule of {}: ", quoted(&names[..1]))
        } else {
            String::new()
        };
        warnings.extend(
            shape
                .diagnostics(&names)
                .into_iter()
                .map(|w| format!("{label}{w}")),
        );
        shapes.push(shape);
    }
    if members.len() > 1 {
        notes.push(format!(
            "the runs follow {} LR schedules (as fractions of peak and of the run); each has its \
             own shape, levelled against that of '{}' at the sizes they share, and a forecast \
             uses the shape of the schedule it runs",
            members.len(),
            prepared[members[0][0]].name
        ));
    }
    // Mean or trend: decided by holding out the largest fit size, where three sizes allow it.
    let trend =
        if sizes.len() >= 3 {
            let largest = sizes[sizes.len() - 1];
            let (mut mean_err, mut trend_err, mut count) = (0.0, 0.0, 0usize);
            for g in &members {
                let (held, kept): (Vec<&Prepared>, Vec<&Prepared>) = g
                    .iter()
                    .map(|&i| &prepared[i])
                    .partition(|r| same(r.n, largest));
                if held.is_empty() || distinct(kept.iter().map(|r| r.n)).len() < 2 {
                    continue;
                }
                let Ok(shape) = shape_of(&kept) else {
                    continue;
                };
                let (m, c) = shape_error(&shape, &held, false);
                let (t, _) = shape_error(&shape, &held, true);
                mean_err += m;
                trend_err += t;
                count += c;
            }
            let pick = count > 0 && trend_err < mean_err;
            if count > 0 {
                notes.push(format!(
                "shape: {} (holding out the largest fit size, N = {}: mean shape {:.3} %, trend \
                 in ln N {:.3} % mean |error|)",
                if pick { "trend in ln N" } else { "mean over sizes" },
                crate::cli_format::num(largest),
                100.0 * mean_err / count as f64,
                100.0 * trend_err / count as f64
            ));
            }
            pick
        } else {
            notes.push(
                "shape: mean over sizes (two sizes cannot show whether the shape drifts with N; \
             collapse assumes it does not)"
                    .into(),
            );
            false
        };
    // Run lengths per schedule decide whether the anchor can have a data term.
    let lengths = members
        .iter()
        .map(|g| distinct(g.iter().map(|&i| prepared[i].length)).len())
        .max()
        .unwrap_or(1);
    let anchor_d = lengths >= 2;
    if sizes.len() < 3 {
        notes.push(format!(
            "two sizes cannot pin the size exponent: alpha has a log-normal prior centred on \
             Chinchilla's {PRIOR_ALPHA} (sd {PRIOR_LOG_SD} in ln; off with --no-prior, which \
             leaves it undetermined), so the forecast assumes it"
        ));
    }

    // Levels: each schedule against the reference (the largest group) where they share a size
    // (and a length, when the anchor has a data term).
    let mut groups = Vec::new();
    for (gi, (g, shape)) in members.iter().zip(&shapes).enumerate() {
        let mut shift = 0.0;
        if gi > 0 {
            let mut shifts = Vec::new();
            for (a, &i) in g.iter().enumerate() {
                for (b, &j) in members[0].iter().enumerate() {
                    let (r, q) = (&prepared[i], &prepared[j]);
                    if same(r.n, q.n) && (!anchor_d || same(r.length, q.length)) {
                        shifts.push(shape.finals[a] - shapes[0].finals[b]);
                    }
                }
            }
            if shifts.is_empty() {
                warnings.push(format!(
                    "the schedule of '{}' shares no model size{} with that of '{}': its level is \
                     assumed equal",
                    prepared[g[0]].name,
                    if anchor_d { " and length" } else { "" },
                    prepared[members[0][0]].name
                ));
            } else {
                shift = shifts.iter().sum::<f64>() / shifts.len() as f64;
            }
        }
        let ln_n = &shape.ln_n;
        groups.push(GroupShape {
            runs: g.iter().map(|&i| prepared[i].name.to_string()).collect(),
            profile: prepared[g[0]].profile.clone(),
            lengths: distinct(g.iter().map(|&i| prepared[i].length)),
            grid: shape.grid.clone(),
            mean: shape.mean.clone(),
            mean_m: shape.mean_m.clone(),
            centred: shape.centred.clone(),
            slope_m: shape.slope_m.clone(),
            centre_m: shape.centre_m,
            slope: shape.slope.clone(),
            mean_ln_n: ln_n.iter().sum::<f64>() / ln_n.len() as f64,
            shift,
        });
    }
    // The anchor: the ladder's levels (each run's loss where its shape ends, on the reference
    // schedule's level) are a table of final losses over (N, D).
    let n_ref = sizes[sizes.len() - 1];
    let d_ref = prepared.iter().map(|r| r.length).fold(0.0, f64::max);
    let mut levels = (Vec::new(), Vec::new(), Vec::new());
    for ((g, shape), group) in members.iter().zip(&shapes).zip(&groups) {
        for (a, &i) in g.iter().enumerate() {
            levels.0.push(prepared[i].n / n_ref);
            levels.1.push(prepared[i].length / d_ref);
            levels.2.push(shape.finals[a] - group.shift);
        }
    }
    let anchor = choose_anchor(anchor_d, sizes.len(), levels, &mut notes);
    if anchor_d && lengths < 3 {
        notes.push(format!(
            "two run lengths cannot pin the data exponent: it has a log-normal prior centred on \
             Chinchilla's beta = {PRIOR_BETA} (sd {PRIOR_LOG_SD} in ln)"
        ));
    }
    let points: usize = prepared.iter().map(|r| r.loss.len()).sum();
    notes.push(format!(
        "the anchor is fitted on every point of every fit run ({points} points of {} runs) \
         through the shape: each point is its run's level times a known factor, so a size's \
         level is read from its whole curve rather than from its noisiest point, the last",
        prepared.len()
    ));
    Ok(CollapseState {
        anchor,
        n_ref,
        d_ref,
        trend,
        sizes: sizes.len(),
        lengths,
        groups,
        notes,
        warnings,
    })
}

/// The anchor's final-loss law. One length per schedule leaves D nothing to say: `power` in
/// N. Otherwise, from four sizes, Chinchilla, the over-training form (Gadre et al. 2024) and the
/// N-dependent data exponent (Farseer's shape) compete on the ladder's own levels with the
/// largest size held out; below four sizes the held-out fit would not pin its exponents, and
/// Chinchilla is used.
fn choose_anchor(
    anchor_d: bool,
    sizes: usize,
    (n, d, loss): (Vec<f64>, Vec<f64>, Vec<f64>),
    notes: &mut Vec<String>,
) -> String {
    if !anchor_d {
        notes.push(
            "anchor: E + A·n^(−alpha), n = N/N_max (`power` in N); each schedule ran at one \
             length, so forecasts keep it"
                .into(),
        );
        return "power".into();
    }
    if sizes < 4 {
        notes.push(
            "anchor: chinchilla (choosing a form holds out the largest size and needs three \
             more to fit)"
                .into(),
        );
        return "chinchilla".into();
    }
    let c = n.iter().zip(&d).map(|(n, d)| 6.0 * n * d).collect();
    let table = crate::ingest::table::RunTable {
        path: "collapse levels".into(),
        sha256: String::new(),
        n,
        d,
        c,
        loss,
        notes: Vec::new(),
    };
    let candidates = ["chinchilla", "overtrain", "chinchilla-nd"];
    let scored: Vec<(&str, f64)> = candidates
        .into_iter()
        .filter_map(|name| {
            let law = anchor_law(name);
            let folds = crate::rollout::rollout_sizes(
                law.as_ref(),
                &table,
                &crate::fit::FitOptions::default(),
                1,
                &|_| {},
            )
            .ok()?;
            Some((name, folds.first()?.mean_rel_err))
        })
        .filter(|(_, e)| e.is_finite())
        .collect();
    let best = scored
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("chinchilla", |b| b.0);
    notes.push(format!(
        "anchor: {best} (the ladder's levels with the largest size held out: {})",
        scored
            .iter()
            .map(|(name, e)| format!("{name} {:.3} %", 100.0 * e))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    best.into()
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

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
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

    fn learn(&self, runs: &[LearnRun]) -> Option<Result<LawOptions>> {
        Some(learn(runs).map(|state| LawOptions {
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
                    .map(|&l| crate::cli_format::num(l))
                    .collect::<Vec<_>>()
                    .join(", "),
                crate::cli_format::num(length)
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
                crate::cli_format::num(length)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{self, FitOptions};
    use crate::runs::Run;

    /// The anchor of the synthetic ladders, Chinchilla's E, A, B, alpha, beta over n = N/1e9
    /// and d = D/80 000 steps, the references of a fit on the three sizes up to 1e9 (α ≠ β, so
    /// the over-training form cannot follow it).
    fn truth() -> [f64; 5] {
        [1.8, 0.6, 0.4, 0.35, 0.2]
    }

    /// ℓ*(x) = x^(−0.1): every size's curve is its final loss times this (`bent` makes one
    /// size decay twice as steeply instead, a ladder that does not collapse).
    fn run(n: f64, total: i64, bent: bool) -> Run {
        let spec = format!("cosine:peak=1e-3,end=1e-4,warmup=0,total={total}");
        let sched = crate::schedule::parse(&spec, std::path::Path::new("")).unwrap();
        let lr = sched.lr_array(total as usize + 1);
        // Log-spaced from step 50, as checkpoints often are: dense enough in ln x that the
        // shape's interpolation is exact to ~1e-6.
        let mut steps: Vec<i64> = (0..300)
            .map(|k| (50.0 * (total as f64 / 50.0).powf(k as f64 / 299.0)).round() as i64)
            .collect();
        steps.dedup();
        let p = truth();
        let (nn, d) = (n / 1e9, total as f64 / 80_000.0);
        let final_loss = p[0] + p[1] * nn.powf(-p[3]) + p[2] * d.powf(-p[4]);
        let power = if bent { -0.2 } else { -0.1 };
        let loss = steps
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                // ±0.1 % deterministic noise, as logged losses have (exact data leaves the fit's
                // orthogonality check at round-off, where it cannot judge convergence).
                let noise = 1.0 + 1e-3 * ((k * 7919 % 13) as f64 / 6.0 - 1.0);
                final_loss * (s as f64 / total as f64).powf(power) * noise
            })
            .collect();
        Run {
            end: Some(total),
            ..Run::in_memory(&format!("{n:e}/{total}"), &spec, lr, steps, loss, Some(n))
        }
    }

    fn ladder(sizes: &[f64]) -> Vec<Run> {
        sizes
            .iter()
            .flat_map(|&n| [10_000, 20_000, 40_000, 80_000].map(|t| run(n, t, false)))
            .collect()
    }

    fn fitted(runs: &[Run]) -> (fit::FitRecord, Box<dyn Law>, Vec<f64>) {
        let law = Collapse::new(LawOptions::default());
        let record = fit::fit(&law, runs, &FitOptions::default()).unwrap();
        let built = record.build_law().unwrap();
        let params = record.param_vector(built.as_ref()).unwrap();
        (record, built, params)
    }

    fn predict(law: &dyn Law, params: &[f64], r: &Run) -> Vec<f64> {
        let f = fit::features_of(law, std::slice::from_ref(r)).unwrap();
        let mut out = vec![0.0; r.loss.len()];
        law.predict(params, &f[0], &mut out);
        out
    }

    #[test]
    fn a_known_collapse_and_anchor_are_recovered() {
        let runs = ladder(&[1e8, 3e8, 1e9]);
        let (record, law, p) = fitted(&runs);
        let state = record.options.law.collapse.as_deref().unwrap();
        assert_eq!(state.anchor, "chinchilla", "{:?}", state.notes);
        assert!(state.groups.len() == 1 && state.sizes == 3);
        assert!(record.warnings.is_empty(), "{:?}", record.warnings);
        for (name, (got, want)) in law.param_names().iter().zip(p.iter().zip(truth())) {
            assert!((got - want).abs() < 3e-2 * want, "{name}: {got} vs {want}");
        }
        // A 10B model's whole curve at a length the ladder ran, and at one it did not.
        for total in [20_000, 30_000] {
            let target = run(1e10, total, false);
            for (g, w) in predict(law.as_ref(), &p, &target).iter().zip(&target.loss) {
                assert!((g - w).abs() < 2e-3 * w, "{total}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn the_largest_size_is_forecast_from_the_smaller_ones() {
        let all = ladder(&[1e8, 3e8, 1e9, 3e9]);
        let (fit_runs, held): (Vec<Run>, Vec<Run>) =
            all.into_iter().partition(|r| r.params < Some(2e9));
        let (_, law, p) = fitted(&fit_runs);
        for target in &held {
            let got = predict(law.as_ref(), &p, target);
            let worst = got
                .iter()
                .zip(&target.loss)
                .map(|(g, w)| ((g - w) / w).abs())
                .fold(0.0, f64::max);
            assert!(worst < 2e-3, "{}: {worst} ({p:?})", target.name);
        }
    }

    #[test]
    fn a_ladder_that_does_not_collapse_is_flagged() {
        let mut runs = ladder(&[1e8, 3e8, 1e9]);
        for r in runs.iter_mut().filter(|r| r.params == Some(3e8)) {
            *r = run(3e8, r.end.unwrap(), true);
        }
        let (record, ..) = fitted(&runs);
        assert!(
            record
                .warnings
                .iter()
                .any(|w| w.contains("do not collapse")),
            "{:?}",
            record.warnings
        );
    }

    #[test]
    fn two_sizes_state_their_assumptions() {
        let runs: Vec<Run> = [1e8, 3e8]
            .iter()
            .flat_map(|&n| [run(n, 10_000, false), run(n, 20_000, false)])
            .collect();
        let (record, law, _) = fitted(&runs);
        let state = record.options.law.collapse.as_deref().unwrap();
        assert!(!state.trend);
        assert!(state
            .notes
            .iter()
            .any(|n| n.contains("alpha has a log-normal prior")));
        assert_eq!(law.priors().len(), 2, "alpha, and beta from two lengths");
        assert!(record.warnings.iter().any(|w| w.contains("two sizes")));
    }

    #[test]
    fn schedules_and_lengths_the_ladder_never_ran_are_refused() {
        let runs: Vec<Run> = [1e8, 3e8, 1e9]
            .iter()
            .map(|&n| run(n, 10_000, false))
            .collect();
        let (_, law, _) = fitted(&runs);
        assert_eq!(
            law.param_names(),
            ["E", "A", "alpha"],
            "one length: no data term"
        );
        let longer = run(1e10, 20_000, false);
        let e = fit::features_of(law.as_ref(), &[longer])
            .unwrap_err()
            .to_string();
        assert!(e.contains("only for 10000 steps"), "{e}");
        let lr = vec![1e-3; 10_001];
        let constant = Curve {
            lr: &lr,
            steps: &[100, 200],
            params: Some(1e10),
            end: None,
        };
        let e = law.features(&constant).unwrap_err().to_string();
        assert!(e.contains("matches none of the ladder's schedules"), "{e}");
        let unfitted = Collapse::new(LawOptions::default());
        assert!(unfitted.features(&constant).is_err());
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        for sizes in [&[1e8, 3e8, 1e9][..], &[1e8, 3e8]] {
            let runs = ladder(sizes);
            let (_, law, _) = fitted(&runs);
            let mut target = run(1e10, 20_000, false);
            target.steps = vec![50, 700, 9_000, 20_000];
            target.loss = vec![1.0; 4];
            let f = &fit::features_of(law.as_ref(), &[target]).unwrap()[0];
            let p = [1.7, 0.5, 0.3, 0.45, 0.25];
            let k = law.param_names().len();
            let p = &p[..k];
            let (mut out, mut jac) = (vec![0.0; 4], vec![0.0; 4 * k]);
            law.predict_jacobian(p, f, &mut out, &mut jac);
            for j in 0..k {
                let h = 1e-6 * p[j];
                let (mut up, mut down) = (p.to_vec(), p.to_vec());
                up[j] += h;
                down[j] -= h;
                let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
                law.predict(&up, f, &mut a);
                law.predict(&down, f, &mut b);
                for i in 0..4 {
                    let fd = (a[i] - b[i]) / (2.0 * h);
                    assert!(
                        (fd - jac[i * k + j]).abs() < 1e-6 * (1.0 + fd.abs()),
                        "param {j} point {i}: {fd} vs {}",
                        jac[i * k + j]
                    );
                }
            }
        }
    }
}
