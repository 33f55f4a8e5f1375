//! How each backtest task splits a user's runs into what a fit sees and what it must forecast.
//! Splits are pure data: the runs a fit may read (cut where the task says) and the runs or
//! points it is scored on. Nothing here fits.

use super::{Skipped, Task};
use crate::base::groups::size_groups;
use crate::base::numbers::short_size;
use crate::runs::Run;

/// Runs whose last steps lie within this relative distance end at one horizon: manifests cut
/// runs at `max_step = 23999` beside runs that end at 24 000.
pub const HORIZON_TOL: f64 = 0.02;

/// Fractions of a run's steps `truncate` fits on.
pub const TRUNCATE_FRACTIONS: [f64; 2] = [0.25, 0.5];

/// At most this many `size` folds (fold k holds out the k largest sizes), as `eval --rollout`.
pub const SIZE_FOLDS: usize = 3;

/// One fold: fit on `fit`, forecast `test`.
#[derive(Debug, Clone)]
pub struct Split {
    pub task: Task,
    /// What the fold holds out, for people: "cosine_72000", "> 24000 steps", "xl after 25 %".
    pub label: String,
    /// The model size the fold belongs to (per-size tasks), or the largest fitted size (`size`).
    pub size: Option<f64>,
    pub fit: Vec<Run>,
    pub test: Vec<Run>,
}

/// Runs grouped by model size (`params`); runs without a size form one group.
pub fn by_size(runs: &[Run]) -> Vec<(Option<f64>, Vec<&Run>)> {
    let sized: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].params.is_some())
        .collect();
    let sizes: Vec<f64> = sized.iter().map(|&i| runs[i].params.unwrap()).collect();
    let mut out: Vec<(Option<f64>, Vec<&Run>)> = size_groups(&sizes)
        .into_iter()
        .map(|g| {
            (
                Some(sizes[g[0]]),
                g.iter().map(|&j| &runs[sized[j]]).collect(),
            )
        })
        .collect();
    let unsized_runs: Vec<&Run> = runs.iter().filter(|r| r.params.is_none()).collect();
    if !unsized_runs.is_empty() {
        out.insert(0, (None, unsized_runs));
    }
    out
}

fn last_step(r: &Run) -> i64 {
    r.steps.last().copied().unwrap_or(0)
}

fn size_label(size: Option<f64>, multi: bool) -> String {
    match size {
        Some(n) if multi => format!("N={}: ", short_size(n)),
        _ => String::new(),
    }
}

/// Leave each run of a size out in turn; fit on the other runs of that size.
pub fn schedule(runs: &[Run]) -> (Vec<Split>, Option<Skipped>) {
    let groups = by_size(runs);
    let multi = groups.len() > 1;
    let mut out = Vec::new();
    for (size, group) in &groups {
        if group.len() < 2 {
            continue;
        }
        for (i, held) in group.iter().enumerate() {
            out.push(Split {
                task: Task::Schedule,
                label: format!("{}{}", size_label(*size, multi), held.name),
                size: *size,
                fit: group
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, r)| (*r).clone())
                    .collect(),
                test: vec![(*held).clone()],
            });
        }
    }
    let skipped = out.is_empty().then(|| Skipped {
        task: Task::Schedule,
        reason: "no model size has two runs to leave one out of".into(),
    });
    (out, skipped)
}

/// Distinct horizons (last steps) in increasing order, runs within [`HORIZON_TOL`] merged.
fn horizons(group: &[&Run]) -> Vec<i64> {
    let mut ends: Vec<i64> = group.iter().map(|r| last_step(r)).collect();
    ends.sort_unstable();
    let mut out: Vec<i64> = Vec::new();
    for e in ends {
        match out.last_mut() {
            Some(h) if (e - *h) as f64 <= HORIZON_TOL * e as f64 => *h = e,
            _ => out.push(e),
        }
    }
    out
}

/// Per size and per horizon the runs offer: fit the runs that end at or before it, forecast the
/// longer ones.
pub fn horizon(runs: &[Run]) -> (Vec<Split>, Option<Skipped>) {
    let groups = by_size(runs);
    let multi = groups.len() > 1;
    let mut out = Vec::new();
    for (size, group) in &groups {
        let hs = horizons(group);
        for &h in hs.iter().take(hs.len().saturating_sub(1)) {
            let (fit, test): (Vec<&Run>, Vec<&Run>) = group.iter().partition(|r| last_step(r) <= h);
            out.push(Split {
                task: Task::Horizon,
                label: format!(
                    "{}fit ≤ {h} steps, forecast longer",
                    size_label(*size, multi)
                ),
                size: *size,
                fit: fit.into_iter().cloned().collect(),
                test: test.into_iter().cloned().collect(),
            });
        }
    }
    let skipped = out.is_empty().then(|| Skipped {
        task: Task::Horizon,
        reason: "every model size's runs end at one horizon".into(),
    });
    (out, skipped)
}

/// Each run alone: fit its points up to a fraction of its last step, forecast the rest. The fit
/// sees the LR only up to the cut, as a run that is half done has only that.
pub fn truncate(runs: &[Run], min_points: usize) -> (Vec<Split>, Option<Skipped>) {
    let mut out = Vec::new();
    for r in runs {
        let last = last_step(r);
        for frac in TRUNCATE_FRACTIONS {
            let cut = (frac * last as f64).floor() as i64;
            out.extend(cut_at(r, cut, min_points, frac, ""));
        }
    }
    let skipped = out.is_empty().then(|| Skipped {
        task: Task::Truncate,
        reason: format!("no run has {min_points} points in its first 25 % or 50 % of steps"),
    });
    (out, skipped)
}

/// Fractions of a run's logged span (first to last logged step) a calibration backtest cuts
/// it at: four folds from one run, each forecasting at least 15 % of it.
pub const SPAN_FRACTIONS: [f64; 4] = [0.4, 0.55, 0.7, 0.85];

/// Each run alone, fitted up to [`SPAN_FRACTIONS`] of its logged span: what a calibration of
/// a single run (or of a run `truncate` already cut) can still hold out.
pub fn truncate_span(runs: &[Run], min_points: usize) -> (Vec<Split>, Option<Skipped>) {
    let mut out = Vec::new();
    for r in runs {
        let (Some(&first), Some(&last)) = (r.steps.first(), r.steps.last()) else {
            continue;
        };
        for frac in SPAN_FRACTIONS {
            let cut = first + (frac * (last - first) as f64).floor() as i64;
            out.extend(cut_at(r, cut, min_points, frac, " of its span"));
        }
    }
    let skipped = out.is_empty().then(|| Skipped {
        task: Task::Truncate,
        reason: format!("no run has {min_points} points before 40 % of its span"),
    });
    (out, skipped)
}

/// Run `r` fitted up to step `cut` (with the LR up to it), scored on the rest; `None` when
/// that leaves fewer than `min_points` to fit or nothing to score.
fn cut_at(r: &Run, cut: i64, min_points: usize, frac: f64, of: &str) -> Option<Split> {
    let (head, tail) = head_and_tail(r, cut, min_points)?;
    Some(Split {
        task: Task::Truncate,
        label: format!("{} after {:.0} %{}", r.name, frac * 100.0, of),
        size: r.params,
        fit: vec![head],
        test: vec![tail],
    })
}

/// Run `r` as it was at step `cut` (its points and its LR up to the cut: a run in progress
/// knows no more), and the points after it; `None` when the head has fewer than `min_points`
/// or the tail none.
pub fn head_and_tail(r: &Run, cut: i64, min_points: usize) -> Option<(Run, Run)> {
    let k = r.steps.partition_point(|&s| s <= cut);
    if k < min_points || k == r.steps.len() {
        return None;
    }
    let lr_end = usize::try_from(cut).unwrap_or(0) + 1;
    let head = Run {
        steps: r.steps[..k].to_vec(),
        loss: r.loss[..k].to_vec(),
        lr: r.lr[..lr_end.min(r.lr.len())].to_vec(),
        ..r.clone()
    };
    let tail = Run {
        steps: r.steps[k..].to_vec(),
        loss: r.loss[k..].to_vec(),
        ..r.clone()
    };
    Some((head, tail))
}

/// Fold k fits every run but those of the k largest sizes and forecasts each of their curves
/// (what `eval --rollout params` does). Needs `params` on every run, and every fold keeps two
/// sizes to fit: from one size no law can say how loss changes with size, so such a fold would
/// score a guess (joint laws missed MPL's 100M and 400M by 55 % from 25M alone).
pub fn size(runs: &[Run], folds: usize) -> (Vec<Split>, Option<Skipped>) {
    if runs.iter().any(|r| r.params.is_none()) {
        return (
            Vec::new(),
            Some(Skipped {
                task: Task::Size,
                reason: "a run has no model size (params = N in the manifest)".into(),
            }),
        );
    }
    let groups = by_size(runs);
    let possible = groups.len().saturating_sub(2);
    let mut out = Vec::new();
    for k in 1..=folds.min(possible) {
        let split = groups.len() - k;
        let held: Vec<String> = groups[split..]
            .iter()
            .map(|(n, _)| short_size(n.unwrap_or(f64::NAN)))
            .collect();
        out.push(Split {
            task: Task::Size,
            label: format!("hold out N = {}", held.join(", ")),
            size: groups[split - 1].0,
            fit: groups[..split]
                .iter()
                .flat_map(|(_, g)| g.iter().map(|r| (*r).clone()))
                .collect(),
            test: groups[split..]
                .iter()
                .flat_map(|(_, g)| g.iter().map(|r| (*r).clone()))
                .collect(),
        });
    }
    let skipped = out.is_empty().then(|| Skipped {
        task: Task::Size,
        reason: format!(
            "the runs hold {} model size(s); a size backtest needs three (two to fit, one to \
             forecast)",
            groups.len()
        ),
    });
    (out, skipped)
}
