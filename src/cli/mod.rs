//! The command line: parse flags, call one library function, print its value for people or as
//! JSON. No numerics live here.

#[macro_use]
pub mod console;
pub mod embedded;

mod applies;
mod auto;
mod backtest;
mod benchmark;
mod compare;
mod demo;
mod eval;
mod fit;
pub mod format;
mod help;
mod inspect;
mod isoflop;
mod lists;
mod model;
mod plan;
mod plot;
mod predict;
mod report;
mod rollout;
mod source;
mod watch;

use crate::error::{Error, Result};
use crate::output;
use applies::Given;
use clap::{Parser, Subcommand};
use std::path::Path;

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
    Fit(fit::FitArgs),
    /// Forecast a schedule's loss curve (schedule laws), or the loss at (N, D) (size laws),
    /// from a fit file or typed parameters.
    #[command(after_long_help = help::SCHEDULES)]
    #[command(allow_negative_numbers = true)]
    Predict(predict::PredictArgs),
    /// Score a fit against every run of a manifest or a log (fit and test runs), or validate a
    /// law by rollout over model size.
    #[command(after_long_help = help::SCHEDULES_AND_MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Eval(eval::EvalArgs),
    /// Plot observed against predicted curves (repeat --fit to overlay several laws), or a size
    /// law's figures.
    #[command(after_long_help = help::SCHEDULES_AND_MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Plot(plot::PlotArgs),
    /// Fit several laws on the fit runs and compare them on the test runs.
    #[command(after_long_help = help::MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Compare(compare::CompareArgs),
    /// Measure forecasts on your own runs: hide a schedule, the longer horizons, the second
    /// half of a run or the larger models, fit the rest, and score every law on what was hidden.
    #[command(after_long_help = help::MANIFEST)]
    #[command(allow_negative_numbers = true)]
    Backtest(backtest::BacktestArgs),
    /// The open forecasting benchmark: every bundled ladder × task × method (auto and every
    /// law), scored on held-out curves, one table.
    Benchmark(benchmark::BenchmarkArgs),
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
    // What this invocation reads and writes, seen by the commands it runs in-process.
    let _claims = output::Scope::open(matches.subcommand_name().unwrap_or("losscast"));
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
        Command::Fit(a) if a.law.law == "auto" => auto::run(a, given),
        Command::Fit(a) => fit::run(a, given),
        Command::Predict(a) => predict::run(a),
        Command::Eval(a) => match a.rollout.clone() {
            Some(kind) => rollout::run(a, given, &kind),
            None => eval::run(a, given),
        },
        Command::Plot(a) => plot::run(a, given),
        Command::Compare(a) => compare::run(a),
        Command::Backtest(a) => backtest::run(a),
        Command::Benchmark(a) => benchmark::run(a),
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
