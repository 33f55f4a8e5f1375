//! Fitting a law to runs: the objective, the multi-start optimiser, and the fit record.
//!
//! `fit` is the one entry point. It turns runs into features once, runs every start, and returns
//! a [`FitRecord`] that carries everything needed to trust (or distrust) and reuse the result:
//! options, data provenance, objective, convergence, agreement between starts, parameters stuck
//! at a bound, and metrics.

pub mod bootstrap;
pub mod design;
pub mod identify;
pub mod metrics;
pub mod multistart;
pub mod objective;
pub mod plausible;
pub mod record;
pub mod size_rollout;
pub mod thin;

pub use multistart::OptimizerOptions;
pub use record::{DataRecord, Domain, FitRecord, RunMetrics, TableDomain};

use crate::error::{Error, Result};
use crate::law::{self, Features, Law, LawOptions};
use crate::runs::manifest::Role;
use crate::runs::Run;
use objective::{FitPoints, HuberLogObjective};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything that defines a fit besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    pub law: LawOptions,
    /// δ of the Huber loss on log residuals (laws.md §0).
    pub huber_delta: f64,
    pub optimizer: OptimizerOptions,
    /// Point filters of a table fit (size laws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_filters: Option<crate::ingest::table::TableFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapOptions>,
    /// Parameters pinned by `--fix`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fixed: BTreeMap<String, f64>,
    /// Parameters tied by `--tie` (dependent → source).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tied: BTreeMap<String, String>,
    /// Points per run above which consecutive points are averaged in bins before fitting
    /// (0: never); see [`thin`].
    #[serde(default = "default_max_points")]
    pub max_points_per_run: usize,
    /// Points of each fit run before this fraction of its last step are left out of the fit.
    /// The first steps are fast transients that no schedule law describes, and a fit that
    /// chases them tilts α and L0 against each other (the OLMo ladder skips 10 %).
    #[serde(default)]
    pub skip_fraction: f64,
    /// How the objective weighs fit runs against each other (records written before this
    /// option existed weighed points). The library's default is the papers' recipe, `Points`;
    /// the command line uses [`default_weighting`].
    #[serde(default)]
    pub run_weighting: RunWeighting,
    /// Whether the law's priors ([`Law::priors`]) join the objective. The library's default is
    /// the papers' recipe, off (as in records written before priors existed); the command line
    /// turns them on unless `--no-prior`.
    #[serde(default)]
    pub priors: bool,
    /// Prior centres that replace a law's own, by parameter name: the forecasting benchmark
    /// judges each ladder with the prior the other ladders give (`law::priors`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prior_centers: BTreeMap<String, f64>,
    /// Start the optimiser here only (natural parameters), instead of the law's starts: a
    /// refit of a log that grew by a few points (`watch`) starts from the last optimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_start: Option<Vec<f64>>,
}

/// The weighting the command line fits a law with unless told otherwise: `Runs` for schedule
/// laws, `Points` for joint size × schedule laws and size laws.
///
/// In leave-one-schedule-out backtests on the Multi-Power-Law curves (25M, 100M, 400M),
/// weighting runs equally lowered the mean PredE of both schedule laws at every size
/// (annealing 0.196 → 0.158 %, 0.158 → 0.140 %, 0.182 → 0.169 %; multipower 0.246 → 0.139 %,
/// 0.249 → 0.140 %, 0.302 → 0.203 %) and of the horizon task, and changed nothing on single
/// runs. For joint laws the one size backtest we have (25M + 100M → 400M) got worse
/// (PredE 0.86 → 0.94 %), so they keep points.
pub fn default_weighting(law: &dyn Law) -> RunWeighting {
    if law.kind() == crate::law::LawKind::Schedule && !law.uses_model_size() {
        RunWeighting::Runs
    } else {
        RunWeighting::Points
    }
}

/// `--weigh` as given ("points" or "runs"; the CLI has checked the spelling), else the law's
/// default ([`default_weighting`]). The one place a weighting name becomes a weighting.
pub fn weighting(given: Option<&str>, law: &dyn Law) -> RunWeighting {
    given.map_or_else(|| default_weighting(law), RunWeighting::from_name)
}

/// How the fit objective weighs runs that have different numbers of points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunWeighting {
    /// Every point counts once: a run logged 3× as long (or 3× as densely) counts 3× as much.
    /// The papers' recipes (laws.md) fit this way.
    #[default]
    Points,
    /// Every run counts the same in total, as it does in the mean test metrics the papers
    /// report: a 72 000-step run does not drown the shorter schedules that pin the annealing
    /// terms.
    Runs,
}

impl RunWeighting {
    /// `--weigh`'s value ("points" or "runs"; the CLI has checked the spelling).
    pub fn from_name(name: &str) -> RunWeighting {
        if name == "runs" {
            RunWeighting::Runs
        } else {
            RunWeighting::Points
        }
    }
}

fn default_max_points() -> usize {
    thin::DEFAULT_MAX_POINTS
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            law: LawOptions::default(),
            huber_delta: 1e-3,
            optimizer: OptimizerOptions::default(),
            table_filters: None,
            bootstrap: None,
            fixed: BTreeMap::new(),
            tied: BTreeMap::new(),
            max_points_per_run: thin::DEFAULT_MAX_POINTS,
            skip_fraction: 0.0,
            run_weighting: RunWeighting::default(),
            priors: false,
            prior_centers: BTreeMap::new(),
            warm_start: None,
        }
    }
}

/// Exact features of each run, in the order given.
pub fn features_of(law: &dyn Law, runs: &[Run]) -> Result<Vec<Features>> {
    features_with(runs, |c| law.features(c))
}

/// Features a fit optimises on (a law may approximate there; see [`Law::fit_features`]).
fn fit_features_of(law: &dyn Law, runs: &[Run]) -> Result<Vec<Features>> {
    features_with(runs, |c| law.fit_features(c))
}

fn features_with(
    runs: &[Run],
    make: impl Fn(&crate::law::Curve) -> Result<Features>,
) -> Result<Vec<Features>> {
    runs.iter()
        .map(|r| {
            make(&crate::law::Curve {
                lr: &r.lr,
                steps: &r.steps,
                params: r.params,
                end: r.end,
            })
            .map_err(|e| Error::input(format!("run '{}' ({}): {e}", r.name, r.path)))
        })
        .collect()
}

/// Largest |prediction difference| between predictions on features `a` and the exact ones.
fn max_prediction_gap(law: &dyn Law, params: &[f64], a: &[Features], exact: &[&[f64]]) -> f64 {
    a.iter()
        .zip(exact)
        .map(|(fa, pb)| {
            let mut pa = vec![0.0; fa.len()];
            law.predict(params, fa, &mut pa);
            pa.iter()
                .zip(pb.iter())
                .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        })
        .fold(0.0, f64::max)
}

/// Per-run metrics of `params` on `runs`, with the means over fit and test runs. Exit 1 when a
/// prediction fails the plausibility gate ([`plausible`]).
pub fn evaluate(
    law: &dyn Law,
    params: &[f64],
    runs: &[Run],
) -> Result<(
    Vec<RunMetrics>,
    Option<metrics::Metrics>,
    Option<metrics::Metrics>,
)> {
    let feats = features_of(law, runs)?;
    let mut out = Vec::with_capacity(runs.len());
    for (run, f) in runs.iter().zip(&feats) {
        let mut pred = vec![0.0; run.loss.len()];
        law.predict(params, f, &mut pred);
        // Metrics of impossible predictions (a MAE of 171 721) are not metrics: the gate
        // refuses them, judged against this run's own observed losses.
        plausible::Gate::around_losses(&run.loss, "this run's observed losses")
            .check_all(&pred, |i| {
                format!("step {} of run '{}'", run.steps[i], run.name)
            })?;
        out.push(RunMetrics {
            name: run.name.clone(),
            role: run.role,
            points: run.loss.len(),
            metrics: metrics::curve_metrics(&run.loss, &pred),
        });
    }
    let mean_of = |role: Role| {
        let ms: Vec<_> = out
            .iter()
            .filter(|r| r.role == role)
            .map(|r| r.metrics)
            .collect();
        metrics::mean(&ms)
    };
    let (fit_mean, test_mean) = (mean_of(Role::Fit), mean_of(Role::Test));
    Ok((out, fit_mean, test_mean))
}

/// Fit `law` to the runs whose role is `fit`.
pub fn fit(law: &dyn Law, runs: &[Run], options: &FitOptions) -> Result<FitRecord> {
    fit_with_progress(law, runs, options, &|_, _| {})
}

/// [`fit`], calling `on_start(done, total)` as each start of the multi-start search finishes,
/// for a progress bar on long fits.
pub fn fit_with_progress(
    law: &dyn Law,
    runs: &[Run],
    options: &FitOptions,
    on_start: &(dyn Fn(usize, usize) + Sync),
) -> Result<FitRecord> {
    let mut owned: Vec<Run> = runs
        .iter()
        .filter(|r| r.role == Role::Fit)
        .cloned()
        .collect();
    if !(0.0..1.0).contains(&options.skip_fraction) {
        return Err(Error::input(format!(
            "the skipped fraction must be in [0, 1), not {}",
            crate::base::numbers::num(options.skip_fraction)
        )));
    }
    for r in &mut owned {
        if options.skip_fraction > 0.0 {
            let last = r.steps.last().copied().unwrap_or(0);
            let from = (options.skip_fraction * last as f64).ceil() as i64;
            let k = r.steps.partition_point(|&s| s < from);
            if k > 0 {
                r.notes.push(format!(
                    "{k} points before step {from} ({} % of the run) left out of the fit",
                    crate::base::numbers::num(100.0 * options.skip_fraction)
                ));
                r.steps.drain(..k);
                r.loss.drain(..k);
            }
        }
        thin::thin_run(r, options.max_points_per_run);
    }
    if owned.is_empty() {
        return Err(Error::input("no run has role \"fit\"; nothing to fit"));
    }
    // A law that conditions its parameters on the LR scale gets the fit runs' peak LR.
    let mut options = options.clone();
    let calibrated;
    let law: &dyn Law = if law.wants_lr_ref() && options.law.lr_ref.is_none() {
        let peak = owned
            .iter()
            .flat_map(|r| law.effective_lr(&r.lr))
            .fold(0.0f64, f64::max);
        options.law.lr_ref = (peak > 0.0).then_some(peak);
        calibrated = crate::law::build(law.name(), options.law.clone())?;
        calibrated.as_ref()
    } else {
        law
    };
    // A law that learns part of itself from the fit runs (the collapse shape) does so now, on
    // the fit runs only; the fit and its record then use the learned law. Where it chooses a
    // form by a held-out fit (the collapse anchor), the fit lends it the means to fit.
    let learn_runs: Vec<crate::law::collapse::LearnRun> = owned
        .iter()
        .map(|r| crate::law::collapse::LearnRun {
            name: &r.name,
            curve: crate::law::Curve {
                lr: &r.lr,
                steps: &r.steps,
                params: r.params,
                end: r.end,
            },
            loss: &r.loss,
        })
        .collect();
    let learned;
    let law: &dyn Law = match law.learn(&learn_runs, &size_rollout::score_largest) {
        Some(learned_options) => {
            options.law = learned_options?;
            learned = crate::law::build(law.name(), options.law.clone())?;
            learned.as_ref()
        }
        None => law,
    };
    let set = FitSet {
        names: owned.iter().map(|r| r.name.clone()).collect(),
        losses: owned.iter().map(|r| r.loss.as_slice()).collect(),
        fit_features: fit_features_of(law, &owned)?,
        exact_features: features_of(law, &owned)?,
    };
    let data = owned.iter().map(DataRecord::from_run).collect();
    let mut record = fit_set_with_progress(law, &set, data, &options, on_start)?;
    if !law.uses_model_size() {
        record.warnings.extend(design::alpha_l0_warning(&owned));
    }
    // What reading a log warned about belongs with the fit's own warnings.
    for r in &owned {
        for w in &r.warnings {
            record.warnings.push(format!("run '{}': {w}", r.name));
        }
    }
    record.domain = Some(domain_of(law, &owned));
    Ok(record)
}

/// What the fit runs cover: S1 and S2 (with the law's λ and warmup convention) at their observed
/// steps, and their model sizes.
pub fn domain_of(law: &dyn Law, runs: &[Run]) -> Domain {
    use crate::law::areas::{annealing_area, forward_area};
    let (mut s1_max, mut s2_max, mut last) = (0.0f64, f64::NEG_INFINITY, 0i64);
    let mut s2_min = f64::INFINITY;
    for r in runs {
        let lr = law.effective_lr(&r.lr);
        let s1 = forward_area(&lr);
        let s2 = annealing_area(&lr, law.options().lambda);
        for &s in &r.steps {
            if let Some(i) = usize::try_from(s).ok().filter(|&i| i < s1.len()) {
                s1_max = s1_max.max(s1[i]);
                s2_max = s2_max.max(s2[i]);
                s2_min = s2_min.min(s2[i]);
                last = last.max(s);
            }
        }
    }
    let sizes: Vec<f64> = runs.iter().filter_map(|r| r.params).collect();
    let params = (!sizes.is_empty()).then(|| {
        [
            sizes.iter().copied().fold(f64::INFINITY, f64::min),
            sizes.iter().copied().fold(0.0, f64::max),
        ]
    });
    Domain {
        s1_max,
        // Warmup makes S2 negative, and a run that never anneals keeps it so.
        s2_max: if s2_max.is_finite() { s2_max } else { 0.0 },
        s2_min: s2_min.is_finite().then_some(s2_min),
        last_step_max: last,
        params,
    }
}

/// Fit a size law (e.g. Chinchilla) to a table of finished runs, after the point filters.
pub fn fit_table(
    law: &dyn Law,
    table: &crate::ingest::table::RunTable,
    path: &str,
    options: &FitOptions,
) -> Result<FitRecord> {
    fit_table_with_progress(law, table, path, options, &|| {})
}

/// [`fit_table`], calling `on_progress` after each bootstrap resample.
pub fn fit_table_with_progress(
    law: &dyn Law,
    table: &crate::ingest::table::RunTable,
    path: &str,
    options: &FitOptions,
    on_progress: &(dyn Fn() + Sync),
) -> Result<FitRecord> {
    let filters = options.table_filters.clone().unwrap_or_default();
    let (kept, filter_notes) = table.filtered(&filters)?;
    let feats = law
        .table_features(&crate::law::TablePoints {
            n: &kept.n,
            d: &kept.d,
        })
        .map_err(|e| Error::input(format!("{path}: {e}")))?;
    let name = std::path::Path::new(path)
        .file_stem()
        .map_or_else(|| "table".to_string(), |s| s.to_string_lossy().into_owned());
    let set = FitSet {
        names: vec![name.clone()],
        losses: vec![&kept.loss],
        fit_features: vec![feats.clone()],
        exact_features: vec![feats],
    };
    let data = vec![DataRecord {
        name,
        path: path.to_string(),
        sha256: table.sha256.clone(),
        role: Role::Fit,
        points_used: kept.loss.len(),
        points_filtered_out: table.loss.len() - kept.loss.len(),
        points_dropped_before_learning: 0,
        min_step: None,
        max_step: None,
        schedule: None,
        lr_source: None,
        notes: table.notes.iter().cloned().chain(filter_notes).collect(),
        warnings: Vec::new(),
    }];
    let mut record = fit_set(law, &set, data, options)?;
    record.table_domain = Some(TableDomain::of(&kept.n, &kept.d));
    if let Some(b) = &options.bootstrap {
        record
            .warnings
            .extend(bootstrap::check_request(b.resamples, b.level)?);
        let best = record.param_vector(law)?;
        record.bootstrap = Some(bootstrap::case_bootstrap(
            law,
            &set.exact_features[0],
            set.losses[0],
            &best,
            options.huber_delta,
            b.resamples,
            b.seed,
            b.level,
            on_progress,
        )?);
    }
    Ok(record)
}

/// Rewrite a fit of a [`Constrained`](crate::law::constrained::Constrained) law in terms of
/// the full parameter set, so every reader of the record sees the law it knows.
pub fn expand_constrained(record: &mut FitRecord, c: &crate::law::constrained::Constrained) {
    let free: Vec<f64> = c.param_names().iter().map(|n| record.params[*n]).collect();
    let full = c.expand(&free);
    if let Some(l) = &mut record.laplace {
        l.covariance = expand_covariance(&l.covariance, &free, &|p| c.expand(p));
    }
    let inner = c.inner();
    record.params = inner
        .param_names()
        .iter()
        .map(|n| n.to_string())
        .zip(full)
        .collect();
    if let Some(b) = &mut record.bootstrap {
        b.samples = b.samples.iter().map(|s| c.expand(s)).collect();
        b.intervals.clear();
        for (j, name) in inner.param_names().iter().enumerate() {
            let iv = bootstrap::interval(b.samples.iter().map(|s| s[j]), b.level);
            b.intervals.insert(name.to_string(), iv);
        }
        for (name, f) in inner.derived_quantities() {
            let iv = bootstrap::interval(b.samples.iter().map(|s| f(s)), b.level);
            b.intervals.insert(name.to_string(), iv);
        }
    }
}

/// The covariance of parameters `expand(free)` from that of `free`, through the expansion's
/// Jacobian (central differences: `--fix` and `--tie` are linear or nearly so).
fn expand_covariance(
    cov: &[Vec<f64>],
    free: &[f64],
    expand: &dyn Fn(&[f64]) -> Vec<f64>,
) -> Vec<Vec<f64>> {
    let m = expand(free).len();
    let k = free.len();
    let mut e = vec![vec![0.0; k]; m];
    for j in 0..k {
        let h = 1e-6 * free[j].abs().max(1e-6);
        let (mut up, mut down) = (free.to_vec(), free.to_vec());
        up[j] += h;
        down[j] -= h;
        let (fu, fd) = (expand(&up), expand(&down));
        for i in 0..m {
            e[i][j] = (fu[i] - fd[i]) / (2.0 * h);
        }
    }
    (0..m)
        .map(|a| {
            (0..m)
                .map(|b| {
                    (0..k)
                        .flat_map(|i| (0..k).map(move |j| (i, j)))
                        .map(|(i, j)| e[a][i] * cov[i][j] * e[b][j])
                        .sum()
                })
                .collect()
        })
        .collect()
}

/// A case bootstrap requested with a fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapOptions {
    pub resamples: usize,
    pub seed: u64,
    pub level: f64,
}

/// What any fit needs, whatever the data came from: per group of points (a run, or a table),
/// a name, the observed losses, and the law's features (those the optimiser sees and the exact
/// ones).
pub struct FitSet<'a> {
    pub names: Vec<String>,
    pub losses: Vec<&'a [f64]>,
    pub fit_features: Vec<Features>,
    pub exact_features: Vec<Features>,
}

/// Starts that reach the same objective but whose parameter differs by more than this (relative)
/// mark the parameter as not determined by the data.
const UNIDENTIFIED_SPREAD: f64 = 0.05;

/// The fit itself: multi-start optimisation, diagnostics and the record.
pub fn fit_set(
    law: &dyn Law,
    set: &FitSet,
    data: Vec<DataRecord>,
    options: &FitOptions,
) -> Result<FitRecord> {
    fit_set_with_progress(law, set, data, options, &|_, _| {})
}

/// [`fit_set`], reporting each finished start.
pub fn fit_set_with_progress(
    law: &dyn Law,
    set: &FitSet,
    data: Vec<DataRecord>,
    options: &FitOptions,
    on_start: &(dyn Fn(usize, usize) + Sync),
) -> Result<FitRecord> {
    if !(options.huber_delta > 0.0 && options.huber_delta.is_finite()) {
        return Err(Error::input(format!(
            "--huber-delta must be > 0, got {}",
            crate::base::numbers::num(options.huber_delta)
        )));
    }
    let feats = &set.fit_features;
    let mut points = FitPoints::zip(feats, &set.losses);
    if options.run_weighting == RunWeighting::Runs {
        FitPoints::weigh_runs_equally(&mut points);
    }
    let n_points: usize = set.losses.iter().map(|l| l.len()).sum();
    let k = law.param_names().len();
    if n_points < k {
        // Name what removed the points: the options that did, else the step filters.
        let mut causes = Vec::new();
        if options.skip_fraction > 0.0 {
            causes.push(format!(
                "--skip-fraction {} leaves out the first {} % of each run",
                crate::base::numbers::num(options.skip_fraction),
                crate::base::numbers::num(100.0 * options.skip_fraction)
            ));
        }
        if options.max_points_per_run > 0 && options.max_points_per_run < k {
            causes.push(format!(
                "--max-points {} averages each run into at most that many points",
                options.max_points_per_run
            ));
        }
        let cause = if causes.is_empty() {
            "check --min-step/--max-step, min_step/max_step in the manifest, or the filters"
                .to_string()
        } else {
            causes.join("; ")
        };
        return Err(Error::input(format!(
            "{n_points} point(s) to fit (in {}) but law {} has {k} parameters; need at least \
             {k} ({cause})",
            set.names.join(", "),
            law.name()
        )));
    }
    let priors: Vec<crate::law::Prior> = if options.priors {
        law.priors()
            .into_iter()
            .map(
                |p| match options.prior_centers.get(law.param_names()[p.param]) {
                    Some(&center) => crate::law::Prior { center, ..p },
                    None => p,
                },
            )
            .collect()
    } else {
        Vec::new()
    };
    let objective = HuberLogObjective::new(law, &points, options.huber_delta).with_priors(&priors);
    let data_for_starts: Vec<(&Features, &[f64])> =
        feats.iter().zip(set.losses.iter().copied()).collect();
    let starts = match &options.warm_start {
        Some(w) if w.len() == k => vec![w.clone()],
        _ => law.starts(&data_for_starts),
    };
    let result =
        multistart::multi_start_with_progress(&objective, &starts, &options.optimizer, on_start)
            .ok_or_else(|| Error::failed("every fit start failed to produce a finite objective"))?;
    let best = &result.best;

    let mut warnings = Vec::new();
    let mut at_bound = Vec::new();
    for ((name, t), &p) in law
        .param_names()
        .iter()
        .zip(law.transforms())
        .zip(&best.params)
    {
        if let Some(which) = t.bound_hit(p) {
            warnings.push(format!("parameter {name} is at its {which}"));
            at_bound.push(name.to_string());
        }
    }
    // A fit that ends outside the law's declared domain (a size law's exponent at or below 0)
    // has no reading as this law: refuse it rather than write a file every reader refuses.
    law::check_params(law, &best.params).map_err(|m| {
        Error::failed(format!(
            "the best fit ends at {m}: the data do not follow law {} (try another law, or \
             --fix the parameter)",
            law.name()
        ))
    })?;
    let invalid = objective.has_invalid_prediction(&best.params);
    if invalid {
        warnings.push("the best fit predicts a non-positive loss at some fit point".into());
    }
    if !best.converged {
        warnings.push(format!(
            "not converged: the optimiser stopped ({}) where the residuals are not yet \
             orthogonal to the Jacobian (cosine {:.2e}, want < {:.0e}): a better optimum may exist",
            best.termination, best.orthogonality, options.optimizer.orthogonality_tol
        ));
    }
    let at_best = (result.starts_at_best * result.starts as f64).round() as usize;
    if at_best <= 1 {
        warnings.push("only one start reached the best optimum; the optimum may be fragile".into());
    }
    let mut unidentified = Vec::new();
    for (name, &spread) in law.param_names().iter().zip(&result.spread_at_best) {
        if spread > UNIDENTIFIED_SPREAD {
            unidentified.push(name.to_string());
            warnings.push(format!(
                "parameter {name} differs by up to {:.0} % among the starts that reached the best \
                 objective: the data do not determine it",
                spread * 100.0
            ));
        }
    }
    if n_points < 2 * k {
        warnings.push(format!(
            "only {n_points} points for {k} parameters; the fit is barely determined"
        ));
    }
    // Linearised standard errors on the exact features: a parameter the data cannot move is
    // caught even when every start agrees (one start, or starts that never leave its value).
    // One exact pass gives what the record reads at the optimum: standard errors, objective,
    // metrics and the fit approximation's gap (for the Multi-Power Law an exact pass over long
    // runs costs as much as many optimiser steps, and the record used to make four).
    let at_best: Vec<identify::Predicted> = set
        .exact_features
        .iter()
        .map(|f| identify::Predicted::new(law, &best.params, f))
        .collect();
    let rel_errors =
        identify::relative_standard_errors(&best.params, &at_best, &set.losses, &priors);
    for (name, &err) in law.param_names().iter().zip(&rel_errors) {
        // A parameter at its bound is reported as such; its error bar says nothing more.
        if err > identify::MAX_RELATIVE_ERROR
            && !at_bound.iter().any(|b| b == name)
            && !unidentified.iter().any(|u| u == name)
        {
            unidentified.push(name.to_string());
            warnings.push(if err.is_finite() {
                format!(
                    "parameter {name} has a standard error of {:.0} % of its value: the data do \
                     not determine it",
                    err * 100.0
                )
            } else {
                format!(
                    "parameter {name} does not change the fitted predictions, or others undo \
                     its change exactly: the data do not determine it"
                )
            });
        }
    }
    warnings.extend(law.diagnostics(&best.params, feats));
    for name in law.structurally_unidentified(feats) {
        if !unidentified.iter().any(|u| u == name) {
            unidentified.push(name.to_string());
        }
    }
    // The objective on exact features, and how far the fit's approximation (if any) is from it.
    let exact = &set.exact_features;
    let mut exact_points = FitPoints::zip(exact, &set.losses);
    if options.run_weighting == RunWeighting::Runs {
        FitPoints::weigh_runs_equally(&mut exact_points);
    }
    let exact_preds: Vec<&[f64]> = at_best.iter().map(|a| a.pred.as_slice()).collect();
    let exact_objective = HuberLogObjective::new(law, &exact_points, options.huber_delta)
        .value_of_predictions(&exact_preds);
    let prior_penalty = objective.penalty(&best.params);
    let approximation_error = max_prediction_gap(law, &best.params, feats, &exact_preds);
    let trustworthy = best.converged && at_bound.is_empty() && !invalid && unidentified.is_empty();

    let run_metrics: Vec<RunMetrics> = set
        .names
        .iter()
        .zip(&exact_preds)
        .zip(&set.losses)
        .map(|((name, pred), &loss)| RunMetrics {
            name: name.clone(),
            role: Role::Fit,
            points: loss.len(),
            metrics: metrics::curve_metrics(loss, pred),
        })
        .collect();
    let ms: Vec<_> = run_metrics.iter().map(|r| r.metrics).collect();
    let fit_mean = metrics::mean(&ms).ok_or_else(|| Error::input("nothing to fit"))?;
    Ok(FitRecord {
        law: law.name().to_string(),
        params: law
            .param_names()
            .iter()
            .map(|n| n.to_string())
            .zip(best.params.iter().copied())
            .collect(),
        options: options.clone(),
        objective: exact_objective,
        prior: (!priors.is_empty()).then(|| record::PriorRecord {
            penalty: prior_penalty,
            terms: priors
                .iter()
                .map(|p| record::NamedPrior {
                    param: law.param_names()[p.param].to_string(),
                    center: p.center,
                    log_sd: p.log_sd,
                })
                .collect(),
        }),
        fit_approximation: (approximation_error > 0.0).then_some(record::FitApproximation {
            objective: best.objective,
            max_abs_prediction_error: approximation_error,
        }),
        iterations: best.iterations,
        iterations_all_starts: result.iterations_total,
        converged: best.converged,
        termination: best.termination.clone(),
        orthogonality: best.orthogonality,
        starts: result.starts,
        starts_failed: result.starts_failed,
        starts_at_best: result.starts_at_best,
        at_bound,
        unidentified,
        relative_errors: law
            .param_names()
            .iter()
            .map(|n| n.to_string())
            .zip(rel_errors.iter().map(|e| e.is_finite().then_some(*e)))
            .collect(),
        trustworthy,
        warnings,
        points_used: n_points,
        metrics: record::MetricsRecord {
            runs: run_metrics,
            fit_mean,
        },
        data,
        loss_range: plausible::loss_range(set.losses.iter().flat_map(|l| l.iter().copied())),
        domain: None,
        table_domain: None,
        bootstrap: None,
        selection: None,
        laplace: identify::laplace(&best.params, &at_best, &set.losses, &priors),
        calibration: None,
        calibration_by_task: Vec::new(),
        losscast_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}
