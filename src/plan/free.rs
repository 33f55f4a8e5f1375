//! `plan --free`: a free-form, non-increasing schedule that minimises the fitted law's final
//! loss, found by gradient descent on the law's prediction, as the Multi-Power-Law paper does.
//!
//! Warmup and peak are fixed. After warmup the LR is piecewise linear between K knots, and the
//! knots are parametrised so that every point the optimiser can reach is a valid schedule:
//! `η_j = peak·(1 − Σ_{i≤j} w_i / Σ_{i≤K+1} w_i)` with `w_i = exp(u_i)`. The first knot is the
//! peak, each knot is at most the one before, and none is below 0. The law supplies the gradient
//! of its final loss with respect to the LR at every step ([`Law::final_loss_lr_gradient`]); the
//! chain rule carries it to the knots and to `u`.

use super::grid::Frame;
use crate::error::{Error, Result};
use crate::law::Law;
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DVector;
use std::cell::RefCell;

/// Settings of a free-form search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreeOptions {
    /// Knots after warmup (capped at the number of steps after warmup).
    pub knots: usize,
    pub max_iters: u64,
}

impl Default for FreeOptions {
    fn default() -> Self {
        FreeOptions {
            knots: 200,
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
    pub iterations: u64,
    pub termination: String,
}

/// Knot positions: K + 1 steps from warmup to total.
fn knot_steps(f: &Frame, k: usize) -> Vec<f64> {
    let span = (f.total - f.warmup) as f64;
    (0..=k)
        .map(|j| f.warmup as f64 + span * j as f64 / k as f64)
        .collect()
}

/// A point `u` with its scaled objective and gradient.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

struct Problem<'a> {
    law: &'a dyn Law,
    params: &'a [f64],
    model_size: Option<f64>,
    frame: Frame,
    knots: Vec<f64>,
    /// Warmup LRs (steps before `warmup`), fixed.
    warmup_lr: Vec<f64>,
    /// Objective = (loss − offset) / scale, so argmin's tolerances are relative to the size of
    /// what schedules can change.
    offset: f64,
    scale: f64,
    cache: RefCell<Option<Evaluation>>,
}

impl Problem<'_> {
    /// Knot LRs from `u`, with what the gradient needs: weights w, their running sums, their total.
    fn knot_lr(&self, u: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>, f64) {
        let w: Vec<f64> = u.iter().map(|x| x.exp()).collect();
        let total: f64 = w.iter().sum();
        let k = self.knots.len() - 1;
        let mut cum = vec![0.0; k + 1];
        let mut acc = 0.0;
        for j in 1..=k {
            acc += w[j - 1];
            cum[j] = acc;
        }
        let eta = cum
            .iter()
            .map(|c| self.frame.peak * (1.0 - c / total))
            .collect();
        (eta, w, cum, total)
    }

    /// Per-step LR from knot LRs (linear between knots), and for each step its two knots and
    /// the weight of the left one.
    fn per_step(&self, eta: &[f64]) -> Vec<f64> {
        let mut lr = self.warmup_lr.clone();
        let k = self.knots.len() - 1;
        let mut j = 0;
        for s in self.frame.warmup..=self.frame.total {
            let x = s as f64;
            while j + 1 < k && self.knots[j + 1] <= x {
                j += 1;
            }
            let (x0, x1) = (self.knots[j], self.knots[j + 1]);
            let t = ((x - x0) / (x1 - x0)).clamp(0.0, 1.0);
            let v = eta[j] * (1.0 - t) + eta[j + 1] * t;
            // Interpolating between two equal knots can wobble by an ulp; keep it monotone.
            let v = match lr.last() {
                Some(&prev) if s > self.frame.warmup => v.min(prev),
                _ => v,
            };
            lr.push(v);
        }
        lr
    }

    fn evaluate(&self, u: &[f64]) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error> {
        if let Some((cu, f, g)) = self.cache.borrow().as_ref() {
            if cu.as_slice() == u {
                return Ok((*f, g.clone()));
            }
        }
        let (eta, w, cum, total_w) = self.knot_lr(u);
        let lr = self.per_step(&eta);
        let (loss, grad_lr) = self
            .law
            .final_loss_lr_gradient(self.params, &lr, self.model_size)
            .ok_or_else(|| argmin::core::Error::msg("law has no LR gradient"))?
            .map_err(|e| argmin::core::Error::msg(e.to_string()))?;
        // Step gradients onto knots (the transpose of the interpolation).
        let k = self.knots.len() - 1;
        let mut g_knot = vec![0.0; k + 1];
        let mut j = 0;
        for (i, s) in (self.frame.warmup..=self.frame.total).enumerate() {
            let x = s as f64;
            while j + 1 < k && self.knots[j + 1] <= x {
                j += 1;
            }
            let (x0, x1) = (self.knots[j], self.knots[j + 1]);
            let t = ((x - x0) / (x1 - x0)).clamp(0.0, 1.0);
            let g = grad_lr[self.warmup_lr.len() + i];
            g_knot[j] += g * (1.0 - t);
            g_knot[j + 1] += g * t;
        }
        // dL/du_i = −peak·w_i/W · (Σ_{j≥i} G_j − Σ_j G_j·c_j/W), i = 1..=K+1 (u index i−1);
        // the slack weight w_{K+1} enters only through W.
        let weighted: f64 = g_knot.iter().zip(&cum).map(|(g, c)| g * c).sum::<f64>() / total_w;
        let mut suffix = vec![0.0; k + 2];
        for j in (0..=k).rev() {
            suffix[j] = suffix[j + 1] + g_knot[j];
        }
        let grad_u: Vec<f64> = (1..=k + 1)
            .map(|i| {
                let tail = if i <= k { suffix[i] } else { 0.0 };
                -self.frame.peak * w[i - 1] / total_w * (tail - weighted) / self.scale
            })
            .collect();
        let f = (loss - self.offset) / self.scale;
        *self.cache.borrow_mut() = Some((u.to_vec(), f, grad_u.clone()));
        Ok((f, grad_u))
    }
}

impl CostFunction for Problem<'_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, u: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(u.as_slice())?.0)
    }
}

impl Gradient for Problem<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(
        &self,
        u: &Self::Param,
    ) -> std::result::Result<Self::Gradient, argmin::core::Error> {
        Ok(DVector::from_vec(self.evaluate(u.as_slice())?.1))
    }
}

/// Optimise a free-form schedule, starting from `start` (a per-step LR array over 0..=total,
/// typically the best family member) and measuring progress against `scale` (the spread of the
/// candidates' predicted losses).
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
    if law
        .final_loss_lr_gradient(params, start, model_size)
        .is_none()
    {
        return Err(Error::input(format!(
            "--free needs a law with an analytic LR gradient (annealing, joint-additive, \
             joint-scaled); {} has none",
            law.name()
        )));
    }
    if start.len() != frame.total as usize + 1 {
        return Err(Error::input("the start schedule does not cover 0..=total"));
    }
    let k = opts.knots.clamp(1, (frame.total - frame.warmup) as usize);
    let knots = knot_steps(&frame, k);
    // The start's LR at the knots, made non-increasing and at most the peak, as weights.
    let mut eta: Vec<f64> = knots
        .iter()
        .map(|&x| start[x.round() as usize].min(frame.peak))
        .collect();
    eta[0] = frame.peak;
    for j in 1..eta.len() {
        eta[j] = eta[j].min(eta[j - 1]).max(0.0);
    }
    let floor = frame.peak * 1e-9;
    let mut w: Vec<f64> = (1..=k).map(|j| (eta[j - 1] - eta[j]).max(floor)).collect();
    w.push(eta[k].max(floor));
    let u0: Vec<f64> = w.iter().map(|x| x.ln()).collect();
    let (start_loss, _) = law
        .final_loss_lr_gradient(params, start, model_size)
        .expect("checked above")?;
    let problem = Problem {
        law,
        params,
        model_size,
        frame,
        knots,
        warmup_lr: start[..frame.warmup as usize].to_vec(),
        offset: start_loss,
        scale: scale.max(1e-9 * start_loss.abs()),
        cache: RefCell::new(None),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-10)
        .and_then(|s| s.with_tolerance_cost(1e-12))
        .map_err(|e| Error::failed(format!("cannot set up the optimiser: {e}")))?;
    let result = Executor::new(problem, solver)
        .configure(|s| s.param(DVector::from_vec(u0)).max_iters(opts.max_iters))
        .run()
        .map_err(|e| Error::failed(format!("free-form optimisation failed: {e}")))?;
    let state = result.state();
    let best = state
        .get_best_param()
        .ok_or_else(|| Error::failed("free-form optimisation produced no schedule"))?;
    let iterations = state.get_iter();
    let termination = state
        .get_termination_reason()
        .map_or("unknown".into(), |r| r.text().to_string());
    let problem = result
        .problem
        .problem
        .as_ref()
        .expect("the executor keeps the problem");
    let (eta, ..) = problem.knot_lr(best.as_slice());
    let lr = problem.per_step(&eta);
    let (loss, _) = law
        .final_loss_lr_gradient(params, &lr, model_size)
        .expect("checked above")?;
    Ok(FreeSchedule {
        lr,
        final_loss_pred: loss,
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
