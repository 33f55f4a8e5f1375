//! Dense logs made cheap: a run with more points than a fit needs is averaged in bins of
//! consecutive points before fitting.
//!
//! llm.c and most trainers log the training loss every step, 10⁵–10⁶ points a run, while a loss
//! curve of a few thousand points pins every law's parameters as well (the bundled runs have ~200
//! each). Every objective evaluation costs one pass over the points, so a million-point fit spent
//! minutes re-reading the same curve. Averaging k consecutive points keeps every point's
//! information (the noise shrinks by √k) and each bin's weight equal, as the points' were; the
//! bin sits at its middle point's step, where a smooth curve's average over the bin lies to
//! second order. The rule and its effect are recorded in the fit.

use serde::{Deserialize, Serialize};

/// Points per run above which a fit averages bins (`--max-points`): more than any bundled or
/// evaluation-logged run has, far fewer than a per-step training log.
pub const DEFAULT_MAX_POINTS: usize = 4096;

/// What thinning did to one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thinned {
    pub steps: Vec<i64>,
    pub loss: Vec<f64>,
    /// Points averaged per bin (the last bin may hold fewer).
    pub bin: usize,
}

/// Average `loss` in bins of consecutive points so that at most `max_points` remain; `None` when
/// the run is already small enough (or `max_points` is 0, which turns thinning off).
pub fn thin(steps: &[i64], loss: &[f64], max_points: usize) -> Option<Thinned> {
    let n = loss.len();
    if max_points == 0 || n <= max_points {
        return None;
    }
    // An odd bin has a middle point, which is its mean step when steps are evenly spaced.
    let bin = n.div_ceil(max_points) | 1;
    let (mut s, mut l) = (Vec::new(), Vec::new());
    for (st, lo) in steps.chunks(bin).zip(loss.chunks(bin)) {
        s.push(st[st.len() / 2]);
        l.push(lo.iter().sum::<f64>() / lo.len() as f64);
    }
    Some(Thinned {
        steps: s,
        loss: l,
        bin,
    })
}

/// The record's line for a thinned run.
pub fn note(points: usize, t: &Thinned, max_points: usize) -> String {
    format!(
        "thinned for the fit: {points} points averaged in bins of {} consecutive points, {} left \
         (each at its middle point's step; at most {max_points} per run, --max-points)",
        t.bin,
        t.loss.len()
    )
}

/// Thin `run` in place for a fit with at most `max_points` per run, noting it in the run's
/// notes: what `fit` does to every fit run, and `self_calibrate` to the runs its folds cut.
pub fn thin_run(run: &mut crate::runs::Run, max_points: usize) {
    if let Some(t) = thin(&run.steps, &run.loss, max_points) {
        run.notes.push(note(run.loss.len(), &t, max_points));
        run.steps = t.steps;
        run.loss = t.loss;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_average_consecutive_points_at_their_middle_step() {
        let steps: Vec<i64> = (1..=10).collect();
        let loss: Vec<f64> = (1..=10).map(|x| x as f64).collect();
        assert!(thin(&steps, &loss, 10).is_none());
        assert!(thin(&steps, &loss, 0).is_none());
        // A straight line keeps its values exactly at the bins' middle steps.
        let t = thin(&steps, &loss, 4).unwrap();
        assert_eq!(t.bin, 3);
        assert_eq!(t.steps, vec![2, 5, 8, 10]);
        assert_eq!(t.loss, vec![2.0, 5.0, 8.0, 10.0]);
        // Bins are odd, so that the middle point is the mean step: 2 per bin becomes 3.
        let t = thin(&steps, &loss, 5).unwrap();
        assert_eq!(t.bin, 3);
        assert!(t.loss.len() <= 5);
    }
}
