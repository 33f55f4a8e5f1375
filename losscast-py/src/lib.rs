//! `losscast._native`: the compiled half of the Python package. It moves data across the
//! boundary and nothing more: frames arrive as typed columns (numpy buffers as bytes, text as
//! lists), commands run through `losscast::cli::embedded` exactly as the command line runs
//! them, and what comes back is the command's exit code and output, or a log's columns as
//! bytes for numpy. The API users see, with its docstrings and types, is the pure-Python layer
//! in `python/losscast`.

use losscast::cli::embedded::{self, FrameRun, Inputs};
use losscast::ingest::memory::{MemColumn, MemFrame};
use losscast::ingest::{self, ColumnNames, ReadOptions};
use losscast::runs::manifest::Role;
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::Path;

create_exception!(
    losscast,
    BadInput,
    PyValueError,
    "The input (a file, a frame, an option) is wrong: the CLI's exit code 2, with its message."
);
create_exception!(
    losscast,
    FitFailed,
    PyRuntimeError,
    "Valid input, but the computation gave no usable answer: the CLI's exit code 1."
);

/// One column as Python hands it over: (name, kind, payload), kind "f64"/"i64" with the
/// values' little-endian bytes, or "str" with a list of str or None.
type PyColumn<'py> = (String, String, Bound<'py, PyAny>);
/// One column handed back: (name, kind, little-endian bytes).
type OutColumn<'py> = (String, String, Bound<'py, PyBytes>);
/// One run of a frame: (name, columns, schedule, role, params, tokens_per_step).
type PyFrameRun<'py> = (
    String,
    Vec<PyColumn<'py>>,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<f64>,
);

fn column(name: String, kind: &str, payload: &Bound<'_, PyAny>) -> PyResult<(String, MemColumn)> {
    let words = |p: &Bound<'_, PyAny>| -> PyResult<Vec<[u8; 8]>> {
        let bytes = p.cast::<PyBytes>()?.as_bytes();
        if bytes.len() % 8 != 0 {
            return Err(BadInput::new_err(format!(
                "column '{name}': {} bytes is not a whole number of 8-byte values",
                bytes.len()
            )));
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|c| c.try_into().expect("8 bytes"))
            .collect())
    };
    let col = match kind {
        "f64" => MemColumn::F64(
            words(payload)?
                .into_iter()
                .map(f64::from_le_bytes)
                .collect(),
        ),
        "i64" => MemColumn::I64(
            words(payload)?
                .into_iter()
                .map(i64::from_le_bytes)
                .collect(),
        ),
        "str" => MemColumn::Text(payload.extract()?),
        other => {
            return Err(BadInput::new_err(format!(
                "column '{name}': unknown column kind '{other}'"
            )))
        }
    };
    Ok((name, col))
}

fn role(text: Option<String>) -> PyResult<Role> {
    match text.as_deref() {
        None | Some("fit") => Ok(Role::Fit),
        Some("test") => Ok(Role::Test),
        Some(other) => Err(BadInput::new_err(format!(
            "role '{other}': expected \"fit\" or \"test\""
        ))),
    }
}

fn frame_runs(runs: Vec<PyFrameRun<'_>>) -> PyResult<Vec<FrameRun>> {
    runs.into_iter()
        .map(|(name, cols, schedule, r, params, tokens_per_step)| {
            let columns = cols
                .into_iter()
                .map(|(n, k, p)| column(n, &k, &p))
                .collect::<PyResult<_>>()?;
            Ok(FrameRun {
                name,
                frame: MemFrame { columns },
                schedule,
                role: role(r)?,
                params,
                tokens_per_step,
            })
        })
        .collect()
}

/// Run one losscast command in-process: `call(argv, frames, fits) -> (code, stdout, stderr)`.
/// `frames` is a list of (label, runs); `fits` a list of (label, fit JSON). The GIL is
/// released while the command runs.
#[pyfunction]
#[pyo3(signature = (args, frames=Vec::new(), fits=Vec::new()))]
fn call(
    py: Python<'_>,
    args: Vec<String>,
    frames: Vec<(String, Vec<PyFrameRun<'_>>)>,
    fits: Vec<(String, String)>,
) -> PyResult<(i32, String, String)> {
    let frames = frames
        .into_iter()
        .map(|(label, runs)| Ok((label, frame_runs(runs)?)))
        .collect::<PyResult<_>>()?;
    let inputs = Inputs { frames, fits };
    let out = py.detach(move || embedded::call(args, inputs));
    Ok((out.code, out.stdout, out.stderr))
}

/// The console script: the command line of `argv`, printing to the process's stdout and
/// stderr; returns the exit code.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(move || losscast::cli::run_with(argv))
}

fn raise(e: losscast::Error) -> PyErr {
    match e {
        losscast::Error::BadInput(m) => BadInput::new_err(m),
        losscast::Error::Failed(m) => FitFailed::new_err(m),
    }
}

/// A log as its canonical columns: `read_log(path, loss, lr, select, step, lr_shift) ->
/// (columns, meta JSON)`, columns a list of (name, kind, bytes) with absent values as NaN.
#[pyfunction]
#[pyo3(signature = (path, loss=None, lr=None, select=None, step=None, lr_shift=0))]
fn read_log<'py>(
    py: Python<'py>,
    path: String,
    loss: Option<String>,
    lr: Option<String>,
    select: Option<String>,
    step: Option<String>,
    lr_shift: i64,
) -> PyResult<(Vec<OutColumn<'py>>, String)> {
    let log = py
        .detach(move || -> losscast::Result<_> {
            let opts = ReadOptions {
                names: ColumnNames { step, loss, lr },
                select: select
                    .as_deref()
                    .map(ReadOptions::parse_select)
                    .transpose()?,
                lr_shift,
            };
            let log = ingest::read_log(Path::new(&path), &opts)?;
            let meta = serde_json::json!({
                "path": log.path.display().to_string(),
                "sha256": log.sha256,
                "columns": {
                    "step": log.columns.step, "loss": log.columns.loss,
                    "lr": log.columns.lr, "tokens": log.columns.tokens,
                },
                "notes": log.notes,
                "warnings": log.warnings,
            });
            Ok((log, meta.to_string()))
        })
        .map_err(raise)?;
    let (log, meta) = log;
    let f64s = |v: Vec<f64>| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let mut cols = vec![
        (
            "step".to_string(),
            "i64".to_string(),
            PyBytes::new(
                py,
                &log.steps()
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect::<Vec<u8>>(),
            ),
        ),
        (
            "loss".into(),
            "f64".into(),
            PyBytes::new(py, &f64s(log.loss())),
        ),
    ];
    if let Some(lr) = log.lr() {
        let v = lr.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect();
        cols.push(("lr".into(), "f64".into(), PyBytes::new(py, &f64s(v))));
    }
    if let Ok(c) = log.frame.column("tokens") {
        if let Ok(t) = c.f64() {
            let v = t.iter().map(|x| x.unwrap_or(f64::NAN)).collect();
            cols.push(("tokens".into(), "f64".into(), PyBytes::new(py, &f64s(v))));
        }
    }
    Ok((cols, meta))
}

/// A size law's table of runs as `fit` reads it: `read_table(path, frames, n, d, c, loss,
/// where) -> [(name, bytes)]` for N, D, C and loss, `path` a file or a label in `frames`.
#[pyfunction]
#[pyo3(signature = (path, frames=Vec::new(), n=None, d=None, c=None, loss=None, rows_where=Vec::new()))]
#[allow(clippy::too_many_arguments)]
fn read_table<'py>(
    py: Python<'py>,
    path: String,
    frames: Vec<(String, Vec<PyFrameRun<'py>>)>,
    n: Option<String>,
    d: Option<String>,
    c: Option<String>,
    loss: Option<String>,
    rows_where: Vec<String>,
) -> PyResult<Vec<(String, Bound<'py, PyBytes>)>> {
    let frames = frames
        .into_iter()
        .map(|(label, runs)| Ok((label, frame_runs(runs)?)))
        .collect::<PyResult<_>>()?;
    let cols = losscast::ingest::table::TableColumns {
        n,
        d,
        c,
        loss,
        rows_where,
    };
    let inputs = Inputs {
        frames,
        fits: Vec::new(),
    };
    let table = py
        .detach(move || embedded::table(Path::new(&path), inputs, &cols))
        .map_err(raise)?;
    let bytes = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    Ok(vec![
        ("n".into(), PyBytes::new(py, &bytes(&table.n))),
        ("d".into(), PyBytes::new(py, &bytes(&table.d))),
        ("c".into(), PyBytes::new(py, &bytes(&table.c))),
        ("loss".into(), PyBytes::new(py, &bytes(&table.loss))),
    ])
}

/// A fit file's text, after checking that it is a fit record (`load_fit`).
#[pyfunction]
fn load_fit(py: Python<'_>, path: String) -> PyResult<String> {
    py.detach(move || -> losscast::Result<String> {
        let p = Path::new(&path);
        losscast::fit::FitRecord::load(p)?;
        ingest::read_text(p)
    })
    .map_err(raise)
}

/// Write a fit record's text to a file with the checks `fit --out` makes (`Fit.to_json`).
#[pyfunction]
fn write_fit(py: Python<'_>, path: String, text: String) -> PyResult<()> {
    py.detach(move || embedded::write_fit(Path::new(&path), &text))
        .map_err(raise)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BadInput", m.py().get_type::<BadInput>())?;
    m.add("FitFailed", m.py().get_type::<FitFailed>())?;
    m.add("__version__", losscast::VERSION)?;
    m.add_function(wrap_pyfunction!(call, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add_function(wrap_pyfunction!(read_log, m)?)?;
    m.add_function(wrap_pyfunction!(load_fit, m)?)?;
    m.add_function(wrap_pyfunction!(write_fit, m)?)?;
    m.add_function(wrap_pyfunction!(read_table, m)?)?;
    Ok(())
}
