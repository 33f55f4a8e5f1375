//! `losscast backtest`: hide some of the user's runs, fit the rest, score the forecast.

use super::format;
use super::model::print_run_warnings;
use super::{to_json, write_outputs};
use crate::backtest::{self, Method, Plan, Task};
use crate::error::{Error, Result};
use crate::law::LawOptions;
use crate::output::{self, Kind, Output};
use crate::plot;
use crate::runs::manifest::RunSpec;
use crate::runs::Run;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct BacktestArgs {
    /// Run manifest. Every run takes part whatever its role; runs with `params = N` are grouped
    /// by size.
    #[arg(long)]
    manifest: PathBuf,
    /// Tasks, comma-separated: schedule (leave one run of a size out), horizon (fit the shorter
    /// runs of a size, forecast the longer), truncate (fit the first 25 % and 50 % of each run,
    /// forecast the rest), size (fit the smaller models, forecast the larger).
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = super::lists::name,
        default_value = "schedule,horizon,truncate,size"
    )]
    task: Vec<String>,
    /// Laws that compete, comma-separated (default: every law that applies to the runs).
    #[arg(long, value_delimiter = ',', value_parser = super::lists::name)]
    laws: Vec<String>,
    /// Fractions of each fit run's first steps to leave out, comma-separated: every law
    /// competes once per fraction (e.g. 0,0.1,0.2).
    #[arg(long, value_delimiter = ',', value_parser = super::lists::number, default_value = "0")]
    skip_fraction: Vec<f64>,
    /// Points per run above which consecutive points are averaged in bins before each fit
    /// (as `fit --max-points`).
    #[arg(long, default_value_t = crate::fit::thin::DEFAULT_MAX_POINTS)]
    max_points: usize,
    /// How each fit weighs runs, comma-separated: every law competes once per choice (runs:
    /// every run the same in total; points: every point once). Default: each law's, as `fit`.
    #[arg(long, value_delimiter = ',', value_parser = ["points", "runs"])]
    weigh: Vec<String>,
    /// Whether fits apply the laws' priors, comma-separated: `on,off` makes each law that has
    /// priors (multipower) compete both ways. Default: on, as `fit`.
    #[arg(long, value_delimiter = ',', value_parser = ["on", "off"])]
    prior: Vec<String>,
    /// Count warmup steps at peak LR (for every law).
    #[arg(long)]
    warmup_as_peak: bool,
    /// Momentum decay λ of the annealing area.
    #[arg(long, default_value_t = 0.999)]
    lambda: f64,
    /// Write <manifest stem>-backtest.json and one figure per task
    /// (<manifest stem>-backtest-<task>.png) here.
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Write every held-out point's error here as CSV (task, fold, method, run, step, observed,
    /// predicted, rel_err, and how far the point lies beyond the fit runs: step_ratio, s1_ratio,
    /// size_ratio), to see how forecast error grows with extrapolation.
    #[arg(long)]
    residuals: Option<PathBuf>,
    /// Check the intervals `fit` stores: each fold's forecast gets the interval calibrated by a
    /// backtest of that fold's fit runs alone (an inner backtest per fold). Without it the
    /// coverage table calibrates each fold on the other folds of its task.
    #[arg(long)]
    nested: bool,
    /// Print the backtest as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: BacktestArgs) -> Result<()> {
    let mut tasks: Vec<Task> = Vec::new();
    for t in &a.task {
        let t = Task::parse(t)?;
        if tasks.contains(&t) {
            return Err(Error::input(format!("--task names {t} twice")));
        }
        tasks.push(t);
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = a.laws.iter().find(|l| !seen.insert(l.trim())) {
        return Err(Error::input(format!("--laws names {dup} twice")));
    }
    let law_options = LawOptions {
        lambda: a.lambda,
        warmup_as_peak: a.warmup_as_peak,
        lr_ref: None,
        variable: None,
        collapse: None,
    };
    // The law options are checked before any run is read, so that --lambda 1.5 is refused as
    // itself, not as "no law applies".
    crate::law::build("annealing", law_options.clone())?;
    let specs = super::embedded::manifest_specs(&a.manifest)?;
    let stem = a
        .manifest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backtest".into());
    let out_paths: Vec<(Option<Task>, PathBuf)> = match &a.out_dir {
        Some(dir) => std::iter::once((None, dir.join(format!("{stem}-backtest.json"))))
            .chain(
                tasks
                    .iter()
                    .map(|t| (Some(*t), dir.join(format!("{stem}-backtest-{t}.png")))),
            )
            .collect(),
        None => Vec::new(),
    };
    let mut inputs = vec![a.manifest.clone()];
    inputs.extend(specs.iter().flat_map(RunSpec::input_paths));
    let mut outs: Vec<Output> = out_paths
        .iter()
        .map(|(t, p)| {
            let kind = if t.is_some() { Kind::Image } else { Kind::Text };
            Output::new("--out-dir", p, kind)
        })
        .collect();
    if let Some(p) = &a.residuals {
        outs.push(Output::new("--residuals", p, Kind::Text));
    }
    output::check(&outs, &inputs)?;
    let runs: Vec<Run> = specs
        .iter()
        .map(super::embedded::load_run)
        .collect::<Result<_>>()?;
    print_run_warnings(&runs);
    let methods = if a.laws.is_empty() {
        backtest::default_methods(&runs, &tasks, &law_options)
    } else {
        a.laws
            .iter()
            .map(|l| {
                crate::law::build(l.trim(), law_options.clone())?;
                Ok(Method::new(l.trim(), &law_options))
            })
            .collect::<Result<_>>()?
    };
    let methods: Vec<Method> = methods
        .into_iter()
        .map(|mut m| {
            m.options.max_points_per_run = a.max_points;
            m
        })
        .collect();
    let methods = backtest::with_skip_fractions(methods, &a.skip_fraction)?;
    let methods = if a.weigh.is_empty() {
        methods
    } else {
        let ws: Vec<crate::fit::RunWeighting> = a
            .weigh
            .iter()
            .map(|w| crate::fit::RunWeighting::from_name(w))
            .collect();
        backtest::with_weightings(methods, &ws)
    };
    let methods = if a.prior.is_empty() {
        methods
    } else {
        let choices: Vec<bool> = a.prior.iter().map(|p| p == "on").collect();
        backtest::with_priors(methods, &choices)
    };
    let plan = Plan {
        tasks,
        methods,
        nested: a.nested,
        inner: false,
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("backtest {bar:30} fit {pos}/{len}, {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = backtest::run(&runs, &plan, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    if let Some(p) = &a.residuals {
        write_outputs(&[(p.as_path(), backtest::residuals_csv(&result).into_bytes())])?;
    }
    if a.out_dir.is_some() {
        let files: Vec<(&Path, Vec<u8>)> = out_paths
            .iter()
            .filter_map(|(t, p)| match t {
                None => Some(to_json(&result).map(|s| (p.as_path(), (s + "\n").into_bytes()))),
                Some(t) => plot::backtest::BacktestPlot::of(&result, *t).map(|fig| {
                    let format = output::image_format(p)?;
                    Ok((p.as_path(), plot::render_figure(&fig, format)?))
                }),
            })
            .collect::<Result<_>>()?;
        write_outputs(&files)?;
    }
    if a.json {
        outln!("{}", to_json(&result)?);
    } else {
        out!("{}", format::backtest_table(&result));
    }
    // A backtest in which no fold could be scored measured nothing: that is a failure, with
    // the folds' own reason, not a table of dashes and exit 0.
    if result.folds.iter().all(|f| f.pred_e.is_none()) {
        let why = result
            .folds
            .iter()
            .find_map(|f| f.error.as_deref())
            .unwrap_or("no fold gave a score");
        return Err(Error::failed(format!(
            "every fold of the backtest failed ({} folds); the first says: {why}",
            result.folds.len()
        )));
    }
    Ok(())
}
