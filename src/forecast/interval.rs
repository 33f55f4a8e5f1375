//! Forecast intervals: how far a forecast may be off, from the two things that make it wrong.
//!
//! - **Parameter uncertainty**: the fit's Laplace covariance (`fit::identify::Laplace`) carried
//!   through the law's Jacobian at the forecast point.
//! - **Model error**: the law is not the truth, and its error grows with extrapolation. It is
//!   measured in units of the fit's own residual scale and grows with ln of the distance beyond
//!   the fit (S1 over the fit runs' largest, or N over the largest fit size).
//!
//! The two add in quadrature to a scale σ(x), and the interval is ln(pred) ± q·σ(x). The
//! multiplier q is calibrated on a backtest of the fit runs (`fit` runs one and stores the
//! result): q = z·r, z the normal quantile of the level and r the RMS of the held-out scores
//! |ln(obs/pred)|/σ, each fold weighted equally. The RMS, not an empirical quantile, because a
//! backtest has a handful of folds whose points move together: the 90 % quantile of their
//! scores is the worst fold's, and an interval set by the worst fold is 3–12 times the typical
//! error on the open data (issue 25), while the RMS follows the error of every fold. Equal fold
//! weights, so that one long held-out run does not decide the width. The slope of the distance
//! term is chosen on the same residuals as the one giving the narrowest intervals.

use crate::fit::identify::Laplace;
use crate::fit::record::{Distance, ErrorModel, Task};
use crate::fit::{Domain, FitRecord};
use crate::law::{Features, Law};
use serde::{Deserialize, Serialize};

/// The interval level when none is asked for.
pub const DEFAULT_LEVEL: f64 = 0.9;

/// Levels an [`ErrorModel`] keeps a multiplier for; others are interpolated between them.
pub const LEVELS: [f64; 9] = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99];

/// Distance-term slopes tried by [`calibrate`].
const SLOPES: [f64; 6] = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0];

/// Slopes of the deeper-anneal term tried by [`calibrate`] (the term is slope × ln(1 + excess),
/// [`s2_excess`]).
const S2_SLOPES: [f64; 7] = [0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0];

/// One held-out point of a calibration backtest, as the score needs it.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    /// ln(observed / predicted).
    pub log_err: f64,
    pub param_sd: f64,
    pub residual_sd: f64,
    /// The fit's point-to-point noise (see `Laplace::noise_sd`).
    pub noise_sd: f64,
    pub distance: f64,
    /// S2 beyond the fit's largest, in units of its largest S1 (0 for size distances).
    pub s2_excess: f64,
    /// The last point of its held-out run.
    pub is_final: bool,
    /// The backtest fold it was held out in: folds weigh equally in the calibration.
    pub fold: usize,
}

/// An interval around a forecast, in loss units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub lo: f64,
    pub hi: f64,
}

/// How far a forecast point lies beyond the fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beyond {
    /// S1 or size ratio to the fit's largest.
    pub ratio: f64,
    /// S2 beyond the fit's largest, relative to it ([`s2_excess`]).
    pub s2_excess: f64,
}

/// The two slopes of g.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slopes {
    pub ratio: f64,
    pub s2: f64,
}

/// g(d, x): how much the model-error scale grows at distance d beyond the fit, and with an
/// anneal x deeper than the fit saw.
pub fn growth(slopes: Slopes, at: Beyond) -> f64 {
    let d = at.ratio;
    // Logarithmic in the relative excess: an anneal twice as deep as the fit saw costs a
    // step, one from a fit that saw none costs several, and neither grows without bound.
    let x = if at.s2_excess.is_finite() {
        at.s2_excess.max(0.0).ln_1p()
    } else {
        0.0
    };
    1.0 + slopes.ratio * if d.is_finite() { d.max(1.0).ln() } else { 0.0 } + slopes.s2 * x
}

/// The parameter part of σ is capped here (10 % of the loss): the Laplace sd along a direction
/// the data leave flat is astronomically large and says nothing about the size of the error,
/// while 10 % already makes an interval that says "unknown" (the design study compared caps).
pub const PARAM_SD_CAP: f64 = 0.1;

/// σ(x): parameter and model error in quadrature, in ln(loss) units.
///
/// Three parts: the parameters' uncertainty, the law's misfit (the fit's smooth residual),
/// which grows with the distance beyond the fit, and the log's point-to-point noise, which
/// does not: a per-step training loss scatters by a percent around any curve, and multiplying
/// that scatter by the distance term would make every interval of a noisy log enormous.
pub fn sigma(param_sd: f64, residual_sd: f64, noise_sd: f64, slopes: Slopes, at: Beyond) -> f64 {
    let p = if param_sd.is_finite() {
        param_sd.min(PARAM_SD_CAP)
    } else {
        PARAM_SD_CAP
    };
    let m = residual_sd * growth(slopes, at);
    let n = if noise_sd.is_finite() { noise_sd } else { 0.0 };
    (p * p + m * m + n * n).sqrt()
}

impl Scored {
    fn beyond(&self) -> Beyond {
        Beyond {
            ratio: self.distance,
            s2_excess: self.s2_excess,
        }
    }

    fn sigma(&self, slopes: Slopes) -> f64 {
        sigma(
            self.param_sd,
            self.residual_sd,
            self.noise_sd,
            slopes,
            self.beyond(),
        )
    }
}

/// Multipliers at every level in [`LEVELS`] for one slope: z(level) × the fold-weighted RMS of
/// the scores |ln(obs/pred)|/σ (see the module doc for why not a quantile).
fn multipliers(points: &[Scored], slopes: Slopes) -> Option<Vec<(f64, f64)>> {
    // Ordered by fold so the sum below adds in the same order every run: a HashMap's random
    // order changed the multipliers in the last bit between two fits of the same data.
    let mut per_fold: std::collections::BTreeMap<usize, (f64, usize)> =
        std::collections::BTreeMap::new();
    for p in points {
        let score = p.log_err.abs() / p.sigma(slopes);
        if score.is_finite() {
            let f = per_fold.entry(p.fold).or_insert((0.0, 0));
            f.0 += score * score;
            f.1 += 1;
        }
    }
    if per_fold.is_empty() {
        return None;
    }
    let mean_square =
        per_fold.values().map(|(s, n)| s / *n as f64).sum::<f64>() / per_fold.len() as f64;
    let rms = mean_square.sqrt();
    Some(
        LEVELS
            .iter()
            .map(|&l| (l, crate::base::stats::normal_quantile(0.5 + 0.5 * l) * rms))
            .collect(),
    )
}

/// The slopes the open data's backtests chose for each law (`docs/studies/interval_defaults.py
/// --emit`, every held-out point of the bundled and ladder backtests pooled per law). A
/// calibration uses them for what its own backtest cannot show: a backtest whose held-out
/// points never leave the fit's S1 range cannot measure how error grows beyond it, and one
/// whose forecasts never anneal deeper than their fits cannot measure what that costs.
pub fn default_slopes(law: &str) -> Slopes {
    let (ratio, s2, _) = open_data(law);
    Slopes { ratio, s2 }
}

/// The open data's calibration of a law: slopes and the multipliers at [`LEVELS`], every
/// held-out point of the bundled and ladder backtests pooled (`docs/studies/interval_defaults.py
/// --emit`; `docs/studies/interval-design.md` has the counts and the families).
fn open_data(law: &str) -> (f64, f64, [f64; 9]) {
    match law {
        "annealing" => (
            3.0,
            100.0,
            [
                0.7946, 1.0053, 1.2190, 1.4415, 1.7918, 1.9281, 3.2198, 3.8362, 14.9916,
            ],
        ),
        "multipower" => (
            1.0,
            3.0,
            [
                1.5250, 2.0174, 2.6979, 3.7111, 4.2465, 4.7825, 9.5382, 15.9473, 23.1042,
            ],
        ),
        "joint-additive" | "joint-scaled" => (
            5.0,
            0.0,
            [
                0.1396, 0.2573, 0.4588, 1.1198, 1.5845, 1.9293, 3.4270, 4.1387, 4.1387,
            ],
        ),
        "collapse" => (
            0.0,
            0.0,
            [
                2.0330, 2.2466, 2.5623, 4.5919, 6.0772, 6.7605, 10.3702, 10.3702, 10.3702,
            ],
        ),
        // A law the study has not measured: the steepest slopes and largest multipliers any
        // measured law needed.
        _ => (
            5.0,
            100.0,
            [
                2.0330, 2.2466, 2.7701, 4.5919, 6.0772, 6.7605, 10.3702, 15.9048, 28.7319,
            ],
        ),
    }
}

impl ErrorModel {
    /// The open data's calibration of schedule law `law`, for fit runs too short to backtest
    /// (fewer than two folds even when cut at fractions of their span). It transfers unevenly
    /// between data sets (`docs/studies/interval-design.md`), so it is used only where nothing
    /// else is, and says so: `folds` is 0 and `floored` true.
    pub fn open_data(law: &str) -> ErrorModel {
        let (ratio, s2, q) = open_data(law);
        ErrorModel {
            distance: Distance::S1,
            slope: ratio,
            s2_slope: s2,
            multipliers: LEVELS.iter().copied().zip(q).collect(),
            points: 0,
            finals: 0,
            folds: 0,
            tasks: Vec::new(),
            floored: true,
            gap_sd: None,
        }
    }

    /// Widened by [`INNER_WIDENING`]: for a calibration whose own backtest could only cut a
    /// run short of where it is now (a single run, or one in progress), whose folds are
    /// easier than the forecast it is asked for.
    pub fn widened_for_inner_folds(mut self) -> ErrorModel {
        for (_, m) in self.multipliers.iter_mut() {
            *m *= INNER_WIDENING;
        }
        self.floored = true;
        self
    }
}

/// How much harder forecasting a run's rest from its head is than the backtest of that head
/// (cut at 40–85 % of its span) shows: on the open data's truncated runs (MPL 25M/100M/400M,
/// Pile-T5, Gemstones; both schedule laws, nested, every set weighted equally) the head's own
/// calibration covered 41–83 % (median 64 %) at 90 % alone, 64–96 % (median 83 %) widened by
/// 2 (`docs/studies/interval-design.md`, issue 25). It replaces
/// a floor at the open data's multipliers, which ignored how large the run's own errors are:
/// where the parameter part of σ is at its cap the floored interval was ±40 % of the loss.
pub const INNER_WIDENING: f64 = 2.0;

/// How much deeper than the fit's deepest anneal a forecast point anneals:
/// (S2 − S2_max)⁺ / (S2_max − S2_min + 1 % of S1_max), S2_min the lowest S2 at a fit point
/// (warmup makes S2 negative before any anneal). Relative to the annealing the fit watched,
/// because a fit that saw half a cosine decay knows its annealing coefficient, and one that
/// saw a constant LR does not: the same excess means little to the first and everything to
/// the second.
pub fn s2_excess(s2: f64, domain: &Domain) -> f64 {
    let low = domain.s2_min.unwrap_or(domain.s2_max.min(0.0));
    let seen = (domain.s2_max - low).max(0.0) + 0.01 * domain.s1_max;
    ((s2 - domain.s2_max).max(0.0) / seen).max(0.0)
}

/// Share of held-out points that must lie beyond the fit for a backtest to measure a slope.
const MIN_BEYOND_SHARE: f64 = 0.05;

/// Calibrate on a backtest's held-out points: for each slope the points can measure, the value
/// whose multiplier at the default level gives the narrowest mean interval (the others from
/// `fallback`), and the multipliers at every level. `None` without points.
pub fn calibrate(
    points: &[Scored],
    distance: Distance,
    folds: usize,
    tasks: Vec<Task>,
    fallback: Slopes,
) -> Option<ErrorModel> {
    if points.is_empty() {
        return None;
    }
    let share = |f: &dyn Fn(&Scored) -> bool| {
        points.iter().filter(|p| f(p)).count() as f64 / points.len() as f64
    };
    let ratios: Vec<f64> = if share(&|p| p.distance > 1.2) >= MIN_BEYOND_SHARE {
        SLOPES.to_vec()
    } else {
        vec![fallback.ratio]
    };
    let s2s: Vec<f64> = if share(&|p| p.s2_excess > 0.05) >= MIN_BEYOND_SHARE {
        S2_SLOPES.to_vec()
    } else {
        vec![fallback.s2]
    };
    // (slopes, mean width, multipliers) of the narrowest so far.
    type Candidate = (Slopes, f64, Vec<(f64, f64)>);
    let mut best: Option<Candidate> = None;
    for &ratio in &ratios {
        for &s2 in &s2s {
            let slopes = Slopes { ratio, s2 };
            let Some(m) = multipliers(points, slopes) else {
                continue;
            };
            let q = at_level(&m, DEFAULT_LEVEL)?;
            let width: f64 =
                points.iter().map(|p| q * p.sigma(slopes)).sum::<f64>() / points.len() as f64;
            if best.as_ref().is_none_or(|b| width < b.1) {
                best = Some((slopes, width, m));
            }
        }
    }
    let (slopes, _, multipliers) = best?;
    Some(ErrorModel {
        distance,
        slope: slopes.ratio,
        s2_slope: slopes.s2,
        multipliers,
        points: points.len(),
        finals: points.iter().filter(|p| p.is_final).count(),
        folds,
        tasks,
        floored: false,
        gap_sd: None,
    })
}

/// The multiplier at `level`, interpolated between the stored levels; `None` outside them.
fn at_level(m: &[(f64, f64)], level: f64) -> Option<f64> {
    let i = m.iter().position(|&(l, _)| l >= level - 1e-12)?;
    let (l1, q1) = m[i];
    if (l1 - level).abs() < 1e-12 || i == 0 {
        return ((l1 - level).abs() < 1e-12).then_some(q1);
    }
    let (l0, q0) = m[i - 1];
    Some(q0 + (q1 - q0) * (level - l0) / (l1 - l0))
}

impl ErrorModel {
    /// The multiplier at `level`, or `None` outside the calibrated levels.
    pub fn multiplier(&self, level: f64) -> Option<f64> {
        at_level(&self.multipliers, level)
    }

    pub fn slopes(&self) -> Slopes {
        Slopes {
            ratio: self.slope,
            s2: self.s2_slope,
        }
    }

    /// The interval around `pred` at one point.
    pub fn band(
        &self,
        level: f64,
        pred: f64,
        param_sd: f64,
        residual_sd: f64,
        noise_sd: f64,
        at: Beyond,
    ) -> Band {
        let q = self.multiplier(level).unwrap_or(f64::INFINITY);
        let h = q * sigma(param_sd, residual_sd, noise_sd, self.slopes(), at);
        Band {
            lo: pred * (-h).exp(),
            hi: pred * h.exp(),
        }
    }
}

/// What a forecast needs from a fit record to draw intervals: its Laplace covariance, its
/// calibrated error model and the domain distances are measured against.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub laplace: &'a Laplace,
    /// Every task pooled: used where no task-specific model applies.
    pub model: &'a ErrorModel,
    /// Calibrated on one backtest task each (schedule, horizon, truncate, size).
    pub by_task: &'a [ErrorModel],
    pub domain: &'a Domain,
    pub level: f64,
}

impl<'a> Source<'a> {
    /// `None` when the record lacks any of the three (fitted with `--no-intervals`, too few
    /// backtest folds, a size-law or an older record).
    pub fn of(record: &'a FitRecord, level: f64) -> Option<Source<'a>> {
        Some(Source {
            laplace: record.laplace.as_ref()?,
            model: record.calibration.as_ref()?,
            by_task: &record.calibration_by_task,
            domain: record.domain.as_ref()?,
            level,
        })
    }

    /// Why a record gives no intervals, for a note beside a forecast.
    pub fn missing(record: Option<&FitRecord>) -> &'static str {
        match record {
            None => "typed parameters carry no uncertainty",
            Some(r) if r.calibration.is_none() => {
                "the fit has no interval calibration (fitted with --no-intervals, with fewer \
                 than two backtest folds in its runs, or before intervals existed)"
            }
            Some(_) => "the fit has no parameter covariance or domain",
        }
    }

    /// How far beyond the fit each point of a curve lies: S1 (the law's warmup convention)
    /// over the fit's largest, or the model size over the largest fit size; and S2 beyond the
    /// fit's largest.
    pub fn distances(
        &self,
        law: &dyn Law,
        lr: &[f64],
        steps: &[i64],
        size: Option<f64>,
    ) -> Vec<Beyond> {
        beyond(self.model.distance, self.domain, law, lr, steps, size)
    }

    /// [`Source::distances`] of one point whose S1 and S2 (the law's conventions) are known
    /// already: `plan` has them from its own pass over the LR array.
    pub fn distance_from_areas(&self, s1: f64, s2: f64, size: Option<f64>) -> Beyond {
        match self.model.distance {
            Distance::Size => Beyond {
                ratio: size
                    .zip(self.domain.params)
                    .map_or(1.0, |(n, [_, hi])| n / hi),
                s2_excess: 0.0,
            },
            Distance::S1 => Beyond {
                ratio: s1 / self.domain.s1_max,
                s2_excess: s2_excess(s2, self.domain),
            },
        }
    }

    /// The model calibrated on backtest task `task`, or the pooled one.
    pub fn for_task(&self, task: Task) -> &'a ErrorModel {
        model_for_task(self.model, self.by_task, task)
    }

    /// See [`model_for_point`].
    pub fn for_point(&self, at: Beyond) -> &'a ErrorModel {
        model_for_point(self.model, self.by_task, at)
    }

    /// Bands around the predictions of `params` at `features`, with each point's distance,
    /// each from `for_point`'s model.
    pub fn bands(&self, law: &dyn Law, params: &[f64], f: &Features, d: &[Beyond]) -> Vec<Band> {
        self.bands_with(law, params, f, d, &|at| self.for_point(at))
    }

    /// [`Source::bands`] with the model chosen by `pick`.
    pub fn bands_with(
        &self,
        law: &dyn Law,
        params: &[f64],
        f: &Features,
        d: &[Beyond],
        pick: &dyn Fn(Beyond) -> &'a ErrorModel,
    ) -> Vec<Band> {
        let (m, k) = (f.len(), params.len());
        let (mut pred, mut jac) = (vec![0.0; m], vec![0.0; m * k]);
        law.predict_jacobian(params, f, &mut pred, &mut jac);
        (0..m)
            .map(|i| {
                let sd = self.laplace.log_sd(pred[i], &jac[i * k..(i + 1) * k]);
                pick(d[i]).band(
                    self.level,
                    pred[i],
                    sd.min(PARAM_SD_CAP),
                    self.laplace.residual_sd,
                    self.laplace.noise_sd,
                    d[i],
                )
            })
            .collect()
    }
}

/// How a forecast's intervals held on an observed run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Held {
    /// Share of the run's points inside their interval.
    pub points_in: f64,
    /// Whether the last point is inside.
    pub final_in: bool,
    /// Mean half-width relative to the prediction (in logs).
    pub mean_half_width: f64,
}

impl Source<'_> {
    /// The intervals of `params`' forecast of an observed run, checked against it.
    pub fn held(
        &self,
        law: &dyn Law,
        params: &[f64],
        run: &crate::runs::Run,
    ) -> crate::error::Result<Option<Held>> {
        let f = law.features(&crate::law::Curve {
            lr: &run.lr,
            steps: &run.steps,
            params: run.params,
            end: run.end,
        })?;
        let at = self.distances(law, &run.lr, &run.steps, run.params);
        let bands = self.bands(law, params, &f, &at);
        if bands.is_empty() {
            return Ok(None);
        }
        let inside: Vec<bool> = bands
            .iter()
            .zip(&run.loss)
            .map(|(b, &y)| b.lo <= y && y <= b.hi)
            .collect();
        Ok(Some(Held {
            points_in: inside.iter().filter(|&&i| i).count() as f64 / inside.len() as f64,
            final_in: *inside.last().unwrap_or(&false),
            mean_half_width: bands.iter().map(|b| (b.hi / b.lo).ln() / 2.0).sum::<f64>()
                / bands.len() as f64,
        }))
    }
}

/// The model of `by_task` calibrated on `task` alone, or `pooled`.
pub fn model_for_task<'m>(
    pooled: &'m ErrorModel,
    by_task: &'m [ErrorModel],
    task: Task,
) -> &'m ErrorModel {
    by_task.iter().find(|m| m.tasks == [task]).unwrap_or(pooled)
}

/// The model for a point of a forecast of a new run: inside the fit's S1 range it is a
/// schedule the fit did not see (the `schedule` task's calibration), beyond it a longer run
/// (`horizon`'s); a size forecast is `size`'s. A task without its own model uses the other
/// new-run task's, else the pooled.
pub fn model_for_point<'m>(
    pooled: &'m ErrorModel,
    by_task: &'m [ErrorModel],
    at: Beyond,
) -> &'m ErrorModel {
    let order = match pooled.distance {
        Distance::Size => [Task::Size, Task::Size],
        Distance::S1 if at.ratio > 1.0 => [Task::Horizon, Task::Schedule],
        Distance::S1 => [Task::Schedule, Task::Horizon],
    };
    // A new run's forecast is closer to the other new-run task than to the pooled model,
    // which truncated runs' far larger errors dominate.
    order
        .iter()
        .find_map(|t| by_task.iter().find(|m| m.tasks == [*t]))
        .unwrap_or(pooled)
}

/// How far beyond `domain` each step of a curve with per-step LR `lr` lies (see
/// [`Source::distances`]).
pub fn beyond(
    kind: Distance,
    domain: &Domain,
    law: &dyn Law,
    lr: &[f64],
    steps: &[i64],
    size: Option<f64>,
) -> Vec<Beyond> {
    match kind {
        Distance::Size => {
            let ratio = size.zip(domain.params).map_or(1.0, |(n, [_, hi])| n / hi);
            vec![
                Beyond {
                    ratio,
                    s2_excess: 0.0
                };
                steps.len()
            ]
        }
        Distance::S1 => {
            let eff = crate::law::effective(law, lr);
            let (s1, s2) = crate::law::areas::areas_at(&eff, law.options().lambda, steps);
            s1.iter()
                .zip(&s2)
                .map(|(&a, &b)| Beyond {
                    ratio: a / domain.s1_max,
                    s2_excess: s2_excess(b, domain),
                })
                .collect()
        }
    }
}

/// Parameter draws from the Laplace approximation N(params, covariance), seeded: the samples a
/// comparison of forecasts (`plan`'s probabilities) is computed on. Draws that `valid` rejects
/// (a parameter outside its law's range) are redrawn, up to 20 tries each; `None` if the
/// covariance is not a covariance.
pub fn parameter_draws(
    laplace: &Laplace,
    params: &[f64],
    n: usize,
    seed: u64,
    valid: &dyn Fn(&[f64]) -> bool,
) -> Option<Vec<Vec<f64>>> {
    let k = params.len();
    let cov = nalgebra::DMatrix::from_fn(k, k, |a, b| laplace.covariance[a][b]);
    let eig = nalgebra::SymmetricEigen::new(cov);
    // A square root of the covariance: V·sqrt(Λ), negative rounding clipped.
    let root = &eig.eigenvectors
        * nalgebra::DMatrix::from_diagonal(&eig.eigenvalues.map(|l| l.max(0.0).sqrt()));
    if root.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut rng = crate::fit::bootstrap::SplitMix64(seed);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        for _ in 0..20 {
            let z = nalgebra::DVector::from_fn(k, |_, _| rng.normal());
            let d = &root * z;
            let p: Vec<f64> = params.iter().zip(d.iter()).map(|(a, b)| a + b).collect();
            if valid(&p) {
                out.push(p);
                break;
            }
        }
    }
    Some(out)
}

/// A level from the command line: within the calibrated range.
pub fn check_level(level: f64) -> crate::error::Result<f64> {
    let (lo, hi) = (LEVELS[0], LEVELS[LEVELS.len() - 1]);
    if (lo..=hi).contains(&level) {
        Ok(level)
    } else {
        Err(crate::error::Error::input(format!(
            "--level must be between {lo} and {hi} (the levels intervals are calibrated at), \
             not {}",
            crate::base::numbers::num(level)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(e: f64, d: f64, is_final: bool) -> Scored {
        Scored {
            log_err: e,
            param_sd: 0.0,
            residual_sd: 1e-3,
            noise_sd: 0.0,
            distance: d,
            s2_excess: 0.0,
            is_final,
            fold: 0,
        }
    }

    /// Two fits of the same data write the same file: the multipliers do not depend on the
    /// order folds arrive in (they once summed folds in a HashMap's random order, and the
    /// Python API's fit and the CLI's differed in the last bit).
    #[test]
    fn multipliers_do_not_depend_on_fold_order() {
        let mut pts = Vec::new();
        for fold in 0..12 {
            for i in 0..7 {
                let mut p = point(
                    1e-3 * (0.1 + fold as f64 / 7.0 + i as f64 / 3.0),
                    1.5,
                    i == 6,
                );
                p.fold = fold;
                pts.push(p);
            }
        }
        let slopes = default_slopes("annealing");
        let a = multipliers(&pts, slopes).unwrap();
        for _ in 0..5 {
            let mut folds: Vec<Vec<Scored>> = pts.chunks(7).map(|c| c.to_vec()).collect();
            folds.reverse();
            folds.rotate_left(5);
            let b = multipliers(&folds.concat(), slopes).unwrap();
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.1.to_bits(), y.1.to_bits());
            }
        }
    }

    /// Errors that grow with ln distance are best described with a distance slope: the chosen
    /// slope is not zero, and the intervals cover the level at every distance.
    #[test]
    fn the_slope_follows_errors_that_grow_with_distance() {
        let mut pts = Vec::new();
        for i in 0..400 {
            let d = 1.0 + (i % 20) as f64;
            let u = ((i * 7919) % 400) as f64 / 400.0 - 0.5;
            pts.push(point(2e-3 * u * (1.0 + 2.0 * d.ln()), d, i % 20 == 19));
        }
        let m = calibrate(&pts, Distance::S1, 4, vec![], default_slopes("annealing")).unwrap();
        assert!(m.slope >= 1.0, "{m:?}");
        let q = m.multiplier(0.9).unwrap();
        for far in [false, true] {
            let sel: Vec<&Scored> = pts.iter().filter(|p| (p.distance > 10.0) == far).collect();
            let inside = sel
                .iter()
                .filter(|p| p.log_err.abs() <= q * p.sigma(m.slopes()))
                .count();
            let share = inside as f64 / sel.len() as f64;
            assert!(share > 0.85, "far {far}: {share}");
        }
    }

    #[test]
    fn levels_interpolate_and_refuse_outside() {
        let m = [(0.8, 1.0), (0.9, 2.0)];
        assert!((at_level(&m, 0.85).unwrap() - 1.5).abs() < 1e-12);
        assert_eq!(at_level(&m, 0.9), Some(2.0));
        assert_eq!(at_level(&m, 0.95), None);
        assert_eq!(at_level(&m, 0.7), None);
        assert!(check_level(0.999).is_err());
    }

    #[test]
    fn a_band_is_symmetric_in_logs() {
        let m = ErrorModel {
            distance: Distance::S1,
            slope: 1.0,
            s2_slope: 0.0,
            multipliers: vec![(0.9, 2.0)],
            points: 1,
            finals: 1,
            folds: 1,
            tasks: vec![],
            floored: false,
            gap_sd: None,
        };
        let at = Beyond {
            ratio: std::f64::consts::E,
            s2_excess: 0.0,
        };
        let b = m.band(0.9, 3.0, 0.0, 0.01, 0.0, at);
        assert!(((b.hi / 3.0).ln() - 0.04).abs() < 1e-12);
        assert!(((3.0 / b.lo).ln() - 0.04).abs() < 1e-12);
    }
}
