//! `watch`: a writer thread appends a real loss curve (MPL 400M, cosine to 24 000 steps) to a
//! log line by line, tearing lines in half, while the watcher polls; the forecast converges on
//! the logged final loss, torn lines never fail a poll, and the divergence flag fires on an
//! injected spike but not on the curve's own noise.

mod common;

use common::{data, losscast};
use losscast::fit::FitOptions;
use losscast::ingest::ReadOptions;
use losscast::law::LawOptions;
use losscast::watch::{Poll, Update, WatchOptions, Watcher};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

const SCHEDULE: &str = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";

fn options() -> WatchOptions {
    WatchOptions {
        law: "annealing".into(),
        fit: FitOptions {
            law: LawOptions::default(),
            priors: true,
            ..FitOptions::default()
        },
        schedule: Some(SCHEDULE.into()),
        total: None,
        level: 0.9,
        outside_run: 5,
        spike: 0.1,
        max_step: None,
        read: ReadOptions::default(),
    }
}

/// The fixture's lines: header, then (step, loss) rows.
fn fixture() -> (String, Vec<String>) {
    let text = std::fs::read_to_string(data("mpl/csv_400/cosine_24000.csv")).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn last_loss(lines: &[String]) -> f64 {
    lines
        .last()
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A writer thread appends `lines` (after the header), stopping in the middle of every fifth
/// line and at every 30th for the watcher to poll; returns every update the watcher made.
fn follow(dir: &Path, header: &str, lines: Vec<String>) -> Vec<Update> {
    let path = dir.join("run.csv");
    std::fs::write(&path, format!("{header}\n")).unwrap();
    let (poll_now, wait_poll) = mpsc::channel::<()>();
    let (polled, wait_polled) = mpsc::channel::<()>();
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&writer_path)
            .unwrap();
        for (i, line) in lines.iter().enumerate() {
            let torn = i % 5 == 4;
            if torn {
                // Half the line, a poll, then the rest: the watcher sees a torn last line.
                let (a, b) = line.split_at(line.len() / 2);
                f.write_all(a.as_bytes()).unwrap();
                f.flush().unwrap();
                if i % 30 == 29 {
                    poll_now.send(()).unwrap();
                    wait_polled.recv().unwrap();
                }
                f.write_all(format!("{b}\n").as_bytes()).unwrap();
            } else {
                f.write_all(format!("{line}\n").as_bytes()).unwrap();
            }
            f.flush().unwrap();
        }
        poll_now.send(()).unwrap();
        wait_polled.recv().unwrap();
    });
    let mut w = Watcher::new(&path, options()).unwrap();
    let mut updates = Vec::new();
    while wait_poll.recv().is_ok() {
        match w.poll().expect("a torn last line is never an error") {
            Poll::Updated(u) => updates.push(*u),
            Poll::Waiting(_) | Poll::Unchanged => {}
        }
        if polled.send(()).is_err() {
            break;
        }
    }
    writer.join().unwrap();
    updates
}

#[test]
fn the_forecast_converges_as_the_log_grows_and_torn_lines_wait() {
    let dir = tempfile_dir("converges");
    let (header, lines) = fixture();
    let final_loss = last_loss(&lines);
    let updates = follow(&dir, &header, lines.clone());
    assert!(updates.len() >= 4, "{} updates", updates.len());
    // Every update read only complete lines: its last loss is one of the fixture's values.
    let logged: Vec<f64> = lines
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    for u in &updates {
        assert!(
            logged.iter().any(|&y| (y - u.loss).abs() < 1e-12),
            "step {} loss {} is not a logged value (a torn line was read)",
            u.step,
            u.loss
        );
    }
    let err = |u: &Update| (u.final_loss - final_loss).abs() / final_loss;
    let (first, last) = (&updates[0], updates.last().unwrap());
    assert!(
        err(last) < 0.005,
        "last forecast {} vs logged {final_loss}",
        last.final_loss
    );
    assert!(
        err(last) <= err(first),
        "the forecast did not improve: {} then {}",
        err(first),
        err(last)
    );
    // The log's last step (23 936) is short of the schedule's 24 000: not done.
    assert!(!last.done);
    // Intervals come once the run can be backtested, and the last one holds the final loss.
    let (lo, hi) = (last.lo.unwrap(), last.hi.unwrap());
    assert!(
        lo <= final_loss && final_loss <= hi,
        "[{lo}, {hi}] vs {final_loss}"
    );
    // Later refits start from the last optimum.
    assert!(updates.iter().skip(1).any(|u| u.warm));
    // The curve's own noise is not divergence.
    assert!(
        updates.iter().all(|u| u.divergence.is_none()),
        "{updates:?}"
    );
}

#[test]
fn a_spike_is_flagged_and_noise_is_not() {
    let dir = tempfile_dir("spike");
    let (header, mut lines) = fixture();
    // Keep the first 120 points, then one loss 30 % above its neighbours, then 10 more.
    lines.truncate(131);
    let row = lines[120].clone();
    let (step, loss) = row.split_once(',').unwrap();
    let (lr, y) = loss.split_once(',').unwrap();
    let y: f64 = y.parse().unwrap();
    lines[120] = format!("{step},{lr},{}", y * 1.3);
    let updates = follow(&dir, &header, lines);
    let flagged: Vec<&Update> = updates.iter().filter(|u| u.divergence.is_some()).collect();
    assert_eq!(flagged.len(), 1, "{updates:#?}");
    let d = flagged[0].divergence.as_deref().unwrap();
    assert!(d.contains("spike") && d.contains(step), "{d}");
}

/// A scratch folder under the target directory, fresh for each test.
fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("losscast-watch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn watch_once_forecasts_the_llmc_log_and_fails_on_divergence() {
    let dir = tempfile_dir("cli");
    let log = data("logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log");
    let log = log.to_str().unwrap();
    let sched = "cosine:peak=6e-4,end=0,warmup=700,total=19552";
    let out = losscast(
        &dir,
        &[
            "watch",
            log,
            "--schedule",
            sched,
            "--once",
            "--max-step",
            "15000",
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let u: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(u["step"], 15000);
    assert_eq!(u["total"], 19552);
    // The logged training loss at step 19551 is 3.2813; the forecast from step 15000 is
    // within 1 % and its interval holds it.
    let f = u["final_loss"].as_f64().unwrap();
    assert!((f - 3.2813).abs() / 3.2813 < 0.01, "{u}");
    assert!(u["lo"].as_f64().unwrap() <= 3.2813 && 3.2813 <= u["hi"].as_f64().unwrap());

    // An injected spike with --fail-on-divergence: exit 3, after a first fit.
    let text = std::fs::read_to_string(data("mpl/csv_400/cosine_24000.csv")).unwrap();
    let mut rows: Vec<String> = text.lines().map(str::to_string).collect();
    let path = dir.join("spiky.csv");
    rows.truncate(100);
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();
    let p = path.to_str().unwrap();
    let args = [
        "watch",
        p,
        "--schedule",
        SCHEDULE,
        "--every",
        "100ms",
        "--fail-on-divergence",
    ];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_losscast"))
        .args(args)
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Its stderr, line by line, so the spike is appended only after the first fit.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let timeout = std::time::Duration::from_secs(120);
    let mut seen = Vec::new();
    loop {
        let line = rx.recv_timeout(timeout).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("no first fit within {timeout:?}: {seen:?}")
        });
        let first_fit = line.starts_with("step ");
        seen.push(line);
        if first_fit {
            break;
        }
    }
    let (s, rest) = rows[99].split_once(',').unwrap();
    let (lr, y) = rest.split_once(',').unwrap();
    let y: f64 = y.parse().unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    writeln!(f, "{},{lr},{}", s.parse::<i64>().unwrap() + 128, y * 1.5).unwrap();
    drop(f);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            panic!("watch did not exit on the spike: {seen:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    seen.extend(rx.try_iter());
    let err = seen.join("\n");
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("DIVERGENCE: spike"), "{err}");
}

#[test]
fn watch_refuses_what_it_cannot_do() {
    let dir = tempfile_dir("refuse");
    let log = data("mpl/csv_400/cosine_24000.csv");
    let log = log.to_str().unwrap();
    for (args, want) in [
        (vec!["watch", log, "--once"], "--schedule"),
        (
            vec!["watch", log, "--schedule", SCHEDULE, "--every", "soon"],
            "--every",
        ),
        (
            vec!["watch", "missing.csv", "--schedule", SCHEDULE, "--once"],
            "missing.csv",
        ),
        (
            vec!["watch", log, "--schedule", SCHEDULE, "--law", "chinchilla"],
            "schedule law",
        ),
        (
            vec!["watch", log, "--schedule", SCHEDULE, "--level", "0.999"],
            "--level",
        ),
    ] {
        let out = losscast(&dir, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
