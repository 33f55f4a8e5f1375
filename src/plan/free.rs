//! `plan --free`: a free-form, non-increasing schedule that minimises the fitted law's final
//! loss, found by gradient descent on the law's prediction, as the Multi-Power-Law paper does.
//!
//! Warmup and peak are fixed. After warmup the LR is constant within each of K blocks (one step
//! per block by default), and the block LRs must satisfy peak = x_0 ≥ x_1 ≥ … ≥ 0. The law
//! supplies the gradient of its final loss with respect to the LR at every step
//! ([`Law::final_loss_lr_gradient`]); a block's gradient is the sum over its steps.
//!
//! The method is projected gradient descent with a backtracking (Armijo) step: a step along the
//! negative gradient, then the Euclidean projection onto the constraints, which is an isotonic
//! regression (pool adjacent violators) clipped to [0, peak]. argmin's L-BFGS has no constraints,
//! and a reparametrisation that builds them in (weights through exp) cannot open a drop where the
//! start has none: its gradient there vanishes with the weight.

use super::grid::Frame;
use crate::error::{Error, Result};
use crate::law::Law;

/// The lowest LR a free-form schedule may take, as a share of the peak. The Multi-Power Law's
/// derivative with respect to the LR grows without bound as the LRs of the last steps approach
/// 0 (x_k = C·η_k^(−γ)·S_k with S_k → 0), which stalls any gradient method there; a tail at
/// 0.1 % of the peak is as good as 0 for every practical purpose.
pub const MIN_LR_FRAC: f64 = 1e-3;

/// Settings of a free-form search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreeOptions {
    /// Blocks after warmup; `None` is one block per step.
    pub knots: Option<usize>,
    pub max_iters: usize,
}

impl Default for FreeOptions {
    fn default() -> Self {
        FreeOptions {
            knots: None,
            max_iters: 3000,
        }
    }
}

/// The optimised schedule.
#[derive(Debug, Clone)]
pub struct FreeSchedule {
    /// LR at every step 0..=total.
    pub lr: Vec<f64>,
    pub final_loss_pred: f64,
    /// Final loss of the start (the best family member, as blocks).
    pub start_loss_pred: f64,
    pub iterations: usize,
    pub termination: String,
}

/// Block `b` covers steps `bounds[b]..bounds[b + 1]` (relative to warmup).
fn block_bounds(steps: usize, blocks: usize) -> Vec<usize> {
    (0..=blocks).map(|b| b * steps / blocks).collect()
}

fn expand(warmup_lr: &[f64], x: &[f64], bounds: &[usize]) -> Vec<f64> {
    let mut lr = warmup_lr.to_vec();
    for (b, &v) in x.iter().enumerate() {
        lr.extend(std::iter::repeat_n(v, bounds[b + 1] - bounds[b]));
    }
    lr
}

/// Weighted isotonic (non-increasing) regression by pool adjacent violators, then clipped to
/// [lo, hi]: the projection onto {hi ≥ x_1 ≥ … ≥ lo} in the metric weighted by block sizes.
fn project_non_increasing(x: &mut [f64], w: &[f64], lo: f64, hi: f64) {
    // Pools of (mean, weight, count), merged while a pool exceeds the one before it.
    let mut pools: Vec<(f64, f64, usize)> = Vec::with_capacity(x.len());
    for (&v, &wt) in x.iter().zip(w) {
        pools.push((v, wt, 1));
        while pools.len() > 1 {
            let n = pools.len();
            if pools[n - 1].0 <= pools[n - 2].0 {
                break;
            }
            let (m2, w2, c2) = pools.pop().expect("len > 1");
            let (m1, w1, c1) = pools.pop().expect("len > 1");
            pools.push(((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2));
        }
    }
    let mut i = 0;
    for (m, _, c) in pools {
        for v in &mut x[i..i + c] {
            *v = m.clamp(lo, hi);
        }
        i += c;
    }
}

/// Optimise a free-form schedule, starting from `start` (a per-step LR array over 0..=total,
/// typically the best family member, raised to the floor [`MIN_LR_FRAC`] where it is lower);
/// `scale` (the spread of the candidates' predicted losses) sets what counts as no further
/// progress.
pub fn optimise(
    law: &dyn Law,
    params: &[f64],
    model_size: Option<f64>,
    frame: Frame,
    start: &[f64],
    scale: f64,
    opts: FreeOptions,
) -> Result<FreeSchedule> {
    super::check_frame(&frame)?;
    let eval = |lr: &[f64]| -> Result<(f64, Vec<f64>)> {
        law.final_loss_lr_gradient(params, lr, model_size)
            .ok_or_else(|| {
                Error::input(format!(
                    "--free needs a law with an analytic LR gradient (annealing, multipower, \
                     joint-additive, joint-scaled); {} has none",
                    law.name()
                ))
            })?
    };
    if start.len() != frame.total as usize + 1 {
        return Err(Error::input("the start schedule does not cover 0..=total"));
    }
    let warmup = frame.warmup as usize;
    let steps = frame.total as usize + 1 - warmup;
    let blocks = opts.knots.unwrap_or(steps).clamp(1, steps);
    let bounds = block_bounds(steps, blocks);
    let weight: Vec<f64> = bounds.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
    let warmup_lr = &start[..warmup];
    // The start as blocks: block means, projected, first block at the peak.
    let mut x: Vec<f64> = bounds
        .windows(2)
        .map(|w| start[warmup + w[0]..warmup + w[1]].iter().sum::<f64>() / (w[1] - w[0]) as f64)
        .collect();
    x[0] = frame.peak;
    let floor = MIN_LR_FRAC * frame.peak;
    project_non_increasing(&mut x[1..], &weight[1..], floor, frame.peak);
    let (mut loss, grad) = eval(&expand(warmup_lr, &x, &bounds))?;
    let start_loss = loss;
    let tol = 1e-12 * scale.max(1e-9 * loss.abs());
    // First trial step: move the largest-gradient block by a tenth of the peak.
    let block_grad = |g: &[f64]| -> Vec<f64> {
        bounds
            .windows(2)
            .map(|w| g[warmup + w[0]..warmup + w[1]].iter().sum::<f64>())
            .collect()
    };
    let mut gb = block_grad(&grad);
    let gmax = gb
        .iter()
        .zip(&weight)
        .map(|(g, w)| (g / w).abs())
        .fold(0.0, f64::max);
    let mut step = if gmax > 0.0 {
        0.1 * frame.peak / gmax
    } else {
        0.0
    };
    let first_step = step;
    let (step_floor, step_ceiling) = (step * 1e-9, step * 1e9);
    let mut iterations = 0;
    let mut quiet = 0;
    let mut termination = String::from("iteration limit");
    while iterations < opts.max_iters {
        iterations += 1;
        // A block at the floor whose gradient pushes it lower stays there: its component is not
        // a direction the constraints allow.
        for (b, g) in gb.iter_mut().enumerate() {
            if x[b] <= floor && *g > 0.0 {
                *g = 0.0;
            }
        }
        let mut accepted = false;
        for attempt in 0..80 {
            // Halving from a secant step that overshot can take long; after 40 halvings start
            // again from the first step size.
            if attempt == 40 {
                step = first_step;
            }
            let mut trial: Vec<f64> = x
                .iter()
                .zip(&gb)
                .zip(&weight)
                .map(|((v, g), w)| v - step * g / w)
                .collect();
            trial[0] = frame.peak;
            project_non_increasing(&mut trial[1..], &weight[1..], floor, frame.peak);
            let (l, g) = eval(&expand(warmup_lr, &trial, &bounds))?;
            // Armijo on the projected step: the decrease the gradient promises, halved.
            let promised: f64 = gb
                .iter()
                .zip(&x)
                .zip(&trial)
                .map(|((g, a), b)| g * (a - b))
                .sum();
            if l <= loss - 1e-4 * promised.max(0.0) && l.is_finite() {
                quiet = if loss - l < tol { quiet + 1 } else { 0 };
                let gb_new = block_grad(&g);
                // Barzilai–Borwein: the step a secant model of the curvature suggests, in the
                // metric weighted by block sizes; it makes projected gradient far faster than a
                // fixed growth factor on these long, flat valleys.
                let (mut ss, mut sy) = (0.0, 0.0);
                for b in 0..x.len() {
                    let dx = trial[b] - x[b];
                    ss += weight[b] * dx * dx;
                    sy += dx * (gb_new[b] - gb[b]);
                }
                step = if sy > 0.0 && ss > 0.0 {
                    (ss / sy).clamp(step_floor, step_ceiling)
                } else {
                    (step * 1.5).min(step_ceiling)
                };
                x = trial;
                loss = l;
                gb = gb_new;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            termination = "converged (no descent step)".into();
            break;
        }
        if quiet >= 20 {
            termination = "converged (improvement below tolerance)".into();
            break;
        }
    }
    let lr = expand(warmup_lr, &x, &bounds);
    Ok(FreeSchedule {
        lr,
        final_loss_pred: loss,
        start_loss_pred: start_loss,
        iterations,
        termination,
    })
}

/// CSV `step,lr` for every step, readable by a `file:` schedule spec.
pub fn to_csv(lr: &[f64]) -> String {
    let mut s = String::with_capacity(lr.len() * 24);
    s.push_str("step,lr\n");
    for (i, x) in lr.iter().enumerate() {
        s.push_str(&format!("{i},{x:e}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_is_monotone_bounded_and_keeps_feasible_points() {
        let mut x = vec![1.0, 3.0, 2.0, -1.0, 0.5, 0.7];
        let w = vec![1.0; 6];
        project_non_increasing(&mut x, &w, 0.0, 2.5);
        assert!(x.windows(2).all(|p| p[1] <= p[0]), "{x:?}");
        assert!(x.iter().all(|&v| (0.0..=2.5).contains(&v)));
        // (1 + 3)/2 = 2 and (2 − 1)/2 … pooled means, clipped.
        let mut feasible = vec![2.0, 1.5, 1.5, 0.0];
        project_non_increasing(&mut feasible, &[1.0; 4], 0.0, 2.5);
        assert_eq!(feasible, vec![2.0, 1.5, 1.5, 0.0]);
    }
}
