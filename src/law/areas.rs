//! The two schedule summaries of the annealing law (laws.md §1), computed once per run.
//!
//! Both are prefix quantities over the per-step LR array, so one O(T) pass gives their value at
//! every step; a fit then reads them at the logged steps and never touches the schedule again.

use crate::error::{Error, Result};

/// Forward area `S1(s) = Σ_{i=0..s} η_i`, the current step included.
pub fn forward_area(lr: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    lr.iter()
        .map(|&x| {
            acc += x;
            acc
        })
        .collect()
}

/// Annealing area `S2(s) = Σ_{i=0..s} m_i` with momentum `m_0 = 0`,
/// `m_i = λ·m_{i−1} + (η_{i−1} − η_i)`. LR increases (warmup) enter with negative sign.
pub fn annealing_area(lr: &[f64], lambda: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(lr.len());
    let (mut m, mut acc) = (0.0, 0.0);
    for (i, &x) in lr.iter().enumerate() {
        if i > 0 {
            m = lambda * m + (lr[i - 1] - x);
        }
        acc += m;
        out.push(acc);
    }
    out
}

/// The LR array with every step before the first peak replaced by the peak, as the authors'
/// script counts warmup (`--warmup-as-peak`). Detecting the warmup from the array, not from a
/// spec, makes the option work for logged and file schedules too.
pub fn warmup_as_peak(lr: &[f64]) -> Vec<f64> {
    let peak = lr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let first_peak = lr.iter().position(|&x| x == peak).unwrap_or(0);
    let mut out = lr.to_vec();
    for x in &mut out[..first_peak] {
        *x = peak;
    }
    out
}

/// Indices into the per-step arrays of the observed `steps`, checking that each lies within the
/// schedule and comes after some learning (S1 > 0), where schedule laws are defined.
pub fn observed_indices(steps: &[i64], s1: &[f64]) -> Result<Vec<usize>> {
    steps
        .iter()
        .map(|&s| {
            let i = usize::try_from(s)
                .ok()
                .filter(|&i| i < s1.len())
                .ok_or_else(|| {
                    Error::input(format!(
                        "step {s} lies beyond the {} steps of the LR schedule",
                        s1.len()
                    ))
                })?;
            if s1[i] <= 0.0 {
                return Err(Error::input(format!(
                    "at step {s} no learning has happened yet (sum of LR is 0); the law is undefined there"
                )));
            }
            Ok(i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed form of laws.md §1, summed directly; O(T²), so only for small arrays.
    fn s2_closed_form(lr: &[f64], lambda: f64, s: usize) -> f64 {
        (1..=s)
            .map(|k| (lr[k - 1] - lr[k]) * (1.0 - lambda.powi((s - k + 1) as i32)) / (1.0 - lambda))
            .sum()
    }

    #[test]
    fn recurrence_matches_closed_form() {
        let lr: Vec<f64> = (0..300)
            .map(|i| {
                if i < 20 {
                    i as f64 * 1e-5
                } else {
                    2e-4 * (1.0 + (i as f64 / 50.0).cos()) / 2.0
                }
            })
            .collect();
        let s2 = annealing_area(&lr, 0.99);
        for s in [0, 1, 5, 19, 20, 100, 299] {
            let want = s2_closed_form(&lr, 0.99, s);
            assert!((s2[s] - want).abs() < 1e-15 + 1e-12 * want.abs(), "s={s}");
        }
    }

    #[test]
    fn constant_lr_has_no_annealing_area() {
        let s2 = annealing_area(&[3e-4; 100], 0.999);
        assert!(s2.iter().all(|&x| x == 0.0));
        let s1 = forward_area(&[3e-4; 100]);
        assert!((s1[99] - 0.03).abs() < 1e-15);
    }

    #[test]
    fn warmup_as_peak_fills_the_ramp_only() {
        let lr = [0.0, 1.0, 2.0, 2.0, 1.0];
        assert_eq!(warmup_as_peak(&lr), vec![2.0, 2.0, 2.0, 2.0, 1.0]);
    }
}
