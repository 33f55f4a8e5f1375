//! `losscast watch LOG`: follow a run as its trainer writes the log; a thin loop over
//! [`crate::watch::Watcher`] that prints a status line (or JSON lines) and exits on divergence
//! when asked.

use crate::error::{Error, Result};
use crate::fit::{self, FitOptions};
use crate::ingest::{ColumnNames, ReadOptions};
use crate::law::{self, LawOptions};
use crate::watch::{Poll, Update, WatchOptions, Watcher};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub(super) struct WatchArgs {
    /// The log the trainer is writing: any file or folder `inspect` reads.
    log: PathBuf,
    /// The run's LR schedule, e.g. cosine:peak=6e-4,end=0,warmup=700,total=19560 (the LR to
    /// come; default: the log's LR, held at its last value after the last logged step).
    #[arg(long)]
    schedule: Option<String>,
    /// Law to fit (a schedule law).
    #[arg(long, default_value = "annealing")]
    law: String,
    /// The step whose loss is forecast (default: the schedule's total).
    #[arg(long, value_parser = super::lists::steps)]
    total: Option<u64>,
    /// Time between polls: 30s, 500ms, 2m, or seconds.
    #[arg(long, default_value = "30s")]
    every: String,
    /// Forecast once from what the log holds now and exit (for cron and CI).
    #[arg(long)]
    once: bool,
    /// Exit with status 3 when divergence is flagged, so a job script can act.
    #[arg(long)]
    fail_on_divergence: bool,
    /// One JSON object per refit on stdout instead of the status line.
    #[arg(long)]
    json: bool,
    /// Central level of the interval on the final loss.
    #[arg(long, default_value_t = crate::forecast::interval::DEFAULT_LEVEL)]
    level: f64,
    /// Points in a row above the previous fit's band that flag a sustained rise.
    #[arg(long, default_value_t = 5)]
    outside: usize,
    /// A point this far above the median of the previous 20 (0.1 = 10 %) is a spike.
    #[arg(long, default_value_t = 0.1)]
    spike: f64,
    /// Leave out each refit's points before this fraction of the last step: early transients
    /// (the warmup's fast drop) dominate a run in progress and tilt α and L0 (on the bundled
    /// llm.c log at step 9776, 0 leaves C at its bound and the fit untrusted; 0.05–0.2 agree).
    #[arg(long, default_value_t = 0.1)]
    skip_fraction: f64,
    /// Read the log only up to this step: what watch would have said then.
    #[arg(long)]
    max_step: Option<i64>,
    /// Loss column or series (default: the training loss).
    #[arg(long, visible_alias = "loss")]
    loss_col: Option<String>,
    /// LR column or series (default: auto-detect).
    #[arg(long, visible_alias = "lr")]
    lr_col: Option<String>,
    /// One run of an input holding several (COLUMN=VALUE, or run=NAME).
    #[arg(long)]
    select: Option<String>,
}

/// Exit status of `--fail-on-divergence` when the run diverges.
pub const DIVERGED: i32 = 3;

/// `30s`, `500ms`, `2m`, `1h` or plain seconds.
pub fn parse_every(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let scale = match unit {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(Error::input(format!(
                "bad --every '{text}': use 30s, 500ms, 2m or 1h"
            )))
        }
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| Error::input(format!("bad --every '{text}': use 30s, 500ms, 2m or 1h")))?;
    if !(v.is_finite() && v > 0.0) || v * scale > 86_400.0 {
        return Err(Error::input(format!(
            "--every must be more than 0 and at most a day, not '{text}'"
        )));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// The status line of one refit.
pub fn status(u: &Update) -> String {
    let interval = match (u.lo, u.hi) {
        (Some(lo), Some(hi)) => format!(" [{lo:.4}, {hi:.4}] ({:.0} %)", 100.0 * u.level),
        _ => " (no interval yet)".into(),
    };
    let change = u
        .change
        .map_or(String::new(), |c| format!(", {c:+.4} since last refit"));
    let trust = if u.trustworthy { "" } else { " UNTRUSTED FIT" };
    format!(
        "step {} loss {:.4} | final loss at step {}: {:.4}{interval}{change} | {} pts, refit {:.0} \
         ms{trust}",
        u.step, u.loss, u.total, u.final_loss, u.points, u.refit_ms
    )
}

pub(super) fn run(a: WatchArgs) -> Result<i32> {
    let every = parse_every(&a.every)?;
    if !(a.spike > 0.0 && a.spike.is_finite()) {
        return Err(Error::input("--spike must be > 0 (0.1 is 10 %)"));
    }
    if a.outside == 0 {
        return Err(Error::input("--outside must be at least 1"));
    }
    let base = law::build(&a.law, LawOptions::default())?;
    let select = a
        .select
        .as_deref()
        .map(ReadOptions::parse_select)
        .transpose()?;
    let options = WatchOptions {
        law: a.law.clone(),
        fit: FitOptions {
            law: base.options().clone(),
            run_weighting: fit::default_weighting(base.as_ref()),
            priors: true,
            skip_fraction: a.skip_fraction,
            ..FitOptions::default()
        },
        schedule: a.schedule.clone(),
        total: a.total.map(|t| t as i64),
        level: a.level,
        outside_run: a.outside,
        spike: a.spike,
        max_step: a.max_step,
        read: ReadOptions {
            names: ColumnNames {
                step: None,
                loss: a.loss_col.clone(),
                lr: a.lr_col.clone(),
            },
            select,
            lr_shift: 0,
        },
    };
    let mut w = Watcher::new(&a.log, options)?;
    let tty = std::io::stderr().is_terminal() && !a.json;
    if !a.json {
        eprintln!(
            "watching {} with the {} law ({}); Ctrl-C stops",
            a.log.display(),
            a.law,
            w.lr_note()
        );
    }
    loop {
        match w.poll() {
            Ok(Poll::Updated(u)) => {
                if a.json {
                    let line = serde_json::to_string(&u)
                        .map_err(|e| Error::failed(format!("JSON: {e}")))?;
                    println!("{line}");
                } else if tty {
                    eprint!("\r\x1b[2K{}", status(&u));
                } else {
                    eprintln!("{}", status(&u));
                }
                if let (Some(r), false) = (&u.restart, a.json) {
                    if tty {
                        eprintln!();
                    }
                    eprintln!("RESTART: {r}");
                }
                if let Some(d) = &u.divergence {
                    if tty {
                        eprintln!();
                    }
                    if !a.json {
                        eprintln!("DIVERGENCE: {d}");
                    }
                    if a.fail_on_divergence {
                        return Ok(DIVERGED);
                    }
                }
                if a.once || u.done {
                    if tty {
                        eprintln!();
                    }
                    if let (Some(why), false) = (&u.no_interval, a.json) {
                        eprintln!("note: no interval: {why}");
                    }
                    return Ok(0);
                }
            }
            Ok(Poll::Waiting(why)) if !a.once => {
                if !a.json {
                    eprintln!("waiting: {why}");
                }
            }
            Ok(Poll::Waiting(why)) => {
                return Err(Error::input(format!("{}: {why}", a.log.display())))
            }
            Ok(Poll::Unchanged) => {}
            // A log being written may fail to parse for a moment (a folder's file rewritten
            // in place); once, it is an error.
            Err(e) if !a.once && a.log.exists() => {
                if !a.json {
                    eprintln!("waiting: {e}");
                }
            }
            Err(e) => return Err(e),
        }
        let _ = std::io::stderr().flush();
        std::thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_every;
    use std::time::Duration;

    #[test]
    fn every_takes_units() {
        assert_eq!(parse_every("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_every("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_every("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_every("5").unwrap(), Duration::from_secs(5));
        assert!(parse_every("0s").is_err());
        assert!(parse_every("3 weeks").is_err());
        assert!(parse_every("-1").is_err());
    }
}
