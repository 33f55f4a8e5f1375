//! Regression tests for the careless-user findings of issue 25, one or more per finding, each
//! named by its ID (F09, G03, …) so that a failure points at the finding it reopens. Every test
//! failed on 948aa84.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const COSINE: &str = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";

/// A fresh fit file of the annealing law on one bundled 25M run, in `dir`.
fn annealing_fit(dir: &Path) -> PathBuf {
    let csv = data("mpl/csv_25/cosine_24000.csv");
    losscast_ok(
        dir,
        &[
            "fit",
            csv.to_str().unwrap(),
            "--schedule",
            COSINE,
            "--out",
            "fit.json",
        ],
    );
    dir.join("fit.json")
}

/// The fit file at `path` with `edit` applied, written to `name` beside it.
fn edited(path: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut v);
    let out = path.with_file_name(name);
    std::fs::write(&out, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    out
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn f09_size_law_exponents_must_be_positive_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    refused(
        d,
        &[
            "predict",
            "--law",
            "chinchilla",
            "--params",
            "E=1.8,A=400,B=2000,alpha=-1,beta=-2",
            "--n",
            "7e10",
            "--d",
            "1.4e12",
        ],
        "alpha = -1 is not positive",
    );
    let table = data("chinchilla/svg_extracted_data.csv");
    refused(
        d,
        &[
            "fit",
            "--law",
            "chinchilla",
            table.to_str().unwrap(),
            "--fix",
            "alpha=-1",
            "--out",
            "c.json",
        ],
        "alpha = -1 is not positive",
    );
}

#[test]
fn f09_a_fit_files_unknown_parameter_or_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fit = annealing_fit(dir.path());
    let d = dir.path();
    let extra = edited(&fit, "extra.json", |v| {
        v["params"]["beta"] = 0.5.into();
    });
    refused(
        d,
        &[
            "predict",
            "--fit",
            extra.to_str().unwrap(),
            "--schedule",
            COSINE,
        ],
        "has parameter 'beta', which law annealing does not have",
    );
    let key = edited(&fit, "key.json", |v| {
        v["calibraton"] = Value::Null;
    });
    refused(
        d,
        &[
            "predict",
            "--fit",
            key.to_str().unwrap(),
            "--schedule",
            COSINE,
        ],
        "unknown field `calibraton`",
    );
}

#[test]
fn g03_an_extreme_row_does_not_panic_a_size_fit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(data("chinchilla/svg_extracted_data.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(60).map(String::from).collect();
    let mut cells: Vec<String> = lines[5].split(',').map(String::from).collect();
    cells[3] = "1e30".into(); // Model Size
    lines[5] = cells.join(",");
    std::fs::write(d.join("chin_N1e30.csv"), lines.join("\n") + "\n").unwrap();
    let out = losscast(
        d,
        &[
            "fit",
            "--law",
            "chinchilla-nd",
            "chin_N1e30.csv",
            "--out",
            "c.json",
        ],
    );
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "exit {code:?}: {}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// An edit of a fit file's JSON.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn g04_g09_f24_fit_file_blocks_are_validated_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let fit = annealing_fit(dir.path());
    let d = dir.path();
    let v: Value = serde_json::from_slice(&std::fs::read(&fit).unwrap()).unwrap();
    assert!(
        v["laplace"].is_object() && v["calibration"].is_object(),
        "{v}"
    );
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "g04_cov.json",
            Box::new(|v| v["laplace"]["covariance"] = serde_json::json!([[1.0]])),
            "laplace.covariance must be 4×4",
        ),
        (
            "g04_boot.json",
            Box::new(|v| {
                v["bootstrap"] = serde_json::json!({"resamples": 3, "seed": 1, "level": 0.9,
                    "failed": 0, "intervals": {}, "samples": [[2.0, 0.4]]})
            }),
            "bootstrap.samples[0] has 2 values",
        ),
        (
            "g09_neg.json",
            Box::new(|v| {
                v["calibration"]["multipliers"] = serde_json::json!([[0.9, -2.0]]);
            }),
            "multiplier in (0, 1000]",
        ),
        (
            "g09_empty.json",
            Box::new(|v| v["calibration"]["multipliers"] = serde_json::json!([])),
            "calibration.multipliers is empty",
        ),
        (
            "g09_sd.json",
            Box::new(|v| v["laplace"]["residual_sd"] = serde_json::json!(1e300)),
            "laplace.residual_sd = 1e300",
        ),
        (
            "f24_samples.json",
            Box::new(|v| {
                v["bootstrap"] = serde_json::json!({"resamples": 3, "seed": 1, "level": 0.9,
                    "failed": 3, "intervals": {}, "samples": []})
            }),
            "bootstrap.samples is empty",
        ),
        (
            "f24_level.json",
            Box::new(|v| {
                v["bootstrap"] = serde_json::json!({"resamples": 1, "seed": 1, "level": 5,
                    "failed": 0, "intervals": {}, "samples": [[2.0, 0.4, 0.5, 0.4]]})
            }),
            "bootstrap.level = 5 must lie strictly between 0 and 1",
        ),
    ];
    for (name, edit, want) in cases {
        let p = edited(&fit, name, |v| edit(v));
        let p = p.to_str().unwrap();
        for args in [
            vec!["predict", "--fit", p, "--schedule", COSINE],
            vec![
                "eval",
                "--fit",
                p,
                data("mpl/csv_25/cosine_24000.csv").to_str().unwrap(),
                "--schedule",
                COSINE,
            ],
            vec![
                "plan", "--fit", p, "--total", "24000", "--peak", "3e-4", "--warmup", "2160",
            ],
        ] {
            let out = losscast(d, &args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(err.contains(want), "{name}: want '{want}' in {err}");
        }
    }
}

#[test]
fn g21_eval_refuses_metrics_of_impossible_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let fit = annealing_fit(dir.path());
    let huge_c = edited(&fit, "c.json", |v| v["params"]["C"] = 1e6.into());
    let csv = data("mpl/csv_25/cosine_24000.csv");
    let out = losscast(
        dir.path(),
        &[
            "eval",
            "--fit",
            huge_c.to_str().unwrap(),
            csv.to_str().unwrap(),
            "--schedule",
            COSINE,
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("implausible"), "{err}");
    assert!(out.stdout.is_empty(), "no metrics printed");
    // The same fit's forecast is refused too.
    let out = losscast(
        dir.path(),
        &[
            "predict",
            "--fit",
            huge_c.to_str().unwrap(),
            "--schedule",
            COSINE,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// A copy of the bundled 400M manifest in `dir`, its run paths pointing at the bundled data.
fn manifest_copy(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(data("mpl400.toml")).unwrap();
    let root = data("");
    let text = text.replace("path = \"", &format!("path = \"{}/", root.display()));
    let p = dir.join("victim3.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn g01_report_plan_outputs_are_checked_with_the_reports_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = manifest_copy(d);
    let log = d.join("c24.csv");
    std::fs::copy(data("mpl/csv_400/cosine_24000.csv"), &log).unwrap();
    let before_m = std::fs::read(&m).unwrap();
    let before_log = std::fs::read(&log).unwrap();
    let plan =
        |out: &str| format!("--total 24000 --peak 3e-4 --warmup 2160 --free --free-out {out}");
    for (source, victim) in [
        (vec!["--manifest", m.to_str().unwrap()], m.to_str().unwrap()),
        (
            vec![log.to_str().unwrap(), "--schedule", COSINE],
            log.to_str().unwrap(),
        ),
        (vec!["--manifest", m.to_str().unwrap()], "r.html"),
    ] {
        let mut args = vec!["report"];
        args.extend(source);
        let p = plan(victim);
        args.extend(["--laws", "annealing", "--plan", &p, "--out", "r.html"]);
        let err = refusal(d, &args);
        assert!(err.contains("--plan's --free-out"), "{err}");
    }
    assert_eq!(std::fs::read(&m).unwrap(), before_m);
    assert_eq!(std::fs::read(&log).unwrap(), before_log);
    assert!(!d.join("r.html").exists());
}

#[test]
fn g15_report_reads_plan_and_forecast_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = manifest_copy(d);
    let m = m.to_str().unwrap();
    let start = std::time::Instant::now();
    refused(
        d,
        &[
            "report",
            "--manifest",
            m,
            "--plan",
            "--total 24000 --peek 3e-4",
            "--out",
            "r.html",
        ],
        "the plan section (--plan '--total 24000 --peek 3e-4'): unexpected argument '--peek'",
    );
    refused(
        d,
        &[
            "report",
            "--manifest",
            m,
            "--plan",
            "--help",
            "--out",
            "r.html",
        ],
        "asks for help, not a plan",
    );
    refused(
        d,
        &[
            "report",
            "--manifest",
            m,
            "--forecast",
            "cosine:peak=3e-4",
            "--out",
            "r.html",
        ],
        "--forecast 'cosine:peak=3e-4'",
    );
    // No fit ran: each refusal came before the work (a fit of this manifest takes seconds).
    assert!(start.elapsed().as_secs_f64() < 30.0);
}

#[test]
fn g18_report_refuses_a_law_named_twice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = manifest_copy(d);
    refused(
        d,
        &[
            "report",
            "--manifest",
            m.to_str().unwrap(),
            "--laws",
            "annealing,annealing",
            "--out",
            "r.html",
        ],
        "--laws names annealing twice",
    );
}

#[test]
fn f23_list_items_are_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data("mpl25.toml");
    let out = losscast_ok(
        d,
        &[
            "compare",
            "--manifest",
            m.to_str().unwrap(),
            "--laws",
            "annealing, multipower",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("multipower"), "{text}");
    let out = losscast_ok(
        d,
        &[
            "predict",
            "--law",
            "chinchilla",
            "--params",
            "E=1.8,A=400,B=2000,alpha=0.34,beta=0.28",
            "--n",
            "7e10, 1e11",
            "--d",
            "1.4e12, 2e12",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

#[test]
fn f26_a_file_name_too_long_is_refused_before_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = format!("{}.json", "x".repeat(245));
    let csv = data("mpl/csv_25/cosine_24000.csv");
    refused(
        d,
        &["fit", csv.to_str().unwrap(), "--out", &name],
        "once staged under its temporary name",
    );
    let name = format!("{}.json", "x".repeat(260));
    refused(
        d,
        &["fit", csv.to_str().unwrap(), "--out", &name],
        "file systems take at most 255",
    );
}

#[test]
fn g05_watch_total_is_held_to_the_step_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = data("mpl/csv_25/constant_24000.csv");
    for total in ["1000000000000", "2e9"] {
        let out = losscast(
            d,
            &["watch", log.to_str().unwrap(), "--total", total, "--once"],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{total}: {err}");
        assert!(err.contains("limit of 20000000 steps"), "{err}");
    }
    refused(
        d,
        &[
            "plan", "--fit", "x.json", "--total", "20000001", "--peak", "3e-4",
        ],
        "limit of 20000000 steps",
    );
}

#[test]
fn g06_a_huge_file_that_is_no_log_is_refused_from_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 3 GB of NUL bytes, sparse: nothing is written to disk.
    let junk = d.join("junk.csv");
    std::fs::File::create(&junk)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    // 20 MB of one endless line of text.
    let line = d.join("line.csv");
    std::fs::write(&line, vec![b'x'; 20 << 20]).unwrap();
    let fit = annealing_fit(d);
    for path in [&junk, &line] {
        let p = path.to_str().unwrap();
        for args in [
            vec!["fit", p, "--schedule", COSINE],
            vec![
                "eval",
                "--fit",
                fit.to_str().unwrap(),
                p,
                "--schedule",
                COSINE,
            ],
            vec!["report", p, "--schedule", COSINE, "--out", "r.html"],
            vec!["watch", p, "--schedule", COSINE, "--once"],
            vec!["predict", "--fit", p, "--schedule", COSINE],
        ] {
            let out = losscast(d, &args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("binary data")
                    || err.contains("longer than 64 KB")
                    || err.contains("not a losscast fit file"),
                "{args:?}: {err}"
            );
            assert!(
                err.len() < 2000,
                "the message echoes the file: {} bytes",
                err.len()
            );
        }
    }
}

#[test]
fn g19_plan_holds_one_schedule_at_a_time() {
    // Under a 1 GB address-space limit a plan of 5 million steps ran out of memory (it kept every
    // candidate's per-step LR array, 40 MB each, and several per-step copies of each).
    let dir = tempfile::tempdir().unwrap();
    let fit = annealing_fit(dir.path());
    let cmd = format!(
        "ulimit -v 1000000; exec {} plan --fit {} --total 5000000 --peak 3e-4 --warmup 2160 --json",
        env!("CARGO_BIN_EXE_losscast"),
        fit.display()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["candidates"].as_array().unwrap().len() > 10, "{v}");
}

/// The first `n` rows of the bundled 400M cosine run, with its header.
fn cosine_rows(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(data("mpl/csv_400/cosine_24000.csv")).unwrap();
    text.lines().take(n + 1).map(str::to_string).collect()
}

#[test]
fn g07_watch_flags_divergence_on_the_first_poll() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rows = cosine_rows(100);
    let last_step: i64 = rows
        .last()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    for k in 1..=5 {
        rows.push(format!("{},3e-4,10", last_step + 16 * k));
    }
    std::fs::write(d.join("spike.csv"), rows.join("\n") + "\n").unwrap();
    let out = losscast(
        d,
        &[
            "watch",
            "spike.csv",
            "--schedule",
            COSINE,
            "--once",
            "--fail-on-divergence",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("DIVERGENCE: spike"), "{err}");
    // The same log without the spike passes.
    std::fs::write(d.join("calm.csv"), cosine_rows(100).join("\n") + "\n").unwrap();
    let out = losscast(
        d,
        &[
            "watch",
            "calm.csv",
            "--schedule",
            COSINE,
            "--once",
            "--fail-on-divergence",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn g08_watch_flags_a_restarted_run_and_refits_from_it() {
    use losscast::watch::{Poll, WatchOptions, Watcher};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.csv");
    std::fs::write(&path, cosine_rows(120).join("\n") + "\n").unwrap();
    let options = WatchOptions {
        law: "annealing".into(),
        fit: losscast::fit::FitOptions {
            priors: true,
            ..Default::default()
        },
        schedule: Some(COSINE.into()),
        total: None,
        level: 0.9,
        outside_run: 5,
        spike: 0.1,
        max_step: None,
        read: Default::default(),
    };
    let mut w = Watcher::new(&path, options).unwrap();
    let Poll::Updated(first) = w.poll().unwrap() else {
        panic!("first poll fits")
    };
    assert!(first.restart.is_none());
    // The run restarts from an earlier checkpoint: a new log, shorter, its loss 0.5 higher.
    let rows: Vec<String> = cosine_rows(60)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            if i == 0 {
                return r;
            }
            let mut c: Vec<String> = r.split(',').map(String::from).collect();
            let loss: f64 = c[2].parse().unwrap();
            c[2] = format!("{}", loss + 0.5);
            c.join(",")
        })
        .collect();
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();
    let Poll::Updated(second) = w.poll().unwrap() else {
        panic!("the new log is read")
    };
    let why = second.restart.clone().expect("the restart is flagged");
    assert!(why.contains("went back from step"), "{why}");
    // Refitted from the restarted run alone: a fresh multistart, not a warm refit, and no
    // change reported against the old run's forecast.
    assert!(!second.warm && second.change.is_none(), "{second:?}");
    assert_eq!(second.points, 60);
}

#[test]
fn f16_a_step_schedule_must_drop() {
    let dir = tempfile::tempdir().unwrap();
    refused(
        dir.path(),
        &[
            "predict",
            "--law",
            "annealing",
            "--params",
            "L0=2.6,A=0.43,alpha=0.55,C=0.41",
            "--schedule",
            "steps:peak=3e-4,total=24000,drops=8000@9e-3",
        ],
        "the drop at step 8000 goes up",
    );
}

#[test]
fn f17_wsd_without_a_shape_is_linear_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = losscast_ok(dir.path(), &["predict", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("linear when not given"), "{help}");
    // The canonical spec spells the shape out.
    let out = losscast_ok(
        dir.path(),
        &[
            "predict",
            "--law",
            "annealing",
            "--params",
            "L0=2.6,A=0.43,alpha=0.55,C=0.41",
            "--schedule",
            "wsd:peak=3e-4,end=0,warmup=100,total=1000,decay_start=800",
            "--steps",
            "1000",
            "--json",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1000"));
    let f = annealing_fit(dir.path());
    let out = losscast_ok(
        dir.path(),
        &[
            "plan",
            "--fit",
            f.to_str().unwrap(),
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--families",
            "wsd",
            "--json",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("shape="), "{text}");
}

#[test]
fn f19_nul_bytes_negative_steps_and_a_huge_peak_name_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("nul.csv"), vec![0u8; 1000]).unwrap();
    let err = refusal(d, &["fit", "nul.csv", "--schedule", COSINE]);
    assert!(err.contains("binary data (NUL bytes)"), "{err}");
    assert!(!err.contains('\0'), "the NULs are echoed");
    let params = [
        "--law",
        "annealing",
        "--params",
        "L0=2.6,A=0.43,alpha=0.55,C=0.41",
    ];
    let mut args = vec!["predict"];
    args.extend(params);
    args.extend(["--schedule", COSINE, "--steps", "-100,200"]);
    refused(d, &args, "'-100' is not a whole step >= 0");
    let mut args = vec!["predict"];
    args.extend(params);
    args.extend([
        "--schedule",
        "cosine:peak=1e308,end=0,warmup=100,total=1000",
    ]);
    refused(d, &args, "peak=1e308 is not a learning rate");
}

#[test]
fn f20_a_doubled_event_file_is_named_as_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = data("logs/tfevents/GENERATED__llmc_main_log_steps0-1000__simple_value.tfevents");
    let bytes = std::fs::read(&src).unwrap();
    let doubled = d.join("events.out.tfevents.2.host");
    std::fs::write(&doubled, [bytes.clone(), bytes].concat()).unwrap();
    let out = losscast_ok(d, &["inspect", doubled.to_str().unwrap()]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("repeat an earlier one exactly"), "{text}");
    assert!(!text.contains("steps out of order"), "{text}");
}

#[test]
fn f21_a_corrupt_loss_is_refused_and_ticks_stay_short() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rows = cosine_rows(100);
    let mut cells: Vec<String> = rows[50].split(',').map(String::from).collect();
    cells[2] = "1e306".into();
    rows[50] = cells.join(",");
    std::fs::write(d.join("one_huge_loss.csv"), rows.join("\n") + "\n").unwrap();
    let err = refusal(d, &["fit", "one_huge_loss.csv", "--schedule", COSINE]);
    assert!(err.contains("a corrupt or diverged record"), "{err}");
    assert!(!err.contains("e305"), "{err}");
    assert_eq!(losscast::base::numbers::tick_label(&5e305), "5.00e305");
}

#[test]
fn f25_isoflop_without_an_exponent_fails() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Three budgets whose loss only falls with model size: no minimum to find.
    let mut text = String::from("N,D,loss\n");
    for c in [1e18f64, 1e19, 1e20] {
        for (k, n) in [1e7f64, 3e7, 1e8, 3e8].iter().enumerate() {
            text += &format!("{n},{},{}\n", c / (6.0 * n), 4.0 - 0.1 * k as f64);
        }
    }
    std::fs::write(d.join("mono.csv"), text).unwrap();
    let out = losscast(d, &["isoflop", "mono.csv"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no IsoFLOP exponent"), "{err}");
}

#[test]
fn g11_g12_a_backtest_that_measures_nothing_fails_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data("mpl25.toml");
    let m = m.to_str().unwrap();
    let out = losscast(
        d,
        &[
            "backtest",
            "--manifest",
            m,
            "--task",
            "truncate",
            "--laws",
            "annealing",
            "--skip-fraction",
            "0.99",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("every fold of the backtest failed"), "{err}");
    assert!(err.contains("--skip-fraction 0.99"), "{err}");
    assert!(!err.contains("--min-step"), "{err}");
    refused(
        d,
        &["backtest", "--manifest", m, "--lambda", "1.5"],
        "--lambda must lie in (0, 1)",
    );
}

#[test]
fn g13_a_tie_goes_to_the_simpler_law() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // One constant-LR run: the Multi-Power Law's drop terms stay idle, so it forecasts exactly
    // as annealing does, and the two backtest scores tie to rounding (948aa84 chose
    // multipower, with 4 of its 7 parameters unidentified).
    let mut text = String::from("step,lr,loss\n");
    for k in 0..400 {
        let step = 16 * k;
        let s1 = 3e-4 * (step + 1) as f64;
        let loss = (3.0 + 0.5 * s1.powf(-0.5)) * (0.01 * (k as f64 * 1.7).sin()).exp();
        text += &format!("{step},3e-4,{loss}\n");
    }
    std::fs::write(d.join("good.csv"), text).unwrap();
    losscast_ok(
        d,
        &[
            "fit",
            "--law",
            "auto",
            "good.csv",
            "--out",
            "a.json",
            "--no-intervals",
            // Without priors the two laws are one law on a constant LR (the annealing law's
            // α prior would tell them apart).
            "--no-prior",
        ],
    );
    let rec: Value = serde_json::from_slice(&std::fs::read(d.join("a.json")).unwrap()).unwrap();
    let score = rec["selection"]["score"].as_array().unwrap().clone();
    let of = |law: &str| {
        score
            .iter()
            .find(|s| s[0] == law)
            .and_then(|s| s[1].as_f64())
            .unwrap()
    };
    let (a, m) = (of("annealing"), of("multipower"));
    assert!((a - m).abs() <= 1e-6 * a, "not a tie: {a} vs {m}");
    assert_eq!(rec["law"], "annealing", "{rec}");
}

#[test]
fn g14_fit_auto_on_a_size_table_points_to_the_size_rollout() {
    let dir = tempfile::tempdir().unwrap();
    let t = data("chinchilla/svg_extracted_data.csv");
    refused(
        dir.path(),
        &["fit", "--law", "auto", t.to_str().unwrap()],
        "eval --rollout n --law auto",
    );
}

#[test]
fn g20_one_logged_zero_lr_is_a_glitch_not_an_anneal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A constant-LR run logged every 16 steps from step 0, its loss the annealing law's
    // (L0 = 3, A = 0.5, alpha = 0.5, no anneal), with one logged LR of 0 in the middle.
    let mut clean = String::from("step,lr,loss\n");
    let mut glitch = clean.clone();
    for k in 0..400 {
        let step = 16 * k;
        let s1 = 3e-4 * (step + 1) as f64;
        let loss = 3.0 + 0.5 * s1.powf(-0.5);
        clean += &format!("{step},3e-4,{loss}\n");
        let lr = if k == 200 { "0" } else { "3e-4" };
        glitch += &format!("{step},{lr},{loss}\n");
    }
    std::fs::write(d.join("clean.csv"), clean).unwrap();
    std::fs::write(d.join("glitch.csv"), glitch).unwrap();
    let out = losscast_ok(
        d,
        &["fit", "glitch.csv", "--out", "g.json", "--no-intervals"],
    );
    assert!(
        stderr(&out).contains("logged LR glitch"),
        "{}",
        stderr(&out)
    );
    losscast_ok(
        d,
        &["fit", "clean.csv", "--out", "c.json", "--no-intervals"],
    );
    let read =
        |f: &str| -> Value { serde_json::from_slice(&std::fs::read(d.join(f)).unwrap()).unwrap() };
    let (g, c) = (read("g.json"), read("c.json"));
    // The glitch is read as its neighbours' LR: the same fit as the clean log, and no
    // annealing coefficient claimed from one logged 0.
    assert_eq!(g["params"], c["params"]);
    assert!(g["data"].to_string().contains("logged LR glitch"));
    assert_eq!(g["trustworthy"], c["trustworthy"]);
}

#[test]
fn g22_messages_name_the_real_cause() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A symlinked manifest: the message says where the path was read from.
    std::fs::create_dir_all(d.join("real")).unwrap();
    std::fs::create_dir_all(d.join("elsewhere")).unwrap();
    std::fs::write(
        d.join("real/m.toml"),
        "[[run]]\nname = \"a\"\npath = \"missing.csv\"\nschedule = \"constant:peak=3e-4,total=1000\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("../real/m.toml", d.join("elsewhere/link.toml")).unwrap();
    refused(
        d,
        &["fit", "--manifest", "elsewhere/link.toml"],
        "read from the manifest's folder elsewhere",
    );
    // One row: too few points, before anything about the LR.
    std::fs::write(d.join("one.csv"), "step,loss,lr\n5000,3.0,3e-4\n").unwrap();
    refused(d, &["fit", "one.csv"], "too few points");
    // A held-out log given alone to eval is a test run.
    let fit = annealing_fit(d);
    let other = data("mpl/csv_25/constant_24000.csv");
    let out = losscast_ok(
        d,
        &[
            "eval",
            "--fit",
            fit.to_str().unwrap(),
            other.to_str().unwrap(),
            "--schedule",
            "constant:peak=3e-4,warmup=2160,total=24000",
            "--json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["runs"][0]["role"], "test", "{v}");
}

/// The JSON a report page embeds.
fn page_data(page: &Path) -> Value {
    let text = std::fs::read_to_string(page).unwrap();
    let start = text
        .find("<script type=\"application/json\" id=\"losscast-data\">")
        .unwrap();
    let body = &text[text[start..].find('>').unwrap() + start + 1..];
    serde_json::from_str(&body[..body.find("</script>").unwrap()]).unwrap()
}

#[test]
fn g16_g17_report_names_read_as_they_are_and_forecasts_start_after_warmup() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = data("mpl/csv_25/cosine_24000.csv");
    let long = "x".repeat(5000);
    std::fs::write(
        d.join("m.toml"),
        format!(
            "[[run]]\nname = \"\u{202E}live\"\npath = \"{}\"\nschedule = \"{COSINE}\"\n\n\
             [[run]]\nname = \"{long}\"\npath = \"{}\"\nschedule = \"{COSINE}\"\nrole = \"test\"\n",
            csv.display(),
            csv.display()
        ),
    )
    .unwrap();
    let fit = annealing_fit(d);
    losscast_ok(
        d,
        &[
            "report",
            "--manifest",
            "m.toml",
            "--fit",
            fit.to_str().unwrap(),
            "--forecast",
            "cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000",
            "--out",
            "r.html",
        ],
    );
    let page = std::fs::read_to_string(d.join("r.html")).unwrap();
    assert!(
        page.contains("&lt;U+202E&gt;live"),
        "the direction control is spelt out"
    );
    assert!(page.contains("overflow-wrap: anywhere"));
    let v = page_data(&d.join("r.html"));
    let first = v["forecasts"][0]["by_law"][0]["predictions"][0]["step"]
        .as_i64()
        .unwrap();
    assert!(
        first >= 2159,
        "the forecast starts inside the warmup, at {first}"
    );
    let flags = v["flags"].to_string();
    assert!(!flags.contains("inside the warmup"), "{flags}");
}

#[test]
fn g10_a_failed_fold_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data("mpl25.toml");
    let out = losscast_ok(
        d,
        &[
            "backtest",
            "--manifest",
            m.to_str().unwrap(),
            "--task",
            "truncate",
            "--laws",
            "annealing,multipower",
            "--max-points",
            "5",
            "--json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let folds = v["folds"].as_array().unwrap();
    for f in folds {
        if f["pred_e"].is_null() {
            assert!(
                f["error"].is_string(),
                "a failed fold without a reason: {f}"
            );
        }
    }
}

#[test]
fn plan_calls_a_gap_inside_the_backtest_error_indistinguishable() {
    // The demo's fit: the 400M study's fit runs, intervals calibrated by their backtest.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data("mpl400.toml");
    losscast_ok(
        d,
        &["fit", "--manifest", m.to_str().unwrap(), "--out", "a.json"],
    );
    let rec: Value = serde_json::from_slice(&std::fs::read(d.join("a.json")).unwrap()).unwrap();
    let gap_sd = rec["calibration"]["gap_sd"]
        .as_f64()
        .expect("the calibration measures the error of schedule differences");
    let v = losscast_json(
        d,
        &[
            "plan", "--fit", "a.json", "--total", "24000", "--peak", "3e-4", "--warmup", "2160",
            "--json",
        ],
    );
    let c = v["candidates"].as_array().unwrap();
    let best = c[0]["final_loss_pred"].as_f64().unwrap();
    let mut inside = 0;
    for x in &c[1..] {
        let gap = x["final_loss_pred"].as_f64().unwrap() / best - 1.0;
        if gap < gap_sd {
            inside += 1;
            assert_eq!(x["indistinct"], true, "gap {gap} inside {gap_sd}: {x}");
        }
    }
    assert!(
        inside > 0,
        "no candidate within the law's error of the best: {gap_sd}"
    );
    let out = losscast_ok(
        d,
        &[
            "plan", "--fit", "a.json", "--total", "24000", "--peak", "3e-4", "--warmup", "2160",
        ],
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("≈ same"), "{table}");
}
