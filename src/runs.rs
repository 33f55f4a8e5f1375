//! A run ready for a law: its observed points and the LR at every step from 0.
//!
//! This is where a log meets its schedule. The LR comes from, in order of what the user said:
//! a schedule spec; `logged` (the log's LR column interpolated between logged steps); or the log's
//! LR column as it is, which must then cover every step. Whichever it was is recorded as
//! `lr_source`, because S1 and S2, and so every fitted parameter, depend on it.

use crate::error::{Error, Result};
use crate::ingest::{self, RunLog};
use crate::manifest::{Role, RunSpec};
use crate::schedule;
use serde::{Deserialize, Serialize};

/// A loaded run.
#[derive(Debug, Clone)]
pub struct Run {
    pub name: String,
    pub role: Role,
    pub path: String,
    pub sha256: String,
    /// Observed points after filters, strictly increasing.
    pub steps: Vec<i64>,
    pub loss: Vec<f64>,
    /// LR at steps `0..=last observed step` (at least).
    pub lr: Vec<f64>,
    /// The schedule spec in canonical form, or how the LR was obtained.
    pub schedule: String,
    pub lr_source: LrSource,
    /// Points removed by `min_step`/`max_step`.
    pub filtered_out: usize,
    /// Points dropped because no learning had happened yet (LR summed to 0).
    pub dropped_before_learning: usize,
    pub notes: Vec<String>,
    pub min_step: Option<i64>,
    pub max_step: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSource {
    /// A schedule spec.
    Schedule,
    /// The log's LR column, present at every step.
    LogPerStep,
    /// The log's LR column, interpolated linearly between logged steps.
    LogInterpolated,
}

/// Load one run described by a manifest entry or the command line.
pub fn load(spec: &RunSpec) -> Result<Run> {
    let log = ingest::read_log(&spec.resolved, &spec.read)?;
    let ctx = |msg: String| Error::input(format!("run '{}' ({}): {msg}", spec.name, spec.path));
    let all_steps = log.steps();
    let all_loss = log.loss();
    if let (Some(lo), Some(hi)) = (spec.min_step, spec.max_step) {
        if lo > hi {
            return Err(ctx(format!("min_step {lo} exceeds max_step {hi}")));
        }
    }
    let keep: Vec<usize> = (0..all_steps.len())
        .filter(|&i| {
            spec.min_step.is_none_or(|lo| all_steps[i] >= lo)
                && spec.max_step.is_none_or(|hi| all_steps[i] <= hi)
        })
        .collect();
    if keep.is_empty() {
        return Err(ctx("no points left after min_step/max_step".into()));
    }
    let last_step = all_steps[*keep.last().unwrap()];
    let len = last_step as usize + 1;
    let (lr, schedule, lr_source, mut notes) = lr_for(spec, &log, len).map_err(|e| match e {
        Error::BadInput(m) if !m.contains(&spec.path) => ctx(m),
        other => other,
    })?;
    let mut steps = Vec::with_capacity(keep.len());
    let mut loss = Vec::with_capacity(keep.len());
    let mut cum = 0.0;
    let mut at = 0usize;
    let mut dropped = 0;
    for &i in &keep {
        let s = all_steps[i] as usize;
        while at <= s {
            cum += lr[at];
            at += 1;
        }
        if cum <= 0.0 {
            dropped += 1;
            continue;
        }
        steps.push(all_steps[i]);
        loss.push(all_loss[i]);
    }
    if dropped > 0 {
        notes.push(format!(
            "dropped {dropped} point(s) logged before any learning (LR summed to 0)"
        ));
    }
    if steps.is_empty() {
        return Err(ctx(
            "no points after the first step with a non-zero LR".into()
        ));
    }
    Ok(Run {
        name: spec.name.clone(),
        role: spec.role,
        path: spec.path.clone(),
        sha256: log.sha256.clone(),
        filtered_out: all_steps.len() - keep.len(),
        dropped_before_learning: dropped,
        steps,
        loss,
        lr,
        schedule,
        lr_source,
        notes,
        min_step: spec.min_step,
        max_step: spec.max_step,
    })
}

type LrChoice = (Vec<f64>, String, LrSource, Vec<String>);

fn lr_for(spec: &RunSpec, log: &RunLog, len: usize) -> Result<LrChoice> {
    match spec.schedule.as_deref().map(str::trim) {
        Some("logged") => {
            let (lr, notes) = interpolate_logged(log, len)?;
            Ok((lr, "logged".into(), LrSource::LogInterpolated, notes))
        }
        Some(text) => {
            let sched = schedule::parse(text, &spec.base_dir)?;
            Ok((
                sched.lr_array(len),
                sched.to_string(),
                LrSource::Schedule,
                Vec::new(),
            ))
        }
        None => {
            let steps = log.steps();
            let Some(lr) = log.lr() else {
                return Err(Error::input(
                    "the log has no LR column and no schedule was given; give a schedule spec \
                     (--schedule on the command line, schedule = \"...\" in a manifest)",
                ));
            };
            let mut full = vec![None; len];
            for (&s, v) in steps.iter().zip(&lr) {
                if (s as usize) < len {
                    full[s as usize] = *v;
                }
            }
            let have = full.iter().filter(|v| v.is_some()).count();
            if have < len {
                return Err(Error::input(format!(
                    "the LR column covers {have} of the {len} steps 0..={}; laws need the LR at every \
                     step. Give a schedule spec, or schedule = \"logged\" to interpolate the logged LR",
                    len - 1
                )));
            }
            Ok((
                full.into_iter().map(|v| v.unwrap_or(0.0)).collect(),
                "log".into(),
                LrSource::LogPerStep,
                Vec::new(),
            ))
        }
    }
}

/// Linear interpolation of a sparsely logged LR. Before the first logged step the first value is
/// held (the log says nothing about warmup there, and the record says so).
fn interpolate_logged(log: &RunLog, len: usize) -> Result<(Vec<f64>, Vec<String>)> {
    let lr = log.lr().ok_or_else(|| {
        Error::input("schedule = \"logged\" needs an LR column in the log, and it has none")
    })?;
    let known: Vec<(usize, f64)> = log
        .steps()
        .iter()
        .zip(&lr)
        .filter_map(|(&s, v)| v.map(|v| (s as usize, v)))
        .collect();
    if known.is_empty() {
        return Err(Error::input(
            "schedule = \"logged\": the LR column is empty",
        ));
    }
    let mut notes = vec![format!(
        "LR interpolated linearly between {} logged values",
        known.len()
    )];
    if known[0].0 > 0 {
        notes.push(format!(
            "no LR logged before step {}: held at the first logged value {:e} (warmup unknown)",
            known[0].0, known[0].1
        ));
    }
    let mut out = Vec::with_capacity(len);
    let mut k = 0;
    for s in 0..len {
        while k + 1 < known.len() && known[k + 1].0 <= s {
            k += 1;
        }
        let (s0, v0) = known[k];
        let v = match known.get(k + 1) {
            Some(&(s1, v1)) if s >= s0 => v0 + (v1 - v0) * (s - s0) as f64 / (s1 - s0) as f64,
            _ => v0,
        };
        out.push(v);
    }
    Ok((out, notes))
}
