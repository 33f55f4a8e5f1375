//! The command line: parse flags, call one library function, print its value for people or as
//! JSON. No numerics live here.

#[macro_use]
pub mod console;
pub mod embedded;

mod applies;
mod auto;
mod backtest;
mod demo;
mod help;
mod inspect;
mod isoflop;
mod model;
mod plan;
mod predict;
mod report;
mod rollout;
mod watch;

use crate::cli_format;
use crate::compare;
use crate::error::{Error, Result};
use crate::fit::bootstrap::Bootstrap;
use crate::fit::{self, FitOptions};
use crate::ingest::table::{TableColumns, TableFilters};
use crate::ingest::{ColumnNames, ReadOptions};
use crate::law::constrained::{parse_fixed, parse_tied, Constrained};
use crate::law::{self, Law, LawKind, LawOptions, TablePoints};
use crate::manifest::{self, RunSpec};
use crate::output::{self, Kind, Output};
use crate::plot;
use crate::runs::Run;
use applies::Given;
use clap::{Args, Parser, Subcommand};
use model::{print_run_warnings, print_warnings, Fitted, ModelArgs};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "losscast",
    version,
    about = "Fit scaling laws to training logs and forecast loss",
    long_about = "Fit scaling laws to training logs and forecast loss.\n\nExit codes: 0 success, 1 the computation failed, 2 bad input."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fit a law to runs (a log, a manifest, or a table of runs for size laws) and write a fit
    /// file.
    #[command(after_long_help = help::SCHEDULES_AND_MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Fit(FitArgs),
    /// Forecast a schedule's loss curve (schedule laws), or the loss at (N, D) (size laws),
    /// from a fit file or typed parameters.
    #[command(after_long_help = help::SCHEDULES)]
    #[command(allow_negative_numbers = true)]
    Predict(predict::PredictArgs),
    /// Score a fit against every run of a manifest or a log (fit and test runs), or validate a
    /// law by rollout over model size.
    #[command(after_long_help = help::SCHEDULES_AND_MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Eval(EvalArgs),
    /// Plot observed against predicted curves (repeat --fit to overlay several laws), or a size
    /// law's figures.
    #[command(after_long_help = help::SCHEDULES_AND_MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Plot(PlotArgs),
    /// Fit several laws on the fit runs and compare them on the test runs.
    #[command(after_long_help = help::MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Compare(CompareArgs),
    /// Measure forecasts on your own runs: hide a schedule, the longer horizons, the second
    /// half of a run or the larger models, fit the rest, and score every law on what was hidden.
    #[command(after_long_help = help::MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Backtest(backtest::BacktestArgs),
    /// Compute-optimal model size and tokens for a compute budget, from a chinchilla fit.
    #[command(allow_negative_numbers = true)]
    Optimal(predict::OptimalArgs),
    /// Show the format, runs, series and LR coverage losscast finds in training logs, and
    /// whether a fit would read them.
    #[command(allow_negative_numbers = true)]
    Inspect(inspect::InspectArgs),
    /// Compute-optimal scaling from IsoFLOP sweeps: N_opt ∝ C^a per budget minima.
    #[command(allow_negative_numbers = true)]
    Isoflop(isoflop::IsoflopArgs),
    /// Rank LR schedules by the final loss a fit predicts, before the run.
    #[command(after_long_help = help::SCHEDULES)]
    #[command(allow_negative_numbers = true)]
    Plan(plan::PlanArgs),
    /// Follow a run in progress: refit as the log grows, forecast the final loss with its
    /// interval, and flag divergence (a spike, or losses above the forecast band).
    #[command(after_long_help = help::SCHEDULES)]
    #[command(allow_negative_numbers = true)]
    Watch(watch::WatchArgs),
    /// Write one self-contained HTML page of a study: runs, fits, metrics, interactive charts
    /// (zoom, hover, toggles), forecasts, backtest, plan and provenance; opens offline.
    #[command(allow_negative_numbers = true)]
    Report(report::ReportArgs),
    /// Run fit, eval, predict, plot and compare end to end on the bundled data.
    #[command(allow_negative_numbers = true)]
    Demo(demo::DemoArgs),
}

/// Where runs come from: a manifest, or one log file with its schedule.
#[derive(Args, Clone, Default)]
struct RunSource {
    /// Run manifest (TOML) listing several runs.
    #[arg(long, conflicts_with = "file")]
    manifest: Option<PathBuf>,
    /// A log file or folder, in any format `inspect` reads (for size laws: a table of runs,
    /// CSV, JSON lines or Parquet).
    file: Option<PathBuf>,
    /// Schedule spec for a single file, e.g. cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000
    /// (default: the log's LR, interpolated between logged steps if it is sparse).
    #[arg(long, conflicts_with = "manifest")]
    schedule: Option<String>,
    /// Step column of a single file (default: auto-detect).
    #[arg(long)]
    step_col: Option<String>,
    /// Loss column or series (tag) of a single file; `eval` picks a log's evaluation loss
    /// (default: the training loss).
    #[arg(long, visible_alias = "loss")]
    loss_col: Option<String>,
    /// LR column or series (tag) of a single file (default: auto-detect).
    #[arg(long, visible_alias = "lr")]
    lr_col: Option<String>,
    /// Use the LR logged at step s for step s + K (HF Trainer versions differ by one step).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    lr_shift: i64,
    /// One run of an input holding several: COLUMN=VALUE keeps a CSV's rows with that value;
    /// run=NAME picks a run of a W&B chart export, a TensorBoard or MLflow folder.
    #[arg(long)]
    select: Option<String>,
    /// Ignore points before this step (single file).
    #[arg(long)]
    min_step: Option<i64>,
    /// Ignore points after this step (single file).
    #[arg(long)]
    max_step: Option<i64>,
}

impl RunSource {
    fn specs(&self) -> Result<Vec<RunSpec>> {
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
    fn load(&self) -> Result<Vec<Run>> {
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
    fn input_paths(&self) -> Result<Vec<PathBuf>> {
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
    fn stem(&self) -> String {
        self.manifest
            .as_ref()
            .or(self.file.as_ref())
            .and_then(|p| p.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "fit".into())
    }
}

#[derive(Args)]
pub(super) struct LawArgs {
    /// Law to fit, or `auto`: backtest the fit runs (schedule, horizon, truncate; size when they
    /// hold several model sizes), fit the law that forecast them best, and record the backtest.
    #[arg(long, default_value = "annealing")]
    law: String,
    /// Count warmup steps at peak LR when summing S1 and S2 (the authors' script).
    #[arg(long)]
    warmup_as_peak: bool,
    /// Momentum decay λ of the annealing area.
    #[arg(long, default_value_t = 0.999)]
    lambda: f64,
    /// Variable of `--law power`: n, d or c (C = 6ND; the default).
    #[arg(long)]
    variable: Option<String>,
    /// Pin parameters, e.g. E=1.69 (comma-separated).
    #[arg(long)]
    fix: Option<String>,
    /// Tie parameters, e.g. alpha=beta: alpha takes beta's value (comma-separated).
    #[arg(long)]
    tie: Option<String>,
}

impl LawArgs {
    fn build(&self) -> Result<Box<dyn Law>> {
        law::build(
            &self.law,
            LawOptions {
                lambda: self.lambda,
                warmup_as_peak: self.warmup_as_peak,
                lr_ref: None,
                variable: self.variable.clone(),
                collapse: None,
            },
        )
    }
}

#[derive(Args)]
pub(super) struct FitArgs {
    #[command(flatten)]
    source: RunSource,
    #[command(flatten)]
    law: LawArgs,
    #[command(flatten)]
    table: TableArgs,
    #[command(flatten)]
    boot: BootstrapArgs,
    /// δ of the Huber loss on log residuals.
    #[arg(long, default_value_t = 1e-3)]
    huber_delta: f64,
    /// Points per run above which consecutive points are averaged in bins before fitting (a
    /// per-step log of 10⁶ points fits in seconds); 0 fits every point. Recorded in the fit.
    #[arg(long, default_value_t = fit::thin::DEFAULT_MAX_POINTS)]
    max_points: usize,
    /// Leave out each fit run's points before this fraction of its last step (e.g. 0.1; the
    /// record notes how many).
    #[arg(long, default_value_t = 0.0)]
    skip_fraction: f64,
    /// How the objective weighs runs: runs (every run the same in total, whatever its length)
    /// or points (every point once, the papers' recipes). Default: runs for annealing and
    /// multipower, points for joint and size laws (chosen by backtest).
    #[arg(long, value_parser = ["points", "runs"])]
    weigh: Option<String>,
    /// Fit without the law's priors (multipower: β and γ near Luo et al.'s values; collapse: α
    /// and β near Chinchilla's where two sizes or run lengths cannot pin them), as the papers
    /// do. Laws without priors ignore it.
    #[arg(long)]
    no_prior: bool,
    /// Skip the backtest of the fit runs that calibrates forecast intervals (it refits the
    /// law once per fold; forecasts from the record then carry no interval).
    #[arg(long)]
    no_intervals: bool,
    /// Fit file to write (default fits/<manifest or file stem>-<law>.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the fit record as JSON on stdout instead of the summary.
    #[arg(long)]
    json: bool,
}

/// How a size law (`--law chinchilla`) reads its table of runs.
#[derive(Args, Clone, Default)]
pub(super) struct TableArgs {
    /// Model-size column (default: auto-detect N, params, Model Size, ...).
    #[arg(long)]
    n_col: Option<String>,
    /// Training-tokens column (default: auto-detect D, tokens, ...).
    #[arg(long)]
    d_col: Option<String>,
    /// Compute column, used with N for D = C/(6N) when there is no tokens column.
    #[arg(long)]
    c_col: Option<String>,
    /// Drop the K highest-loss points (Epoch AI drops 5 of the Chinchilla points).
    #[arg(long, default_value_t = 0)]
    drop_top_loss: usize,
    /// Keep only points with N >= this.
    #[arg(long)]
    min_n: Option<f64>,
    /// Keep only points with N <= this.
    #[arg(long)]
    max_n: Option<f64>,
    /// Keep only rows where COLUMN=VALUE (also !=, <, <=, >, >=); comma-separated, all must hold.
    #[arg(long = "where", value_delimiter = ',')]
    rows_where: Vec<String>,
}

/// Uncertainty of a size-law fit.
#[derive(Args, Clone, Default)]
struct BootstrapArgs {
    /// Case-bootstrap resamples for percentile intervals (0: none).
    #[arg(long, default_value_t = 0)]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Central interval level of the bootstrap.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
}

/// The table of runs of a size law: a table FILE, or a manifest whose runs carry `params`.
/// Returns the table and how to cite it.
fn load_table(
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
                crate::size_table::table_from_runs(m, &specs)?,
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
    fn filters(&self) -> TableFilters {
        TableFilters {
            drop_top_loss: self.drop_top_loss,
            min_n: self.min_n,
            max_n: self.max_n,
            rows_where: self.rows_where.clone(),
        }
    }

    fn columns(&self, loss_col: Option<String>) -> TableColumns {
        TableColumns {
            n: self.n_col.clone(),
            d: self.d_col.clone(),
            c: self.c_col.clone(),
            loss: loss_col,
            rows_where: self.rows_where.clone(),
        }
    }
}

#[derive(Args)]
pub(super) struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    source: RunSource,
    #[command(flatten)]
    table: TableArgs,
    /// Validate --law by rollout over model size: `n` fits a size law on the smaller sizes of
    /// the table FILE and scores the largest, then the two largest, and so on; `params` does the
    /// same with a joint size × schedule law over the runs of a --manifest (params = N per run),
    /// scoring every held-out curve; `shape` (no law) checks whether a --manifest ladder's
    /// curves collapse: per schedule, the largest size's curve from the smaller sizes' shape,
    /// anchored at its own final loss.
    #[arg(long, value_parser = ["n", "params", "shape"], conflicts_with = "fit")]
    rollout: Option<String>,
    /// With --rollout params: draw the held-out curves here (one file per fold, `-foldK` added
    /// to the name, e.g. rollout.png → rollout-fold1.png).
    #[arg(long, requires = "rollout")]
    plot: Option<PathBuf>,
    /// Rollout folds: fold k holds out the k largest sizes.
    #[arg(long, default_value_t = 3, requires = "rollout")]
    folds: usize,
    /// With --rollout: pin parameters, e.g. E=1.69.
    #[arg(long, requires = "rollout")]
    fix: Option<String>,
    /// With --rollout: tie parameters, e.g. alpha=beta.
    #[arg(long, requires = "rollout")]
    tie: Option<String>,
    /// With --rollout params: fit without the law's priors (see fit --no-prior).
    #[arg(long, requires = "rollout")]
    no_prior: bool,
    /// Print the metrics as JSON.
    #[arg(long)]
    json: bool,
    /// With --json: add each run's curve (steps, observed and predicted loss, and the
    /// interval bounds where the fit has them), for plotting elsewhere.
    #[arg(long, requires = "json", conflicts_with = "rollout")]
    curves: bool,
}

#[derive(Args)]
struct CompareArgs {
    /// Run manifest with fit and test runs.
    #[arg(long)]
    manifest: PathBuf,
    /// Laws to compare, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "annealing,multipower")]
    laws: Vec<String>,
    /// Count warmup steps at peak LR (for every law).
    #[arg(long)]
    warmup_as_peak: bool,
    /// Momentum decay λ of the annealing area.
    #[arg(long, default_value_t = 0.999)]
    lambda: f64,
    /// How each fit weighs runs: runs or points (default: each law's, as `fit`).
    #[arg(long, value_parser = ["points", "runs"])]
    weigh: Option<String>,
    /// Fit without the laws' priors (the papers' recipes).
    #[arg(long)]
    no_prior: bool,
    /// Also write each law's fit file here, as <manifest stem>-<law>.json.
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PlotArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    source: RunSource,
    #[command(flatten)]
    table: TableArgs,
    /// Figure of a size-law fit: parity (predicted vs observed), compute (loss vs compute with
    /// iso-N curves and the frontier), frontier (N_opt and D_opt vs compute), bootstrap
    /// (histograms of the exponents). Schedule laws always plot curves.
    #[arg(long, default_value = "parity", value_parser = ["parity", "compute", "frontier", "bootstrap"])]
    kind: String,
    /// Largest compute of the frontier figure (default: 100 × the largest observed).
    #[arg(long)]
    compute_max: Option<f64>,
    /// Output image, .png or .svg.
    #[arg(long)]
    out: PathBuf,
}

/// Run the command line of this process; returns the process exit code.
pub fn run() -> i32 {
    run_with(std::env::args_os())
}

/// Run the command line given by `args` (the first is the program name, as in `argv`) as the
/// binary does, with Ctrl-C handling; the Python module's console script calls this with
/// `sys.argv`.
pub fn run_with<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    // A signal mid-write must not leave a temp output behind. 130 is the shell's code for an
    // interrupted command.
    let _ = ctrlc::set_handler(|| {
        output::remove_staged();
        std::process::exit(130);
    });
    execute(args)
}

thread_local! {
    // The arguments of the command running on this thread, for provenance (`report` records
    // the command line that wrote it): the process's own, or those the Python module passed.
    static COMMAND_LINE: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The arguments of the command running on this thread (the program name first).
pub(crate) fn command_line() -> Vec<String> {
    COMMAND_LINE.with(|c| c.borrow().clone())
}

/// Parse and run one command; errors are printed through the console and become exit codes.
fn execute<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    COMMAND_LINE.with(|c| {
        *c.borrow_mut() = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    });
    let matches = match Cli::command().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => return usage_error(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    let given = Given(matches.subcommand().map(|(_, m)| m));
    match dispatch(cli.command, given) {
        Ok(code) => code,
        Err(e) => {
            errln!("losscast: error: {e}");
            e.exit_code()
        }
    }
}

/// clap's own errors in losscast's voice (`losscast: error: ...`, exit 2); help and version
/// print as usual.
fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            if console::capturing() {
                out!("{}", e.render());
            } else {
                let _ = e.print();
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                2
            } else {
                0
            }
        }
        _ => {
            console::write_err(format_args!("losscast: {}", e.render()));
            2
        }
    }
}

fn dispatch(cmd: Command, given: Given) -> Result<i32> {
    if let Command::Watch(a) = cmd {
        return watch::run(a);
    }
    match cmd {
        Command::Fit(a) => cmd_fit(a, given),
        Command::Predict(a) => predict::run(a),
        Command::Eval(a) => cmd_eval(a, given),
        Command::Plot(a) => cmd_plot(a, given),
        Command::Compare(a) => cmd_compare(a),
        Command::Backtest(a) => backtest::run(a),
        Command::Optimal(a) => predict::run_optimal(a),
        Command::Isoflop(a) => isoflop::run(a),
        Command::Plan(a) => plan::run(a, given),
        Command::Inspect(a) => inspect::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Report(a) => report::run(a),
        Command::Watch(_) => unreachable!("dispatched above"),
    }
    .map(|()| 0)
}

/// A law as the optimiser sees it: plain, or wrapped by `--fix`/`--tie`.
struct FitLaw {
    constrained: Option<Constrained>,
    plain: Option<Box<dyn Law>>,
    fixed: std::collections::BTreeMap<String, f64>,
    tied: std::collections::BTreeMap<String, String>,
}

impl FitLaw {
    fn new(base: Box<dyn Law>, fix: Option<&str>, tie: Option<&str>) -> Result<Self> {
        let fixed = fix
            .map(|t| parse_fixed(base.as_ref(), t))
            .transpose()?
            .unwrap_or_default();
        let tied = tie
            .map(|t| parse_tied(base.as_ref(), t))
            .transpose()?
            .unwrap_or_default();
        let names = base.param_names();
        let fixed_names = fixed
            .iter()
            .map(|&(i, v)| (names[i].to_string(), v))
            .collect();
        let tied_names = tied
            .iter()
            .map(|&(d, s)| (names[d].to_string(), names[s].to_string()))
            .collect();
        let (constrained, plain) = if fixed.is_empty() && tied.is_empty() {
            (None, Some(base))
        } else {
            (Some(Constrained::new(base, fixed, tied)?), None)
        };
        Ok(FitLaw {
            constrained,
            plain,
            fixed: fixed_names,
            tied: tied_names,
        })
    }

    /// The law to optimise.
    fn law(&self) -> &dyn Law {
        match (&self.constrained, &self.plain) {
            (Some(c), _) => c,
            (None, Some(p)) => p.as_ref(),
            (None, None) => unreachable!("one of the two is set"),
        }
    }

    /// The law the user named, without the constraints.
    fn base(&self) -> &dyn Law {
        self.constrained
            .as_ref()
            .map_or_else(|| self.law(), |c| c.inner())
    }

    /// The optimised parameters as the full parameter set of [`FitLaw::base`].
    fn expand(&self, free: &[f64]) -> Vec<f64> {
        match &self.constrained {
            Some(c) => c.expand(free),
            None => free.to_vec(),
        }
    }
}

fn cmd_fit(a: FitArgs, given: Given) -> Result<()> {
    applies::refuse_file_flags_with_manifest(a.source.manifest.is_some(), given)?;
    if a.law.law == "auto" {
        return auto::fit_auto(&a, given);
    }
    let base = a.law.build()?;
    applies::refuse_flags_for_kind(base.as_ref(), given)?;
    let mut options = FitOptions {
        law: base.options().clone(),
        huber_delta: a.huber_delta,
        max_points_per_run: a.max_points,
        skip_fraction: a.skip_fraction,
        run_weighting: fit::weighting(a.weigh.as_deref(), base.as_ref()),
        priors: !a.no_prior,
        ..FitOptions::default()
    };
    let fit_law = FitLaw::new(base, a.law.fix.as_deref(), a.law.tie.as_deref())?;
    options.fixed = fit_law.fixed.clone();
    options.tied = fit_law.tied.clone();
    let law = fit_law.law();
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "fits/{}-{}.json",
            a.source.stem(),
            fit_law.base().name()
        ))
    });
    output::check(
        &[Output::new("--out", &out, Kind::Text)],
        &a.source.input_paths()?,
    )?;
    let record = match law.kind() {
        LawKind::Schedule => {
            let runs = a.source.load()?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "fit {bar:40} {pos}/{len} starts, {elapsed} (eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let mut rec = fit::fit_with_progress(law, &runs, &options, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            if !a.no_intervals {
                calibrate_intervals(&mut rec, &runs, &fit_law, &options);
            }
            rec
        }
        LawKind::Table => {
            let (table, origin) = load_table(&a.source, &a.table, law.name())?;
            options.table_filters = Some(a.table.filters());
            if a.boot.bootstrap > 0 {
                // Refused before the fit, not after it.
                fit::bootstrap::check_request(a.boot.bootstrap, a.boot.level)?;
                options.bootstrap = Some(fit::BootstrapOptions {
                    resamples: a.boot.bootstrap,
                    seed: a.boot.seed,
                    level: a.boot.level,
                });
            }
            let bar = indicatif::ProgressBar::new(a.boot.bootstrap as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "bootstrap {bar:40} {pos}/{len} resamples, {elapsed} (eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            if a.boot.bootstrap == 0 {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let rec = fit::fit_table_with_progress(law, &table, &origin, &options, &|| bar.inc(1))?;
            bar.finish_and_clear();
            rec
        }
    };
    let mut record = record;
    if let Some(c) = &fit_law.constrained {
        fit::expand_constrained(&mut record, c);
    }
    // The record's law: a law that learned from its fit runs (collapse) has parameters only
    // the learned law names.
    let built = record.build_law()?;
    let law = built.as_ref();
    record.save(&out)?;
    if a.json {
        outln!("{}", to_json(&record)?);
    } else {
        out!("{}", cli_format::fit_summary(&record, law.param_names()));
    }
    errln!("wrote {}", out.display());
    Ok(())
}

/// The backtest of the fit runs that calibrates the record's forecast intervals, with a
/// progress bar; what prevents it is said, and the fit is kept without intervals.
fn calibrate_intervals(
    rec: &mut fit::FitRecord,
    runs: &[crate::runs::Run],
    fit_law: &FitLaw,
    options: &FitOptions,
) {
    if fit_law.constrained.is_some() {
        errln!(
            "note: no forecast intervals: --fix/--tie fits are not calibrated (the backtest \
             refits the named law)"
        );
        return;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "calibrating intervals {bar:30} fold {pos}/{len}, {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let found = crate::backtest::calibration::self_calibrate(
        runs,
        fit_law.base().name(),
        options,
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    match found {
        Ok(Some(c)) => c.store(rec),
        Ok(None) => errln!(
            "note: no forecast intervals: the fit runs offer fewer than two backtest folds \
             (a second run, or a longer one, gives them)"
        ),
        Err(e) => errln!("note: no forecast intervals: calibrating them failed: {e}"),
    }
}

fn cmd_eval(a: EvalArgs, given: Given) -> Result<()> {
    applies::refuse_file_flags_with_manifest(a.source.manifest.is_some(), given)?;
    if matches!(a.rollout.as_deref(), Some("n" | "params")) && a.model.law.is_none() {
        return Err(Error::input(format!(
            "--rollout {} validates a law: give --law (e.g. --law chinchilla, or auto with n)",
            a.rollout.as_deref().unwrap_or_default()
        )));
    }
    match a.rollout.as_deref() {
        Some("shape") => {
            given.refuse(
                applies::TABLE_ONLY,
                "--rollout shape reads loss curves from a manifest, not a table",
            )?;
            given.refuse(
                &["plot", "fix", "tie", "folds", "no_prior"],
                "--rollout shape fits no law and holds out the largest size once per schedule",
            )?;
            if a.model.law.is_some() {
                return Err(Error::input(
                    "--rollout shape fits no law: it checks whether the ladder's curves collapse \
                     (drop --law)",
                ));
            }
            return rollout::run_shape(&a);
        }
        Some("n") => {
            given.refuse(
                applies::CURVE_ONLY,
                "--rollout n fits a size law to a table of finished runs, not loss curves",
            )?;
            given.refuse(
                &["plot"],
                "it draws the held-out curves of --rollout params; --rollout n prints its folds",
            )?;
            given.refuse(
                &["no_prior"],
                "--no-prior is for --rollout params; no size law has priors",
            )?;
            return rollout::run(&a);
        }
        Some(_) => {
            given.refuse(
                applies::TABLE_ONLY,
                "--rollout params fits a joint law to loss curves, not to a table of runs",
            )?;
            return rollout::run(&a);
        }
        None => {
            given.refuse(
                applies::TABLE_ONLY,
                "eval scores a loss-curve law on runs; table filters apply to size laws (plot, \
                 eval --rollout n)",
            )?;
            given.refuse(
                &["plot", "fix", "tie", "folds"],
                "it belongs to eval --rollout; plain eval scores a fitted law and draws nothing \
                 (plot draws)",
            )?;
            if a.model.model_size()?.is_some() {
                return Err(Error::input(
                    "--params N (a model size) does not apply to eval: each run's size comes \
                     from params = N in the manifest",
                ));
            }
        }
    }
    let m = a.model.load()?;
    let (law, params) = (&m.law, &m.params);
    if law.kind() == LawKind::Table {
        return Err(Error::input(format!(
            "eval scores a loss-curve law on runs; {} is a size law: draw it with plot, or \
             validate it with eval --rollout n --law {}",
            law.name(),
            law.name()
        )));
    }
    let runs = a.source.load()?;
    let (per_run, fit_mean, test_mean) = fit::evaluate(law.as_ref(), params, &runs)?;
    let warnings: Vec<String> = m.trust_warning().into_iter().collect();
    print_warnings(&warnings);
    // How the fit's intervals held on each test run (forecasts, not fits).
    let intervals = m
        .record()
        .and_then(|r| crate::interval::Source::of(r, crate::interval::DEFAULT_LEVEL));
    let held: Vec<Option<crate::interval::Held>> = runs
        .iter()
        .map(|r| match (&intervals, r.role) {
            (Some(iv), manifest::Role::Test) => iv.held(law.as_ref(), params, r),
            _ => Ok(None),
        })
        .collect::<Result<_>>()?;
    if a.json {
        let mut runs_json: Vec<serde_json::Value> = per_run
            .iter()
            .zip(&held)
            .map(|(r, h)| {
                json!({
                    "name": r.name, "role": r.role, "points": r.points,
                    "r2": r.metrics.r2, "mae": r.metrics.mae, "rmse": r.metrics.rmse,
                    "pred_e": r.metrics.pred_e, "worst_e": r.metrics.worst_e,
                    "interval": h,
                })
            })
            .collect();
        if a.curves {
            for (j, run) in runs_json.iter_mut().zip(&runs) {
                j["curve"] = serde_json::to_value(crate::predict::run_curve(
                    law.as_ref(),
                    params,
                    run,
                    intervals.as_ref(),
                )?)
                .map_err(|e| Error::failed(format!("cannot encode a curve: {e}")))?;
            }
        }
        outln!(
            "{}",
            to_json(&json!({
                "law": law.name(),
                "runs": runs_json,
                "fit_mean": fit_mean,
                "test_mean": test_mean,
                "fit_trustworthy": m.trustworthy(),
                "warnings": warnings,
            }))?
        );
    } else {
        outln!("{}", plot::title_for(law.as_ref(), params));
        out!(
            "{}",
            cli_format::metrics_table(&per_run, fit_mean.as_ref(), test_mean.as_ref())
        );
        let shown: Vec<(&str, crate::interval::Held)> = runs
            .iter()
            .zip(&held)
            .filter_map(|(r, h)| h.map(|h| (r.name.as_str(), h)))
            .collect();
        if !shown.is_empty() {
            let n = shown.len() as f64;
            outln!(
                "90 % intervals on the test runs: {:.0} % of points inside, {} of {} final \
                 points; mean half-width {:.3} %",
                100.0 * shown.iter().map(|(_, h)| h.points_in).sum::<f64>() / n,
                shown.iter().filter(|(_, h)| h.final_in).count(),
                shown.len(),
                100.0 * shown.iter().map(|(_, h)| h.mean_half_width).sum::<f64>() / n
            );
        }
    }
    Ok(())
}

fn cmd_plot(a: PlotArgs, given: Given) -> Result<()> {
    applies::refuse_file_flags_with_manifest(a.source.manifest.is_some(), given)?;
    let mut inputs = a.model.fit.clone();
    inputs.extend(a.source.input_paths()?);
    output::check(&[Output::new("--out", &a.out, Kind::Image)], &inputs)?;
    let all = a.model.load_all()?;
    print_warnings(
        &all.iter()
            .filter_map(Fitted::trust_warning)
            .collect::<Vec<_>>(),
    );
    for m in &all {
        applies::refuse_flags_for_kind(m.law.as_ref(), given)?;
        if m.law.kind() == LawKind::Schedule {
            given.refuse(
                &["kind", "compute_max"],
                &format!(
                    "it picks a figure of a size law; {} always plots its loss curves",
                    m.law.name()
                ),
            )?;
        }
    }
    if a.kind != "frontier" {
        given.refuse(&["compute_max"], "it sets the range of --kind frontier")?;
    }
    if let [m] = all.as_slice() {
        if m.law.kind() == LawKind::Table {
            return plot_table(&a, m.law.as_ref(), &m.params, m.boot());
        }
    }
    let runs = a.source.load()?;
    let models: Vec<plot::Model> = all
        .iter()
        .map(|m| plot::Model {
            label: m.law.name().to_string(),
            law: m.law.as_ref(),
            params: m.params.clone(),
        })
        .collect();
    let intervals = match all.as_slice() {
        [m] => m
            .record()
            .and_then(|r| crate::interval::Source::of(r, crate::interval::DEFAULT_LEVEL)),
        _ => None,
    };
    match (&intervals, models.as_slice()) {
        (Some(iv), [one]) => {
            plot::plot_fit_with_bands(one.law, &one.params, &runs, iv, &a.out)?;
        }
        _ => plot::plot_models(&models, &runs, &a.out)?,
    }
    errln!("wrote {}", a.out.display());
    Ok(())
}

fn cmd_compare(a: CompareArgs) -> Result<()> {
    let specs = embedded::manifest_specs(&a.manifest)?;
    let stem = a
        .manifest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "compare".into());
    let out_paths: Vec<PathBuf> = match &a.out_dir {
        Some(dir) => a
            .laws
            .iter()
            .map(|law| dir.join(format!("{stem}-{law}.json")))
            .collect(),
        None => Vec::new(),
    };
    let mut inputs = vec![a.manifest.clone()];
    inputs.extend(specs.iter().flat_map(RunSpec::input_paths));
    let outs: Vec<Output> = out_paths
        .iter()
        .map(|p| Output::new("--out-dir", p, Kind::Text))
        .collect();
    output::check(&outs, &inputs)?;
    if !specs.iter().any(|s| s.role == manifest::Role::Test) {
        return Err(Error::input(format!(
            "{}: compare scores each law on the test runs, and the manifest has none (role = \
             \"test\")",
            a.manifest.display()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = a.laws.iter().find(|l| !seen.insert(l.trim())) {
        return Err(Error::input(format!("--laws names {dup} twice")));
    }
    let runs: Vec<Run> = specs
        .iter()
        .map(embedded::load_run)
        .collect::<Result<_>>()?;
    print_run_warnings(&runs);
    let options = LawOptions {
        lambda: a.lambda,
        warmup_as_peak: a.warmup_as_peak,
        lr_ref: None,
        variable: None,
        collapse: None,
    };
    let result = compare::compare(&a.laws, &runs, &options, a.weigh.as_deref(), !a.no_prior)?;
    if a.out_dir.is_some() {
        let files: Vec<(&Path, Vec<u8>)> = out_paths
            .iter()
            .map(PathBuf::as_path)
            .zip(result.rows.iter())
            .map(|(p, row)| Ok((p, row.record.to_bytes()?)))
            .collect::<Result<_>>()?;
        write_outputs(&files)?;
    }
    if a.json {
        outln!("{}", to_json(&result)?);
    } else {
        out!("{}", compare::table(&result));
    }
    Ok(())
}

/// The figures of a size law over its table of runs (`plot --kind`).
fn plot_table(a: &PlotArgs, law: &dyn Law, params: &[f64], boot: Option<&Bootstrap>) -> Result<()> {
    use plot::size::{BootstrapHistograms, ComputePlot, FrontierPlot, Samples};
    let samples = || {
        boot.map(|b| Samples {
            params: &b.samples,
            level: b.level,
        })
    };
    let title = plot::title_for(law, params);
    if a.kind == "bootstrap" {
        let b = boot.ok_or_else(|| {
            Error::input("--kind bootstrap needs a fit file made with --bootstrap K")
        })?;
        let mut quantities = Vec::new();
        let names = law.param_names();
        for (i, name) in names.iter().enumerate() {
            if ["alpha", "beta", "gamma"]
                .iter()
                .any(|e| name.starts_with(e))
            {
                let v: Vec<f64> = b.samples.iter().map(|s| s[i]).collect();
                quantities.push((name.to_string(), params[i], v, interval_of(b, name)));
            }
        }
        for (name, f) in law.derived_quantities() {
            let v: Vec<f64> = b.samples.iter().map(|s| f(s)).collect();
            quantities.push((name.to_string(), f(params), v, interval_of(b, name)));
        }
        if quantities.is_empty() {
            return Err(Error::input(format!(
                "law {} has no exponents to histogram",
                law.name()
            )));
        }
        let fig = BootstrapHistograms {
            title: format!(
                "{} bootstrap resamples ({:.0} % intervals): {title}",
                b.samples.len(),
                b.level * 100.0
            ),
            quantities,
        };
        plot::save_figure(&fig, &a.out)?;
        errln!("wrote {}", a.out.display());
        return Ok(());
    }
    let (table, _) = load_table(&a.source, &a.table, law.name())?;
    let (table, _) = table.filtered(&a.table.filters())?;
    match a.kind.as_str() {
        "compute" => {
            let fig = ComputePlot {
                title,
                law,
                params,
                n: &table.n,
                d: &table.d,
                loss: &table.loss,
                samples: samples(),
            };
            plot::save_figure(&fig, &a.out)?;
        }
        "frontier" => {
            if law.name() != "chinchilla" {
                return Err(Error::input(format!(
                    "--kind frontier needs a chinchilla fit (N and D terms), not {}",
                    law.name()
                )));
            }
            let (lo, hi) = table
                .c
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(l, h), &c| (l.min(c), h.max(c)));
            let top = a.compute_max.unwrap_or(hi * 100.0);
            if top.is_nan() || top <= lo {
                return Err(Error::input(format!(
                    "--compute-max {top:e} must exceed the smallest observed compute {lo:e}"
                )));
            }
            let fig = FrontierPlot {
                title: format!(
                    "compute-optimal frontier{}: {title}",
                    if boot.is_none() {
                        " (no bootstrap: no band)"
                    } else {
                        ""
                    }
                ),
                params,
                samples: samples(),
                c_range: (lo, top),
                observed: (0..table.n.len())
                    .map(|i| (table.c[i], table.n[i], table.d[i]))
                    .collect(),
            };
            plot::save_figure(&fig, &a.out)?;
        }
        _ => {
            let f = law.table_features(&TablePoints {
                n: &table.n,
                d: &table.d,
            })?;
            let mut predicted = vec![0.0; table.loss.len()];
            law.predict(params, &f, &mut predicted);
            let fig = plot::parity::ParityPlot {
                title,
                n: table.n.clone(),
                observed: table.loss.clone(),
                predicted,
            };
            plot::save_figure(&fig, &a.out)?;
        }
    }
    errln!("wrote {}", a.out.display());
    Ok(())
}

/// A bootstrap interval by name, NaN when the fit file lacks it.
fn interval_of(b: &Bootstrap, name: &str) -> [f64; 2] {
    b.intervals.get(name).copied().unwrap_or([f64::NAN; 2])
}

/// Write a command's outputs together (all or none, see [`output::write_all`]) and say so on
/// stderr.
pub(super) fn write_outputs(files: &[(&Path, Vec<u8>)]) -> Result<()> {
    let refs: Vec<(&Path, &[u8])> = files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    output::write_all(&refs)?;
    for (p, _) in files {
        errln!("wrote {}", p.display());
    }
    Ok(())
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v).map_err(|e| Error::failed(format!("cannot print JSON: {e}")))
}
