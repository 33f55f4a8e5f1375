//! The plausibility gate: the one rule every command applies before it prints a forecast or a
//! metric computed from predictions.
//!
//! A law evaluated far outside where it was fitted can return anything: a chinchilla law with
//! negative exponents forecasts 1e27 nats, a hand-edited C turns predictions negative, a joint
//! law whose exponent ran off forecasts 5e8 nats. Printed as an answer, such a number is worse
//! than none. The rule, stated once:
//!
//! - a predicted loss must be finite and > 0;
//! - when the data behind the prediction are known (the losses a fit saw, or the observed
//!   losses of the run being scored), it must lie within a factor [`FACTOR`] of their range:
//!   `min / 10 <= pred <= max * 10`. Training never lowers a loss tenfold beyond what the
//!   fit saw, and a forecast ten times the worst observed loss is not a forecast of training;
//! - with no data at all (parameters typed on the command line), it must not exceed
//!   [`CEILING`] nats: a cross-entropy of e^100 perplexity is not a loss any model trains to.
//!
//! A prediction that fails makes the result untrustworthy, and the command exits 1 naming the
//! value, where it was predicted and the rule.

use crate::base::numbers::num;
use crate::error::{Error, Result};

/// How far outside the observed loss range a prediction may lie, as a ratio.
pub const FACTOR: f64 = 10.0;

/// The largest loss accepted when no data bound the prediction.
pub const CEILING: f64 = 100.0;

/// The range a prediction must fall in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gate {
    lo: f64,
    hi: f64,
    /// What bounds the range, for the message.
    basis: &'static str,
}

impl Gate {
    /// Around the observed losses `[min, max]` of the fit's data or of a scored run.
    pub fn around(range: [f64; 2], basis: &'static str) -> Self {
        Gate {
            lo: range[0] / FACTOR,
            hi: range[1] * FACTOR,
            basis,
        }
    }

    /// Around the finite positive values of `losses`; the no-data gate when there are none.
    pub fn around_losses(losses: &[f64], basis: &'static str) -> Self {
        match loss_range(losses.iter().copied()) {
            Some(r) => Gate::around(r, basis),
            None => Gate::without_data(),
        }
    }

    /// For parameters typed without data: positive, finite and at most [`CEILING`].
    pub fn without_data() -> Self {
        Gate {
            lo: 0.0,
            hi: CEILING,
            basis: "no data bound these parameters",
        }
    }

    /// `Ok` when `pred` passes; otherwise the error naming it, `at` (e.g. "step 24000") and
    /// the rule. Exit code 1: the input was valid, the answer is not trustworthy.
    pub fn check(&self, pred: f64, at: &str) -> Result<()> {
        let fails = !pred.is_finite() || pred <= 0.0 || pred < self.lo || pred > self.hi;
        if !fails {
            return Ok(());
        }
        let why = if !pred.is_finite() || pred <= 0.0 {
            "not a finite positive loss".to_string()
        } else {
            format!(
                "outside [{}, {}], {}× the range of the observed losses ({})",
                num(self.lo),
                num(self.hi),
                FACTOR,
                self.basis
            )
        };
        let why = if self.lo == 0.0 && pred > self.hi {
            format!(
                "above {} nats, more than any model trains to ({})",
                num(CEILING),
                self.basis
            )
        } else {
            why
        };
        Err(Error::failed(format!(
            "implausible: the law predicts a loss of {} at {at}, {why}. These parameters do \
             not describe this point; the result is not trustworthy",
            num(pred)
        )))
    }

    /// [`Gate::check`] for each prediction, `at(i)` naming point `i`.
    pub fn check_all(&self, preds: &[f64], at: impl Fn(usize) -> String) -> Result<()> {
        match preds.iter().position(|&p| self.check(p, "").is_err()) {
            Some(i) => self.check(preds[i], &at(i)),
            None => Ok(()),
        }
    }
}

impl crate::fit::FitRecord {
    /// The gate a forecast from this fit passes: around the losses it saw, or the no-data
    /// rule for a record written before it kept them.
    pub fn gate(&self) -> Gate {
        match self.loss_range {
            Some(r) => Gate::around(r, "the losses this fit saw"),
            None => Gate::without_data(),
        }
    }
}

/// The smallest and largest finite positive loss; `None` when there is none.
pub fn loss_range(losses: impl IntoIterator<Item = f64>) -> Option<[f64; 2]> {
    let mut it = losses.into_iter().filter(|x| x.is_finite() && *x > 0.0);
    let first = it.next()?;
    Some(it.fold([first, first], |[lo, hi], x| [lo.min(x), hi.max(x)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_as_stated() {
        let g = Gate::around([2.5, 8.0], "the fit's data");
        assert!(g.check(2.5, "x").is_ok());
        assert!(g.check(0.26, "x").is_ok());
        assert!(g.check(79.0, "x").is_ok());
        for bad in [0.24, 81.0, 0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = g.check(bad, "step 7").unwrap_err();
            assert_eq!(e.exit_code(), 1);
            assert!(e.to_string().contains("at step 7"), "{e}");
        }
        let free = Gate::without_data();
        assert!(free.check(99.0, "x").is_ok());
        let e = free.check(3.92e27, "N = 7e10").unwrap_err().to_string();
        assert!(e.contains("above 100 nats"), "{e}");
    }

    #[test]
    fn check_all_names_the_first_bad_point() {
        let g = Gate::around_losses(&[3.0, 4.0, f64::NAN], "run a");
        let e = g
            .check_all(&[3.5, 3.2, -0.2, 1e9], |i| format!("point {i}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at point 2"), "{e}");
    }
}
