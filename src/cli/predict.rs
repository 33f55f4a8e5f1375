//! `losscast predict` and `losscast optimal`: forecasts from a fitted law, with a warning when
//! the fit is not trustworthy or the forecast leaves what the fit saw.

use super::model::{print_warnings, Fitted, ModelArgs, SizeModelArgs};
use super::to_json;
use crate::base::numbers;
use crate::error::{Error, Result};
use crate::fit::bootstrap::interval;
use crate::forecast::extrapolate;
use crate::forecast::predict;
use crate::law::chinchilla::optimal_allocation;
use crate::law::{self, LawKind, TablePoints};
use crate::output::{self, Kind, Output};
use crate::schedule;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct PredictArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Schedule to forecast, e.g. cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000.
    #[arg(long)]
    schedule: Option<String>,
    /// Model sizes to forecast (size laws), paired with --d.
    #[arg(long, value_delimiter = ',', value_parser = super::lists::number)]
    n: Vec<f64>,
    /// Training tokens to forecast (size laws), paired with --n.
    #[arg(long, value_delimiter = ',', value_parser = super::lists::number)]
    d: Vec<f64>,
    /// Steps: a list 1000,2000 or a range 1000:24000:1000 (default: every 100th step after
    /// warmup). A negative item ("-100,200") reaches this parser, which names it, instead of
    /// being taken for a flag.
    #[arg(long, allow_hyphen_values = true)]
    steps: Option<String>,
    /// Write step,lr,loss_pred CSV here instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print {"predictions": [...]} as JSON.
    #[arg(long)]
    json: bool,
    /// Central level of the forecast intervals (lo, hi), from the fit's calibration.
    #[arg(long, default_value_t = crate::forecast::interval::DEFAULT_LEVEL)]
    level: f64,
}

impl PredictArgs {
    /// The model size of a joint-law forecast: `--params N`, or a single `--n N`.
    fn model_size(&self) -> Result<Option<f64>> {
        match (self.model.model_size()?, self.n.as_slice()) {
            (Some(n), _) => Ok(Some(n)),
            (None, [n]) => Ok(Some(*n)),
            (None, _) => Ok(None),
        }
    }
}

#[derive(Args)]
pub(super) struct OptimalArgs {
    #[command(flatten)]
    model: SizeModelArgs,
    /// Compute budget in FLOP (C = 6ND).
    #[arg(long)]
    compute: f64,
    /// Print the allocation as JSON.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(a: PredictArgs) -> Result<()> {
    let m = a.model.load()?;
    if m.law.kind() == LawKind::Table {
        if a.model.model_size()?.is_some() {
            return Err(Error::input(
                "--params N (a model size) is for joint size x schedule laws; a size law takes \
                 --n and --d",
            ));
        }
        return predict_table(&a, &m);
    }
    let law = m.law.as_ref();
    if !a.d.is_empty() || a.n.len() > 1 {
        return Err(Error::input(
            "--n and --d lists are for size laws; a schedule law forecasts the steps of \
             --schedule (a single --n, or --params N, is the model size of a joint law)",
        ));
    }
    let size = a.model_size()?;
    if size.is_some() && !law.uses_model_size() {
        return Err(Error::input(format!(
            "a model size (--params N or --n) applies to joint size x schedule laws; {} has no N",
            law.name()
        )));
    }
    let spec = a
        .schedule
        .as_deref()
        .ok_or_else(|| Error::input("predict needs --schedule SPEC for a schedule law"))?;
    if let Some(path) = &a.out {
        let mut inputs = a.model.fit.clone();
        inputs.extend(schedule::file_path(spec, Path::new("")));
        output::check(&[Output::new("--out", path, Kind::Text)], &inputs)?;
    }
    let sched = schedule::parse(spec, Path::new(""))?;
    let steps = match &a.steps {
        Some(s) => predict::parse_steps(s)?,
        None => {
            let mut steps = predict::default_steps(&sched);
            // A collapse shape starts where its ladder's curves did.
            let total = sched.total_steps() as i64;
            if let Some(first) = crate::law::collapse::first_forecast_step(law.options(), total) {
                steps.retain(|&s| s >= first);
            }
            steps
        }
    };
    let level = crate::forecast::interval::check_level(a.level)?;
    let intervals = m
        .record()
        .and_then(|r| crate::forecast::interval::Source::of(r, level));
    let preds = predict::predict_with_intervals(
        law,
        &m.params,
        &sched,
        &steps,
        size,
        intervals.as_ref(),
        &m.gate(),
    )?;
    let mut warnings: Vec<String> = m.trust_warning().into_iter().collect();
    // The whole schedule, so that the warmup is judged by where the LR really peaks, not by
    // the last requested step.
    let last = preds
        .last()
        .map_or(0, |p| p.step)
        .max(sched.total_steps() as i64);
    let lr = sched.lr_array(last as usize + 1);
    let domain = m.record().and_then(|r| r.domain.as_ref());
    let steps: Vec<i64> = preds.iter().map(|p| p.step).collect();
    warnings.extend(
        extrapolate::schedule_forecast(law, domain, &lr, &steps, size)
            .into_iter()
            .map(|r| format!("extrapolation: {r}")),
    );
    print_warnings(&warnings);
    let no_interval = intervals
        .is_none()
        .then(|| crate::forecast::interval::Source::missing(m.record()));
    if let (Some(why), false) = (no_interval, a.json) {
        errln!("note: no intervals: {why}");
    }
    if a.json {
        outln!(
            "{}",
            to_json(&json!({
                "predictions": preds,
                "level": intervals.map(|_| level),
                "no_interval": no_interval,
                "fit_trustworthy": m.trustworthy(),
                "warnings": warnings,
            }))?
        );
    }
    match &a.out {
        Some(path) => {
            output::write_atomic(path, predict::to_csv(&preds).as_bytes())?;
            errln!("wrote {} ({} steps)", path.display(), preds.len());
        }
        None if !a.json => out!("{}", predict::to_csv(&preds)),
        None => {}
    }
    Ok(())
}

/// Predicted loss at (N, D) pairs. `lo`/`hi` are null until the fit carries a bootstrap.
fn predict_table(a: &PredictArgs, m: &Fitted) -> Result<()> {
    let (law, params, boot) = (m.law.as_ref(), &m.params, m.boot());
    for (given, flag) in [
        (a.schedule.is_some(), "--schedule"),
        (a.steps.is_some(), "--steps"),
        (a.out.is_some(), "--out"),
    ] {
        if given {
            return Err(Error::input(format!(
                "{flag} applies to schedule laws (a loss curve over steps); {} predicts the loss \
                 at --n/--d pairs (print them, or --json)",
                law.name()
            )));
        }
    }
    if a.n.is_empty() || a.n.len() != a.d.len() {
        return Err(Error::input(format!(
            "a size law predicts at paired --n and --d lists; got {} N and {} D values",
            a.n.len(),
            a.d.len()
        )));
    }
    let mut warnings: Vec<String> = m.trust_warning().into_iter().collect();
    let table_domain = m.record().and_then(|r| r.table_domain.as_ref());
    warnings.extend(
        extrapolate::table_forecast(table_domain, &a.n, &a.d)
            .into_iter()
            .map(|r| format!("extrapolation: {r}")),
    );
    print_warnings(&warnings);
    let f = law.table_features(&TablePoints { n: &a.n, d: &a.d })?;
    let mut pred = vec![0.0; a.n.len()];
    law.predict(params, &f, &mut pred);
    m.gate().check_all(&pred, |i| {
        format!("N = {}, D = {}", numbers::num(a.n[i]), numbers::num(a.d[i]))
    })?;
    // Intervals: the prediction under every bootstrap sample of the parameters.
    let intervals: Vec<Option<[f64; 2]>> = match boot {
        Some(b) => {
            let per_sample: Vec<Vec<f64>> = b
                .samples
                .iter()
                .map(|s| {
                    let mut p = vec![0.0; a.n.len()];
                    law.predict(s, &f, &mut p);
                    p
                })
                .collect();
            (0..a.n.len())
                .map(|i| Some(interval(per_sample.iter().map(|p| p[i]), b.level)))
                .collect()
        }
        None => vec![None; a.n.len()],
    };
    if a.json {
        let rows: Vec<_> = (0..a.n.len())
            .map(|i| {
                let (lo, hi) = intervals[i].map_or((None, None), |[l, h]| (Some(l), Some(h)));
                json!({"n": a.n[i], "d": a.d[i], "loss_pred": pred[i], "lo": lo, "hi": hi})
            })
            .collect();
        outln!(
            "{}",
            to_json(&json!({
                "predictions": rows,
                "fit_trustworthy": m.trustworthy(),
                "warnings": warnings,
            }))?
        );
    } else {
        let level = boot.map_or(String::new(), |b| {
            format!("  ({:.0} % bootstrap interval)", b.level * 100.0)
        });
        outln!("{:>12} {:>12} {:>10}{level}", "N", "D", "loss_pred");
        for i in 0..a.n.len() {
            let iv = intervals[i].map_or(String::new(), |[l, h]| format!("  [{l:.5}, {h:.5}]"));
            outln!(
                "{:>12.4e} {:>12.4e} {:>10}{iv}",
                a.n[i],
                a.d[i],
                numbers::fixed(pred[i], 5)
            );
        }
    }
    Ok(())
}

pub(super) fn run_optimal(a: OptimalArgs) -> Result<()> {
    let m = a.model.to_model_args().load()?;
    let (law, params, boot) = (&m.law, &m.params, m.boot());
    if law.name() != "chinchilla" {
        return Err(Error::input(format!(
            "optimal needs a chinchilla fit (N and D terms), not {}",
            law.name()
        )));
    }
    let opt = optimal_allocation(params, a.compute)?;
    m.gate().check(
        opt.loss_pred,
        &format!("the optimum for {} FLOP", numbers::num(a.compute)),
    )?;
    let mut warnings: Vec<String> = m.trust_warning().into_iter().collect();
    let table_domain = m.record().and_then(|r| r.table_domain.as_ref());
    warnings.extend(
        extrapolate::compute_forecast(table_domain, a.compute)
            .into_iter()
            .map(|r| format!("extrapolation: {r}")),
    );
    print_warnings(&warnings);
    let mut intervals = serde_json::Map::new();
    if let Some(b) = boot {
        let allocs: Vec<_> = b
            .samples
            .iter()
            .filter_map(|s| optimal_allocation(s, a.compute).ok())
            .collect();
        let get = |f: fn(&law::chinchilla::Allocation) -> f64| {
            let [lo, hi] = interval(allocs.iter().map(f), b.level);
            json!([lo, hi])
        };
        intervals.insert("n_opt".into(), get(|x| x.n_opt));
        intervals.insert("d_opt".into(), get(|x| x.d_opt));
        intervals.insert("tokens_per_param".into(), get(|x| x.tokens_per_param));
        intervals.insert("loss_pred".into(), get(|x| x.loss_pred));
    }
    if a.json {
        let mut v = serde_json::to_value(opt)
            .map_err(|e| Error::failed(format!("cannot print JSON: {e}")))?;
        v["intervals"] = serde_json::Value::Object(intervals);
        v["fit_trustworthy"] = json!(m.trustworthy());
        v["warnings"] = json!(warnings);
        outln!("{}", to_json(&v)?);
    } else {
        let iv = |k: &str| {
            intervals
                .get(k)
                .and_then(|v| Some((v[0].as_f64()?, v[1].as_f64()?)))
                .map_or(String::new(), |(l, h)| format!("   [{l:.4e}, {h:.4e}]"))
        };
        outln!("compute            {:.4e} FLOP", opt.compute);
        outln!(
            "N_opt              {:.4e} parameters{}",
            opt.n_opt,
            iv("n_opt")
        );
        outln!("D_opt              {:.4e} tokens{}", opt.d_opt, iv("d_opt"));
        outln!(
            "tokens per param   {:.4e}{}",
            opt.tokens_per_param,
            iv("tokens_per_param")
        );
        outln!(
            "predicted loss     {}{}",
            numbers::fixed(opt.loss_pred, 5),
            iv("loss_pred")
        );
    }
    Ok(())
}
