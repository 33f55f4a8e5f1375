//! The command-line contract: a fit → predict → eval → plot round trip on the bundled data, the
//! JSON shapes later work relies on, and every bad-input case with its message and exit code.

mod common;

use common::{assert_rel, data, losscast};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

/// A decoded PNG: its size and whether it has both light and dark pixels (drawn content).
fn png_summary(path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let dark = buf[..info.buffer_size()]
        .chunks(3)
        .filter(|px| px.iter().all(|&c| c < 80))
        .count();
    (info.width, info.height, dark)
}

#[test]
fn round_trip_fit_predict_eval_plot() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = data("mpl400.toml");
    let manifest = manifest.to_str().unwrap();
    let fit_path = dir.path().join("fits/mpl400.json");
    let fit_file = fit_path.to_str().unwrap();

    // fit --json prints the record, and the file holds the same record.
    let rec = json(&losscast(
        dir.path(),
        &[
            "fit",
            "--law",
            "annealing",
            "--weigh",
            "points",
            "--manifest",
            manifest,
            "--out",
            fit_file,
            "--json",
        ],
    ));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&fit_path).unwrap()).unwrap();
    assert_eq!(rec, saved);
    assert_eq!(rec["law"], "annealing");
    for p in ["L0", "A", "alpha", "C"] {
        assert!(rec["params"][p].as_f64().unwrap() > 0.0, "{p}");
    }
    assert_eq!(rec["options"]["law"]["lambda"], 0.999);
    assert_eq!(rec["options"]["law"]["warmup_as_peak"], false);
    assert_eq!(rec["options"]["huber_delta"], 1e-3);
    assert!(rec["objective"].as_f64().unwrap() > 0.0);
    assert_eq!(rec["converged"], true);
    let share = rec["starts_at_best"].as_f64().unwrap();
    assert!(share > 0.0 && share <= 1.0);
    assert_eq!(rec["at_bound"].as_array().unwrap().len(), 0);
    assert_eq!(rec["metrics"]["runs"].as_array().unwrap().len(), 3);
    for key in ["r2", "mae", "rmse", "pred_e", "worst_e"] {
        assert!(rec["metrics"]["fit_mean"][key].is_number(), "{key}");
        assert!(rec["metrics"]["runs"][0][key].is_number(), "{key}");
    }
    let d = &rec["data"][0];
    assert_eq!(d["name"], "cosine_24000");
    assert_eq!(d["path"], "mpl/csv_400/cosine_24000.csv");
    assert_eq!(d["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(d["points_used"], 171);
    assert_eq!(
        d["schedule"],
        "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000"
    );
    assert_eq!(rec["losscast_version"], env!("CARGO_PKG_VERSION"));

    // predict: JSON and CSV agree; ranges include their end.
    let spec = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";
    let p = json(&losscast(
        dir.path(),
        &[
            "predict",
            "--fit",
            fit_file,
            "--schedule",
            spec,
            "--steps",
            "1000:24000:1000",
            "--json",
        ],
    ));
    let preds = p["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 24);
    assert_eq!(preds[23]["step"], 24000);
    assert!((preds[23]["lr"].as_f64().unwrap() - 3e-5).abs() < 1e-18);
    let losses: Vec<f64> = preds
        .iter()
        .map(|x| x["loss_pred"].as_f64().unwrap())
        .collect();
    assert!(
        losses.windows(2).all(|w| w[1] < w[0]),
        "cosine loss decreases"
    );
    let csv_path = dir.path().join("preds.csv");
    ok(&losscast(
        dir.path(),
        &[
            "predict",
            "--fit",
            fit_file,
            "--schedule",
            spec,
            "--steps",
            "1000,24000",
            "--out",
            csv_path.to_str().unwrap(),
        ],
    ));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    // The fit calibrated its intervals on a backtest of its runs: every forecast has one.
    assert_eq!(lines[0], "step,lr,loss_pred,lo,hi");
    assert_eq!(lines.len(), 3);
    let cells: Vec<f64> = lines[2]
        .split(',')
        .skip(2)
        .map(|c| c.parse().unwrap())
        .collect();
    assert!((cells[0] - losses[23]).abs() < 1e-6);
    assert!(cells[1] < cells[0] && cells[0] < cells[2], "{cells:?}");
    for x in preds {
        let (lo, hi) = (x["lo"].as_f64().unwrap(), x["hi"].as_f64().unwrap());
        assert!(lo < x["loss_pred"].as_f64().unwrap() && x["loss_pred"].as_f64().unwrap() < hi);
    }
    // Without --steps: every 100th step after the 2160-step warmup (2200..=24000), and no
    // warning, since none of them extrapolates.
    let all = losscast(
        dir.path(),
        &["predict", "--fit", fit_file, "--schedule", spec],
    );
    assert_eq!(ok(&all).lines().count(), 1 + (24000 - 2200) / 100 + 1);
    assert!(
        all.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );

    // eval: every manifest run, with fit and test means.
    let e = json(&losscast(
        dir.path(),
        &["eval", "--fit", fit_file, "--manifest", manifest, "--json"],
    ));
    let runs = e["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 9);
    assert_eq!(runs.iter().filter(|r| r["role"] == "test").count(), 6);
    // laws.md §2, annealing law, 400M, the papers' recipe (--weigh points): test MAE 0.00520.
    assert_rel(
        "test MAE",
        e["test_mean"]["mae"].as_f64().unwrap(),
        0.00520,
        0.005,
    );
    assert_rel(
        "fit mean MAE agrees with the fit record",
        e["fit_mean"]["mae"].as_f64().unwrap(),
        rec["metrics"]["fit_mean"]["mae"].as_f64().unwrap(),
        1e-12,
    );
    let table = ok(&losscast(
        dir.path(),
        &["eval", "--fit", fit_file, "--manifest", manifest],
    ));
    assert!(table.contains("mean over test runs"), "{table}");

    // plot: PNG decodes at its size with drawn content; SVG carries text.
    let png_path = dir.path().join("plots/mpl400.png");
    ok(&losscast(
        dir.path(),
        &[
            "plot",
            "--fit",
            fit_file,
            "--manifest",
            manifest,
            "--out",
            png_path.to_str().unwrap(),
        ],
    ));
    let (w, h, dark) = png_summary(&png_path);
    assert_eq!((w, h), (1400, 1000));
    assert!(dark > 2000, "only {dark} dark pixels: is there text?");
    let svg_path = dir.path().join("plots/mpl400.svg");
    ok(&losscast(
        dir.path(),
        &[
            "plot",
            "--fit",
            fit_file,
            "--manifest",
            manifest,
            "--out",
            svg_path.to_str().unwrap(),
        ],
    ));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(
        svg.contains("<text") && svg.contains("annealing law"),
        "title in the SVG"
    );
    assert!(svg.contains("wsdcon_3 (test)"), "legend names test runs");
}

#[test]
fn single_file_fit_with_a_schedule_and_given_params() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("mpl/csv_400/cosine_24000.csv");
    let out = dir.path().join("one.json");
    let rec = json(&losscast(
        dir.path(),
        &[
            "fit",
            file.to_str().unwrap(),
            "--schedule",
            "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(rec["data"].as_array().unwrap().len(), 1);
    assert_eq!(rec["data"][0]["name"], "cosine_24000");
    // A law given by parameters evaluates without a fit file.
    let e = json(&losscast(
        dir.path(),
        &[
            "eval",
            "--law",
            "annealing",
            "--params",
            "L0=2.41826,A=0.60068,alpha=0.49822,C=0.56366",
            "--manifest",
            data("mpl400.toml").to_str().unwrap(),
            "--json",
        ],
    ));
    // laws.md §2: these are the table's parameters; their test MAE is 0.00520.
    assert_rel(
        "test MAE",
        e["test_mean"]["mae"].as_f64().unwrap(),
        0.00520,
        0.01,
    );
}

#[test]
fn demo_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&losscast(
        dir.path(),
        &["demo", "--data", data("").to_str().unwrap()],
    ));
    assert!(out.contains("mean over test runs"), "{out}");
    for f in [
        "fits/demo-tissue2024-annealing.json",
        "fits/demo-mpl400-annealing.json",
        "plots/demo-tissue2024-annealing.png",
        "plots/demo-mpl400-annealing.png",
        "fits/demo-mpl400-compare-multipower.json",
        "fits/demo-mpl400-compare-annealing.json",
        "plots/demo-mpl400-compare.png",
        "plots/demo-backtest-schedule.png",
        "plots/demo-plan.png",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    // Step 2's fit keeps its intervals (compare's fits do not overwrite it), so the forecast of
    // step 3 and the plan of step 7 carry them.
    let rec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("fits/demo-mpl400-annealing.json")).unwrap(),
    )
    .unwrap();
    assert!(rec["calibration"]["multipliers"].is_array(), "{rec}");
    assert!(out.contains("step,lr,loss_pred,lo,hi"), "{out}");
    assert!(
        out.contains("P(beats 1)") || out.contains("indistinguishable from 1"),
        "{out}"
    );
}

/// Bad input: a clear message naming the file (and line), exit code 2, and no output file left.
#[test]
fn bad_inputs_exit_2_with_a_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    w(
        "nan.csv",
        "step,loss\n100,3.0\n200,NaN\n300,2.8\n400,2.7\n500,2.6\n",
    );
    w(
        "neg.csv",
        "step,loss\n100,3.0\n200,-2.9\n300,2.8\n400,2.7\n500,2.6\n",
    );
    w(
        "order.csv",
        "step,loss\n100,3.0\n300,2.9\n200,2.8\n400,2.7\n500,2.6\n",
    );
    w("nocol.csv", "step,value\n100,3.0\n200,2.9\n");
    w("three.csv", "step,loss\n100,3.0\n200,2.9\n300,2.8\n");
    w(
        "ok.csv",
        "step,loss\n100,3.0\n200,2.9\n300,2.8\n400,2.7\n500,2.6\n600,2.55\n",
    );
    w("bad.toml", "[[run]]\nname = \"a\"\n");
    let sched = "constant:peak=1e-3,warmup=10,total=1000";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["fit", "missing.csv", "--schedule", sched],
            "missing.csv: file not found",
        ),
        (
            vec!["fit", "nocol.csv", "--schedule", sched],
            "nocol.csv: missing loss column",
        ),
        (
            vec!["fit", "nan.csv", "--schedule", sched],
            "nan.csv:3:5: column 'loss': loss is NaN",
        ),
        (
            vec!["fit", "neg.csv", "--schedule", sched],
            "neg.csv:3:5: column 'loss': loss is -2.9",
        ),
        (
            vec!["fit", "order.csv", "--schedule", sched],
            "order.csv:4:1: column 'step': steps must increase",
        ),
        (
            vec!["fit", "ok.csv", "--schedule", "cosin:peak=1e-3,total=10"],
            "unknown kind 'cosin'",
        ),
        (
            vec!["fit", "three.csv", "--schedule", sched],
            "3 point(s) to fit (in three) but law annealing has 4 parameters",
        ),
        (vec!["fit", "ok.csv"], "no LR column and no schedule"),
        (
            vec!["fit", "--manifest", "bad.toml"],
            "bad.toml:1:1: missing field `path`",
        ),
        (
            vec!["fit", "--manifest", "nope.toml"],
            "nope.toml: manifest not found",
        ),
        (
            vec!["fit", "ok.csv", "--schedule", sched, "--law", "chinchillaa"],
            "unknown law 'chinchillaa'",
        ),
        (
            vec!["fit", "ok.csv", "--schedule", sched, "--lambda", "1.5"],
            "--lambda must lie in (0, 1)",
        ),
        (
            vec!["predict", "--fit", "missing.json", "--schedule", sched],
            "missing.json: fit file not found",
        ),
        (
            vec!["predict", "--fit", "ok.csv", "--schedule", sched],
            "ok.csv:1:1: not a losscast fit file",
        ),
        (
            vec![
                "eval",
                "--law",
                "annealing",
                "--params",
                "L0=1,A=1",
                "ok.csv",
                "--schedule",
                sched,
            ],
            "--params: missing alpha",
        ),
        (
            vec![
                "plot",
                "--law",
                "annealing",
                "--params",
                "L0=1,A=1,alpha=0.5,C=1",
                "ok.csv",
                "--schedule",
                sched,
                "--out",
                "x.gif",
            ],
            "must be named .png or .svg",
        ),
    ];
    for (args, want) in cases {
        let mut full = args.clone();
        if args[0] == "fit" {
            full.extend(["--out", "out/fit.json"]);
        }
        let out = losscast(d, &full);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: want '{want}' in: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!d.join("out/fit.json").exists(), "{args:?} left a fit file");
    }
    // Nothing half-written anywhere.
    let leftovers: Vec<_> = common::files_under(d)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
