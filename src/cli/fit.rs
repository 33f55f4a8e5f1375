//! `losscast fit`: a law to runs or a table, with `--fix`/`--tie`, the bootstrap of size laws
//! and the backtest of the fit runs that calibrates forecast intervals. `--law auto` is
//! `auto.rs`.

use super::applies::{self, Given};
use super::source::{load_table, RunSource, TableArgs};
use super::{format, to_json};
use crate::error::Result;
use crate::fit::{self, FitOptions};
use crate::law::constrained::{parse_fixed, parse_tied, Constrained};
use crate::law::{self, Law, LawKind, LawOptions};
use crate::output::{self, Kind, Output};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(super) struct LawArgs {
    /// Law to fit, or `auto`: backtest the fit runs (schedule, horizon, truncate; size when they
    /// hold several model sizes), fit the law that forecast them best, and record the backtest.
    #[arg(long, default_value = "annealing")]
    pub(super) law: String,
    /// Count warmup steps at peak LR when summing S1 and S2 (the authors' script).
    #[arg(long)]
    pub(super) warmup_as_peak: bool,
    /// Momentum decay λ of the annealing area.
    #[arg(long, default_value_t = 0.999)]
    pub(super) lambda: f64,
    /// Variable of `--law power`: n, d or c (C = 6ND; the default).
    #[arg(long)]
    pub(super) variable: Option<String>,
    /// Pin parameters, e.g. E=1.69 (comma-separated).
    #[arg(long)]
    pub(super) fix: Option<String>,
    /// Tie parameters, e.g. alpha=beta: alpha takes beta's value (comma-separated).
    #[arg(long)]
    pub(super) tie: Option<String>,
}

impl LawArgs {
    pub(super) fn build(&self) -> Result<Box<dyn Law>> {
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
    pub(super) source: RunSource,
    #[command(flatten)]
    pub(super) law: LawArgs,
    #[command(flatten)]
    pub(super) table: TableArgs,
    #[command(flatten)]
    pub(super) boot: BootstrapArgs,
    /// δ of the Huber loss on log residuals.
    #[arg(long, default_value_t = 1e-3)]
    pub(super) huber_delta: f64,
    /// Points per run above which consecutive points are averaged in bins before fitting (a
    /// per-step log of 10⁶ points fits in seconds); 0 fits every point. Recorded in the fit.
    #[arg(long, default_value_t = fit::thin::DEFAULT_MAX_POINTS)]
    pub(super) max_points: usize,
    /// Leave out each fit run's points before this fraction of its last step (e.g. 0.1; the
    /// record notes how many).
    #[arg(long, default_value_t = 0.0)]
    pub(super) skip_fraction: f64,
    /// How the objective weighs runs: runs (every run the same in total, whatever its length)
    /// or points (every point once, the papers' recipes). Default: runs for annealing and
    /// multipower, points for joint and size laws (chosen by backtest).
    #[arg(long, value_parser = ["points", "runs"])]
    pub(super) weigh: Option<String>,
    /// Fit without the law's priors (multipower: β and γ near Luo et al.'s values; collapse: α
    /// and β near Chinchilla's where two sizes or run lengths cannot pin them), as the papers
    /// do. Laws without priors ignore it.
    #[arg(long)]
    pub(super) no_prior: bool,
    /// Skip the backtest of the fit runs that calibrates forecast intervals (it refits the
    /// law once per fold; forecasts from the record then carry no interval).
    #[arg(long)]
    pub(super) no_intervals: bool,
    /// Fit file to write (default fits/<manifest or file stem>-<law>.json).
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Print the fit record as JSON on stdout instead of the summary.
    #[arg(long)]
    pub(super) json: bool,
}

/// Uncertainty of a size-law fit.
#[derive(Args, Clone, Default)]
pub(super) struct BootstrapArgs {
    /// Case-bootstrap resamples for percentile intervals (0: none).
    #[arg(long, default_value_t = 0)]
    pub(super) bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub(super) seed: u64,
    /// Central interval level of the bootstrap.
    #[arg(long, default_value_t = 0.95)]
    pub(super) level: f64,
}

/// A law as the optimiser sees it: plain, or wrapped by `--fix`/`--tie`.
pub(super) struct FitLaw {
    pub(super) constrained: Option<Constrained>,
    pub(super) plain: Option<Box<dyn Law>>,
    pub(super) fixed: std::collections::BTreeMap<String, f64>,
    pub(super) tied: std::collections::BTreeMap<String, String>,
}

impl FitLaw {
    pub(super) fn new(base: Box<dyn Law>, fix: Option<&str>, tie: Option<&str>) -> Result<Self> {
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
    pub(super) fn law(&self) -> &dyn Law {
        match (&self.constrained, &self.plain) {
            (Some(c), _) => c,
            (None, Some(p)) => p.as_ref(),
            (None, None) => unreachable!("one of the two is set"),
        }
    }

    /// The law the user named, without the constraints.
    pub(super) fn base(&self) -> &dyn Law {
        self.constrained
            .as_ref()
            .map_or_else(|| self.law(), |c| c.inner())
    }

    /// The optimised parameters as the full parameter set of [`FitLaw::base`].
    pub(super) fn expand(&self, free: &[f64]) -> Vec<f64> {
        match &self.constrained {
            Some(c) => c.expand(free),
            None => free.to_vec(),
        }
    }
}

pub(super) fn run(a: FitArgs, given: Given) -> Result<()> {
    applies::refuse_file_flags_with_manifest(a.source.manifest.is_some(), given)?;
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
        out!("{}", format::fit_summary(&record, law.param_names()));
    }
    errln!("wrote {}", out.display());
    Ok(())
}

/// The backtest of the fit runs that calibrates the record's forecast intervals, with a
/// progress bar; what prevents it is said, and the fit is kept without intervals.
pub(super) fn calibrate_intervals(
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
