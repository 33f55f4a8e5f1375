//! Would a forecast interval built from this backtest hold? A split-conformal check: each fold
//! is held out in turn, the other folds' residuals give the interval's width, and the held-out
//! fold's points and final points are counted inside or out.
//!
//! This measures what issue 14's intervals must achieve (nominal 90 % covering 85–95 % of
//! held-out points and 80–97 % of final losses) before any interval is printed by `predict`:
//! an interval that does not hold on the user's own backtest should not be shown as one. The
//! width grows with how far a point lies beyond the fit, `s(d) = 1 + ln(max(d, 1))`, with d the
//! forward-area ratio (size ratio for the size task): the study in
//! `docs/studies/residuals-by-distance.md` found the distance-free width under-covers the
//! farthest, final points.

use super::engine::Residual;
use super::{FoldScore, Task};
use serde::Serialize;

/// The nominal level checked.
pub const LEVEL: f64 = 0.9;

/// Fold-out coverage of one task and method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub task: Task,
    pub method: String,
    /// Scored folds the check used (it needs two).
    pub folds: usize,
    pub level: f64,
    /// Share of held-out points inside their fold-out interval.
    pub point_coverage: f64,
    /// Share of held-out runs whose last point is inside.
    pub final_coverage: f64,
    /// Mean half-width, relative to the loss.
    pub mean_half_width: f64,
}

/// How far a held-out point lies beyond the fit, as the width scale uses it.
fn distance(task: Task, r: &Residual) -> f64 {
    match task {
        Task::Size => r.size_ratio.unwrap_or(1.0),
        _ => r.s1_ratio,
    }
}

fn scale(d: f64) -> f64 {
    1.0 + if d.is_finite() { d.max(1.0).ln() } else { 0.0 }
}

/// The split-conformal quantile: the ⌈(n+1)·level⌉-th smallest score.
fn conformal_quantile(mut scores: Vec<f64>, level: f64) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    scores.sort_by(f64::total_cmp);
    let rank = ((scores.len() + 1) as f64 * level).ceil() as usize;
    Some(scores[rank.clamp(1, scores.len()) - 1])
}

/// The check for every task and method with two or more scored folds.
pub fn check(tasks: &[Task], methods: &[String], folds: &[FoldScore]) -> Vec<Calibration> {
    let mut out = Vec::new();
    for &task in tasks {
        for method in methods {
            let mine: Vec<&FoldScore> = folds
                .iter()
                .filter(|f| f.task == task && &f.method == method && !f.residuals.is_empty())
                .collect();
            if mine.len() < 2 {
                continue;
            }
            let (mut inside, mut points, mut width) = (0usize, 0usize, 0.0);
            let (mut finals_inside, mut finals) = (0usize, 0usize);
            for (i, held) in mine.iter().enumerate() {
                let scores: Vec<f64> = mine
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, f)| &f.residuals)
                    .map(|r| r.rel_err.abs() / scale(distance(task, r)))
                    .filter(|v| v.is_finite())
                    .collect();
                let Some(q) = conformal_quantile(scores, LEVEL) else {
                    continue;
                };
                let mut last: Vec<(&str, i64, bool)> = Vec::new();
                for r in &held.residuals {
                    let half = q * scale(distance(task, r));
                    let hit = r.rel_err.abs() <= half;
                    inside += usize::from(hit);
                    points += 1;
                    width += half;
                    match last.iter_mut().find(|(run, ..)| *run == r.run) {
                        Some(l) if r.step > l.1 => *l = (&r.run, r.step, hit),
                        Some(_) => {}
                        None => last.push((&r.run, r.step, hit)),
                    }
                }
                finals += last.len();
                finals_inside += last.iter().filter(|l| l.2).count();
            }
            if points == 0 || finals == 0 {
                continue;
            }
            out.push(Calibration {
                task,
                method: method.clone(),
                folds: mine.len(),
                level: LEVEL,
                point_coverage: inside as f64 / points as f64,
                final_coverage: finals_inside as f64 / finals as f64,
                mean_half_width: width / points as f64,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(label: &str, errors: &[f64]) -> FoldScore {
        FoldScore {
            task: Task::Schedule,
            fold: label.into(),
            method: "m".into(),
            fit_runs: vec![],
            test_runs: vec![],
            test_points: errors.len(),
            pred_e: Some(0.0),
            worst_e: Some(0.0),
            final_err: Some(0.0),
            fit_seconds: 0.0,
            trustworthy: true,
            error: None,
            residuals: errors
                .iter()
                .enumerate()
                .map(|(i, &e)| Residual {
                    run: format!("{label}-run"),
                    step: i as i64,
                    observed: 1.0,
                    predicted: 1.0 + e,
                    rel_err: e,
                    step_ratio: 0.5,
                    s1_ratio: 0.5,
                    size_ratio: None,
                })
                .collect(),
        }
    }

    /// Folds whose errors are exchangeable get close to the nominal coverage; a fold far worse
    /// than the others is not covered, and the check shows it.
    #[test]
    fn exchangeable_folds_are_covered_and_an_outlier_fold_is_not() {
        let errors = |shift: f64| -> Vec<f64> {
            (0..200)
                .map(|i| shift * (((i * 7919) % 200) as f64 / 200.0 - 0.5))
                .collect()
        };
        let folds: Vec<FoldScore> = (0..5)
            .map(|k| fold(&format!("f{k}"), &errors(0.01)))
            .collect();
        let c = check(&[Task::Schedule], &["m".into()], &folds);
        assert_eq!(c.len(), 1);
        assert!((c[0].point_coverage - 0.9).abs() < 0.02, "{c:?}");
        let mut worse = folds.clone();
        worse[0] = fold("f0", &errors(0.1));
        // Its points fall outside the others' width, and the others' widths swell with its
        // errors: the aggregate drops below the 85 % the issue accepts.
        let c = check(&[Task::Schedule], &["m".into()], &worse);
        assert!(c[0].point_coverage < 0.85, "{c:?}");
        // One fold cannot be checked against others.
        assert!(check(&[Task::Schedule], &["m".into()], &folds[..1]).is_empty());
    }

    #[test]
    fn the_width_grows_with_distance_beyond_the_fit() {
        assert_eq!(scale(0.3), 1.0);
        assert!((scale(std::f64::consts::E) - 2.0).abs() < 1e-12);
        assert_eq!(conformal_quantile(vec![3.0, 1.0, 2.0], 0.5), Some(2.0));
    }
}
