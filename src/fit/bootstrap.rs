//! Case bootstrap: refit on resampled points to get percentile intervals.
//!
//! Each resample draws the fit points with replacement and refits from the full-data optimum
//! (one L-BFGS start, not the whole grid: the question is how far the optimum moves when the data
//! move, not where else it could be). Resamples are independent, so they run in parallel, and
//! each has its own seed derived from (seed, index), so results do not depend on thread timing.
//!
//! The parameter samples are kept in the fit record, so any derived quantity (a prediction at
//! new N and D, the compute-optimal allocation) gets its interval later without refitting.

use super::multistart::{run_start, OptimizerOptions};
use super::objective::{FitPoints, HuberLogObjective};
use crate::error::{Error, Result};
use crate::law::{Features, Law};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
    /// Central interval level, e.g. 0.95.
    pub level: f64,
    /// Resamples whose refit did not give a finite objective (left out of the intervals).
    pub failed: usize,
    /// Percentile intervals of the parameters and of derived quantities.
    pub intervals: BTreeMap<String, [f64; 2]>,
    /// Parameter values of each successful resample, in the law's order.
    pub samples: Vec<Vec<f64>>,
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, well-studied generator. Resampling needs
/// uniform indices and reproducibility, not cryptographic quality.
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is < n/2^64).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in (0, 1): 53 random bits, never 0.
    pub(crate) fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller; one of the pair is dropped, simplicity over speed).
    pub(crate) fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The value at quantile `q` of sorted data (linear interpolation, numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Central `level` interval of values (NaNs ignored).
pub fn interval(values: impl Iterator<Item = f64>, level: f64) -> [f64; 2] {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    [quantile(&v, tail), quantile(&v, 1.0 - tail)]
}

/// Bootstrap a fit of one group of points (a table of runs).
#[allow(clippy::too_many_arguments)]
pub fn case_bootstrap(
    law: &dyn Law,
    features: &Features,
    loss: &[f64],
    best: &[f64],
    huber_delta: f64,
    resamples: usize,
    seed: u64,
    level: f64,
    on_progress: &(dyn Fn() + Sync),
) -> Result<Bootstrap> {
    if resamples == 0 {
        return Err(Error::input("--bootstrap needs at least 1 resample"));
    }
    if !features.aux.is_empty() {
        return Err(Error::input(format!(
            "the case bootstrap resamples points; law {} shares terms between points",
            law.name()
        )));
    }
    let n = loss.len();
    let options = OptimizerOptions::default();
    let results: Vec<Option<Vec<f64>>> = (0..resamples)
        .into_par_iter()
        .map(|r| {
            let mut rng = SplitMix64(seed ^ (r as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
            let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            let f = Features {
                columns: features
                    .columns
                    .iter()
                    .map(|c| idx.iter().map(|&i| c[i]).collect())
                    .collect(),
                aux: vec![],
            };
            let y: Vec<f64> = idx.iter().map(|&i| loss[i]).collect();
            let points = [FitPoints::new(&f, &y)];
            let objective = HuberLogObjective::new(law, &points, huber_delta);
            let res = run_start(&objective, best, &options);
            on_progress();
            res.objective.is_finite().then_some(res.params)
        })
        .collect();
    let samples: Vec<Vec<f64>> = results.iter().flatten().cloned().collect();
    let failed = resamples - samples.len();
    let mut intervals = BTreeMap::new();
    for (j, name) in law.param_names().iter().enumerate() {
        intervals.insert(
            name.to_string(),
            interval(samples.iter().map(|s| s[j]), level),
        );
    }
    for (name, f) in law.derived_quantities() {
        intervals.insert(
            name.to_string(),
            interval(samples.iter().map(|s| f(s)), level),
        );
    }
    Ok(Bootstrap {
        resamples,
        seed,
        level,
        failed,
        intervals,
        samples,
    })
}

/// Fewer resamples give no interval to speak of (one resample gives a zero-width "95 %"
/// interval that need not contain the estimate).
pub const MIN_RESAMPLES: usize = 20;
/// Epoch AI used 4 000; a hundred million is a stray zero that would run for days.
pub const MAX_RESAMPLES: usize = 100_000;

/// Check a bootstrap request; `Ok(Some(warning))` when the interval's tails rest on few
/// resamples.
pub fn check_request(resamples: usize, level: f64) -> Result<Option<String>> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::input(format!(
            "--level must lie in (0, 1), got {}",
            crate::base::numbers::num(level)
        )));
    }
    if !(MIN_RESAMPLES..=MAX_RESAMPLES).contains(&resamples) {
        return Err(Error::input(format!(
            "--bootstrap {resamples}: use between {MIN_RESAMPLES} and {MAX_RESAMPLES} resamples \
             (Epoch AI used 4000)"
        )));
    }
    let per_tail = resamples as f64 * (1.0 - level) / 2.0;
    Ok((per_tail < 10.0).then(|| {
        format!(
            "the {:.0} % bootstrap intervals rest on {per_tail:.1} resample(s) in each tail; use \
             --bootstrap {} or more for stable ends",
            level * 100.0,
            (20.0 / (1.0 - level)).ceil()
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy() {
        // numpy.quantile([1, 2, 3, 4], [0.025, 0.5, 0.975]) = [1.075, 2.5, 3.925]
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile(&v, 0.025) - 1.075).abs() < 1e-12);
        assert!((quantile(&v, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile(&v, 0.975) - 3.925).abs() < 1e-12);
    }

    #[test]
    fn splitmix_is_reproducible_and_uniform_enough() {
        let mut a = SplitMix64(7);
        let mut b = SplitMix64(7);
        let xs: Vec<usize> = (0..10_000).map(|_| a.below(10)).collect();
        assert!(xs
            .iter()
            .zip((0..10_000).map(|_| b.below(10)))
            .all(|(x, y)| *x == y));
        for k in 0..10 {
            let c = xs.iter().filter(|&&x| x == k).count();
            assert!((900..1100).contains(&c), "bucket {k}: {c}");
        }
    }
}
