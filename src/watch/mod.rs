//! `losscast watch`: a run in progress. Each poll reads the complete part of the growing log,
//! refits the law from the last optimum, forecasts the final loss with its interval, and
//! checks the new points against what the previous fit expected.
//!
//! Why these choices:
//! - **Warm starts.** A log that grew by a few points moves the optimum a little; one L-BFGS
//!   run from the last optimum finds it in a fraction of a multistart's time. Every
//!   [`FULL_EVERY`]th refit, and any warm refit that did not converge, is a full multistart, so
//!   a warm start cannot trap the fit in a stale basin.
//! - **Intervals from the run itself.** The run is cut at fractions of its span and each head
//!   forecasts its tail (`backtest::calibration::self_calibrate`), widened
//!   (`interval::INNER_WIDENING`) because those folds are easier than forecasting the rest of
//!   the run. The calibration is redone when the run has grown by [`RECALIBRATE_GROWTH`].
//! - **Divergence** is what the previous fit did not expect: new points above its band for
//!   `k` points in a row (a sustained rise), or one point far above the recent median (a
//!   spike). Points below the band are a better run, not a failing one. On the first poll
//!   there is no previous fit, so the recent window (the last [`SPIKE_WINDOW`] points, at most
//!   a quarter of the run) is checked for spikes against the points before it: a cron job
//!   running `watch --once --fail-on-divergence` must be able to fire.
//! - **Restarts.** A log whose last step goes back (the run was restarted from a checkpoint and
//!   its log replaced) is flagged, and everything learned from the old log (fit, calibration,
//!   divergence count) is dropped: the fit starts again from the restarted run.

pub mod tail;

use crate::backtest::calibration::{self_calibrate, Calibrated};
use crate::backtest::Task;
use crate::error::{Error, Result};
use crate::fit::{self, FitOptions, FitRecord};
use crate::forecast::interval::{self, Band, Source};
use crate::law::{self, Curve, Law};
use crate::runs::manifest::RunSpec;
use crate::runs::{self, Run};
use crate::schedule::{self, Schedule};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// A full multistart every this many refits.
pub const FULL_EVERY: usize = 10;

/// Recalibrate the intervals when the run has this many times the points it had then.
pub const RECALIBRATE_GROWTH: f64 = 1.25;

/// Points in the median a spike is measured against.
const SPIKE_WINDOW: usize = 20;

/// What `watch` is told.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub law: String,
    pub fit: FitOptions,
    /// The LR to come: a schedule spec. Without one, the log's LR, held at its last value
    /// after the last logged step.
    pub schedule: Option<String>,
    /// The step whose loss is forecast; default the schedule's total.
    pub total: Option<i64>,
    pub level: f64,
    /// Points above the band in a row that flag divergence.
    pub outside_run: usize,
    /// A point this far (relative) above the median of the previous [`SPIKE_WINDOW`] points is
    /// a spike.
    pub spike: f64,
    /// Read the log only up to this step (what watch would have said then).
    pub max_step: Option<i64>,
    pub read: crate::ingest::ReadOptions,
}

/// One refit's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    /// Last logged step and its loss.
    pub step: i64,
    pub loss: f64,
    pub points: usize,
    /// The step forecast and the forecast there.
    pub total: i64,
    pub final_loss: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    pub level: f64,
    /// Change of the final forecast since the previous refit.
    pub change: Option<f64>,
    pub refit_ms: f64,
    /// A warm (one-start) refit, or a full multistart.
    pub warm: bool,
    pub trustworthy: bool,
    /// What the new points did that the previous fit did not expect, if anything.
    pub divergence: Option<String>,
    /// Why there is no interval, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_interval: Option<String>,
    /// The log went back since the previous poll (a restarted run), and how far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    /// Whether the run has reached the forecast step.
    pub done: bool,
}

/// What a poll found.
#[derive(Debug, Clone, PartialEq)]
pub enum Poll {
    /// No new complete record since the last poll.
    Unchanged,
    /// Not enough to fit yet, and why.
    Waiting(String),
    Updated(Box<Update>),
}

/// The state kept between polls.
struct Fitted {
    record: FitRecord,
    law: Box<dyn Law>,
    params: Vec<f64>,
    /// The forecast curve's band at every step from the fit's last step to the total.
    last_step: i64,
    forecast: Vec<(i64, f64, Option<Band>)>,
}

pub struct Watcher {
    path: std::path::PathBuf,
    spec: RunSpec,
    law: Box<dyn Law>,
    options: WatchOptions,
    schedule: Option<Schedule>,
    seen: Option<(usize, String)>,
    fitted: Option<Fitted>,
    calibration: Option<(usize, Calibrated)>,
    refits: usize,
    outside: usize,
    last_final: Option<f64>,
    /// The last step of the log at the previous read, to tell a restart.
    last_seen_step: Option<i64>,
}

impl Watcher {
    pub fn new(path: &Path, options: WatchOptions) -> Result<Watcher> {
        let law = law::build(&options.law, options.fit.law.clone())?;
        if law.kind() != law::LawKind::Schedule || law.uses_model_size() {
            return Err(Error::input(format!(
                "watch follows one run with a schedule law (annealing, multipower); {} is not one",
                law.name()
            )));
        }
        interval::check_level(options.level)?;
        let schedule = options
            .schedule
            .as_deref()
            .map(|s| schedule::parse(s, Path::new("")))
            .transpose()?;
        if let Some(t) = options.total {
            if t < 1 {
                return Err(Error::input(format!(
                    "--total {t}: the step to forecast must be at least 1"
                )));
            }
            // The LR to come is held step by step up to the total: one limit for every
            // step-indexed allocation.
            crate::base::limits::check_step(t as u64, "--total")?;
        }
        if schedule.is_none() && options.total.is_none() {
            return Err(Error::input(
                "watch forecasts the loss at the end of the run: give --schedule SPEC (the LR to \
                 come) or --total STEPS (the log's LR then held at its last value)",
            ));
        }
        let mut spec = RunSpec::for_log(path);
        spec.schedule = options.schedule.clone();
        spec.max_step = options.max_step;
        spec.read = options.read.clone();
        Ok(Watcher {
            path: path.to_path_buf(),
            spec,
            law,
            options,
            schedule,
            seen: None,
            fitted: None,
            calibration: None,
            refits: 0,
            outside: 0,
            last_seen_step: None,
            last_final: None,
        })
    }

    /// The step forecast.
    fn total(&self) -> i64 {
        self.options
            .total
            .or_else(|| self.schedule.as_ref().map(|s| s.total_steps() as i64))
            .unwrap_or(0)
    }

    /// Read the complete part of the log; `None` when it has not changed.
    fn read(&mut self) -> Result<Option<Run>> {
        let log = if self.path.is_dir() {
            // A folder (HF output, TensorBoard run, MLflow store) is read whole; a file being
            // rewritten inside it fails to parse until it is complete.
            crate::ingest::read_log(&self.path, &self.spec.read)?
        } else {
            let bytes = crate::ingest::read_log_file(&self.path, &self.spec.read)?;
            let complete = tail::complete_prefix(&self.path, &bytes);
            if complete.is_empty() {
                return Err(Error::file(&self.path, "no complete record yet"));
            }
            crate::ingest::read_log_bytes(&self.path, complete, &self.spec.read)?
        };
        let key = (log.loss().len(), log.sha256.clone());
        if self.seen.as_ref() == Some(&key) {
            return Ok(None);
        }
        self.seen = Some(key);
        runs::load_from(&self.spec, log).map(Some)
    }

    /// One poll: read, and refit when the log grew.
    pub fn poll(&mut self) -> Result<Poll> {
        let Some(run) = self.read()? else {
            return Ok(Poll::Unchanged);
        };
        let restart = self.restarted(&run);
        let k = self.law.param_names().len();
        if run.loss.len() < 2 * k.max(4) {
            return Ok(Poll::Waiting(format!(
                "{} point(s) so far; the fit waits for {}",
                run.loss.len(),
                2 * k.max(4)
            )));
        }
        let total = self.total();
        let last_step = *run.steps.last().expect("points");
        if total < last_step {
            return Err(Error::input(format!(
                "the log has reached step {last_step}, beyond the forecast step {total} (--total \
                 or the schedule's total)"
            )));
        }
        let divergence = self.check(&run);
        let started = Instant::now();
        let (record, warm) = self.refit(&run)?;
        let law = record.build_law()?;
        let params = record.param_vector(law.as_ref())?;
        self.recalibrate(&run)?;
        let refit_ms = 1e3 * started.elapsed().as_secs_f64();
        let lr = self.future_lr(&run, total);
        let forecast = self.forecast(law.as_ref(), &params, &record, &lr, last_step, total)?;
        let (_, final_loss, band) = *forecast.last().expect("the total is forecast");
        let change = self.last_final.map(|f| final_loss - f);
        self.last_final = Some(final_loss);
        let no_interval = band.is_none().then(|| {
            "the run offers fewer than two backtest folds yet to calibrate an interval".to_string()
        });
        self.refits += 1;
        self.fitted = Some(Fitted {
            record,
            law,
            params,
            last_step,
            forecast,
        });
        let f = self.fitted.as_ref().expect("just set");
        Ok(Poll::Updated(Box::new(Update {
            step: last_step,
            loss: *run.loss.last().expect("points"),
            points: run.loss.len(),
            total,
            final_loss,
            lo: band.map(|b| b.lo),
            hi: band.map(|b| b.hi),
            level: self.options.level,
            change,
            refit_ms,
            warm,
            trustworthy: f.record.trustworthy,
            divergence,
            no_interval,
            restart,
            done: last_step >= total,
        })))
    }

    /// Whether the log went back since the previous read: a restarted run. Everything learned
    /// from the old log is dropped, so the next fit starts from the restarted run alone.
    fn restarted(&mut self, run: &Run) -> Option<String> {
        let last = *run.steps.last()?;
        let previous = self.last_seen_step.replace(last)?;
        if last >= previous {
            return None;
        }
        self.fitted = None;
        self.calibration = None;
        self.outside = 0;
        self.last_final = None;
        self.refits = 0;
        Some(format!(
            "the log went back from step {previous} to step {last} (a restarted run?); the fit \
             starts again from the new log"
        ))
    }

    /// The fit of the run so far: from the last optimum when there is one.
    fn refit(&self, run: &Run) -> Result<(FitRecord, bool)> {
        let runs = std::slice::from_ref(run);
        if let Some(f) = &self.fitted {
            if !self.refits.is_multiple_of(FULL_EVERY) {
                let options = FitOptions {
                    warm_start: Some(f.params.clone()),
                    ..self.options.fit.clone()
                };
                let rec = fit::fit(f.law.as_ref(), runs, &options)?;
                if rec.converged {
                    return Ok((rec, true));
                }
            }
        }
        Ok((fit::fit(self.law.as_ref(), runs, &self.options.fit)?, false))
    }

    /// Calibrate the intervals on the run itself when it has grown enough since the last time.
    fn recalibrate(&mut self, run: &Run) -> Result<()> {
        let n = run.loss.len();
        if let Some((at, _)) = &self.calibration {
            if (n as f64) < RECALIBRATE_GROWTH * *at as f64 {
                return Ok(());
            }
        }
        if let Some(c) = self_calibrate(
            std::slice::from_ref(run),
            &self.options.law,
            &self.options.fit,
            &|_, _| {},
        )? {
            self.calibration = Some((n, c));
        }
        Ok(())
    }

    /// The LR at every step to `total`: the schedule's, or the log's held at its last value.
    fn future_lr(&self, run: &Run, total: i64) -> Vec<f64> {
        let len = total as usize + 1;
        match &self.schedule {
            Some(s) => s.lr_array(len),
            None => {
                let mut lr = run.lr.clone();
                let last = lr.last().copied().unwrap_or(0.0);
                lr.resize(len.max(lr.len()), last);
                lr
            }
        }
    }

    /// The forecast from the step after `last_step` to `total` (about 200 steps of it, and
    /// `total` itself), each with its interval when the calibration allows.
    fn forecast(
        &self,
        law: &dyn Law,
        params: &[f64],
        record: &FitRecord,
        lr: &[f64],
        last_step: i64,
        total: i64,
    ) -> Result<Vec<(i64, f64, Option<Band>)>> {
        let every = ((total - last_step) / 200).max(1);
        let mut steps: Vec<i64> = ((last_step + 1)..=total).step_by(every as usize).collect();
        if steps.last() != Some(&total) {
            steps.push(total);
        }
        let f = law.features(&Curve {
            lr,
            steps: &steps,
            params: None,
            end: Some(total),
        })?;
        let mut pred = vec![0.0; steps.len()];
        law.predict(params, &f, &mut pred);
        record
            .gate()
            .check_all(&pred, |i| format!("step {}", steps[i]))?;
        let bands: Option<Vec<Band>> = self.calibration.as_ref().and_then(|(_, c)| {
            let source = Source {
                laplace: record.laplace.as_ref()?,
                model: &c.pooled,
                by_task: &c.by_task,
                domain: record.domain.as_ref()?,
                level: self.options.level,
            };
            let at = source.distances(law, lr, &steps, None);
            // The rest of this run: what the truncate task measured.
            let model = c.for_task(Task::Truncate);
            Some(source.bands_with(law, params, &f, &at, &|_| model))
        });
        Ok(steps
            .iter()
            .zip(&pred)
            .enumerate()
            .map(|(i, (&s, &p))| (s, p, bands.as_ref().map(|b| b[i])))
            .collect())
    }

    /// What the new points did against the previous fit's forecast.
    fn check(&mut self, run: &Run) -> Option<String> {
        let fitted = self.fitted.as_ref();
        let new: Vec<usize> = match fitted {
            Some(f) => (0..run.steps.len())
                .filter(|&i| run.steps[i] > f.last_step)
                .collect(),
            // The first poll: the recent window, against the points before it.
            None => {
                let n = run.steps.len();
                (n - SPIKE_WINDOW.min(n / 4)..n).collect()
            }
        };
        let mut spike = None;
        for &i in &new {
            let (step, y) = (run.steps[i], run.loss[i]);
            // The previous forecast at this step: the nearest forecast point at or after it.
            if let Some(f) = fitted {
                let j = f.forecast.partition_point(|p| p.0 < step);
                if let Some((_, _, Some(b))) = f.forecast.get(j.min(f.forecast.len() - 1)) {
                    if y > b.hi {
                        self.outside += 1;
                    } else {
                        self.outside = 0;
                    }
                }
            }
            let window = &run.loss[i.saturating_sub(SPIKE_WINDOW)..i];
            if window.len() >= 5 {
                let mut w = window.to_vec();
                w.sort_by(f64::total_cmp);
                let median = w[w.len() / 2];
                if y > median * (1.0 + self.options.spike) && spike.is_none() {
                    spike = Some(format!(
                        "spike: loss {y:.4} at step {step} is {:.0} % above the median of the \
                         previous {} points ({median:.4})",
                        100.0 * (y / median - 1.0),
                        window.len()
                    ));
                }
            }
        }
        if let Some(s) = spike {
            return Some(s);
        }
        (self.outside >= self.options.outside_run).then(|| {
            format!(
                "rising: {} points in a row above the previous fit's {:.0} % band (last at step \
                 {})",
                self.outside,
                100.0 * self.options.level,
                run.steps.last().copied().unwrap_or(0)
            )
        })
    }

    /// How the run's LR is known, for the status.
    pub fn lr_note(&self) -> &'static str {
        match self.schedule {
            Some(_) => "LR from --schedule",
            None => "LR from the log, held at its last value after it",
        }
    }
}
