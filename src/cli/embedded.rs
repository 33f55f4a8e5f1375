//! Commands run in-process for an embedding program (the Python module in `losscast-py/`): the
//! command line's own parsing, defaults, checks and messages, with data handed over in memory
//! (frames as typed columns, fit records as JSON) instead of files, and the output captured.
//!
//! Why through the command line rather than beside it: the Python API promises the CLI's
//! options and defaults. Parsing its keyword arguments with the same clap definitions makes that
//! true by construction, and leaves one place to add an option. A registered label stands where
//! a path would (`losscast fit <label>`, `--manifest <label>`, `--fit <label>`); the command code
//! asks this module for runs, tables and fits, and this module falls through to the files when
//! nothing is registered, which is always the case for the binary.

use super::console::{self, Captured};
use crate::error::{Error, Result};
use crate::fit::FitRecord;
use crate::ingest::memory::{self, MemFrame};
use crate::ingest::table::{self, RunTable, TableColumns};
use crate::ingest::ReadOptions;
use crate::runs::manifest::{self, Role, RunSpec};
use crate::runs::{self, Run};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One run of a frame input: its columns and what a manifest entry would say of it.
#[derive(Debug, Clone)]
pub struct FrameRun {
    pub name: String,
    pub frame: MemFrame,
    /// Schedule spec; `None` takes the frame's LR column (or the command's `--schedule`).
    pub schedule: Option<String>,
    pub role: Role,
    /// Model size N, for joint and size laws.
    pub params: Option<f64>,
    pub tokens_per_step: Option<f64>,
}

/// What the caller hands over for one command.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Frames by label: one label may hold several runs (a frame split by run).
    pub frames: Vec<(String, Vec<FrameRun>)>,
    /// Fit records by label, as JSON (the text of a fit file).
    pub fits: Vec<(String, String)>,
}

/// A command's exit code (0 success, 1 failed, 2 bad input) and what it printed.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

thread_local! {
    static INPUTS: RefCell<Option<Rc<Inputs>>> = const { RefCell::new(None) };
}

/// Run one command (`args[0]` is the program name) with `inputs` registered and its output
/// captured. No signal handler is installed: the host process owns Ctrl-C.
pub fn call<I, T>(args: I, inputs: Inputs) -> Outcome
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let (code, Captured { stdout, stderr }) =
        with_inputs(inputs, || console::capture(|| super::execute(args)));
    Outcome {
        code,
        stdout,
        stderr,
    }
}

/// Run `f` with `inputs` registered on this thread, then restore what was registered before:
/// `report` called from Python runs `predict` and `plan` in-process, and the frames Python
/// registered must still be there when they return.
fn with_inputs<T>(inputs: Inputs, f: impl FnOnce() -> T) -> T {
    let before = INPUTS.with(|r| r.borrow_mut().replace(Rc::new(inputs)));
    let value = f();
    INPUTS.with(|r| *r.borrow_mut() = before);
    value
}

fn registered() -> Option<Rc<Inputs>> {
    INPUTS.with(|r| r.borrow().clone())
}

fn frame_runs(path: &Path) -> Option<(Rc<Inputs>, usize)> {
    let inputs = registered()?;
    let i = inputs
        .frames
        .iter()
        .position(|(label, _)| Path::new(label) == path)?;
    Some((inputs, i))
}

/// The runs a registered frame label stands for, read as `read` says (`--loss`, `--select`,
/// ...); `None` when `path` is not a label.
pub(super) fn specs(
    path: &Path,
    read: &ReadOptions,
    schedule: Option<&str>,
) -> Option<Vec<RunSpec>> {
    let (inputs, i) = frame_runs(path)?;
    let (label, runs) = &inputs.frames[i];
    Some(
        runs.iter()
            .map(|r| RunSpec {
                name: r.name.clone(),
                schedule: r.schedule.clone().or(schedule.map(String::from)),
                role: r.role,
                read: read.clone(),
                params: r.params,
                tokens_per_step: r.tokens_per_step,
                ..RunSpec::for_log(Path::new(label))
            })
            .collect(),
    )
}

/// A manifest's runs, or those of a frame label given as `--manifest`.
pub(super) fn manifest_specs(path: &Path) -> Result<Vec<RunSpec>> {
    match specs(path, &ReadOptions::default(), None) {
        Some(s) => Ok(s),
        None => manifest::load(path),
    }
}

/// Load a run: from its registered frame, else from its log file.
pub(super) fn load_run(spec: &RunSpec) -> Result<Run> {
    let Some((inputs, i)) = frame_runs(&spec.resolved) else {
        return runs::load(spec);
    };
    let run = inputs.frames[i]
        .1
        .iter()
        .find(|r| r.name == spec.name)
        .ok_or_else(|| Error::input(format!("no run '{}' in {}", spec.name, spec.path)))?;
    let log = memory::read_log(&spec.resolved, &run.frame, &spec.read)?;
    runs::load_from(spec, log)
}

/// A table of runs: a registered frame (its only run), else the table file.
pub(super) fn read_table(path: &Path, cols: &TableColumns) -> Result<RunTable> {
    match frame_runs(path) {
        Some((inputs, i)) => match inputs.frames[i].1.as_slice() {
            [one] => table::read_table_frame(path, &one.frame, cols),
            _ => Err(Error::file(
                path,
                "a size law reads one table of runs; this input holds several frames",
            )),
        },
        None => table::read_table(path, cols),
    }
}

/// A fit record: a registered one, else the fit file.
pub(super) fn read_fit(path: &PathBuf) -> Result<FitRecord> {
    if let Some(inputs) = registered() {
        if let Some((label, text)) = inputs.fits.iter().find(|(l, _)| Path::new(l) == path) {
            return FitRecord::parse(text, Path::new(label));
        }
    }
    FitRecord::load(path)
}

/// A size law's table of runs as `fit --law chinchilla` reads it (a table file, or the frame
/// registered under `path` in `inputs`), for callers that draw it.
pub fn table(path: &Path, inputs: Inputs, cols: &TableColumns) -> Result<RunTable> {
    with_inputs(inputs, || read_table(path, cols))
}

/// Write a fit record's text to `path` for an embedding program (Python's `Fit.to_json`), with
/// the checks `fit --out` makes: the text must be a valid record, and `path` must not be a file
/// the record was fitted on (`losscast.fit("good.csv").to_json("good.csv")` would overwrite the
/// log), nor a folder, nor unwritable. Written atomically.
pub fn write_fit(path: &Path, text: &str) -> Result<()> {
    let rec = FitRecord::parse(text, Path::new("<fit>"))?;
    let inputs: Vec<PathBuf> = rec
        .data
        .iter()
        .map(|d| PathBuf::from(&d.path))
        .filter(|p| p.is_file())
        .collect();
    let _claims = crate::output::Scope::open("to_json");
    crate::output::check(
        &[crate::output::Output::new(
            "to_json",
            path,
            crate::output::Kind::Text,
        )],
        &inputs,
    )?;
    crate::output::write_atomic(path, text.as_bytes())
}
