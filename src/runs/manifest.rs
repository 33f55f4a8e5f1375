//! Run manifests: a TOML file that lists several runs, their schedules and their roles.
//!
//! Paths inside a manifest are relative to the manifest, so a folder of logs with its manifest can
//! be moved or cloned anywhere. Unknown keys are errors: a misspelt `max_stpe` must not silently
//! turn a point filter off.

use crate::error::{Error, Result};
use crate::ingest::{ColumnNames, ReadOptions};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Whether a run is used to fit a law or only to test it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Fit,
    Test,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Fit => "fit",
            Role::Test => "test",
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    #[serde(default)]
    run: Vec<RunEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunEntry {
    name: String,
    path: String,
    schedule: Option<String>,
    #[serde(default)]
    role: Role,
    min_step: Option<i64>,
    max_step: Option<i64>,
    step_col: Option<String>,
    /// A column of a CSV or a series (tag) of a trainer's log; `loss = "eval"` picks the eval loss.
    #[serde(alias = "loss")]
    loss_col: Option<String>,
    #[serde(alias = "lr")]
    lr_col: Option<String>,
    /// Use the LR logged at step s for step s + lr_shift (±1 for HF versions that differ).
    #[serde(default)]
    lr_shift: i64,
    /// `COLUMN=VALUE`: keep only the rows of one run of a multi-run file.
    select: Option<String>,
    /// Model size N (parameters): makes the run a point of a size law.
    params: Option<f64>,
    /// Tokens per optimiser step, so that D = step × tokens_per_step.
    tokens_per_step: Option<f64>,
    /// Steps at which to read the loss for a size table (default: the last logged step).
    at_steps: Option<Vec<i64>>,
}

/// One run to load: where its log is, how to read it, and what its LR was.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub name: String,
    /// The path as the user wrote it (for records and messages).
    pub path: String,
    /// The path to open.
    pub resolved: PathBuf,
    /// Where a relative `file:` schedule path is resolved.
    pub base_dir: PathBuf,
    pub schedule: Option<String>,
    pub role: Role,
    pub min_step: Option<i64>,
    pub max_step: Option<i64>,
    pub read: ReadOptions,
    /// Model size, for size laws and (later) joint size × schedule laws.
    pub params: Option<f64>,
    pub tokens_per_step: Option<f64>,
    pub at_steps: Option<Vec<i64>>,
}

impl RunSpec {
    /// A fit run read from one log with default options, named after the file; callers set
    /// what the command line or a check needs on top.
    pub fn for_log(path: &Path) -> Self {
        RunSpec {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".into()),
            path: path.display().to_string(),
            resolved: path.to_path_buf(),
            base_dir: PathBuf::new(),
            schedule: None,
            role: Role::Fit,
            min_step: None,
            max_step: None,
            read: ReadOptions::default(),
            params: None,
            tokens_per_step: None,
            at_steps: None,
        }
    }

    /// The files this run reads: its log, and a `file:` schedule's CSV. No output may replace
    /// them.
    pub fn input_paths(&self) -> Vec<PathBuf> {
        let mut out = vec![self.resolved.clone()];
        if let Some(p) = self
            .schedule
            .as_deref()
            .and_then(|s| crate::schedule::file_path(s, &self.base_dir))
        {
            out.push(p);
        }
        out
    }

    /// Whether a logged step lies within the run's `min_step`/`max_step` filters.
    pub fn in_step_range(&self, step: i64) -> bool {
        self.min_step.is_none_or(|lo| step >= lo) && self.max_step.is_none_or(|hi| step <= hi)
    }
}

/// Read a manifest.
pub fn load(path: &Path) -> Result<Vec<RunSpec>> {
    let text = crate::ingest::read_text(path).map_err(|e| match e {
        Error::BadInput(m) if m.ends_with("file not found") => {
            Error::file(path, "manifest not found")
        }
        other => other,
    })?;
    let file: ManifestFile = toml::from_str(&text).map_err(|e| {
        // A log or a fit file given as the manifest: TOML's complaint about its first line
        // ("key with no value") would not say what the file is.
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        if first.starts_with('{') {
            return Error::file(
                path,
                "JSON, not a TOML manifest (a fit file goes to --fit; a log is passed as an \
                 argument, not --manifest)",
            );
        }
        if first.contains(',') && !first.contains('=') && !first.starts_with('#') {
            return Error::file(
                path,
                "looks like a CSV log, not a TOML manifest: pass a log as an argument \
                 (losscast fit LOG), or list logs in a manifest of [[run]] entries",
            );
        }
        let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
        Error::at(path, line, col, e.message())
    })?;
    if file.run.is_empty() {
        return Err(Error::file(path, "no [[run]] entries"));
    }
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut specs: Vec<RunSpec> = Vec::with_capacity(file.run.len());
    for entry in file.run {
        if entry.name.trim().is_empty() {
            return Err(Error::file(path, "a run has an empty name"));
        }
        if specs.iter().any(|s| s.name == entry.name) {
            return Err(Error::file(
                path,
                format!(
                    "run name '{}' is used twice; names must be unique",
                    entry.name
                ),
            ));
        }
        let select = entry
            .select
            .as_deref()
            .map(ReadOptions::parse_select)
            .transpose()
            .map_err(|e| Error::file(path, format!("run '{}': {e}", entry.name)))?;
        for (key, v) in [
            ("params", entry.params),
            ("tokens_per_step", entry.tokens_per_step),
        ] {
            if v.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                return Err(Error::file(
                    path,
                    format!("run '{}': {key} must be a positive number", entry.name),
                ));
            }
        }
        if entry.path.trim().is_empty() {
            return Err(Error::file(
                path,
                format!("run '{}': path is empty", entry.name),
            ));
        }
        if let Some(steps) = &entry.at_steps {
            let mut sorted = steps.clone();
            sorted.sort_unstable();
            if sorted.windows(2).any(|w| w[0] == w[1]) {
                return Err(Error::file(
                    path,
                    format!(
                        "run '{}': at_steps lists a step twice, which would count its loss twice",
                        entry.name
                    ),
                ));
            }
        }
        specs.push(RunSpec {
            resolved: base.join(&entry.path),
            base_dir: base.clone(),
            name: entry.name,
            path: entry.path,
            schedule: entry.schedule,
            role: entry.role,
            min_step: entry.min_step,
            max_step: entry.max_step,
            read: ReadOptions {
                names: ColumnNames {
                    step: entry.step_col,
                    loss: entry.loss_col,
                    lr: entry.lr_col,
                },
                select,
                lr_shift: entry.lr_shift,
            },
            params: entry.params,
            tokens_per_step: entry.tokens_per_step,
            at_steps: entry.at_steps,
        });
    }
    Ok(specs)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("m.toml");
        std::fs::File::create(&p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        p
    }

    #[test]
    fn parses_runs_relative_to_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            r#"
[[run]]
name = "cosine_24000"
path = "csv_400/cosine_24000.csv"
schedule = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000"
role = "fit"
min_step = 2160
max_step = 23999

[[run]]
name = "wsd"
path = "wsd.csv"
role = "test"
select = "run=wsd"
"#,
        );
        let runs = load(&p).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(
            runs[0].resolved,
            dir.path().join("csv_400/cosine_24000.csv")
        );
        assert_eq!(runs[0].role, Role::Fit);
        assert_eq!(runs[0].min_step, Some(2160));
        assert_eq!(runs[0].max_step, Some(23999));
        assert_eq!(runs[1].role, Role::Test);
        assert_eq!(runs[1].schedule, None);
        assert_eq!(
            runs[1].read.select,
            Some(("run".to_string(), "wsd".to_string()))
        );
    }

    #[test]
    fn rejects_unknown_keys_with_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[[run]]\nname = \"a\"\npath = \"a.csv\"\nmax_stpe = 3\n",
        );
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("m.toml:4:"), "{e}");
        assert!(e.contains("max_stpe"), "{e}");
    }

    #[test]
    fn rejects_duplicate_names_and_bad_roles() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[[run]]\nname = \"a\"\npath = \"a.csv\"\n[[run]]\nname = \"a\"\npath = \"b.csv\"\n",
        );
        assert!(load(&p).unwrap_err().to_string().contains("used twice"));
        let p = write(
            dir.path(),
            "[[run]]\nname = \"a\"\npath = \"a.csv\"\nrole = \"train\"\n",
        );
        let e = load(&p).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("m.toml:4:"), "{e}");
    }

    #[test]
    fn missing_manifest_is_bad_input() {
        let e = load(Path::new("/nonexistent/m.toml")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("manifest not found"));
    }

    #[test]
    fn size_keys_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[[run]]\nname = \"a\"\npath = \"a.csv\"\nparams = 1.2e8\ntokens_per_step = 524288\nat_steps = [100, 200]\n",
        );
        let r = &load(&p).unwrap()[0];
        assert_eq!(r.params, Some(1.2e8));
        assert_eq!(r.tokens_per_step, Some(524288.0));
        assert_eq!(r.at_steps, Some(vec![100, 200]));
        let p = write(
            dir.path(),
            "[[run]]\nname = \"a\"\npath = \"a.csv\"\nparams = -1\n",
        );
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.contains("run 'a': params must be a positive number"),
            "{e}"
        );
    }
}
