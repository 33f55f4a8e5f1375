//! `losscast plot`: observed against predicted curves (one law or several overlaid), or a size
//! law's figures over its table.

use super::applies::{self, Given};
use super::model::{print_warnings, Fitted, ModelArgs};
use super::source::{load_table, RunSource, TableArgs};
use crate::error::{Error, Result};
use crate::fit::bootstrap::Bootstrap;
use crate::law::{Law, LawKind, TablePoints};
use crate::output::{self, Kind, Output};
use crate::plot;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(super) struct PlotArgs {
    #[command(flatten)]
    pub(super) model: ModelArgs,
    #[command(flatten)]
    pub(super) source: RunSource,
    #[command(flatten)]
    pub(super) table: TableArgs,
    /// Figure of a size-law fit: parity (predicted vs observed), compute (loss vs compute with
    /// iso-N curves and the frontier), frontier (N_opt and D_opt vs compute), bootstrap
    /// (histograms of the exponents). Schedule laws always plot curves.
    #[arg(long, default_value = "parity", value_parser = ["parity", "compute", "frontier", "bootstrap"])]
    pub(super) kind: String,
    /// Largest compute of the frontier figure (default: 100 × the largest observed).
    #[arg(long)]
    pub(super) compute_max: Option<f64>,
    /// Output image, .png or .svg.
    #[arg(long)]
    pub(super) out: PathBuf,
}

pub(super) fn run(a: PlotArgs, given: Given) -> Result<()> {
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
        [m] => m.record().and_then(|r| {
            crate::forecast::interval::Source::of(r, crate::forecast::interval::DEFAULT_LEVEL)
        }),
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

/// The figures of a size law over its table of runs (`plot --kind`).
pub(super) fn plot_table(
    a: &PlotArgs,
    law: &dyn Law,
    params: &[f64],
    boot: Option<&Bootstrap>,
) -> Result<()> {
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
pub(super) fn interval_of(b: &Bootstrap, name: &str) -> [f64; 2] {
    b.intervals.get(name).copied().unwrap_or([f64::NAN; 2])
}
