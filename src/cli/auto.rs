//! `fit --law auto`: backtest the fit runs, fit the law that forecast them best, and keep the
//! backtest in the fit file. Test runs of the manifest are not even opened.

use super::applies::{self, Given};
use super::fit::FitArgs;
use super::format;
use super::model::print_run_warnings;
use super::to_json;
use crate::backtest;
use crate::error::Result;
use crate::fit::{self, FitOptions};
use crate::law::{self, LawOptions};
use crate::output::{self, Kind, Output};
use crate::runs::manifest::Role;
use crate::runs::Run;
use std::path::PathBuf;

pub(super) fn run(a: FitArgs, given: Given) -> Result<()> {
    applies::refuse_file_flags_with_manifest(a.source.manifest.is_some(), given)?;
    let chooses = "--law auto chooses among loss-curve laws by backtest";
    given.refuse(applies::TABLE_ONLY, chooses)?;
    given.refuse(applies::BOOTSTRAP, chooses)?;
    given.refuse(
        &["fix", "tie", "variable"],
        "they constrain one named law; --law auto compares several (name the law to constrain it)",
    )?;
    let base = FitOptions {
        law: LawOptions {
            lambda: a.law.lambda,
            warmup_as_peak: a.law.warmup_as_peak,
            lr_ref: None,
            variable: None,
            collapse: None,
        },
        huber_delta: a.huber_delta,
        max_points_per_run: a.max_points,
        skip_fraction: a.skip_fraction,
        priors: !a.no_prior,
        ..FitOptions::default()
    };
    // Validates λ before any run is read.
    law::build("annealing", base.law.clone())?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("fits/{}-auto.json", a.source.stem())));
    output::check(
        &[Output::new("--out", &out, Kind::Text)],
        &a.source.input_paths()?,
    )?;
    let specs: Vec<_> = a
        .source
        .specs()?
        .into_iter()
        .filter(|s| s.role == Role::Fit)
        .collect();
    let runs: Vec<Run> = specs
        .iter()
        .map(super::embedded::load_run)
        .collect::<Result<_>>()
        .map_err(|e| size_table_hint(&a, e))?;
    print_run_warnings(&runs);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("backtest {bar:30} fit {pos}/{len}, {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let weigh = a.weigh.as_deref().map(fit::RunWeighting::from_name);
    let auto = backtest::auto::fit_auto(&runs, &base, weigh, !a.no_intervals, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let (record, method, table) = (auto.record, auto.method, auto.backtest);
    record.save(&out)?;
    if a.json {
        outln!("{}", to_json(&record)?);
    } else {
        out!("{}", format::backtest_table(&table));
        match record.selection.as_ref().and_then(|s| s.fallback.as_ref()) {
            Some(why) => outln!(
                "--law auto could not choose: {why}. It fitted {}, the default law; name a law \
                 with --law to choose yourself\n",
                method.name
            ),
            None => outln!("--law auto chose {}\n", method.name),
        }
        // The law as fitted: one that learned from the fit runs (collapse) names its own.
        let fitted = record.build_law()?;
        out!("{}", format::fit_summary(&record, fitted.param_names()));
    }
    errln!("wrote {}", out.display());
    Ok(())
}

/// A log that fails to read as a loss curve but reads as a table of finished runs (model size,
/// tokens, loss) was meant for a size law: say where `--law auto` for size laws lives, instead
/// of "missing step column".
fn size_table_hint(a: &FitArgs, e: crate::error::Error) -> crate::error::Error {
    let Some(file) = a
        .source
        .file
        .as_ref()
        .filter(|_| a.source.manifest.is_none())
    else {
        return e;
    };
    let cols = crate::ingest::table::TableColumns::default();
    match crate::ingest::table::read_table(file, &cols) {
        Ok(_) => crate::error::Error::input(format!(
            "{}: a table of finished runs (model size, tokens, loss), not a loss curve: fit --law \
             auto chooses among loss-curve laws by backtest; to choose a size law, run \
             `losscast eval --rollout n --law auto {}`",
            file.display(),
            file.display()
        )),
        Err(_) => e,
    }
}
