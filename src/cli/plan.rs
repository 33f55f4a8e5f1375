//! `losscast plan --fit F.json --total T --peak P`: rank schedules by predicted final loss, draw
//! the best ones, and optionally optimise a free-form schedule.

use super::to_json;
use crate::error::{Error, Result};
use crate::law::LawKind;
use crate::output::{self, Kind, Output};
use crate::plan::free::{self, FreeOptions};
use crate::plan::grid::{self, Frame, FAMILIES};
use crate::plan::{self as planner, Candidate};
use crate::plot::render_figure;
use crate::schedule;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct PlanArgs {
    /// Fit file of a schedule law (annealing, multipower, joint-additive, joint-scaled).
    #[arg(long)]
    fit: PathBuf,
    /// Steps of the planned run.
    #[arg(long, value_parser = super::lists::steps)]
    total: u64,
    /// Peak LR.
    #[arg(long)]
    peak: f64,
    /// Warmup steps (linear from 0 to the peak).
    #[arg(long, default_value_t = 0, value_parser = super::lists::steps)]
    warmup: u64,
    /// Model size N of the planned run (joint size × schedule fits).
    #[arg(long)]
    params: Option<f64>,
    /// Schedule families to search: wsd, cosine, linear, steps, constant (default: all of
    /// them, unless --grid is given).
    #[arg(long, value_delimiter = ',', value_parser = super::lists::name)]
    families: Vec<String>,
    /// A grid of schedules, e.g. "wsd:decay_frac=0.05..0.5/0.05,shape=linear|sqrt|exp"
    /// (ranges a..b/step, lists x|y; also decay_frac and end_frac, the end LR as a share of
    /// the peak, default 0, or 0.01 for exp decays, which cannot reach 0); may be repeated.
    #[arg(long)]
    grid: Vec<String>,
    /// Rows of the ranked table to print (--json prints all).
    #[arg(long, default_value_t = 15)]
    top: usize,
    /// Draw the best candidates' predicted curves over their schedules here (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// How many candidates the plot shows.
    #[arg(long, default_value_t = 5)]
    plot_top: usize,
    /// Also optimise a free-form non-increasing schedule (warmup and peak fixed) by gradient
    /// descent on the law's prediction.
    #[arg(long)]
    free: bool,
    /// Where --free writes its schedule: a step,lr CSV usable as --schedule file:PATH.
    #[arg(long, requires = "free")]
    free_out: Option<PathBuf>,
    /// Blocks of the free-form schedule after warmup, each at one LR (default: one per step).
    #[arg(long, requires = "free")]
    knots: Option<usize>,
    /// Central level of the final-loss intervals, from the fit's calibration.
    #[arg(long, default_value_t = crate::forecast::interval::DEFAULT_LEVEL)]
    level: f64,
    /// Seed of the parameter draws the probabilities are computed on.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print {"candidates": [...]} as JSON, best first.
    #[arg(long)]
    json: bool,
}

/// The files a plan writes: what `plan` checks before work, and what `report --plan` checks
/// with its own page before it fits anything.
pub(super) fn outputs(a: &PlanArgs) -> Vec<Output> {
    let mut outs = Vec::new();
    if let Some(p) = &a.plot {
        outs.push(Output::new("--plot", p, Kind::Image));
    }
    if let Some(p) = &a.free_out {
        outs.push(Output::new("--free-out", p, Kind::Text));
    }
    outs
}

pub(super) fn run(a: PlanArgs, given: super::applies::Given) -> Result<()> {
    if a.json {
        given.refuse(
            &["top"],
            "it limits the printed table; --json prints every candidate",
        )?;
    }
    if a.plot.is_none() {
        given.refuse(&["plot_top"], "it sets how many candidates --plot draws")?;
    }
    if a.plot_top == 0 {
        return Err(Error::input("--plot-top must be at least 1"));
    }
    if a.knots == Some(0) {
        return Err(Error::input("--knots must be at least 1"));
    }
    output::check(&outputs(&a), std::slice::from_ref(&a.fit))?;
    let rec = super::embedded::read_fit(&a.fit)?;
    let law = rec
        .build_law()
        .map_err(|e| Error::file(&a.fit, e.to_string()))?;
    if law.kind() == LawKind::Table {
        return Err(Error::input(format!(
            "{}: law {} has no schedule; plan needs a schedule law fit",
            a.fit.display(),
            law.name()
        )));
    }
    if law.learn(&[], &|_, _| None).is_some() {
        return Err(Error::input(format!(
            "{}: law {} forecasts only the schedules its ladder ran, so it cannot rank new ones; \
             plan with a schedule law (annealing, multipower, joint-*), or compare the ladder's \
             schedules with predict",
            a.fit.display(),
            law.name()
        )));
    }
    let params = rec
        .param_vector(law.as_ref())
        .map_err(|e| Error::file(&a.fit, e.to_string()))?;
    if a.params.is_none() && law.uses_model_size() {
        return Err(Error::input(format!(
            "{} is a joint size x schedule law: give --params N, the model size to plan for",
            law.name()
        )));
    }
    if a.params.is_some() && !law.uses_model_size() {
        return Err(Error::input(format!(
            "--params (a model size N) applies to joint size x schedule fits; {} has no N",
            law.name()
        )));
    }
    let warnings: Vec<String> = rec.trust_warning(&a.fit).into_iter().collect();
    super::model::print_warnings(&warnings);
    let frame = Frame {
        total: a.total,
        peak: a.peak,
        warmup: a.warmup,
    };
    planner::check_frame(&frame)?;
    let families: Vec<String> = if a.families.is_empty() && a.grid.is_empty() {
        FAMILIES.iter().map(|s| s.to_string()).collect()
    } else {
        a.families.clone()
    };
    let (specs, left_out) = grid::candidates(&families, &a.grid, frame)?;
    super::model::print_warnings(&left_out);
    let domain = rec.domain.as_ref();
    let level = crate::forecast::interval::check_level(a.level)?;
    let intervals = crate::forecast::interval::Source::of(&rec, level);
    let planner::Ranking {
        mut ranked,
        unranked,
        ends,
    } = planner::rank(
        law.as_ref(),
        &params,
        domain,
        &specs,
        a.params,
        &rec.gate(),
        intervals.as_ref(),
    )?;
    match &intervals {
        Some(iv) => {
            planner::add_uncertainty(law.as_ref(), &params, &mut ranked, &ends, iv, a.seed)?
        }
        None if !a.json => errln!(
            "note: no intervals or probabilities: {}",
            crate::forecast::interval::Source::missing(Some(&rec))
        ),
        None => {}
    }
    let best = &ranked[0];

    let free = if a.free {
        let sched = schedule::parse(&best.spec, Path::new(""))?;
        let start = sched.lr_array(a.total as usize + 1);
        let spread = ranked.last().map_or(0.0, |w| w.final_loss_pred) - best.final_loss_pred;
        let f = free::optimise(
            law.as_ref(),
            &params,
            a.params,
            frame,
            &start,
            spread,
            FreeOptions {
                knots: a.knots,
                ..FreeOptions::default()
            },
        )?;
        let (s1, s2) = planner::end_areas(law.as_ref(), &f.lr);
        let (extrapolation, reasons) = planner::extrapolation(domain, s1, s2, a.params);
        Some((f, extrapolation, reasons))
    } else {
        None
    };

    // The free schedule and the figure are made first, then written together or not at all.
    let mut files: Vec<(&Path, Vec<u8>)> = Vec::new();
    if let (Some(path), Some((f, _, _))) = (&a.free_out, &free) {
        files.push((path, free::to_csv(&f.lr).into_bytes()));
    }
    if let Some(path) = &a.plot {
        let figure = planner::figure(
            law.as_ref(),
            &params,
            &ranked,
            frame,
            a.params,
            a.plot_top,
            free.as_ref()
                .map(|(f, ex, _)| (f.lr.as_slice(), f.final_loss_pred, *ex == Some(true))),
            intervals.as_ref(),
        )?;
        files.push((path, render_figure(&figure, output::image_format(path)?)?));
    }
    super::write_outputs(&files)?;
    let shown = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());

    if a.json {
        let free_json = free.as_ref().map(|(f, ex, reasons)| {
            json!({
                "path": shown(&a.free_out),
                "final_loss_pred": f.final_loss_pred,
                "gain_over_best_family": best.final_loss_pred - f.final_loss_pred,
                "extrapolation": ex,
                "reasons": reasons,
                "iterations": f.iterations,
                "termination": f.termination,
            })
        });
        outln!(
            "{}",
            to_json(&json!({
                "law": law.name(),
                "fit": a.fit.display().to_string(),
                "fit_trustworthy": rec.trustworthy,
                "warnings": warnings,
                "total": a.total, "peak": a.peak, "warmup": a.warmup, "params": a.params,
                "level": intervals.as_ref().map(|_| level),
                "candidates": ranked,
                "unranked": unranked,
                "best": best.spec,
                "free": free_json,
                "plot": shown(&a.plot),
            }))?
        );
        return Ok(());
    }
    out!("{}", table(&ranked, a.top, level));
    if let Some(u) = unranked.first() {
        outln!(
            "not ranked: {} candidate(s) without a finite positive forecast (--json lists them), e.g. {}: \
             {}",
            unranked.len(),
            u.spec,
            u.reason
        );
    }
    outln!("best: {}", best.spec);
    if best.extrapolation == Some(true) {
        match ranked.iter().find(|c| c.extrapolation == Some(false)) {
            Some(c) => outln!(
                "best within the fit runs' range: {} ({:.4}); the law extrapolates to the best",
                c.spec,
                c.final_loss_pred
            ),
            None => outln!("every candidate extrapolates beyond the fit runs"),
        }
    }
    if domain.is_none() {
        outln!("(the fit file has no domain; refit to mark extrapolations)");
    }
    if let Some((f, ex, reasons)) = &free {
        outln!(
            "free-form: predicted final loss {:.5}, {:+.5} vs the best family member ({} \
             iterations, {}){}; {}",
            f.final_loss_pred,
            f.final_loss_pred - best.final_loss_pred,
            f.iterations,
            f.termination,
            if *ex == Some(true) {
                format!(" — extrapolation: {}", reasons.join("; "))
            } else {
                String::new()
            },
            match &a.free_out {
                Some(p) => format!("saved to {}", p.display()),
                None => "not saved (--free-out PATH writes it as a step,lr CSV)".into(),
            }
        );
    }
    Ok(())
}

fn table(ranked: &[Candidate], top: usize, level: f64) -> String {
    let best = ranked[0].final_loss_pred;
    let bands = ranked[0].lo.is_some();
    let probs = ranked[0].p_beats_best.is_some();
    let mut s = format!("{:>4} {:>10} ", "rank", "final loss");
    if bands {
        s += &format!("{:>17} ", format!("{:.0} % interval", 100.0 * level));
    }
    s += &format!("{:>9} ", "vs best");
    if probs {
        s += &format!("{:>10} ", "P(beats 1)");
    }
    s += &format!("{:>6}  {}\n", "extrap", "schedule");
    for (i, c) in ranked.iter().take(top).enumerate() {
        let ex = match c.extrapolation {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        s += &format!("{:>4} {:>10.5} ", i + 1, c.final_loss_pred);
        if let (Some(lo), Some(hi)) = (c.lo, c.hi) {
            s += &format!("{:>17} ", format!("{lo:.4}–{hi:.4}"));
        }
        s += &format!("{:>+9.5} ", c.final_loss_pred - best);
        if probs {
            let p = match (i, c.p_beats_best, c.indistinct) {
                (0, ..) => "–".to_string(),
                (_, Some(_), Some(true)) => "≈ same".to_string(),
                (_, Some(p), _) => format!("{:.0} %", 100.0 * p),
                _ => "?".into(),
            };
            s += &format!("{p:>10} ");
        }
        s += &format!("{ex:>6}  {}\n", c.spec);
    }
    if probs {
        s += &format!(
            "P(beats 1): chance the candidate ends below rank 1, over {} parameter draws and the \
             law's own error on schedule differences (as the backtest of the fit runs measured \
             it); ≈ same: indistinguishable from rank 1 (a chance of at least {:.0} %)\n",
            planner::DRAWS,
            100.0 * planner::INDISTINCT
        );
    }
    if ranked.len() > top {
        s += &format!("({} more; --top N or --json for all)\n", ranked.len() - top);
    }
    s
}
