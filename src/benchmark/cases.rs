//! The benchmark's cases: a spec file names manifests and how to split each into what a fit
//! sees and what it must forecast; this turns them into plain (fit runs, test runs) pairs.
//!
//! The splits are the questions users ask before paying for a run: a longer run of a model
//! they have (`cut_step`, `cut_fraction`, `test_longest`), a larger model (`test_above`,
//! `test_runs`), another schedule (`roles`, the manifest's own fit/test split).

use crate::backtest::folds::{by_size, head_and_tail};
use crate::backtest::MIN_FIT_POINTS;
use crate::error::{Error, Result};
use crate::runs::manifest::Role;
use crate::runs::Run;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A spec file: `[[case]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default)]
    case: Vec<CaseSpec>,
}

/// One `[[case]]` of a spec file. Exactly one split rule is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    /// The ladder the runs belong to: rows of the table group by it.
    pub ladder: String,
    /// What is forecast: horizon, size or schedule (a column of the table, not a rule).
    pub task: String,
    /// A run manifest, relative to the spec file.
    pub manifest: String,
    /// Kept aside: run only with `--check`, never counted in the main table. Sets a benchmark
    /// keeps so that a default tuned on the rest can still be caught overfitting.
    #[serde(default)]
    pub check: bool,
    /// Only these runs of the manifest (default: all).
    pub runs: Option<Vec<String>>,
    /// One case per model size instead of one for the whole manifest.
    #[serde(default)]
    pub per_size: bool,
    /// Split rule: the manifest's own roles (fit runs forecast the test runs).
    #[serde(default)]
    pub roles: bool,
    /// Split rule: fit each run up to this step, forecast the rest of it.
    pub cut_step: Option<i64>,
    /// Split rule: fit each run up to this fraction of its last step, forecast the rest.
    pub cut_fraction: Option<f64>,
    /// Split rule: the runs that end last (of each case) are forecast from the shorter ones.
    #[serde(default)]
    pub test_longest: bool,
    /// Split rule: runs with more parameters than this are forecast from the smaller ones.
    pub test_above: Option<f64>,
    /// Split rule: these runs are forecast from the others.
    pub test_runs: Option<Vec<String>>,
}

/// One question: fit these runs, forecast those.
#[derive(Debug, Clone)]
pub struct Case {
    pub ladder: String,
    pub task: String,
    pub check: bool,
    /// What is held out, for people: "Gemstone-512x11 after step 16695".
    pub label: String,
    pub fit: Vec<Run>,
    pub test: Vec<Run>,
}

/// Read a spec file; manifests are resolved against its folder.
pub fn read_spec(path: &Path) -> Result<Vec<(CaseSpec, PathBuf)>> {
    let text = crate::ingest::read_text(path)?;
    let spec: SpecFile = toml::from_str(&text)
        .map_err(|e| Error::file(path, format!("not a benchmark spec: {e}")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    if spec.case.is_empty() {
        return Err(Error::file(path, "no [[case]] in the benchmark spec"));
    }
    spec.case
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let rules = [
                c.roles,
                c.cut_step.is_some(),
                c.cut_fraction.is_some(),
                c.test_longest,
                c.test_above.is_some(),
                c.test_runs.is_some(),
            ]
            .iter()
            .filter(|&&b| b)
            .count();
            if rules != 1 {
                return Err(Error::file(
                    path,
                    format!(
                        "case {} ({} {}): give exactly one split rule (roles, cut_step, \
                         cut_fraction, test_longest, test_above, test_runs), not {rules}",
                        i + 1,
                        c.ladder,
                        c.task
                    ),
                ));
            }
            if let Some(f) = c.cut_fraction.filter(|f| !(*f > 0.0 && *f < 1.0)) {
                return Err(Error::file(
                    path,
                    format!("case {}: cut_fraction must be in (0, 1), not {f}", i + 1),
                ));
            }
            let manifest = dir.join(&c.manifest);
            Ok((c, manifest))
        })
        .collect()
}

/// The cases one spec entry makes from its manifest's runs (already loaded, in manifest order).
pub fn expand(spec: &CaseSpec, runs: &[Run]) -> Result<Vec<Case>> {
    let runs: Vec<Run> = match &spec.runs {
        Some(names) => names
            .iter()
            .map(|n| {
                runs.iter()
                    .find(|r| &r.name == n)
                    .cloned()
                    .ok_or_else(|| Error::input(format!("{}: no run named '{n}'", spec.manifest)))
            })
            .collect::<Result<_>>()?,
        None => runs.to_vec(),
    };
    let groups: Vec<Vec<Run>> = if spec.per_size {
        by_size(&runs)
            .into_iter()
            .map(|(_, g)| g.into_iter().cloned().collect())
            .collect()
    } else {
        vec![runs]
    };
    let mut out = Vec::new();
    for group in groups {
        if let Some(case) = split(spec, &group)? {
            out.push(case);
        }
    }
    if out.is_empty() {
        return Err(Error::input(format!(
            "{} {} ({}): the split rule leaves no case with runs to fit and runs to forecast",
            spec.ladder, spec.task, spec.manifest
        )));
    }
    Ok(out)
}

fn last_step(r: &Run) -> i64 {
    r.steps.last().copied().unwrap_or(0)
}

/// One group's split; `None` when it leaves nothing to fit or nothing to forecast (a size with
/// one budget under `test_longest`).
fn split(spec: &CaseSpec, group: &[Run]) -> Result<Option<Case>> {
    let names = |rs: &[Run]| match rs {
        [] => String::new(),
        [a] => a.name.clone(),
        [a, b] => format!("{}, {}", a.name, b.name),
        [a, .., z] => format!("{} … {} ({} runs)", a.name, z.name, rs.len()),
    };
    let (fit, test, label): (Vec<Run>, Vec<Run>, String) = if spec.cut_step.is_some()
        || spec.cut_fraction.is_some()
    {
        let (mut fit, mut test) = (Vec::new(), Vec::new());
        for r in group {
            let cut = match (spec.cut_step, spec.cut_fraction) {
                (Some(s), _) => s,
                (None, Some(f)) => (f * last_step(r) as f64).floor() as i64,
                (None, None) => unreachable!("a cut rule was given"),
            };
            if let Some((h, t)) = head_and_tail(r, cut, MIN_FIT_POINTS) {
                fit.push(h);
                test.push(t);
            }
        }
        let at = match (spec.cut_step, spec.cut_fraction) {
            (Some(s), _) => format!("step {s}"),
            (_, Some(f)) => format!("{:.0} %", 100.0 * f),
            _ => String::new(),
        };
        let label = format!("{} after {at}", names(&test));
        (fit, test, label)
    } else {
        let is_test = |r: &Run| -> bool {
            if spec.roles {
                r.role == Role::Test
            } else if let Some(n) = spec.test_above {
                r.params.is_some_and(|p| p > n)
            } else if let Some(t) = &spec.test_runs {
                t.contains(&r.name)
            } else {
                let longest = group.iter().map(last_step).max().unwrap_or(0);
                last_step(r) as f64 >= longest as f64 * (1.0 - crate::backtest::folds::HORIZON_TOL)
            }
        };
        let (test, fit): (Vec<Run>, Vec<Run>) = group.iter().cloned().partition(is_test);
        let label = format!("{} from {}", names(&test), names(&fit));
        (fit, test, label)
    };
    if fit.is_empty() || test.is_empty() {
        return Ok(None);
    }
    let fit = fit
        .into_iter()
        .map(|r| Run {
            role: Role::Fit,
            ..r
        })
        .collect();
    let test = test
        .into_iter()
        .map(|r| Run {
            role: Role::Test,
            ..r
        })
        .collect();
    Ok(Some(Case {
        ladder: spec.ladder.clone(),
        task: spec.task.clone(),
        check: spec.check,
        label,
        fit,
        test,
    }))
}
