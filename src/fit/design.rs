//! What a set of fit runs can determine, before any parameter is looked at. On runs that all end
//! at one horizon and all decay their LR throughout (cosine-only), L0 and α trade off along a
//! valley the data hardly constrain: the fit still converges, its starts agree, and its forecast
//! beyond that horizon is a guess. The cure is another run, and we can say which.

use crate::runs::Run;

/// Runs whose last steps lie within this relative distance end at one horizon.
const SAME_HORIZON: f64 = 0.02;

/// A stable phase (LR constant) this long, as a fraction of the run, separates α from L0.
const STABLE_FRACTION: f64 = 0.25;

/// Longest stretch of consecutive steps at one positive LR, in steps.
fn longest_constant_stretch(lr: &[f64], last: usize) -> usize {
    let (mut best, mut cur) = (0usize, 0usize);
    for s in 1..=last.min(lr.len().saturating_sub(1)) {
        let same = lr[s] > 0.0 && (lr[s] - lr[s - 1]).abs() <= 1e-9 * lr[s];
        cur = if same { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

/// A warning when the runs cannot separate α from L0, naming the run that would; `None` when
/// they can (several horizons, or a run with a long stable phase).
pub fn alpha_l0_warning(runs: &[Run]) -> Option<String> {
    let ends: Vec<i64> = runs
        .iter()
        .filter_map(|r| r.steps.last().copied())
        .collect();
    let (lo, hi) = ends
        .iter()
        .fold((i64::MAX, i64::MIN), |(a, b), &e| (a.min(e), b.max(e)));
    if ends.is_empty() || (hi - lo) as f64 > SAME_HORIZON * hi as f64 {
        return None;
    }
    let stable = runs.iter().any(|r| {
        let last = r.steps.last().copied().unwrap_or(0).max(0) as usize;
        longest_constant_stretch(&r.lr, last) as f64 >= STABLE_FRACTION * last as f64
    });
    if stable {
        return None;
    }
    Some(format!(
        "every fit run ends near step {hi} and none holds its LR constant for {:.0} % of its \
         steps, so L0 and α trade off: forecasts beyond step {hi} are uncertain. A run at \
         constant LR (or a WSD run with a long stable phase), or a run of another length, \
         would separate them",
        100.0 * STABLE_FRACTION
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_stretch_counts_steps_at_one_lr() {
        let mut lr = vec![0.0, 1.0, 2.0];
        lr.extend(std::iter::repeat_n(3.0, 10));
        lr.extend([2.0, 1.0]);
        assert_eq!(longest_constant_stretch(&lr, lr.len() - 1), 9);
        assert_eq!(longest_constant_stretch(&[0.0; 5], 4), 0);
    }
}
