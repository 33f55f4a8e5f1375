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

/// S1 and S2 at each of `steps` (any order), in one pass and without the per-step arrays: a
/// forecast at a few steps of a 20-million-step schedule needs 16 bytes per step it reads, not
/// 320 MB. The additions run in the same order as [`forward_area`] and [`annealing_area`], so
/// the values are theirs bit for bit. A step outside `lr` gets NaN.
pub fn areas_at(lr: &[f64], lambda: f64, steps: &[i64]) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..steps.len()).collect();
    order.sort_unstable_by_key(|&i| steps[i]);
    let (mut s1, mut s2) = (vec![f64::NAN; steps.len()], vec![f64::NAN; steps.len()]);
    let (mut acc1, mut m, mut acc2) = (0.0, 0.0, 0.0);
    let mut next = order
        .iter()
        .position(|&i| steps[i] >= 0)
        .unwrap_or(order.len());
    for (i, &x) in lr.iter().enumerate() {
        if next == order.len() {
            break;
        }
        if i > 0 {
            m = lambda * m + (lr[i - 1] - x);
        }
        acc1 += x;
        acc2 += m;
        while next < order.len() && steps[order[next]] == i as i64 {
            s1[order[next]] = acc1;
            s2[order[next]] = acc2;
            next += 1;
        }
    }
    (s1, s2)
}

/// [`areas_at`] at observed `steps`, checked as [`observed_indices`] checks them: each within
/// the schedule and after some learning. The first offending step in `steps`' order is named.
pub fn observed_areas(lr: &[f64], lambda: f64, steps: &[i64]) -> Result<(Vec<f64>, Vec<f64>)> {
    let (s1, s2) = areas_at(lr, lambda, steps);
    for (&s, &a) in steps.iter().zip(&s1) {
        if s < 0 || s as usize >= lr.len() {
            return Err(Error::input(format!(
                "step {s} lies beyond the {} steps of the LR schedule",
                lr.len()
            )));
        }
        if a <= 0.0 {
            return Err(Error::input(format!(
                "at step {s} no learning has happened yet (sum of LR is 0); the law is undefined there"
            )));
        }
    }
    Ok((s1, s2))
}

/// The annealing-law form `L0 + A·S1^(−α) − C·S2` at the last step T of `lr`, and its gradient
/// with respect to every η_t, for schedule optimisation (`plan --free`).
///
/// ∂S1(T)/∂η_t = 1. With S2(T) = Σ_{k=1..T} (η_{k−1} − η_k)·w_k, w_k = (1 − λ^{T−k+1})/(1 − λ)
/// (laws.md §1), ∂S2(T)/∂η_t = w_{t+1} − w_t (each term present when its index lies in 1..=T).
pub fn annealing_form_gradient(
    l0: f64,
    a: f64,
    alpha: f64,
    c: f64,
    lr: &[f64],
    lambda: f64,
) -> (f64, Vec<f64>) {
    let t_last = lr.len().saturating_sub(1);
    let s1: f64 = lr.iter().sum();
    let s2 = annealing_area(lr, lambda).last().copied().unwrap_or(0.0);
    let loss = l0 + a * s1.powf(-alpha) - c * s2;
    let d_s1 = -alpha * a * s1.powf(-alpha - 1.0);
    // w_k for k = 1..=T, computed from k = T down: w_T = 1, w_k = 1 + λ·w_{k+1}.
    let mut w = vec![0.0; t_last + 2];
    for k in (1..=t_last).rev() {
        w[k] = 1.0 + lambda * w[k + 1];
    }
    let grad = (0..lr.len())
        .map(|t| {
            let up = if t < t_last { w[t + 1] } else { 0.0 };
            let down = if t >= 1 { w[t] } else { 0.0 };
            d_s1 - c * (up - down)
        })
        .collect();
    (loss, grad)
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

/// Whether any run anneals where a loss was observed: S2 (feature column `s2_column`) rises
/// between two logged points only after the LR has decreased, since warmup makes it negative and
/// falling. Without that, a law's annealing coefficient is pinned only by warmup, weakly and
/// meaninglessly.
pub fn anneals(fit_features: &[super::Features], s2_column: usize) -> bool {
    fit_features.iter().any(|f| {
        f.columns
            .get(s2_column)
            .is_some_and(|c| c.windows(2).any(|w| w[1] > w[0]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_at_equals_the_arrays_bit_for_bit() {
        let lr: Vec<f64> = (0..500)
            .map(|i| {
                3e-4 * (0.5 + 0.5 * (i as f64 * 0.05).cos()) + if i < 20 { -1e-4 } else { 0.0 }
            })
            .collect();
        let (a1, a2) = (forward_area(&lr), annealing_area(&lr, 0.999));
        let steps = [499, 3, 250, 3, 0, 600, -1];
        let (s1, s2) = areas_at(&lr, 0.999, &steps);
        for (k, &s) in steps.iter().enumerate() {
            if (0..500).contains(&s) {
                assert_eq!(s1[k].to_bits(), a1[s as usize].to_bits());
                assert_eq!(s2[k].to_bits(), a2[s as usize].to_bits());
            } else {
                assert!(s1[k].is_nan() && s2[k].is_nan());
            }
        }
    }

    #[test]
    fn annealing_form_gradient_matches_finite_differences() {
        let lr: Vec<f64> = (0..60)
            .map(|i| {
                if i < 10 {
                    1e-3 * i as f64 / 10.0
                } else {
                    1e-3 * (1.0 - (i - 10) as f64 / 70.0)
                }
            })
            .collect();
        let (l0, a, alpha, c, lambda) = (2.0, 0.5, 0.4, 30.0, 0.9);
        let (loss, grad) = annealing_form_gradient(l0, a, alpha, c, &lr, lambda);
        let direct = |lr: &[f64]| {
            let s1: f64 = lr.iter().sum();
            l0 + a * s1.powf(-alpha) - c * annealing_area(lr, lambda).last().unwrap()
        };
        assert!((loss - direct(&lr)).abs() < 1e-12);
        for t in [0, 1, 9, 10, 30, 58, 59] {
            let h = 1e-7;
            let (mut up, mut dn) = (lr.clone(), lr.clone());
            up[t] += h;
            dn[t] -= h;
            let fd = (direct(&up) - direct(&dn)) / (2.0 * h);
            assert!(
                (grad[t] - fd).abs() < 1e-5 * fd.abs().max(1.0),
                "t={t}: {} vs {fd}",
                grad[t]
            );
        }
    }

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
