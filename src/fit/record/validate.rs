//! What a fit file must satisfy before any command forecasts from it.
//!
//! Fit files are edited by hand, merged by scripts and truncated by full disks. Every later
//! command indexes the Laplace covariance by parameter, draws bootstrap samples by parameter and
//! scales intervals by the calibration's multipliers, so a record whose blocks disagree with its
//! law would panic or print `[NaN, NaN]` and `lo > hi` far from the cause. Checking once on read
//! turns each of those into one sentence naming the field, with exit code 2.

use super::FitRecord;
use crate::base::numbers::num;
use crate::law::{self, Law};

/// The largest RMS log residual a fit file may state. A fit whose predictions miss by a
/// factor e² on average is no fit; a larger value was typed, and would make every interval
/// [0, inf].
const MAX_LOG_SD: f64 = 2.0;

/// The largest interval multiplier a fit file may state: calibrations give 1 to 10.
const MAX_MULTIPLIER: f64 = 1000.0;

/// A probability level strictly inside (0, 1).
fn level_ok(x: f64) -> bool {
    x.is_finite() && x > 0.0 && x < 1.0
}

impl FitRecord {
    /// Check the record against its law: the parameters it names, the shapes of its covariance
    /// and samples, and the ranges of its interval blocks. The error names the field.
    pub fn validate(&self, law: &dyn Law) -> std::result::Result<(), String> {
        let names = law.param_names();
        let k = names.len();
        for key in self.params.keys() {
            if !names.contains(&key.as_str()) {
                return Err(format!(
                    "has parameter '{key}', which law {} does not have; it has {}",
                    self.law,
                    names.join(", ")
                ));
            }
        }
        let values: Vec<f64> = names
            .iter()
            .map(|n| {
                self.params
                    .get(*n)
                    .copied()
                    .ok_or_else(|| format!("has no value for parameter {n}"))
            })
            .collect::<std::result::Result<_, _>>()?;
        law::check_params(law, &values).map_err(|m| format!("parameter {m}"))?;
        if let Some(l) = &self.laplace {
            if l.covariance.len() != k || l.covariance.iter().any(|row| row.len() != k) {
                return Err(format!(
                    "laplace.covariance must be {k}×{k} (one row and column per parameter of \
                     {}), not {}×{}",
                    self.law,
                    l.covariance.len(),
                    l.covariance.first().map_or(0, Vec::len)
                ));
            }
            if l.covariance.iter().flatten().any(|x| !x.is_finite())
                || (0..k).any(|i| l.covariance[i][i] < 0.0)
            {
                return Err(
                    "laplace.covariance holds a non-finite entry or a negative variance".into(),
                );
            }
            for (field, x) in [("residual_sd", l.residual_sd), ("noise_sd", l.noise_sd)] {
                if !(x.is_finite() && (0.0..=MAX_LOG_SD).contains(&x)) {
                    return Err(format!(
                        "laplace.{field} = {} must lie in [0, {MAX_LOG_SD}]: it is an RMS \
                         log residual, and {MAX_LOG_SD} already means predictions off by a \
                         factor e^{MAX_LOG_SD}",
                        num(x)
                    ));
                }
            }
        }
        if let Some(b) = &self.bootstrap {
            if !level_ok(b.level) {
                return Err(format!(
                    "bootstrap.level = {} must lie strictly between 0 and 1 (0.95 is a 95 % \
                     interval)",
                    num(b.level)
                ));
            }
            if b.samples.is_empty() {
                return Err(
                    "bootstrap.samples is empty: no resample to draw intervals from".into(),
                );
            }
            if let Some((i, s)) = b.samples.iter().enumerate().find(|(_, s)| s.len() != k) {
                return Err(format!(
                    "bootstrap.samples[{i}] has {} values; law {} has {k} parameters",
                    s.len(),
                    self.law
                ));
            }
            if b.samples.iter().flatten().any(|x| !x.is_finite()) {
                return Err("bootstrap.samples holds a non-finite value".into());
            }
            for (name, [lo, hi]) in &b.intervals {
                if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                    return Err(format!(
                        "bootstrap.intervals.{name} = [{}, {}] is not an interval",
                        num(*lo),
                        num(*hi)
                    ));
                }
            }
        }
        let models = self.calibration.iter().map(|m| ("calibration", m));
        let by_task = self
            .calibration_by_task
            .iter()
            .map(|m| ("calibration_by_task", m));
        for (field, m) in models.chain(by_task) {
            if m.multipliers.is_empty() {
                return Err(format!(
                    "{field}.multipliers is empty: no level to draw an interval at"
                ));
            }
            for &(level, q) in &m.multipliers {
                if !(level_ok(level) && q.is_finite() && q > 0.0 && q <= MAX_MULTIPLIER) {
                    return Err(format!(
                        "{field}.multipliers has ({}, {}): each pair is (level in (0, 1), \
                         multiplier in (0, {MAX_MULTIPLIER}])",
                        num(level),
                        num(q)
                    ));
                }
            }
            if let Some(g) = m.gap_sd {
                if !(g.is_finite() && g >= 0.0) {
                    return Err(format!(
                        "{field}.gap_sd = {} must be finite and >= 0",
                        num(g)
                    ));
                }
            }
            for (name, x) in [("slope", m.slope), ("s2_slope", m.s2_slope)] {
                if !(x.is_finite() && x >= 0.0) {
                    return Err(format!(
                        "{field}.{name} = {} must be finite and >= 0",
                        num(x)
                    ));
                }
            }
        }
        if !(0.0..=1.0).contains(&self.starts_at_best) {
            return Err(format!(
                "starts_at_best = {} is a share, between 0 and 1",
                num(self.starts_at_best)
            ));
        }
        if let Some(d) = &self.domain {
            if d.last_step_max < 1 {
                return Err(format!(
                    "domain.last_step_max = {} must be a step >= 1",
                    d.last_step_max
                ));
            }
        }
        if let Some(t) = &self.table_domain {
            for (name, [lo, hi]) in [("n", t.n), ("d", t.d), ("c", t.c)] {
                if !(lo.is_finite() && lo > 0.0 && lo <= hi && hi.is_finite()) {
                    return Err(format!(
                        "table_domain.{name} = [{}, {}] must be a positive range",
                        num(lo),
                        num(hi)
                    ));
                }
            }
        }
        if let Some([lo, hi]) = self.loss_range {
            if !(lo.is_finite() && lo > 0.0 && lo <= hi && hi.is_finite()) {
                return Err(format!(
                    "loss_range = [{}, {}] must be a positive range",
                    num(lo),
                    num(hi)
                ));
            }
        }
        Ok(())
    }
}
