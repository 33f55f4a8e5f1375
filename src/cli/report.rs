//! `losscast report`: one self-contained HTML page of a study (runs, fits, metrics, interactive
//! charts, forecasts, backtest, plan, provenance). The sections that other commands compute
//! (backtest, plan, predict) are those commands run in-process, so the page says what they say.

use super::embedded::{self, Inputs};
use super::fit::FitLaw;
use super::source::{load_table, RunSource, TableArgs};
use crate::error::{Error, Result};
use crate::fit::{self, FitOptions, FitRecord};
use crate::law::{self, LawKind, LawOptions};
use crate::output::{self, Kind, Output};
use crate::report::html::{self, StaticFigure};
use crate::report::{self, Flag, Forecast, ReportData, RunInfo, TableInfo};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(super) struct ReportArgs {
    #[command(flatten)]
    pub(super) source: RunSource,
    /// How a size-law fit's table is read (as at `fit`); its filters come from the fit file.
    #[command(flatten)]
    pub(super) table: TableArgs,
    /// Fit files to report (repeat for several laws). Without --fit, each law of --laws is
    /// fitted on the fit runs as `losscast fit` would, intervals included.
    #[arg(long, conflicts_with = "laws")]
    pub(super) fit: Vec<PathBuf>,
    /// Laws to fit and report when no --fit is given, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = super::lists::name)]
    pub(super) laws: Vec<String>,
    /// Add a backtest section: `losscast backtest --manifest M` on the study's runs.
    #[arg(long)]
    pub(super) backtest: bool,
    /// Add a plan section under the first law's fit: the arguments of `losscast plan`, e.g.
    /// "--total 24000 --peak 3e-4 --warmup 2160".
    #[arg(long, allow_hyphen_values = true)]
    pub(super) plan: Option<String>,
    /// Add a forecast of this schedule under every law (repeatable), e.g.
    /// cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000.
    #[arg(long)]
    pub(super) forecast: Vec<String>,
    /// The page's title (default: the manifest's or the log's name).
    #[arg(long)]
    pub(super) title: Option<String>,
    /// The HTML file to write.
    #[arg(long)]
    pub(super) out: PathBuf,
}

/// Run a command of this CLI in-process (with `fits` registered by label) and keep its JSON and
/// the warnings it printed.
fn json_of(
    args: Vec<String>,
    fits: Vec<(String, String)>,
) -> Result<(serde_json::Value, Vec<Flag>)> {
    let what = args.get(1).cloned().unwrap_or_default();
    let out = embedded::call(
        args,
        Inputs {
            frames: Vec::new(),
            fits,
        },
    );
    if out.code != 0 {
        let msg = out
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("losscast: error: "))
            .unwrap_or(out.stderr.trim())
            .to_string();
        let e = format!("report: the {what} section: {msg}");
        return Err(if out.code == 2 {
            Error::input(e)
        } else {
            Error::failed(e)
        });
    }
    let v = serde_json::from_str(&out.stdout)
        .map_err(|e| Error::failed(format!("report: {what} printed no JSON: {e}")))?;
    Ok((v, report::flags_from_stderr(&out.stderr)))
}

fn fit_law(name: &str, runs: &[crate::runs::Run]) -> Result<FitRecord> {
    let base = law::build(name, LawOptions::default())?;
    if base.kind() == LawKind::Table {
        return Err(Error::input(format!(
            "report fits loss-curve laws to runs; {name} is a size law: fit it to its table, \
             then report it with --fit"
        )));
    }
    let options = FitOptions {
        law: base.options().clone(),
        run_weighting: fit::weighting(None, base.as_ref()),
        priors: true,
        ..FitOptions::default()
    };
    let fl = FitLaw::new(base, None, None)?;
    let mut rec = fit::fit(fl.law(), runs, &options)?;
    super::fit::calibrate_intervals(&mut rec, runs, &fl, &options);
    Ok(rec)
}

pub(super) fn run(a: ReportArgs) -> Result<()> {
    // Before the sections run other commands in-process, each with its own command line.
    let command = command_line();
    if let Some(twice) = a
        .laws
        .iter()
        .enumerate()
        .find_map(|(i, l)| a.laws[..i].contains(l).then_some(l))
    {
        return Err(Error::input(format!(
            "--laws names {twice} twice; each law gets one section"
        )));
    }
    if a.backtest && a.source.manifest.is_none() {
        return Err(Error::input(
            "--backtest holds out runs of a manifest: give --manifest M.toml",
        ));
    }
    // The nested sections' own command lines are read before any work, so that a typo in
    // --plan fails now, not after a minute of fitting, and so that the plan's outputs are
    // checked with the page's: none may be the page, the manifest or a log.
    let plan_args = a
        .plan
        .as_deref()
        .map(|text| plan_command(text, "<fit 0>"))
        .transpose()?;
    for spec in &a.forecast {
        crate::schedule::parse(spec, std::path::Path::new(""))
            .map_err(|e| Error::input(format!("--forecast '{spec}': {e}")))?;
    }
    let mut inputs = a.fit.clone();
    inputs.extend(a.source.input_paths()?);
    let mut outs = vec![Output::new("--out", &a.out, Kind::Text)];
    if let Some((_, pa)) = &plan_args {
        outs.extend(super::plan::outputs(pa).into_iter().map(|mut o| {
            o.flag = format!("--plan's {}", o.flag);
            o
        }));
    }
    output::check(&outs, &inputs)?;
    let fits: Vec<(Option<String>, FitRecord)> = if a.fit.is_empty() {
        let runs = a.source.load()?;
        let laws = if a.laws.is_empty() {
            vec!["annealing".to_string()]
        } else {
            a.laws.clone()
        };
        laws.iter()
            .map(|l| Ok((None, fit_law(l.trim(), &runs)?)))
            .collect::<Result<_>>()?
    } else {
        a.fit
            .iter()
            .map(|p| Ok((Some(p.display().to_string()), embedded::read_fit(p)?)))
            .collect::<Result<_>>()?
    };
    let kinds: Vec<LawKind> = fits
        .iter()
        .map(|(_, r)| Ok(r.build_law()?.kind()))
        .collect::<Result<_>>()?;
    if kinds.iter().all(|k| *k == LawKind::Table) {
        return size_report(&a, &fits, command);
    }
    if kinds.contains(&LawKind::Table) {
        return Err(Error::input(
            "one report per kind of law: size laws read a table of runs, loss-curve laws read \
             runs' curves; report them separately",
        ));
    }
    let runs = a.source.load()?;
    let mut flags: Vec<Flag> = runs
        .iter()
        .flat_map(|r| {
            r.warnings.iter().map(move |w| Flag {
                level: "warning".into(),
                text: format!("run '{}': {w}", r.name),
            })
        })
        .collect();
    let mut laws = Vec::new();
    let mut figures = Vec::new();
    for (file, rec) in &fits {
        let law = rec.build_law()?;
        let section = report::law_section(law.as_ref(), rec, file.clone(), &runs)?;
        flags.extend(report::fit_flags(rec, file.as_deref()));
        let params = rec.param_vector(law.as_ref())?;
        // Without the bands: plotters draws a filled band as hundreds of small polygons, which
        // would double the page; the interactive chart carries them.
        let mut plot = crate::plot::FitPlot::new(law.as_ref(), &params, &runs)?;
        plot.thin_markers(STATIC_MARKERS);
        let svg = crate::plot::render_figure_plain_svg(&plot)?;
        figures.push(vec![StaticFigure {
            caption: format!(
                "{}: observed points and predicted curves (the interactive chart adds the \
                 forecast intervals)",
                rec.law
            ),
            svg,
        }]);
        laws.push(section);
    }
    let label = |i: usize| format!("<fit {i}>");
    let fit_texts: Vec<(String, String)> = fits
        .iter()
        .enumerate()
        .map(|(i, (_, r))| {
            Ok((
                label(i),
                String::from_utf8(r.to_bytes()?).unwrap_or_default(),
            ))
        })
        .collect::<Result<_>>()?;
    let mut forecasts = Vec::new();
    for spec in &a.forecast {
        let mut by_law = Vec::new();
        for (i, text) in fit_texts.iter().enumerate() {
            let (v, f) = json_of(
                vec![
                    "losscast".into(),
                    "predict".into(),
                    "--fit".into(),
                    label(i),
                    "--schedule".into(),
                    spec.clone(),
                    "--steps".into(),
                    forecast_steps(spec)?,
                    "--json".into(),
                ],
                vec![text.clone()],
            )?;
            flags.extend(f.into_iter().map(|mut x| {
                x.text = format!("forecast {spec} ({}): {}", fits[i].1.law, x.text);
                x
            }));
            by_law.push(v);
        }
        forecasts.push(Forecast {
            schedule: spec.clone(),
            by_law,
        });
    }
    let backtest = match (&a.backtest, &a.source.manifest) {
        (true, Some(m)) => {
            let (v, f) = json_of(
                vec![
                    "losscast".into(),
                    "backtest".into(),
                    "--manifest".into(),
                    m.display().to_string(),
                    "--json".into(),
                ],
                Vec::new(),
            )?;
            flags.extend(f);
            Some(v)
        }
        _ => None,
    };
    let plan = match plan_args {
        Some((args, _)) => {
            let (v, f) = json_of(args, vec![fit_texts[0].clone()])?;
            flags.extend(f.into_iter().map(|mut x| {
                x.text = format!("plan: {}", x.text);
                x
            }));
            Some(v)
        }
        None => None,
    };
    let data = ReportData {
        title: title(&a),
        losscast_version: crate::VERSION.to_string(),
        command,
        flags: report::sorted_flags(flags),
        runs: runs.iter().map(RunInfo::of).collect(),
        laws,
        sizes: Vec::new(),
        table: None,
        forecasts,
        backtest,
        plan,
    };
    write_page(&a, &data, &figures)
}

/// The command line `report --plan TEXT` runs (`plan --fit LABEL TEXT --json`), parsed as
/// `plan` would parse it; a mistake in TEXT is reported as --plan's.
fn plan_command(text: &str, label: &str) -> Result<(Vec<String>, super::plan::PlanArgs)> {
    use clap::error::ErrorKind;
    use clap::Parser;
    let mut args = vec![
        "losscast".to_string(),
        "plan".into(),
        "--fit".into(),
        label.into(),
    ];
    args.extend(text.split_whitespace().map(String::from));
    args.push("--json".into());
    match super::Cli::try_parse_from(&args) {
        Ok(super::Cli {
            command: super::Command::Plan(pa),
        }) => Ok((args, pa)),
        Ok(_) => Err(Error::input(
            "report: the plan section (--plan): not a plan command line",
        )),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Err(Error::input(format!(
                "--plan '{text}' asks for help, not a plan: give plan's options, e.g. \
                 --plan '--total 24000 --peak 3e-4 --warmup 2160' (see `losscast plan --help`)"
            )))
        }
        Err(e) => {
            let msg = e.to_string();
            let first = msg
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string();
            Err(Error::input(format!(
                "report: the plan section (--plan '{text}'): {first}"
            )))
        }
    }
}

fn title(a: &ReportArgs) -> String {
    a.title
        .clone()
        .unwrap_or_else(|| format!("losscast study: {}", a.source.stem()))
}

fn command_line() -> String {
    super::command_line()
        .iter()
        .map(|s| shell_word(s))
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_page(a: &ReportArgs, data: &ReportData, figures: &[Vec<StaticFigure>]) -> Result<()> {
    let page = html::render(data, figures)?;
    output::write_atomic(&a.out, page.as_bytes())?;
    errln!(
        "wrote {} ({} KB)",
        a.out.display(),
        page.len().div_ceil(1024)
    );
    Ok(())
}

/// The page of size-law fits over their table of runs: parity, loss against compute with iso-N
/// curves and the frontier, and the IsoFLOP analysis.
fn size_report(
    a: &ReportArgs,
    fits: &[(Option<String>, FitRecord)],
    command: String,
) -> Result<()> {
    if a.backtest || a.plan.is_some() || !a.forecast.is_empty() {
        return Err(Error::input(
            "--backtest, --plan and --forecast are loss-curve sections; a size-law report has \
             parity, compute and IsoFLOP sections",
        ));
    }
    let mut flags = Vec::new();
    let mut sizes = Vec::new();
    let mut figures = Vec::new();
    let mut info = None;
    for (file, rec) in fits {
        let law = rec.build_law()?;
        let mut targs = a.table.clone();
        if targs.rows_where.is_empty() {
            if let Some(f) = &rec.options.table_filters {
                targs.rows_where = f.rows_where.clone();
            }
        }
        let (table, origin) = load_table(&a.source, &targs, law.name())?;
        info.get_or_insert(TableInfo {
            path: origin,
            sha256: table.sha256.clone(),
            rows: table.n.len(),
            notes: table.notes.clone(),
        });
        let section = report::size::section(law.as_ref(), rec, file.clone(), &table)?;
        flags.extend(report::fit_flags(rec, file.as_deref()));
        if let Err(why) = &section.isoflop {
            flags.push(Flag {
                level: "note".into(),
                text: format!("{}: no IsoFLOP analysis: {why}", rec.law),
            });
        }
        let params = rec.param_vector(law.as_ref())?;
        let title = crate::plot::title_for(law.as_ref(), &params);
        let parity = crate::plot::parity::ParityPlot {
            title: title.clone(),
            n: section.n.clone(),
            observed: section.loss.clone(),
            predicted: section.predicted.clone(),
        };
        let compute = crate::plot::size::ComputePlot {
            title,
            law: law.as_ref(),
            params: &params,
            n: &section.n,
            d: &section.d,
            loss: &section.loss,
            samples: None,
        };
        figures.push(vec![
            StaticFigure {
                caption: format!("{}: predicted against observed loss", rec.law),
                svg: crate::plot::render_figure_plain_svg(&parity)?,
            },
            StaticFigure {
                caption: format!("{}: loss against compute, iso-N curves", rec.law),
                svg: crate::plot::render_figure_plain_svg(&compute)?,
            },
        ]);
        sizes.push(section);
    }
    let data = ReportData {
        title: title(a),
        losscast_version: crate::VERSION.to_string(),
        command,
        flags: report::sorted_flags(flags),
        runs: Vec::new(),
        laws: Vec::new(),
        sizes,
        table: info,
        forecasts: Vec::new(),
        backtest: None,
        plan: None,
    };
    write_page(a, &data, &figures)
}

/// About [`FORECAST_POINTS`] steps over a schedule, ending at its last step: enough for a curve.
fn forecast_steps(spec: &str) -> Result<String> {
    let sched = crate::schedule::parse(spec, std::path::Path::new(""))?;
    let total = sched.total_steps() as i64;
    let warmup = (sched.warmup_end() as i64).min(total);
    // After the warmup, where the law describes loss (a forecast inside it is warned about,
    // and the page would open with warnings about steps nobody chose).
    let stride = ((total - warmup) / FORECAST_POINTS).max(1);
    // Counted back from the last step, so the range ends on it.
    let first = total - (total - warmup.max(1)) / stride * stride;
    Ok(format!("{first}:{total}:{stride}"))
}

/// Markers per run in the static (no-JavaScript) figure; the charts carry every point.
const STATIC_MARKERS: usize = 60;

/// How many points a forecast's curve carries on the page.
const FORECAST_POINTS: i64 = 300;

/// A word of the command line as a shell would need it quoted.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
