//! Learning a collapse law's state from its fit runs: runs grouped by normalised LR schedule,
//! one [`Shape`] per group, the groups put on one level where they share a size, mean or trend
//! chosen by holding out the largest fit size, and the anchor's form chosen by the
//! [`ScoreHeldOut`] the fit hands over.

use super::shape::{interpolate_ln_x, LadderCurve, Shape};
use super::{
    anchor_law, profile, profile_distance, run_length, same, CollapseState, GroupShape, LearnRun,
    ScoreHeldOut, PRIOR_ALPHA, PRIOR_BETA, PRIOR_LOG_SD, PROFILE_TOL, SAME,
};
use crate::base::groups::groups_within;
use crate::base::numbers::num;
use crate::error::{Error, Result};
use crate::ingest::table::RunTable;

/// The distinct values (within [`SAME`]), increasing: one representative per group.
fn distinct(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let values: Vec<f64> = values.into_iter().collect();
    groups_within(&values, SAME)
        .iter()
        .map(|g| values[g[0]])
        .collect()
}

/// One run prepared for the shape: size, length, fractions, losses.
struct Prepared<'a> {
    name: &'a str,
    n: f64,
    length: f64,
    x: Vec<f64>,
    loss: &'a [f64],
    profile: Vec<Option<f64>>,
}

fn prepare<'a>(r: &'a LearnRun) -> Result<Prepared<'a>> {
    let n = r.curve.params.ok_or_else(|| {
        Error::input(format!(
            "run '{}' has no model size: collapse needs params = N for every run",
            r.name
        ))
    })?;
    let length = run_length(&r.curve);
    // A point at step 0 has no place on a log grid of run fractions; the shape starts after it.
    let first = r.curve.steps.partition_point(|&s| s <= 0);
    if length <= 0.0 || r.curve.steps.len() < first + 3 {
        return Err(Error::input(format!(
            "run '{}': collapse needs at least 3 points after step 0",
            r.name
        )));
    }
    Ok(Prepared {
        name: r.name,
        n,
        length,
        x: r.curve.steps[first..]
            .iter()
            .map(|&s| s as f64 / length)
            .collect(),
        loss: &r.loss[first..],
        profile: profile(&r.curve),
    })
}

fn shape_of(runs: &[&Prepared]) -> Result<Shape> {
    let curves: Vec<LadderCurve> = runs
        .iter()
        .map(|r| LadderCurve {
            name: r.name,
            n: r.n,
            d: r.length,
            x: &r.x,
            loss: r.loss,
        })
        .collect();
    Shape::new(&curves)
}

/// Mean |relative error| of forecasting `held`'s curves from `shape` with their own level.
fn shape_error(shape: &Shape, held: &[&Prepared], trend: bool) -> (f64, usize) {
    let end = shape.grid[shape.grid.len() - 1];
    let (mut sum, mut count) = (0.0, 0);
    for r in held {
        let level = interpolate_ln_x(&r.x, r.loss, end);
        for (&x, &y) in r.x.iter().zip(r.loss) {
            if x >= shape.grid[0] && x <= end {
                sum += ((level * shape.at(x, r.n, r.length, trend) - y) / y).abs();
                count += 1;
            }
        }
    }
    (sum, count)
}

/// Learn the collapse state from the fit runs.
pub fn learn(runs: &[LearnRun], score_held_out: &ScoreHeldOut) -> Result<CollapseState> {
    if runs.len() < 2 {
        return Err(Error::input(format!(
            "collapse needs the curves of a ladder (runs at two or more model sizes), got {} run(s)",
            runs.len()
        )));
    }
    let prepared: Vec<Prepared> = runs.iter().map(prepare).collect::<Result<_>>()?;
    // Group by normalised schedule, first come first served.
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, r) in prepared.iter().enumerate() {
        match members
            .iter_mut()
            .find(|g| profile_distance(&prepared[g[0]].profile, &r.profile) <= PROFILE_TOL)
        {
            Some(g) => g.push(i),
            None => members.push(vec![i]),
        }
    }
    members.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let sizes = distinct(prepared.iter().map(|r| r.n));
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let mut shapes = Vec::new();
    for g in &members {
        let rs: Vec<&Prepared> = g.iter().map(|&i| &prepared[i]).collect();
        if distinct(rs.iter().map(|r| r.n)).len() < 2 {
            let names: Vec<&str> = rs.iter().map(|r| r.name).collect();
            return Err(Error::input(format!(
                "collapse needs every schedule at two or more model sizes; {} ran only at N = {}",
                quoted(&names),
                num(rs[0].n)
            )));
        }
        let shape = shape_of(&rs)?;
        let names: Vec<&str> = rs.iter().map(|r| r.name).collect();
        let label = if members.len() > 1 {
            format!("schedule of {}: ", quoted(&names[..1]))
        } else {
            String::new()
        };
        warnings.extend(
            shape
                .diagnostics(&names)
                .into_iter()
                .map(|w| format!("{label}{w}")),
        );
        shapes.push(shape);
    }
    if members.len() > 1 {
        notes.push(format!(
            "the runs follow {} LR schedules (as fractions of peak and of the run); each has its \
             own shape, levelled against that of '{}' at the sizes they share, and a forecast \
             uses the shape of the schedule it runs",
            members.len(),
            prepared[members[0][0]].name
        ));
    }
    // Mean or trend: decided by holding out the largest fit size, where three sizes allow it.
    let trend =
        if sizes.len() >= 3 {
            let largest = sizes[sizes.len() - 1];
            let (mut mean_err, mut trend_err, mut count) = (0.0, 0.0, 0usize);
            for g in &members {
                let (held, kept): (Vec<&Prepared>, Vec<&Prepared>) = g
                    .iter()
                    .map(|&i| &prepared[i])
                    .partition(|r| same(r.n, largest));
                if held.is_empty() || distinct(kept.iter().map(|r| r.n)).len() < 2 {
                    continue;
                }
                let Ok(shape) = shape_of(&kept) else {
                    continue;
                };
                let (m, c) = shape_error(&shape, &held, false);
                let (t, _) = shape_error(&shape, &held, true);
                mean_err += m;
                trend_err += t;
                count += c;
            }
            let pick = count > 0 && trend_err < mean_err;
            if count > 0 {
                notes.push(format!(
                "shape: {} (holding out the largest fit size, N = {}: mean shape {:.3} %, trend \
                 in ln N {:.3} % mean |error|)",
                if pick { "trend in ln N" } else { "mean over sizes" },
                num(largest),
                100.0 * mean_err / count as f64,
                100.0 * trend_err / count as f64
            ));
            }
            pick
        } else {
            notes.push(
                "shape: mean over sizes (two sizes cannot show whether the shape drifts with N; \
             collapse assumes it does not)"
                    .into(),
            );
            false
        };
    // Run lengths per schedule decide whether the anchor can have a data term.
    let lengths = members
        .iter()
        .map(|g| distinct(g.iter().map(|&i| prepared[i].length)).len())
        .max()
        .unwrap_or(1);
    let anchor_d = lengths >= 2;
    if sizes.len() < 3 {
        notes.push(format!(
            "two sizes cannot pin the size exponent: alpha has a log-normal prior centred on \
             Chinchilla's {PRIOR_ALPHA} (sd {PRIOR_LOG_SD} in ln; off with --no-prior, which \
             leaves it undetermined), so the forecast assumes it"
        ));
    }

    // Levels: each schedule against the reference (the largest group) where they share a size
    // (and a length, when the anchor has a data term).
    let mut groups = Vec::new();
    for (gi, (g, shape)) in members.iter().zip(&shapes).enumerate() {
        let mut shift = 0.0;
        if gi > 0 {
            let mut shifts = Vec::new();
            for (a, &i) in g.iter().enumerate() {
                for (b, &j) in members[0].iter().enumerate() {
                    let (r, q) = (&prepared[i], &prepared[j]);
                    if same(r.n, q.n) && (!anchor_d || same(r.length, q.length)) {
                        shifts.push(shape.finals[a] - shapes[0].finals[b]);
                    }
                }
            }
            if shifts.is_empty() {
                warnings.push(format!(
                    "the schedule of '{}' shares no model size{} with that of '{}': its level is \
                     assumed equal",
                    prepared[g[0]].name,
                    if anchor_d { " and length" } else { "" },
                    prepared[members[0][0]].name
                ));
            } else {
                shift = shifts.iter().sum::<f64>() / shifts.len() as f64;
            }
        }
        let ln_n = &shape.ln_n;
        groups.push(GroupShape {
            runs: g.iter().map(|&i| prepared[i].name.to_string()).collect(),
            profile: prepared[g[0]].profile.clone(),
            lengths: distinct(g.iter().map(|&i| prepared[i].length)),
            grid: shape.grid.clone(),
            mean: shape.mean.clone(),
            mean_m: shape.mean_m.clone(),
            centred: shape.centred.clone(),
            slope_m: shape.slope_m.clone(),
            centre_m: shape.centre_m,
            slope: shape.slope.clone(),
            mean_ln_n: ln_n.iter().sum::<f64>() / ln_n.len() as f64,
            shift,
        });
    }
    // The anchor: the ladder's levels (each run's loss where its shape ends, on the reference
    // schedule's level) are a table of final losses over (N, D).
    let n_ref = sizes[sizes.len() - 1];
    let d_ref = prepared.iter().map(|r| r.length).fold(0.0, f64::max);
    let mut levels = (Vec::new(), Vec::new(), Vec::new());
    for ((g, shape), group) in members.iter().zip(&shapes).zip(&groups) {
        for (a, &i) in g.iter().enumerate() {
            levels.0.push(prepared[i].n / n_ref);
            levels.1.push(prepared[i].length / d_ref);
            levels.2.push(shape.finals[a] - group.shift);
        }
    }
    let anchor = choose_anchor(anchor_d, sizes.len(), levels, score_held_out, &mut notes);
    if anchor_d && lengths < 3 {
        notes.push(format!(
            "two run lengths cannot pin the data exponent: it has a log-normal prior centred on \
             Chinchilla's beta = {PRIOR_BETA} (sd {PRIOR_LOG_SD} in ln)"
        ));
    }
    let points: usize = prepared.iter().map(|r| r.loss.len()).sum();
    notes.push(format!(
        "the anchor is fitted on every point of every fit run ({points} points of {} runs) \
         through the shape: each point is its run's level times a known factor, so a size's \
         level is read from its whole curve rather than from its noisiest point, the last",
        prepared.len()
    ));
    Ok(CollapseState {
        anchor,
        n_ref,
        d_ref,
        trend,
        sizes: sizes.len(),
        lengths,
        groups,
        notes,
        warnings,
    })
}

/// The anchor's final-loss law. One length per schedule leaves D nothing to say: `power` in
/// N. Otherwise, from four sizes, Chinchilla, the over-training form (Gadre et al. 2024) and the
/// N-dependent data exponent (Farseer's shape) compete on the ladder's own levels with the
/// largest size held out; below four sizes the held-out fit would not pin its exponents, and
/// Chinchilla is used.
fn choose_anchor(
    anchor_d: bool,
    sizes: usize,
    (n, d, loss): (Vec<f64>, Vec<f64>, Vec<f64>),
    score_held_out: &ScoreHeldOut,
    notes: &mut Vec<String>,
) -> String {
    if !anchor_d {
        notes.push(
            "anchor: E + A·n^(−alpha), n = N/N_max (`power` in N); each schedule ran at one \
             length, so forecasts keep it"
                .into(),
        );
        return "power".into();
    }
    if sizes < 4 {
        notes.push(
            "anchor: chinchilla (choosing a form holds out the largest size and needs three \
             more to fit)"
                .into(),
        );
        return "chinchilla".into();
    }
    let c = n.iter().zip(&d).map(|(n, d)| 6.0 * n * d).collect();
    let table = RunTable {
        path: "collapse levels".into(),
        sha256: String::new(),
        n,
        d,
        c,
        loss,
        notes: Vec::new(),
    };
    let candidates = ["chinchilla", "overtrain", "chinchilla-nd"];
    let scored: Vec<(&str, f64)> = candidates
        .into_iter()
        .filter_map(|name| {
            let law = anchor_law(name);
            Some((name, score_held_out(law.as_ref(), &table)?))
        })
        .filter(|(_, e)| e.is_finite())
        .collect();
    let best = scored
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("chinchilla", |b| b.0);
    notes.push(format!(
        "anchor: {best} (the ladder's levels with the largest size held out: {})",
        scored
            .iter()
            .map(|(name, e)| format!("{name} {:.3} %", 100.0 * e))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    best.into()
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
