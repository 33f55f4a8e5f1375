//! `losscast eval --rollout n`: how far a size law can be trusted to extrapolate upward.

use super::applies::{self, Given};
use super::eval::EvalArgs;
use super::fit::FitLaw;
use super::source::load_table;
use super::to_json;
use crate::backtest::rollout::{rollout_runs, rollout_shape, RunRolloutFold, ShapeFold};
use crate::base::groups::{size_groups, SIZE_TOL};
use crate::error::{Error, Result};
use crate::fit::size_rollout::{rollout_sizes, RolloutFold};
use crate::fit::FitOptions;
use crate::law::{self, LawKind, LawOptions};
use crate::output::{self, Kind, Output};
use serde_json::json;
use std::path::PathBuf;

/// `eval --rollout KIND` (n, params or shape): which flags apply to each kind, then the rollout.
pub(super) fn run(a: EvalArgs, given: Given, kind: &str) -> Result<()> {
    applies::refuse_file_flags_with_manifest(a.source.manifest.is_some(), given)?;
    if matches!(kind, "n" | "params") && a.model.law.is_none() {
        return Err(Error::input(format!(
            "--rollout {kind} validates a law: give --law (e.g. --law chinchilla, or auto with n)"
        )));
    }
    match kind {
        "shape" => {
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
            run_shape(&a)
        }
        "n" => {
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
            run_law(&a)
        }
        _ => {
            given.refuse(
                applies::TABLE_ONLY,
                "--rollout params fits a joint law to loss curves, not to a table of runs",
            )?;
            run_law(&a)
        }
    }
}

/// `--rollout n` and `--rollout params`: a law fitted on the smaller sizes.
fn run_law(a: &EvalArgs) -> Result<()> {
    if a.rollout.as_deref() == Some("params") {
        return run_params(a);
    }
    let name = a.model.law.as_deref().unwrap_or_default();
    if name == "auto" {
        return run_auto(a);
    }
    let base = size_law(name, a)?;
    if base.kind() != LawKind::Table {
        return Err(Error::input(format!(
            "--rollout n fits a size law to a table of runs; {name} is a schedule law"
        )));
    }
    let file = a
        .source
        .file
        .as_ref()
        .ok_or_else(|| Error::input("--rollout n needs the table FILE"))?;
    let options = FitOptions {
        law: base.options().clone(),
        priors: !a.no_prior,
        ..FitOptions::default()
    };
    let fit_law = FitLaw::new(base, a.fix.as_deref(), a.tie.as_deref())?;
    let (table, origin) = load_table(&a.source, &a.table, name)?;
    let (table, _) = table.filtered(&a.table.filters())?;
    let sizes = size_groups(&table.n).len();
    let folds_planned = a.folds.min(sizes.saturating_sub(2)) as u64;
    let bar = indicatif::ProgressBar::new(folds_planned);
    bar.set_style(
        indicatif::ProgressStyle::with_template("rollout {bar:30} fold {pos}/{len}, {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let folds = rollout_sizes(fit_law.law(), &table, &options, a.folds, &|_| bar.inc(1))?;
    bar.finish_and_clear();
    fewer_folds(a.folds, folds.len());
    if a.json {
        outln!(
            "{}",
            to_json(&json!({
                "law": name,
                "path": origin,
                "sha256": table.sha256,
                "points": table.loss.len(),
                "sizes": sizes,
                "folds": folds,
            }))?
        );
    } else {
        out!(
            "{}",
            summary(
                name,
                &file.display().to_string(),
                table.loss.len(),
                sizes,
                &folds
            )
        );
    }
    Ok(())
}

/// Size law `name` with the options `eval --rollout n` gives it (`--variable`).
fn size_law(name: &str, a: &EvalArgs) -> Result<Box<dyn law::Law>> {
    law::build(
        name,
        LawOptions {
            variable: a.model.variable.clone(),
            ..LawOptions::default()
        },
    )
}

/// The size laws `--rollout n --law auto` compares.
const TABLE_LAWS: &[&str] = &[
    "chinchilla",
    "overtrain",
    "chinchilla-nd",
    "kaplan",
    "power",
];

/// One law's rollout in a comparison, or why it could not run.
#[derive(serde::Serialize)]
struct LawRollout {
    law: &'static str,
    /// Mean over folds of each fold's mean |relative error| (every fold counts once).
    mean_rel_err: Option<f64>,
    folds: Vec<RolloutFold>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `eval --rollout n --law auto`: every size law through the same folds, the best by the mean
/// of its folds' errors. Which final-loss law extrapolates a ladder best is a property of the
/// ladder, so the user's own sizes decide.
fn run_auto(a: &EvalArgs) -> Result<()> {
    if a.fix.is_some() || a.tie.is_some() {
        return Err(Error::input(
            "--fix and --tie constrain one named law; --law auto compares several (name the law \
             to constrain it)",
        ));
    }
    let file = a
        .source
        .file
        .as_ref()
        .ok_or_else(|| Error::input("--rollout n needs the table FILE"))?;
    let (table, origin) = load_table(&a.source, &a.table, "auto")?;
    let (table, _) = table.filtered(&a.table.filters())?;
    let sizes = size_groups(&table.n).len();
    let bar = indicatif::ProgressBar::new(TABLE_LAWS.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("rollout {bar:30} law {pos}/{len}, {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut results = Vec::new();
    for &name in TABLE_LAWS {
        let law = size_law(name, a)?;
        let options = FitOptions {
            law: law.options().clone(),
            ..FitOptions::default()
        };
        let r = match rollout_sizes(law.as_ref(), &table, &options, a.folds, &|_| {}) {
            Ok(folds) => LawRollout {
                law: name,
                mean_rel_err: Some(
                    folds.iter().map(|f| f.mean_rel_err).sum::<f64>() / folds.len() as f64,
                ),
                folds,
                error: None,
            },
            Err(e) => LawRollout {
                law: name,
                mean_rel_err: None,
                folds: Vec::new(),
                error: Some(e.to_string()),
            },
        };
        results.push(r);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let best = results
        .iter()
        .filter_map(|r| r.mean_rel_err.map(|m| (m, r.law)))
        .min_by(|x, y| x.0.total_cmp(&y.0))
        .map(|(_, l)| l)
        .ok_or_else(|| {
            Error::input(format!(
                "no size law could be rolled out on {}: {}",
                file.display(),
                results
                    .iter()
                    .filter_map(|r| r.error.as_deref())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
    if let Some(r) = results.iter().find(|r| r.law == best) {
        fewer_folds(a.folds, r.folds.len());
    }
    if a.json {
        outln!(
            "{}",
            to_json(&json!({
                "path": origin,
                "sha256": table.sha256,
                "points": table.loss.len(),
                "sizes": sizes,
                "laws": results,
                "best": best,
            }))?
        );
    } else {
        out!(
            "{}",
            auto_summary(
                &file.display().to_string(),
                table.loss.len(),
                sizes,
                &results,
                best
            )
        );
    }
    Ok(())
}

fn auto_summary(
    path: &str,
    points: usize,
    sizes: usize,
    results: &[LawRollout],
    best: &str,
) -> String {
    let folds = results.iter().map(|r| r.folds.len()).max().unwrap_or(0);
    let mut s = format!(
        "rollout of every size law over model size: {path} ({points} points, {sizes} sizes)\n\
         mean |relative error| on the held-out sizes; fold k holds out the k largest\n"
    );
    s += &format!("{:<15}", "law");
    for k in 1..=folds {
        s += &format!(" {:>9}", format!("fold {k}"));
    }
    s += &format!(" {:>9}\n", "mean");
    for r in results {
        s += &format!("{:<15}", r.law);
        match (&r.error, r.mean_rel_err) {
            (Some(e), _) => s += &format!(" failed: {e}"),
            (None, Some(m)) => {
                for f in &r.folds {
                    let mark = if f.trustworthy { ' ' } else { '!' };
                    s += &format!(" {:>7.3}%{mark}", 100.0 * f.mean_rel_err);
                }
                for _ in r.folds.len()..folds {
                    s += &format!(" {:>9}", "");
                }
                s += &format!(" {:>7.3}%", 100.0 * m);
                if r.law == best {
                    s += " *";
                }
            }
            (None, None) => {}
        }
        s += "\n";
    }
    s += "* lowest mean error; ! the fold's fit is not trustworthy\n";
    s
}

fn summary(law: &str, path: &str, points: usize, sizes: usize, folds: &[RolloutFold]) -> String {
    let mut s = format!(
        "rollout of {law} over model size: {path} ({points} points, {sizes} sizes)\n\
         relative error = (predicted - observed) / observed on the held-out sizes\n"
    );
    s += &format!(
        "{:>4} {:>26} {:>8} {:>7} {:>11} {:>11} {:>12}\n",
        "fold",
        "held out (largest N)",
        "fit pts",
        "points",
        "mean |err|",
        "max |err|",
        "trustworthy"
    );
    for (k, f) in folds.iter().enumerate() {
        let held = match f.held_out.as_slice() {
            [one] => format!("{one:.3e}"),
            many => format!(
                "{:.3e} .. {:.3e} ({})",
                many[0],
                many[many.len() - 1],
                many.len()
            ),
        };
        s += &format!(
            "{:>4} {:>26} {:>8} {:>7} {:>10.3}% {:>10.3}% {:>12}\n",
            k + 1,
            held,
            f.fit_points,
            f.points.len(),
            100.0 * f.mean_rel_err,
            100.0 * f.max_rel_err,
            if f.trustworthy { "yes" } else { "NO" }
        );
    }
    s
}

/// `eval --rollout params`: a joint law fitted on the smaller models' curves forecasts every
/// curve of the held-out larger models.
fn run_params(a: &EvalArgs) -> Result<()> {
    let name = a.model.law.as_deref().unwrap_or_default();
    let base = law::build(
        name,
        LawOptions {
            warmup_as_peak: a.model.warmup_as_peak,
            lambda: a.model.lambda.unwrap_or(LawOptions::default().lambda),
            ..LawOptions::default()
        },
    )?;
    if base.kind() != LawKind::Schedule {
        return Err(Error::input(format!(
            "--rollout params fits a joint size x schedule law to training curves; {name} is a \
             size law (use --rollout n with a table)"
        )));
    }
    if !base.uses_model_size() {
        return Err(Error::input(format!(
            "--rollout params forecasts larger models, which needs a law with a size term \
             (joint-additive, joint-scaled, collapse); {name} has none"
        )));
    }
    let plot_paths: Vec<PathBuf> = match &a.plot {
        Some(base) => (1..=a.folds).map(|k| fold_path(base, k)).collect(),
        None => Vec::new(),
    };
    let outs: Vec<Output> = plot_paths
        .iter()
        .map(|p| Output::new("--plot", p, Kind::Image))
        .collect();
    output::check(&outs, &a.source.input_paths()?)?;
    let runs = a.source.load()?;
    let options = FitOptions {
        law: base.options().clone(),
        priors: !a.no_prior,
        ..FitOptions::default()
    };
    let fit_law = FitLaw::new(base, a.fix.as_deref(), a.tie.as_deref())?;
    let bar = indicatif::ProgressBar::new(a.folds as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("rollout {bar:30} fold {pos}/{len}, {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut folds = rollout_runs(fit_law.law(), &runs, &options, a.folds, &|_| bar.inc(1))?;
    bar.finish_and_clear();
    fewer_folds(a.folds, folds.len());
    // Records and plots speak of the law the user named, not its --fix/--tie wrapper, as each
    // fold's fit left it (a collapse fold learned its own shape).
    let mut fold_laws = Vec::new();
    for f in &mut folds {
        let free = f.param_vector.clone();
        f.param_vector = fit_law.expand(&free);
        let law = law::build(fit_law.base().name(), f.law_options.clone())?;
        f.params = law
            .param_names()
            .iter()
            .map(|n| n.to_string())
            .zip(f.param_vector.iter().copied())
            .collect();
        fold_laws.push(law);
    }
    // Every fold's figure is drawn first, then all are written together or none.
    let mut figures = Vec::new();
    for ((f, path), law) in folds.iter().zip(&plot_paths).zip(&fold_laws) {
        let held: Vec<_> = runs
            .iter()
            .filter(|r| f.held_out.iter().any(|n| same_size(r.params, *n)))
            .cloned()
            .collect();
        let fig = crate::plot::FitPlot::new(law.as_ref(), &f.param_vector, &held)?;
        figures.push((
            path.as_path(),
            crate::plot::render_figure(&fig, output::image_format(path)?)?,
        ));
    }
    super::write_outputs(&figures)?;
    let plots: Vec<String> = figures
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    if a.json {
        outln!(
            "{}",
            to_json(&json!({ "law": name, "folds": folds, "plots": plots }))?
        );
    } else {
        out!("{}", params_summary(name, runs.len(), &folds));
    }
    Ok(())
}

/// Say so when the sizes allow fewer folds than asked for.
fn fewer_folds(asked: usize, ran: usize) {
    if ran < asked {
        super::model::print_warnings(&[format!(
            "--folds {asked}: the model sizes allow only {ran} fold(s), each keeping enough \
             sizes to fit on"
        )]);
    }
}

fn same_size(n: Option<f64>, held: f64) -> bool {
    n.is_some_and(|n| (n - held).abs() <= SIZE_TOL * held.abs())
}

/// `rollout-params.png` → `rollout-params-fold2.png`.
fn fold_path(base: &std::path::Path, k: usize) -> std::path::PathBuf {
    let stem = base
        .file_stem()
        .map_or("rollout".into(), |s| s.to_string_lossy());
    let ext = base
        .extension()
        .map_or("png".into(), |e| e.to_string_lossy());
    base.with_file_name(format!("{stem}-fold{k}.{ext}"))
}

fn params_summary(law: &str, runs: usize, folds: &[RunRolloutFold]) -> String {
    let mut s = format!(
        "rollout of {law} over model size: {runs} runs; each fold forecasts the held-out sizes' \
         whole curves\n"
    );
    for (k, f) in folds.iter().enumerate() {
        let held: Vec<String> = f.held_out.iter().map(|n| format!("{n:.3e}")).collect();
        s += &format!(
            "\nfold {}: fit on {} runs of {} size(s), held out N = {}{}\n",
            k + 1,
            f.fit_runs,
            f.fit_sizes,
            held.join(", "),
            if f.trustworthy {
                ""
            } else {
                "  (fit NOT trustworthy; see warnings)"
            }
        );
        s += &format!(
            "  {:<28} {:>10} {:>9} {:>9} {:>9} {:>9}\n",
            "run", "N", "R²", "MAE", "PredE", "WorstE"
        );
        for r in &f.runs {
            s += &format!(
                "  {:<28} {:>10.3e} {:>9.5} {:>9.5} {:>9.5} {:>9.5}\n",
                r.name, r.params, r.r2, r.mae, r.pred_e, r.worst_e
            );
        }
        let m = &f.test_mean;
        s += &format!(
            "  {:<28} {:>10} {:>9.5} {:>9.5} {:>9.5} {:>9.5}\n",
            "mean", "", m.r2, m.mae, m.pred_e, m.worst_e
        );
        for w in &f.warnings {
            s += &format!("  warning: {w}\n");
        }
    }
    s
}

/// `eval --rollout shape`: does the ladder collapse? The shape half of a collapse forecast,
/// scored alone (each held-out curve anchored at its own observed final loss).
fn run_shape(a: &EvalArgs) -> Result<()> {
    if a.source.manifest.is_none() {
        return Err(Error::input(
            "--rollout shape needs --manifest M.toml whose runs carry params = N",
        ));
    }
    let runs = a.source.load()?;
    let (folds, skipped) = rollout_shape(&runs)?;
    let mean = |f: fn(&ShapeFold) -> f64| folds.iter().map(f).sum::<f64>() / folds.len() as f64;
    let (mean_plain, mean_trend) = (mean(|f| f.pred_e_mean), mean(|f| f.pred_e_trend));
    if a.json {
        outln!(
            "{}",
            to_json(&json!({
                "folds": folds,
                "skipped": skipped,
                "mean_pred_e_mean_shape": mean_plain,
                "mean_pred_e_trend": mean_trend,
            }))?
        );
        return Ok(());
    }
    outln!(
        "shape rollout: per schedule, the largest size's curve from the smaller sizes' normalised \
         shape, anchored at its own final loss (the shape's error alone)"
    );
    outln!(
        "{:<28} {:>12} {:>7} {:>11} {:>11} {:>11}",
        "held out",
        "horizon",
        "points",
        "PredE mean",
        "PredE trend",
        "max spread"
    );
    for f in &folds {
        let spread = f.spread.iter().copied().fold(0.0, f64::max);
        outln!(
            "{:<28} {:>12} {:>7} {:>10.3}% {:>10.3}% {:>10.3}%",
            f.held_out,
            f.horizon,
            f.points,
            100.0 * f.pred_e_mean,
            100.0 * f.pred_e_trend,
            100.0 * spread
        );
    }
    outln!(
        "{:<28} {:>12} {:>7} {:>10.3}% {:>10.3}%",
        "mean",
        "",
        "",
        100.0 * mean_plain,
        100.0 * mean_trend
    );
    let warnings: Vec<String> = folds
        .iter()
        .flat_map(|f| {
            f.warnings
                .iter()
                .map(move |w| format!("{}: {w}", f.held_out))
        })
        .chain(skipped.iter().map(|s| format!("skipped {s}")))
        .collect();
    super::model::print_warnings(&warnings);
    Ok(())
}
