//! `losscast isoflop`: compute-optimal scaling from IsoFLOP sweeps.

use super::source::TableArgs;
use super::to_json;
use crate::error::{Error, Result};
use crate::output::{self, Kind, Output};
use crate::plot;
use crate::sizes::isoflop::{analyse_file, IsoflopOptions, IsoflopRecord, Scaling};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(super) struct IsoflopArgs {
    /// Table of runs (CSV, JSON lines or Parquet) with model size, compute (or tokens) and loss.
    file: PathBuf,
    #[command(flatten)]
    table: TableArgs,
    /// Loss column (default: auto-detect).
    #[arg(long)]
    loss_col: Option<String>,
    /// Sizes per budget fitted around the lowest loss (0: all sizes of the budget).
    #[arg(long, default_value_t = IsoflopOptions::default().window)]
    window: usize,
    /// Points whose compute differs by at most this relative amount share a budget.
    #[arg(long, default_value_t = IsoflopOptions::default().budget_tol)]
    budget_tol: f64,
    /// Write the analysis (with provenance) as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Draw the IsoFLOP curves and their minima (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Print the analysis as JSON.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(a: IsoflopArgs) -> Result<()> {
    let opts = IsoflopOptions {
        window: a.window,
        budget_tol: a.budget_tol,
    };
    let mut outs = Vec::new();
    if let Some(p) = &a.out {
        outs.push(Output::new("--out", p, Kind::Text));
    }
    if let Some(p) = &a.plot {
        outs.push(Output::new("--plot", p, Kind::Image));
    }
    output::check(&outs, std::slice::from_ref(&a.file))?;
    let filters = a.table.filters();
    let rec = analyse_file(
        &a.file,
        &a.table.columns(a.loss_col.clone()),
        &filters,
        &opts,
    )?;
    // Without an exponent there is no answer: the per-budget table says what was found, the
    // exit code that it was not enough, and no file claims a result.
    if rec.result.parabola.is_none() && rec.result.cubic.is_none() {
        if a.json {
            outln!("{}", to_json(&rec)?);
        } else {
            out!("{}", summary(&rec));
        }
        let found = rec
            .result
            .budgets
            .iter()
            .filter(|b| b.parabola.as_ref().is_some_and(|f| f.n_opt.is_some()))
            .count();
        return Err(Error::failed(format!(
            "no IsoFLOP exponent: {found} of {} budgets have a loss minimum inside their model \
             sizes, and a slope needs 2 (where the loss only falls or only rises across a \
             budget's sizes, the sweep does not bracket its optimum: add smaller or larger \
             models)",
            rec.result.budgets.len()
        )));
    }
    // Both outputs are made in memory first, then written together or not at all.
    let mut files: Vec<(&std::path::Path, Vec<u8>)> = Vec::new();
    if let Some(path) = &a.out {
        files.push((path, rec.to_bytes()?));
    }
    if let Some(path) = &a.plot {
        let fig = plot::isoflop::IsoflopPlot {
            title: plot_title(&rec),
            result: &rec.result,
        };
        files.push((
            path,
            plot::render_figure(&fig, output::image_format(path)?)?,
        ));
    }
    super::write_outputs(&files)?;
    if a.json {
        outln!("{}", to_json(&rec)?);
    } else {
        out!("{}", summary(&rec));
    }
    Ok(())
}

fn plot_title(rec: &IsoflopRecord) -> String {
    let a = |s: &Option<Scaling>| {
        s.as_ref()
            .map_or("n/a".into(), |s| format!("{:.3}", s.n_opt.exponent))
    };
    format!(
        "IsoFLOP: N_opt ∝ C^a, a = {} (parabola), {} (cubic)",
        a(&rec.result.parabola),
        a(&rec.result.cubic)
    )
}

fn summary(rec: &IsoflopRecord) -> String {
    let r = &rec.result;
    let mut s = format!(
        "IsoFLOP analysis of {} ({} points, {} budgets, window {})\n",
        rec.data.path,
        rec.data.points_used,
        r.budgets.len(),
        if r.options.window == 0 {
            "all".to_string()
        } else {
            r.options.window.to_string()
        }
    );
    s += &format!(
        "{:>11} {:>6} {:>12} {:>9} {:>12} {:>9}\n",
        "compute", "sizes", "N_opt(par)", "loss", "N_opt(cub)", "loss"
    );
    let cell = |f: &Option<crate::sizes::isoflop::ShapeFit>| match f
        .as_ref()
        .and_then(|f| f.n_opt.zip(f.loss_opt))
    {
        Some((n, l)) => format!("{n:>12.4e} {l:>9.4}"),
        None => format!("{:>12} {:>9}", "-", "-"),
    };
    for b in &r.budgets {
        s += &format!(
            "{:>11.3e} {:>6} {} {}\n",
            b.compute,
            b.n.len(),
            cell(&b.parabola),
            cell(&b.cubic)
        );
    }
    for (name, sc) in [("parabola", &r.parabola), ("cubic", &r.cubic)] {
        match sc {
            Some(sc) => {
                let se = |p: &crate::sizes::isoflop::PowerLaw| {
                    p.exponent_stderr
                        .map_or(String::new(), |e| format!(" ± {e:.3}"))
                };
                s += &format!(
                    "{name:<9} N_opt ∝ C^{:.4}{} (R² {:.4}, {} budgets);  D_opt ∝ C^{:.4}{}\n",
                    sc.n_opt.exponent,
                    se(&sc.n_opt),
                    sc.n_opt.r2,
                    sc.n_opt.budgets,
                    sc.d_opt.exponent,
                    se(&sc.d_opt)
                );
            }
            None => s += &format!("{name:<9} no exponent: fewer than 2 budgets have an optimum\n"),
        }
    }
    for w in &r.warnings {
        s += &format!("warning: {w}\n");
    }
    s
}
