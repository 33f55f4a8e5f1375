//! `losscast demo`: the whole path (fit, eval, predict, plot, compare, IsoFLOP, joint laws,
//! planning) on the bundled data, so a newcomer
//! sees every output once with one command. It calls the same library functions as the other
//! subcommands; nothing here is demo-only numerics.

use super::format;
use crate::backtest::compare;
use crate::error::{Error, Result};
use crate::fit::{self, FitOptions};
use crate::forecast::predict;
use crate::ingest::table::{TableColumns, TableFilters};
use crate::law::{self, LawOptions};
use crate::plot;
use crate::runs::manifest;
use crate::runs::{self, Run};
use crate::schedule;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct DemoArgs {
    /// Folder holding the bundled data (default: ./data, else the source checkout's data/).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where fit files go.
    #[arg(long, default_value = "fits")]
    fits: PathBuf,
    /// Where plots go.
    #[arg(long, default_value = "plots")]
    plots: PathBuf,
}

fn data_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    let candidates = match given {
        Some(d) => vec![d],
        None => vec![
            PathBuf::from("data"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
        ],
    };
    candidates
        .into_iter()
        .find(|d| d.join("mpl400.toml").is_file())
        .ok_or_else(|| {
            Error::input(
                "bundled data not found: run from the losscast checkout or pass --data DIR",
            )
        })
}

fn load(manifest: &Path) -> Result<Vec<Run>> {
    manifest::load(manifest)?.iter().map(runs::load).collect()
}

pub fn run(a: DemoArgs) -> Result<()> {
    let data = data_dir(a.data)?;
    // Both folders must take files before the first fit runs, and neither may be the data.
    crate::output::check(
        &[
            crate::output::Output::new(
                "--fits",
                &a.fits.join("demo-check.json"),
                crate::output::Kind::Text,
            ),
            crate::output::Output::new(
                "--plots",
                &a.plots.join("demo-check.png"),
                crate::output::Kind::Image,
            ),
        ],
        &[],
    )?;
    for (flag, dir) in [("--fits", &a.fits), ("--plots", &a.plots)] {
        if crate::output::same_place(dir, &data) {
            return Err(Error::input(format!(
                "{flag} {}: is the data folder the demo reads",
                dir.display()
            )));
        }
    }

    outln!("== 1. Tissue et al. reference points, warmup counted at peak (laws.md §1)");
    let law = law::build(
        "annealing",
        LawOptions {
            warmup_as_peak: true,
            ..LawOptions::default()
        },
    )?;
    let tissue = load(&data.join("tissue2024.toml"))?;
    let options = FitOptions {
        law: law.options().clone(),
        ..FitOptions::default()
    };
    let rec = fit::fit(law.as_ref(), &tissue, &options)?;
    let out = a.fits.join("demo-tissue2024-annealing.json");
    rec.save(&out)?;
    out!("{}", format::fit_summary(&rec, law.param_names()));
    outln!("wrote {}", out.display());
    let params = rec.param_vector(law.as_ref())?;
    let png = a.plots.join("demo-tissue2024-annealing.png");
    plot::plot_fit(law.as_ref(), &params, &tissue, &png)?;
    outln!("wrote {}\n", png.display());

    outln!("== 2. Multi-Power-Law 400M runs: fit on 3 schedules, forecast 6 others (laws.md §2)");
    let law = law::build("annealing", LawOptions::default())?;
    let mpl = load(&data.join("mpl400.toml"))?;
    let options = FitOptions {
        law: law.options().clone(),
        ..FitOptions::default()
    };
    let mut rec = fit::fit(law.as_ref(), &mpl, &options)?;
    // Intervals, as `fit` calibrates them: a backtest of the three fit runs.
    if let Some(c) =
        crate::backtest::calibration::self_calibrate(&mpl, "annealing", &options, &|_, _| {})?
    {
        c.store(&mut rec);
    }
    let out = a.fits.join("demo-mpl400-annealing.json");
    rec.save(&out)?;
    out!("{}", format::fit_summary(&rec, law.param_names()));
    outln!("wrote {}", out.display());
    let params = rec.param_vector(law.as_ref())?;
    let (per_run, fit_mean, test_mean) = fit::evaluate(law.as_ref(), &params, &mpl)?;
    outln!("\nheld-out evaluation:");
    out!(
        "{}",
        format::metrics_table(&per_run, fit_mean.as_ref(), test_mean.as_ref())
    );
    let png = a.plots.join("demo-mpl400-annealing.png");
    match crate::forecast::interval::Source::of(&rec, crate::forecast::interval::DEFAULT_LEVEL) {
        Some(iv) => plot::plot_fit_with_bands(law.as_ref(), &params, &mpl, &iv, &png)?,
        None => plot::plot_fit(law.as_ref(), &params, &mpl, &png)?,
    }
    outln!("wrote {}", png.display());

    let spec = "wsd:peak=3e-4,end=3e-5,warmup=2160,total=72000,decay_start=64800,shape=sqrt";
    outln!("\n== 3. Forecast of a run not trained: {spec}");
    let sched = schedule::parse(spec, Path::new(""))?;
    let steps = predict::parse_steps("8000:72000:8000")?;
    let iv = crate::forecast::interval::Source::of(&rec, crate::forecast::interval::DEFAULT_LEVEL);
    let preds = predict::predict_with_intervals(
        law.as_ref(),
        &params,
        &sched,
        &steps,
        None,
        iv.as_ref(),
        &rec.gate(),
    )?;
    out!("{}", predict::to_csv(&preds));

    outln!(
        "\n== 4. Which law forecasts these runs best? annealing vs Multi-Power Law (laws.md §2)"
    );
    let laws = ["annealing".to_string(), "multipower".to_string()];
    // The papers' recipe (every point once), so the table matches laws.md §2.
    let result = compare::compare(&laws, &mpl, &LawOptions::default(), Some("points"), false)?;
    out!("{}", compare::table(&result));
    let mut fitted = Vec::new();
    for row in &result.rows {
        // Not demo-mpl400-annealing.json: that is step 2's fit, with its intervals, which the
        // plan of step 7 reads.
        let out = a.fits.join(format!("demo-mpl400-compare-{}.json", row.law));
        row.record.save(&out)?;
        outln!("wrote {}", out.display());
        let law = row.record.build_law()?;
        let params = row.record.param_vector(law.as_ref())?;
        fitted.push((law, params));
    }
    let models = plot::Model::from_laws(&fitted);
    let png = a.plots.join("demo-mpl400-compare.png");
    plot::plot_models(&models, &mpl, &png)?;
    outln!("wrote {}", png.display());

    outln!("\n== 5. Compute-optimal scaling from IsoFLOP sweeps (Porian et al. 2024, tuned setup)");
    let columns = TableColumns {
        c: Some("flops".into()),
        rows_where:
            "dataset=rw,hparams=tuned,warmup=short,decay=const,param_count=standard,val=val"
                .split(',')
                .map(String::from)
                .collect(),
        ..TableColumns::default()
    };
    let rec = crate::sizes::isoflop::analyse_file(
        &data.join("porian2024/isoflop_points.csv"),
        &columns,
        &TableFilters::default(),
        &crate::sizes::isoflop::IsoflopOptions::default(),
    )?;
    for (shape, sc) in [
        ("parabola", &rec.result.parabola),
        ("cubic", &rec.result.cubic),
    ] {
        if let Some(sc) = sc {
            outln!(
                "{shape:<9} N_opt ∝ C^{:.3}, D_opt ∝ C^{:.3} over {} budgets (paper: N_opt ∝ C^0.497)",
                sc.n_opt.exponent, sc.d_opt.exponent, sc.n_opt.budgets
            );
        }
    }
    let out = a.fits.join("demo-isoflop.json");
    rec.save(&out)?;
    outln!("wrote {}", out.display());
    let png = a.plots.join("demo-isoflop.png");
    plot::save_figure(
        &plot::isoflop::IsoflopPlot {
            title: "IsoFLOP curves, Porian et al. (2024), tuned hyperparameters".into(),
            result: &rec.result,
        },
        &png,
    )?;
    outln!("wrote {}", png.display());

    outln!(
        "\n== 6. A larger model's curves from smaller ones: joint-additive fitted on the 25M and \
         100M runs forecasts all nine 400M curves (laws.md §4). Two sizes cannot determine the \
         size exponent, so it is fixed at Chinchilla's 0.34."
    );
    let base = law::build("joint-additive", LawOptions::default())?;
    let fixed = law::constrained::parse_fixed(base.as_ref(), "beta=0.34")?;
    let joint = law::constrained::Constrained::new(base, fixed, vec![])?;
    let all = load(&data.join("mpl_joint.toml"))?;
    let folds =
        crate::backtest::rollout::rollout_runs(&joint, &all, &FitOptions::default(), 1, &|_| {})?;
    let f = &folds[0];
    outln!(
        "fold 1: fit on {} runs of {} sizes; held-out 400M curves: mean R² {:.4}, MAE {:.4}, \
         PredE {:.4}, WorstE {:.4}",
        f.fit_runs,
        f.fit_sizes,
        f.test_mean.r2,
        f.test_mean.mae,
        f.test_mean.pred_e,
        f.test_mean.worst_e
    );
    let held: Vec<Run> = all
        .iter()
        .filter(|r| r.params == Some(4e8))
        .cloned()
        .collect();
    let full = joint.expand(&f.param_vector);
    let png = a.plots.join("demo-mpl-joint-rollout.png");
    plot::plot_fit(joint.inner(), &full, &held, &png)?;
    outln!("wrote {}", png.display());
    outln!(
        "   The same forecast by scaling collapse: each schedule's shape from the 25M and 100M \
         curves, times a final-loss anchor fitted through it (alpha held near Chinchilla's 0.34)."
    );
    let collapse = law::build("collapse", LawOptions::default())?;
    let rec = crate::fit::fit(
        collapse.as_ref(),
        &all,
        &FitOptions {
            priors: true,
            ..FitOptions::default()
        },
    )?;
    let learned = rec.build_law()?;
    let params = rec.param_vector(learned.as_ref())?;
    let (_, _, test) = crate::fit::evaluate(learned.as_ref(), &params, &all)?;
    if let Some(m) = test {
        outln!(
            "   collapse, held-out 400M curves: mean R² {:.4}, MAE {:.4}, PredE {:.4}, WorstE {:.4}",
            m.r2, m.mae, m.pred_e, m.worst_e
        );
    }
    let png = a.plots.join("demo-mpl-collapse.png");
    plot::plot_fit(learned.as_ref(), &params, &held, &png)?;
    outln!("wrote {}", png.display());

    outln!("\n== 7. Plan a 24 000-step 400M run: rank schedules under the annealing fit of step 2");
    let rec = crate::fit::FitRecord::load(&a.fits.join("demo-mpl400-annealing.json"))?;
    let law = rec.build_law()?;
    let params = rec.param_vector(law.as_ref())?;
    let frame = crate::plan::grid::Frame {
        total: 24000,
        peak: 3e-4,
        warmup: 2160,
    };
    let families: Vec<String> = crate::plan::grid::FAMILIES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (specs, _) = crate::plan::grid::candidates(&families, &[], frame)?;
    let iv = crate::forecast::interval::Source::of(&rec, crate::forecast::interval::DEFAULT_LEVEL);
    let crate::plan::Ranking {
        mut ranked, ends, ..
    } = crate::plan::rank(
        law.as_ref(),
        &params,
        rec.domain.as_ref(),
        &specs,
        None,
        &rec.gate(),
        iv.as_ref(),
    )?;
    if let Some(iv) = &iv {
        crate::plan::add_uncertainty(law.as_ref(), &params, &mut ranked, &ends, iv, 1)?;
    }
    for (i, c) in ranked.iter().take(5).enumerate() {
        outln!(
            "{:>2}. {:.5}{}{}{}  {}",
            i + 1,
            c.final_loss_pred,
            match (c.lo, c.hi) {
                (Some(lo), Some(hi)) => format!(" [{lo:.4}, {hi:.4}]"),
                _ => String::new(),
            },
            match (c.p_beats_best, c.indistinct) {
                (Some(_), Some(true)) if i > 0 => " indistinguishable from 1".to_string(),
                (Some(p), _) if i > 0 => format!(" P(beats 1) {:.0} %", 100.0 * p),
                _ => String::new(),
            },
            if c.extrapolation == Some(true) {
                " (extrapolation)"
            } else {
                ""
            },
            c.spec
        );
    }
    let png = a.plots.join("demo-plan.png");
    let figure = crate::plan::figure(
        law.as_ref(),
        &params,
        &ranked,
        frame,
        None,
        5,
        None,
        iv.as_ref(),
    )?;
    plot::save_figure(&figure, &png)?;
    outln!("wrote {}", png.display());
    outln!(
        "   (full table, grids and a free-form schedule: losscast plan --fit {} --total 24000 \
         --peak 3e-4 --warmup 2160 --free)",
        a.fits.join("demo-mpl400-annealing.json").display()
    );

    outln!(
        "\n== 8. How well would the annealing law have forecast these runs? Backtest on the nine \
         400M curves: leave each schedule out, and fit the shorter runs to forecast the longer"
    );
    let plan = crate::backtest::Plan {
        nested: false,
        inner: false,
        tasks: vec![
            crate::backtest::Task::Schedule,
            crate::backtest::Task::Horizon,
        ],
        methods: vec![crate::backtest::Method::new(
            "annealing",
            &LawOptions::default(),
        )],
    };
    let b = crate::backtest::run(&mpl, &plan, &|_, _| {})?;
    for s in &b.summary {
        outln!(
            "{:<9} {} folds: mean PredE {:.3} %, last-point error {:.3} %",
            s.task.name(),
            s.folds,
            100.0 * s.pred_e.unwrap_or(f64::NAN),
            100.0 * s.final_err.unwrap_or(f64::NAN)
        );
    }
    if let Some(fig) = crate::plot::backtest::BacktestPlot::of(&b, crate::backtest::Task::Schedule)
    {
        let png = a.plots.join("demo-backtest-schedule.png");
        plot::save_figure(&fig, &png)?;
        outln!("wrote {}", png.display());
    }
    outln!(
        "   (every law, task and fold: losscast backtest --manifest {})",
        data.join("mpl400.toml").display()
    );

    outln!(
        "\n== 9. One page of the 400M study: both laws, forecasts, a plan, provenance (open it \
         in a browser; it loads nothing from the network)"
    );
    let page = a.plots.join("demo-report.html");
    super::report::run(super::report::ReportArgs {
        source: super::source::RunSource {
            manifest: Some(data.join("mpl400.toml")),
            ..Default::default()
        },
        table: Default::default(),
        fit: vec![
            a.fits.join("demo-mpl400-annealing.json"),
            a.fits.join("demo-mpl400-compare-multipower.json"),
        ],
        laws: Vec::new(),
        backtest: false,
        plan: Some("--total 24000 --peak 3e-4 --warmup 2160 --families wsd,cosine".into()),
        forecast: vec![spec.to_string()],
        title: Some("losscast demo: Multi-Power-Law 400M, annealing vs multipower".into()),
        out: page.clone(),
    })?;
    outln!("wrote {}", page.display());
    Ok(())
}
