//! A run ready for a law: its observed points and the LR at every step from 0.
//!
//! This is where a log meets its schedule. The LR comes from, in order of what the user said:
//! a schedule spec; `logged` (the log's LR column interpolated between logged steps); or the log's
//! LR column as it is, which must then cover every step. Whichever it was is recorded as
//! `lr_source`, because S1 and S2, and so every fitted parameter, depend on it.

use crate::error::{Error, Result};
use crate::ingest::{self, LrPoints, RunLog};
pub mod manifest;

use crate::schedule;
use manifest::{Role, RunSpec};
use serde::{Deserialize, Serialize};
use std::path::Path;

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
    /// What reading the log warned about (a cut-off TensorBoard record, text where numbers
    /// belong): shown by every command that reads it and kept in the fit record.
    pub warnings: Vec<String>,
    pub min_step: Option<i64>,
    pub max_step: Option<i64>,
    /// Model size N (`params` in the manifest), for joint size × schedule laws.
    pub params: Option<f64>,
    /// The run's length in steps: its schedule's total (or the last logged step, if later) when
    /// a spec gives the LR. `lr` stops at the last logged step, which for a run logged short of
    /// its end is not where the run ends.
    pub end: Option<i64>,
}

impl Run {
    /// A run made in code rather than read from a log (synthetic ladders in tests and
    /// benchmarks): role fit, LR from the schedule `spec` (given as `lr`), no file, no notes.
    pub fn in_memory(
        name: &str,
        spec: &str,
        lr: Vec<f64>,
        steps: Vec<i64>,
        loss: Vec<f64>,
        params: Option<f64>,
    ) -> Run {
        Run {
            name: name.into(),
            role: Role::Fit,
            path: format!("synthetic/{name}"),
            sha256: String::new(),
            steps,
            loss,
            lr,
            schedule: spec.into(),
            lr_source: LrSource::Schedule,
            filtered_out: 0,
            dropped_before_learning: 0,
            notes: vec![],
            warnings: vec![],
            min_step: None,
            max_step: None,
            params,
            end: None,
        }
    }
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
    let log = ingest::read_log(&spec.resolved, &spec.read).map_err(|e| match e {
        // A manifest's path is read from the manifest's folder: say so, since a symlinked or
        // moved manifest makes "elsewhere/missing.csv" look like a typo.
        Error::BadInput(m)
            if m.ends_with("file not found")
                && !spec.base_dir.as_os_str().is_empty()
                && Path::new(&spec.path).is_relative() =>
        {
            Error::input(format!(
                "run '{}': {m} (path = \"{}\" in the manifest, read from the manifest's folder \
                 {}; a symlinked manifest reads from the folder of the link)",
                spec.name,
                spec.path,
                spec.base_dir.display()
            ))
        }
        other => other,
    })?;
    load_from(spec, log)
}

/// [`load`] of a log already read (`watch` reads a growing log's complete records itself).
pub fn load_from(spec: &RunSpec, log: ingest::RunLog) -> Result<Run> {
    let ctx = |msg: String| Error::input(format!("run '{}' ({}): {msg}", spec.name, spec.path));
    let all_steps = log.steps();
    let all_loss = log.loss();
    if let (Some(lo), Some(hi)) = (spec.min_step, spec.max_step) {
        if lo > hi {
            return Err(ctx(format!("min_step {lo} exceeds max_step {hi}")));
        }
    }
    if let Some(&s) = all_steps.iter().find(|&&s| s < 0) {
        return Err(ctx(format!(
            "step {s} is negative; steps count optimizer steps from 0"
        )));
    }
    let keep: Vec<usize> = (0..all_steps.len())
        .filter(|&i| spec.in_step_range(all_steps[i]))
        .collect();
    if keep.is_empty() {
        return Err(ctx("no points left after min_step/max_step".into()));
    }
    // Before anything is said about the LR: a curve of one point is too short for any law, and
    // that, not where its LR was first logged, is what is wrong with it.
    if keep.len() < 2 {
        return Err(ctx(format!(
            "{} point: too few points for a loss curve (a fit needs at least as many points as \
             the law has parameters)",
            keep.len()
        )));
    }
    let last_step = all_steps[*keep.last().unwrap()];
    crate::base::limits::check_step(
        last_step as u64,
        &format!("run '{}' ({})", spec.name, spec.path),
    )?;
    let len = last_step as usize + 1;
    let (lr, schedule, lr_source, lr_notes) = lr_for(spec, &log, len).map_err(|e| match e {
        Error::BadInput(m) if !m.contains(&spec.path) => ctx(m),
        other => other,
    })?;
    let mut notes = log.notes.clone();
    notes.extend(lr_notes);
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
    if spec.read.lr_shift != 0 {
        notes.push(format!(
            "logged LR shifted by {} step(s) (lr_shift)",
            spec.read.lr_shift
        ));
    }
    if steps.is_empty() {
        return Err(ctx(
            "no points after the first step with a non-zero LR".into()
        ));
    }
    if let Some(why) = absurd_loss(&steps, &loss) {
        return Err(ctx(why));
    }
    let end = (lr_source == LrSource::Schedule)
        .then(|| crate::schedule::parse(&schedule, &spec.base_dir).ok())
        .flatten()
        .map(|s| (s.total_steps() as i64).max(last_step));
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
        warnings: log
            .warnings
            .iter()
            .cloned()
            .chain(notes.iter().filter(|n| n.starts_with(GLITCH)).cloned())
            .collect(),
        notes,
        min_step: spec.min_step,
        max_step: spec.max_step,
        params: spec.params,
        end,
    })
}

/// Why `fit` with default options would refuse run `run` of the log at `path` (`None` if it
/// would read it), so that `inspect` never passes a log that `fit` then rejects. A log without an
/// LR gets a stand-in constant schedule to the run's last step: that it needs a schedule,
/// `inspect` says on its own; this reports the log's other problems.
pub fn fit_refusal(path: &Path, run: Option<&str>, has_lr: bool, last_step: i64) -> Option<String> {
    let spec = RunSpec {
        schedule: (!has_lr).then(|| format!("constant:peak=1e-3,total={}", last_step.max(1))),
        read: crate::ingest::ReadOptions {
            select: run.map(|n| ("run".to_string(), n.to_string())),
            ..Default::default()
        },
        ..RunSpec::for_log(path)
    };
    load(&spec).err().map(|e| e.to_string())
}

type LrChoice = (Vec<f64>, String, LrSource, Vec<String>);

fn lr_for(spec: &RunSpec, log: &RunLog, len: usize) -> Result<LrChoice> {
    match spec.schedule.as_deref().map(str::trim) {
        Some(text) if text != "logged" => {
            // A schedule spec replaces the log's LR; options about that LR would do nothing
            // while the record claimed them.
            if spec.read.lr_shift != 0 {
                return Err(Error::input(
                    "lr_shift (--lr-shift) shifts the log's LR, which a schedule spec replaces; \
                     drop one of the two",
                ));
            }
            if let Some(lr) = &spec.read.names.lr {
                return Err(Error::input(format!(
                    "the LR column '{lr}' (--lr, or lr in a manifest) is not read when a schedule \
                     spec gives the LR; drop one of the two, or use schedule = \"logged\""
                )));
            }
            let sched = schedule::parse(text, &spec.base_dir)?;
            let mut notes = sched.notes().to_vec();
            notes.extend(sched.covers(len as u64 - 1)?);
            Ok((
                sched.lr_array(len),
                sched.to_string(),
                LrSource::Schedule,
                notes,
            ))
        }
        explicit => {
            let Some(points) = &log.lr_points else {
                return Err(Error::input(if explicit.is_some() {
                    "schedule = \"logged\" needs an LR in the log, and it has none"
                } else {
                    "the log has no LR column and no schedule was given; give a schedule spec \
                     (--schedule on the command line, schedule = \"...\" in a manifest)"
                }));
            };
            let (points, glitches) = without_glitches(points);
            let points = &points;
            let per_step = points.steps.len() >= len
                && points
                    .steps
                    .iter()
                    .take(len)
                    .enumerate()
                    .all(|(i, &s)| s == i as i64);
            if per_step {
                let lr = points.values[..len].to_vec();
                return Ok((lr, "log".into(), LrSource::LogPerStep, glitches));
            }
            let (lr, mut notes) = interpolate_logged(points, len)?;
            notes.extend(glitches);
            Ok((lr, "logged".into(), LrSource::LogInterpolated, notes))
        }
    }
}

/// How far above both its neighbours a logged loss may lie before it is refused.
const LOSS_OUTLIER: f64 = 100.0;

/// A loss [`LOSS_OUTLIER`] times its neighbours or more: a corrupt record (5e305 in a run at 3),
/// not training. Fitted, it makes every metric absurd (MAE 5e305); the run is refused with the
/// step, so the user can drop the record or cut the run before it. Judged against the
/// neighbours, not the run, because the first steps of a run may sit far above its median
/// (a law's early transient) while falling smoothly.
fn absurd_loss(steps: &[i64], loss: &[f64]) -> Option<String> {
    let n = loss.len();
    let i = (0..n).find(|&i| {
        let left = i.checked_sub(1).map(|j| loss[j]);
        let right = (i + 1 < n).then(|| loss[i + 1]);
        let near = left.into_iter().chain(right).fold(0.0f64, f64::max);
        near > 0.0 && loss[i] >= LOSS_OUTLIER * near
    })?;
    Some(format!(
        "the loss at step {} is {}, at least {LOSS_OUTLIER}× the losses logged beside it: a \
         corrupt or diverged record, not training; remove it, or end the run before it \
         (--max-step, max_step in a manifest)",
        steps[i],
        crate::base::numbers::num(loss[i])
    ))
}

/// The prefix [`load_from`] marks a logged-LR glitch's note with, so that it is also shown as a
/// warning.
const GLITCH: &str = "logged LR glitch: ";

/// The logged LR with isolated glitches read as their neighbours: one value far from two
/// neighbours that agree (a 0 logged once in a constant-LR run). Taken at face value it is a
/// one-step anneal and back, and the annealing law fits its C to it (C = 3.28 from one logged
/// 0, then a WSD forecast 0.74 too low). No scheduler makes such a dip, so it is read as the
/// neighbours' value and said so.
fn without_glitches(points: &ingest::LrPoints) -> (ingest::LrPoints, Vec<String>) {
    let mut values = points.values.clone();
    let mut notes = Vec::new();
    for i in 1..values.len().saturating_sub(1) {
        let (a, x, b) = (points.values[i - 1], points.values[i], points.values[i + 1]);
        let agree = a > 0.0 && (a - b).abs() <= 1e-3 * a.max(b);
        if agree && (x - a).abs() > 0.5 * a {
            values[i] = a;
            notes.push(format!(
                "{GLITCH}{} at step {} between two of {}, read as {} (give the schedule with \
                 --schedule to state the LR exactly)",
                crate::base::numbers::num(x),
                points.steps[i],
                crate::base::numbers::num(a),
                crate::base::numbers::num(a)
            ));
        }
    }
    (
        ingest::LrPoints {
            steps: points.steps.clone(),
            values,
        },
        notes,
    )
}

/// Linear interpolation of an LR logged every k steps. Before the first logged step the first
/// value is held (the log says nothing about warmup there), and after the last one the last value
/// is held for at most the log's largest gap; the record says both. A longer unlogged tail is
/// refused: the schedule there is unknown.
fn interpolate_logged(points: &LrPoints, len: usize) -> Result<(Vec<f64>, Vec<String>)> {
    let known: Vec<(usize, f64)> = points
        .steps
        .iter()
        .zip(&points.values)
        .map(|(&s, &v)| (s as usize, v))
        .collect();
    let Some(&(last_step, last_value)) = known.last() else {
        return Err(Error::input("the log's LR series is empty"));
    };
    let gap = known.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap_or(1);
    let mut notes = vec![format!(
        "LR interpolated linearly between {} logged values (largest gap {gap} steps)",
        known.len()
    )];
    if known[0].0 > gap {
        // Holding the first logged LR back to step 0 would invent more of the schedule than the
        // log ever leaves out between two values: usually a whole warmup, which moves S1 and S2
        // and every parameter fitted on them.
        return Err(Error::input(format!(
            "the LR is first logged at step {}, but the log's LR values are never more than {gap} \
             step(s) apart: steps 0..{} (a warmup?) have no LR, and holding {:e} there would \
             invent them. Give the schedule (--schedule SPEC, or schedule = \"...\" in a \
             manifest)",
            known[0].0,
            known[0].0 - 1,
            known[0].1
        )));
    }
    if known[0].0 > 0 {
        notes.push(format!(
            "no LR logged before step {}: held at the first logged value {:e} (warmup unknown)",
            known[0].0, known[0].1
        ));
    }
    if len > last_step + 1 {
        let tail = len - 1 - last_step;
        if tail > gap {
            return Err(Error::input(format!(
                "the LR is logged up to step {last_step}, but the loss goes to step {}: {tail} \
                 steps with no LR, more than the log's largest gap ({gap}). Give a schedule spec",
                len - 1
            )));
        }
        notes.push(format!(
            "no LR logged after step {last_step}: held at {last_value:e} for {tail} step(s)"
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn spec(dir: &Path, csv: &str, schedule: Option<&str>) -> RunSpec {
        let path = dir.join("run.csv");
        std::fs::write(&path, csv).unwrap();
        RunSpec {
            name: "r".into(),
            path: "run.csv".into(),
            base_dir: dir.to_path_buf(),
            schedule: schedule.map(String::from),
            ..RunSpec::for_log(&path)
        }
    }

    #[test]
    fn a_complete_lr_column_is_used_per_step() {
        let dir = tempfile::tempdir().unwrap();
        let run = load(&spec(
            dir.path(),
            "step,loss,lr\n0,5,0\n1,4,1e-3\n2,3,2e-3\n",
            None,
        ))
        .unwrap();
        assert_eq!(run.lr, vec![0.0, 1e-3, 2e-3]);
        assert_eq!(run.lr_source, LrSource::LogPerStep);
        // Step 0 comes before any learning (LR sum 0) and is dropped, with a note.
        assert_eq!(run.steps, vec![1, 2]);
        assert_eq!(run.dropped_before_learning, 1);
        assert!(run.notes[0].contains("before any learning"));
    }

    #[test]
    fn an_lr_logged_every_k_steps_is_interpolated_and_the_record_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let csv = "step,loss,lr\n10,5,1e-3\n20,4,2e-3\n30,3,\n";
        for schedule in [None, Some("logged")] {
            let run = load(&spec(dir.path(), csv, schedule)).unwrap();
            assert_eq!(run.lr_source, LrSource::LogInterpolated);
            assert_eq!(run.lr.len(), 31);
            assert_eq!(run.lr[0], 1e-3, "held before the first logged step");
            assert!((run.lr[15] - 1.5e-3).abs() < 1e-18);
            assert_eq!(run.lr[30], 2e-3, "held after the last logged step");
            let has = |t: &str| run.notes.iter().any(|n| n.contains(t));
            assert!(has("interpolated"), "{:?}", run.notes);
            assert!(has("no LR logged before step 10"), "{:?}", run.notes);
            assert!(has("no LR logged after step 20"), "{:?}", run.notes);
        }
        // A tail longer than the largest logged gap has no LR to speak of.
        let far = "step,loss,lr\n10,5,1e-3\n20,4,2e-3\n40,3,\n";
        let e = load(&spec(dir.path(), far, None)).unwrap_err().to_string();
        assert!(e.contains("20 steps with no LR"), "{e}");
    }

    /// The bundled MPL CSVs log the LR from step 2160 on, every ~128 steps: holding the first
    /// value back to step 0 would invent a warmup at the peak (R² −0.40 instead of 0.997).
    #[test]
    fn an_lr_logged_only_after_warmup_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let csv = "step,loss,lr\n2160,4,3e-4\n2288,3.9,3e-4\n2416,3.8,3e-4\n";
        let e = load(&spec(dir.path(), csv, None)).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = e.to_string();
        assert!(e.contains("first logged at step 2160"), "{e}");
        assert!(e.contains("128 step(s) apart"), "{e}");
        assert!(e.contains("--schedule"), "{e}");
        // With the schedule given, the same log loads.
        let run = load(&spec(
            dir.path(),
            csv,
            Some("constant:peak=3e-4,warmup=2160,total=2416"),
        ))
        .unwrap();
        assert_eq!(run.steps.len(), 3);
    }

    #[test]
    fn lr_round_off_in_a_log_is_zero_and_a_real_negative_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let csv = "step,loss,lr\n0,5,0\n1,4,2e-3\n2,3,1e-3\n3,2.9,-4.2e-22\n";
        let run = load(&spec(dir.path(), csv, None)).unwrap();
        assert_eq!(run.lr, vec![0.0, 2e-3, 1e-3, 0.0]);
        assert!(
            run.notes.iter().any(|n| n.contains("slightly negative")),
            "{:?}",
            run.notes
        );
        let csv = "step,loss,lr\n0,5,0\n1,4,2e-3\n2,3,-1e-4\n";
        let e = load(&spec(dir.path(), csv, None)).unwrap_err().to_string();
        assert!(e.contains("run.csv:4:"), "{e}");
        assert!(e.contains("real negative"), "{e}");
    }

    #[test]
    fn a_step_beyond_the_limit_is_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(&spec(
            dir.path(),
            "step,loss\n1,3\n1000000000000,2\n",
            Some("constant:peak=1e-3,total=10"),
        ))
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("limit of 20000000 steps"), "{e}");
    }

    #[test]
    fn no_lr_and_no_schedule_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(&spec(dir.path(), "step,loss\n1,3\n2,2.9\n", None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no LR column and no schedule"), "{e}");
        assert!(e.contains("run 'r' (run.csv)"), "{e}");
    }

    #[test]
    fn point_filters_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = spec(
            dir.path(),
            "step,loss\n100,3\n200,2.9\n300,2.8\n400,2.7\n",
            Some("constant:peak=1e-3,warmup=0,total=1000"),
        );
        s.min_step = Some(150);
        s.max_step = Some(350);
        let run = load(&s).unwrap();
        assert_eq!(run.steps, vec![200, 300]);
        assert_eq!(run.filtered_out, 2);
        assert_eq!(run.schedule, "constant:peak=1e-3,warmup=0,total=1000");
        s.min_step = Some(500);
        s.max_step = None;
        assert!(load(&s).unwrap_err().to_string().contains("no points left"));
        s.max_step = Some(350);
        assert!(load(&s)
            .unwrap_err()
            .to_string()
            .contains("exceeds max_step"));
    }
}
