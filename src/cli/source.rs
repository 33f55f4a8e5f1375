//! Where a command's runs and tables come from on the command line: a manifest or one log with
//! its schedule (`RunSource`), a size law's table (`TableArgs`, `load_table`).

use super::embedded;
use super::model::print_run_warnings;
use crate::error::{Error, Result};
use crate::ingest::table::{TableColumns, TableFilters};
use crate::ingest::{ColumnNames, ReadOptions};
use crate::runs::manifest::RunSpec;
use crate::runs::Run;
use clap::Args;
use std::path::PathBuf;

/// Where runs come from: a manifest, or one log file with its schedule.
#[derive(Args, Clone, Default)]
pub(super) struct RunSource {
    /// Run manifest (TOML) listing several runs.
    #[arg(long, conflicts_with = "file")]
    pub(super) manifest: Option<PathBuf>,
    /// A log file or folder, in any format `inspect` reads (for size laws: a table of runs,
    /// CSV, JSON lines or Parquet).
    pub(super) file: Option<PathBuf>,
    /// Schedule spec for a single file, e.g. cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000
    /// (default: the log's LR, interpolated between logged steps if it is sparse).
    #[arg(long, conflicts_with = "manifest")]
    pub(super) schedule: Option<String>,
    /// Step column of a single file (default: auto-detect).
    #[arg(long)]
    pub(super) step_col: Option<String>,
    /// Loss column or series (tag) of a single file; `eval` picks a log's evaluation loss
    /// (default: the training loss).
    #[arg(long, visible_alias = "loss")]
    pub(super) loss_col: Option<String>,
    /// LR column or series (tag) of a single file (default: auto-detect).
    #[arg(long, visible_alias = "lr")]
    pub(super) lr_col: Option<String>,
    /// Use the LR logged at step s for step s + K (HF Trainer versions differ by one step).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub(super) lr_shift: i64,
    /// One run of an input holding several: COLUMN=VALUE keeps a CSV's rows with that value;
    /// run=NAME picks a run of a W&B chart export, a TensorBoard or MLflow folder.
    #[arg(long)]
    pub(super) select: Option<String>,
    /// Ignore points before this step (single file).
    #[arg(long)]
    pub(super) min_step: Option<i64>,
    /// Ignore points after this step (single file).
    #[arg(long)]
    pub(super) max_step: Option<i64>,
}

impl RunSource {
    pub(super) fn specs(&self) -> Result<Vec<RunSpec>> {
        match (&self.manifest, &self.file) {
            (Some(m), _) => embedded::manifest_specs(m),
            (None, Some(f)) => {
                let select = self
                    .select
                    .as_deref()
                    .map(ReadOptions::parse_select)
                    .transpose()?;
                let read = ReadOptions {
                    names: ColumnNames {
                        step: self.step_col.clone(),
                        loss: self.loss_col.clone(),
                        lr: self.lr_col.clone(),
                    },
                    select: select.clone(),
                    lr_shift: self.lr_shift,
                };
                if let Some(mut specs) = embedded::specs(f, &read, self.schedule.as_deref()) {
                    for s in &mut specs {
                        s.min_step = self.min_step;
                        s.max_step = self.max_step;
                    }
                    return Ok(specs);
                }
                Ok(vec![RunSpec {
                    schedule: self.schedule.clone(),
                    min_step: self.min_step,
                    max_step: self.max_step,
                    read: ReadOptions {
                        names: ColumnNames {
                            step: self.step_col.clone(),
                            loss: self.loss_col.clone(),
                            lr: self.lr_col.clone(),
                        },
                        select,
                        lr_shift: self.lr_shift,
                    },
                    ..RunSpec::for_log(f)
                }])
            }
            (None, None) => Err(Error::input("give --manifest M.toml or a log FILE")),
        }
    }

    /// The runs, with what reading each log warned about printed on stderr.
    pub(super) fn load(&self) -> Result<Vec<Run>> {
        let runs: Vec<Run> = self
            .specs()?
            .iter()
            .map(embedded::load_run)
            .collect::<Result<_>>()?;
        print_run_warnings(&runs);
        Ok(runs)
    }

    /// Every file this source reads (the manifest, each log, `file:` schedules), which no
    /// output may replace.
    pub(super) fn input_paths(&self) -> Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = self.manifest.iter().cloned().collect();
        if self.manifest.is_none() && self.file.is_none() {
            return Ok(out);
        }
        for spec in self.specs()? {
            out.extend(spec.input_paths());
        }
        Ok(out)
    }

    /// A name for default output files.
    pub(super) fn stem(&self) -> String {
        self.manifest
            .as_ref()
            .or(self.file.as_ref())
            .and_then(|p| p.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "fit".into())
    }
}

/// How a size law (`--law chinchilla`) reads its table of runs.
#[derive(Args, Clone, Default)]
pub(super) struct TableArgs {
    /// Model-size column (default: auto-detect N, params, Model Size, ...).
    #[arg(long)]
    pub(super) n_col: Option<String>,
    /// Training-tokens column (default: auto-detect D, tokens, ...).
    #[arg(long)]
    pub(super) d_col: Option<String>,
    /// Compute column, used with N for D = C/(6N) when there is no tokens column.
    #[arg(long)]
    pub(super) c_col: Option<String>,
    /// Drop the K highest-loss points (Epoch AI drops 5 of the Chinchilla points).
    #[arg(long, default_value_t = 0)]
    pub(super) drop_top_loss: usize,
    /// Keep only points with N >= this.
    #[arg(long)]
    pub(super) min_n: Option<f64>,
    /// Keep only points with N <= this.
    #[arg(long)]
    pub(super) max_n: Option<f64>,
    /// Keep only rows where COLUMN=VALUE (also !=, <, <=, >, >=); comma-separated, all must hold.
    #[arg(long = "where", value_delimiter = ',')]
    pub(super) rows_where: Vec<String>,
}

/// The table of runs of a size law: a table FILE, or a manifest whose runs carry `params`.
/// Returns the table and how to cite it.
pub(super) fn load_table(
    source: &RunSource,
    table: &TableArgs,
    law: &str,
) -> Result<(crate::ingest::table::RunTable, String)> {
    match (&source.file, &source.manifest) {
        (Some(file), _) => Ok((
            embedded::read_table(file, &table.columns(source.loss_col.clone()))?,
            file.display().to_string(),
        )),
        (None, Some(m)) => {
            if !table.rows_where.is_empty() {
                return Err(Error::input(
                    "--where selects rows of a table file; with a manifest, list the runs instead",
                ));
            }
            let specs = embedded::manifest_specs(m)?;
            Ok((
                crate::sizes::from_runs::table_from_runs(m, &specs)?,
                m.display().to_string(),
            ))
        }
        (None, None) => Err(Error::input(format!(
            "law {law} is fitted to a table of runs: give the table FILE, or --manifest M.toml \
             whose runs carry params (and tokens_per_step)"
        ))),
    }
}

impl TableArgs {
    /// The point filters, as recorded in fit files.
    pub(super) fn filters(&self) -> TableFilters {
        TableFilters {
            drop_top_loss: self.drop_top_loss,
            min_n: self.min_n,
            max_n: self.max_n,
            rows_where: self.rows_where.clone(),
        }
    }

    pub(super) fn columns(&self, loss_col: Option<String>) -> TableColumns {
        TableColumns {
            n: self.n_col.clone(),
            d: self.d_col.clone(),
            c: self.c_col.clone(),
            loss: loss_col,
            rows_where: self.rows_where.clone(),
        }
    }
}
