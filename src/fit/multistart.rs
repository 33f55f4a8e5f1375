//! Multi-start L-BFGS: run argmin's L-BFGS from every start a law proposes, keep the best, and
//! report how many starts agree with it.
//!
//! Each start runs in phases. A phase divides the objective by its value at the phase's start and
//! runs L-BFGS with tight tolerances on that scaled problem, so "the cost stopped changing" means
//! a relative change. Phases repeat (with a fresh L-BFGS memory) until one no longer improves the
//! objective by a relative 1e-10; that guards against the early stop scipy makes on these tiny
//! objectives (laws.md §0).

use super::objective::{HuberLogObjective, ScaledProblem};
use argmin::core::{Executor, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DVector;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of the optimiser, recorded in every fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerOptions {
    /// L-BFGS iterations allowed per phase.
    pub max_iters_per_phase: u64,
    pub max_phases: u32,
    /// A phase that improves the objective by less than this fraction ends the start.
    pub rel_improvement_tol: f64,
    /// Converged means the residuals are orthogonal to every Jacobian column to within this
    /// cosine (MINPACK's `gtol`; see `HuberLogObjective::orthogonality`).
    pub orthogonality_tol: f64,
    /// Starts whose objective is within this fraction of the best count as reaching it.
    pub same_optimum_tol: f64,
    pub lbfgs_memory: usize,
}

impl Default for OptimizerOptions {
    fn default() -> Self {
        OptimizerOptions {
            max_iters_per_phase: 500,
            max_phases: 8,
            rel_improvement_tol: 1e-10,
            orthogonality_tol: 1e-6,
            same_optimum_tol: 1e-6,
            lbfgs_memory: 10,
        }
    }
}

/// Where one start ended.
#[derive(Debug, Clone)]
pub struct StartResult {
    pub params: Vec<f64>,
    pub objective: f64,
    pub iterations: u64,
    pub converged: bool,
    pub termination: String,
    /// Cosine between residuals and the Jacobian's columns at the end (0 = stationary).
    pub orthogonality: f64,
}

pub struct MultiStartResult {
    pub best: StartResult,
    pub starts: usize,
    pub starts_failed: usize,
    /// Share of starts that ended within `same_optimum_tol` (relative) of the best objective.
    pub starts_at_best: f64,
    pub iterations_total: u64,
    /// Per parameter, the largest relative difference from the best among the starts that
    /// reached the best objective. Equal objectives with different parameters mean the data do
    /// not pin that parameter down (a flat direction), which the objective alone cannot show.
    pub spread_at_best: Vec<f64>,
}

/// Run one start to convergence in relative-tolerance phases.
pub fn run_start(
    objective: &HuberLogObjective,
    start: &[f64],
    opts: &OptimizerOptions,
) -> StartResult {
    let mut u = objective.internal(start);
    let mut f = objective.value(&objective.natural(&u));
    let mut iterations = 0;
    let mut termination = String::from("not started");
    for _ in 0..opts.max_phases {
        if !f.is_finite() || f <= 0.0 {
            break;
        }
        let problem = ScaledProblem::new(objective, f);
        let linesearch = MoreThuenteLineSearch::new();
        let solver = LBFGS::new(linesearch, opts.lbfgs_memory)
            .with_tolerance_grad(1e-12)
            .and_then(|s| s.with_tolerance_cost(1e-15));
        let Ok(solver) = solver else { break };
        let result = Executor::new(problem, solver)
            .configure(|state| {
                state
                    .param(DVector::from_vec(u.clone()))
                    .max_iters(opts.max_iters_per_phase)
            })
            .run();
        let Ok(result) = result else {
            termination = "optimizer error".into();
            break;
        };
        let state = result.state();
        iterations += state.get_iter();
        termination = match state.get_termination_reason() {
            Some(TerminationReason::SolverConverged) => "converged".into(),
            Some(TerminationReason::MaxItersReached) => "iteration limit".into(),
            Some(other) => other.text().to_string(),
            None => "unknown".into(),
        };
        let Some(best) = state.get_best_param() else {
            break;
        };
        let u_new: Vec<f64> = best.iter().copied().collect();
        let f_new = objective.value(&objective.natural(&u_new));
        if !(f_new.is_finite() && f_new <= f) {
            break;
        }
        let improvement = (f - f_new) / f;
        u = u_new;
        f = f_new;
        if improvement < opts.rel_improvement_tol {
            break;
        }
        // A stationary point needs no confirming phase; the test costs one evaluation, a
        // phase with fresh L-BFGS memory costs dozens.
        if objective.orthogonality(&u) < opts.orthogonality_tol * 1e-2 {
            break;
        }
    }
    let orthogonality = objective.orthogonality(&u);
    StartResult {
        params: objective.natural(&u),
        objective: f,
        iterations,
        converged: f.is_finite() && orthogonality < opts.orthogonality_tol,
        termination,
        orthogonality,
    }
}

/// Run every start; `None` if no start produced a finite objective.
pub fn multi_start(
    objective: &HuberLogObjective,
    starts: &[Vec<f64>],
    opts: &OptimizerOptions,
) -> Option<MultiStartResult> {
    multi_start_with_progress(objective, starts, opts, &|_, _| {})
}

/// [`multi_start`], calling `on_start(done, total)` as each start finishes.
pub fn multi_start_with_progress(
    objective: &HuberLogObjective,
    starts: &[Vec<f64>],
    opts: &OptimizerOptions,
    on_start: &(dyn Fn(usize, usize) + Sync),
) -> Option<MultiStartResult> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    // Starts are independent: one per core.
    let results: Vec<StartResult> = starts
        .par_iter()
        .map(|s| {
            let r = run_start(objective, s, opts);
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            on_start(d, starts.len());
            r
        })
        .collect();
    let finite: Vec<&StartResult> = results.iter().filter(|r| r.objective.is_finite()).collect();
    let best = finite
        .iter()
        .min_by(|a, b| a.objective.total_cmp(&b.objective))?;
    let at_best = finite
        .iter()
        .filter(|r| (r.objective - best.objective).abs() <= opts.same_optimum_tol * best.objective)
        .count();
    let at_best_params: Vec<&Vec<f64>> = finite
        .iter()
        .filter(|r| (r.objective - best.objective).abs() <= opts.same_optimum_tol * best.objective)
        .map(|r| &r.params)
        .collect();
    let spread_at_best = (0..best.params.len())
        .map(|j| {
            let scale = best.params[j].abs().max(1e-12);
            at_best_params
                .iter()
                .map(|p| (p[j] - best.params[j]).abs() / scale)
                .fold(0.0, f64::max)
        })
        .collect();
    Some(MultiStartResult {
        spread_at_best,
        best: (*best).clone(),
        starts: results.len(),
        starts_failed: results.len() - finite.len(),
        starts_at_best: at_best as f64 / results.len() as f64,
        iterations_total: results.iter().map(|r| r.iterations).sum(),
    })
}
