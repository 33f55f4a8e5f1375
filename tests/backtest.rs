//! Backtests rank the law that generated the data first, and their splits hide what they say.

mod common;

use common::synthetic;
use losscast::backtest::{self, Method, Plan, Task};
use losscast::law::{self, LawOptions};
use losscast::runs::Run;
use std::path::Path;

/// Schedules that tell the two laws apart: the Multi-Power Law's loss drop after an LR drop
/// saturates, the annealing law's grows with the annealing area.
const SCHEDULES: [(&str, &str); 4] = [
    (
        "cosine",
        "cosine:peak=3e-4,end=3e-5,warmup=2000,total=24000",
    ),
    ("constant", "constant:peak=3e-4,warmup=2000,total=24000"),
    (
        "wsdcon",
        "steps:peak=3e-4,warmup=2000,total=16000,drops=8000@3e-5",
    ),
    (
        "wsd",
        "wsd:peak=3e-4,end=3e-5,warmup=2000,total=24000,decay_start=20000,shape=exp",
    ),
];

fn ranks_truth_first(truth_law: &str, truth: &[f64]) {
    let runs: Vec<Run> = SCHEDULES
        .iter()
        .map(|(n, s)| synthetic(truth_law, truth, n, s, 5e-4))
        .collect();
    let opts = LawOptions::default();
    let plan = Plan {
        nested: false,
        inner: false,
        tasks: vec![Task::Schedule],
        methods: vec![
            Method::new("annealing", &opts),
            Method::new("multipower", &opts),
        ],
    };
    let b = backtest::run(&runs, &plan, &|_, _| {}).unwrap();
    assert_eq!(b.folds.len(), 8, "4 leave-one-out folds × 2 laws");
    let best: Vec<&str> = b
        .summary
        .iter()
        .filter(|s| s.best)
        .map(|s| s.method.as_str())
        .collect();
    let table = losscast::cli::format::backtest_table(&b);
    assert_eq!(best, vec![truth_law], "{table}");
    assert_eq!(b.overall_best.as_deref(), Some(truth_law), "{table}");
    let loser = b.summary.iter().find(|s| !s.best).unwrap();
    let winner = b.summary.iter().find(|s| s.best).unwrap();
    assert!(
        loser.pred_e.unwrap() > 1.5 * winner.pred_e.unwrap(),
        "the true law should win clearly:\n{table}"
    );
}

#[test]
fn backtest_ranks_the_annealing_truth_first() {
    // L0, A, α, C: the order of the annealing law's parameters.
    let l = law::build("annealing", LawOptions::default()).unwrap();
    assert_eq!(l.param_names(), ["L0", "A", "alpha", "C"]);
    ranks_truth_first("annealing", &[2.4, 0.6, 0.5, 0.56]);
}

#[test]
fn backtest_ranks_the_multipower_truth_first() {
    // The published 400M parameters of laws.md §2.
    ranks_truth_first(
        "multipower",
        &[
            2.37474466,
            0.65421216,
            0.42878731,
            523.42464371,
            2.02462735,
            0.59350493,
            0.63472457,
        ],
    );
}

#[test]
fn truncate_fits_only_the_head_and_sees_no_later_lr() {
    let runs = vec![synthetic(
        "annealing",
        &[2.4, 0.6, 0.5, 0.56],
        "cosine",
        SCHEDULES[0].1,
        0.0,
    )];
    let (splits, skipped) = backtest::splits(&runs, &[Task::Truncate]);
    assert!(skipped.is_empty());
    assert_eq!(splits.len(), 2);
    for (s, frac) in splits.iter().zip([0.25, 0.5]) {
        let cut = (frac * 23600.0) as i64;
        let head = &s.fit[0];
        let tail = &s.test[0];
        assert!(head.steps.iter().all(|&x| x <= cut), "{}", s.label);
        assert!(tail.steps.iter().all(|&x| x > cut), "{}", s.label);
        assert_eq!(head.steps.len() + tail.steps.len(), runs[0].steps.len());
        assert_eq!(
            head.lr.len() as i64,
            cut + 1,
            "the fit must not see the LR after the cut"
        );
    }
}

#[test]
fn horizon_fits_the_shorter_runs_and_forecasts_the_longer() {
    let truth = [2.4, 0.6, 0.5, 0.56];
    let mut runs: Vec<Run> = SCHEDULES
        .iter()
        .map(|(n, s)| synthetic("annealing", &truth, n, s, 0.0))
        .collect();
    runs.push(synthetic(
        "annealing",
        &truth,
        "long",
        "cosine:peak=3e-4,end=3e-5,warmup=2000,total=48000",
        0.0,
    ));
    let (splits, _) = backtest::splits(&runs, &[Task::Horizon]);
    // Horizons: 16 000 (wsdcon), 24 000 (three runs), 48 000: two folds.
    assert_eq!(splits.len(), 2);
    assert_eq!(splits[0].fit.len(), 1);
    assert_eq!(splits[0].test.len(), 4);
    assert_eq!(splits[1].fit.len(), 4);
    assert_eq!(splits[1].test.len(), 1);
    for s in &splits {
        let fit_end = s
            .fit
            .iter()
            .map(|r| *r.steps.last().unwrap())
            .max()
            .unwrap();
        assert!(s.test.iter().all(|r| *r.steps.last().unwrap() > fit_end));
    }
}

#[test]
fn size_task_needs_sizes_and_a_joint_law() {
    let runs: Vec<Run> = SCHEDULES
        .iter()
        .map(|(n, s)| synthetic("annealing", &[2.4, 0.6, 0.5, 0.56], n, s, 0.0))
        .collect();
    let (splits, skipped) = backtest::splits(&runs, &[Task::Size]);
    assert!(splits.is_empty());
    assert!(skipped[0].reason.contains("params"), "{:?}", skipped);
    let plan = Plan {
        nested: false,
        inner: false,
        tasks: vec![Task::Size],
        methods: vec![Method::new("annealing", &LawOptions::default())],
    };
    let err = backtest::run(&runs, &plan, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("no backtest fold"), "{err}");
}

/// Write `runs` as CSV logs with a manifest; `extra` is appended to the manifest.
fn write_manifest(dir: &Path, runs: &[Run], extra: &str) -> std::path::PathBuf {
    let mut toml = String::new();
    for r in runs {
        let mut csv = String::from("step,loss\n");
        for (s, l) in r.steps.iter().zip(&r.loss) {
            csv.push_str(&format!("{s},{l}\n"));
        }
        std::fs::write(dir.join(format!("{}.csv", r.name)), csv).unwrap();
        toml.push_str(&format!(
            "[[run]]\nname = \"{0}\"\npath = \"{0}.csv\"\nschedule = \"{1}\"\n\n",
            r.name, r.schedule
        ));
    }
    toml.push_str(extra);
    let m = dir.join("m.toml");
    std::fs::write(&m, toml).unwrap();
    m
}

#[test]
fn fit_auto_never_reads_a_test_run() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<Run> = SCHEDULES[..3]
        .iter()
        .map(|(n, s)| synthetic("annealing", &[2.4, 0.6, 0.5, 0.56], n, s, 5e-4))
        .collect();
    // The test run's file does not exist and its schedule is nonsense: reading it would fail.
    let m = write_manifest(
        dir.path(),
        &runs,
        "[[run]]\nname = \"unseen\"\npath = \"no-such-file.csv\"\nschedule = \"bogus\"\nrole = \"test\"\n",
    );
    let out = dir.path().join("auto.json");
    let exe = env!("CARGO_BIN_EXE_losscast");
    let o = std::process::Command::new(exe)
        .args(["fit", "--law", "auto", "--manifest"])
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let sel = &rec["selection"];
    assert_eq!(
        sel["runs"],
        serde_json::json!(["cosine", "constant", "wsdcon"])
    );
    assert_eq!(rec["law"], sel["chosen"]);
    // The data generated by the annealing law picks it.
    assert_eq!(sel["chosen"], "annealing", "{stdout}");
    let names: Vec<&str> = rec["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cosine", "constant", "wsdcon"]);
    assert!(stdout.contains("--law auto chose annealing"), "{stdout}");
}

#[test]
fn backtest_command_writes_json_and_a_figure_per_task() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<Run> = SCHEDULES[..3]
        .iter()
        .map(|(n, s)| synthetic("annealing", &[2.4, 0.6, 0.5, 0.56], n, s, 5e-4))
        .collect();
    let m = write_manifest(dir.path(), &runs, "");
    let exe = env!("CARGO_BIN_EXE_losscast");
    let o = std::process::Command::new(exe)
        .args([
            "backtest",
            "--laws",
            "annealing",
            "--task",
            "schedule,truncate",
            "--manifest",
        ])
        .arg(&m)
        .arg("--out-dir")
        .arg(dir.path())
        .arg("--residuals")
        .arg(dir.path().join("r.csv"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("schedule   annealing"), "{stdout}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("m-backtest.json")).unwrap())
            .unwrap();
    // 3 leave-one-out folds; truncate at 25 % and 50 % of each run, except wsdcon at 25 %,
    // which leaves 4 points (steps 2400..3600), fewer than a fit needs.
    assert_eq!(j["folds"].as_array().unwrap().len(), 3 + 5);
    // The fold-out interval check, per task, as the table prints it.
    let cal = j["calibration"].as_array().unwrap();
    assert_eq!(cal.len(), 2, "{cal:?}");
    for c in cal {
        let cover = c["point_coverage"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&cover) && c["mean_half_width"].as_f64().unwrap() > 0.0);
    }
    assert!(stdout.contains("do the 90 % intervals hold?"), "{stdout}");
    // --residuals: one row per held-out point of every fold, its error as the folds score it,
    // and a truncated run's tail lies beyond its head in S1 and in steps.
    let csv = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let points: u64 = j["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test_points"].as_u64().unwrap())
        .sum();
    assert_eq!(rows.len() as u64, points);
    for r in &rows {
        let (obs, pred, rel): (f64, f64, f64) = (
            r[5].parse().unwrap(),
            r[6].parse().unwrap(),
            r[7].parse().unwrap(),
        );
        assert!((rel - (pred - obs) / obs).abs() < 1e-12, "{r:?}");
        // The fold-out interval the check drew, around the prediction.
        let (lo, hi): (f64, f64) = (r[13].parse().unwrap(), r[14].parse().unwrap());
        assert!(lo < pred && pred < hi, "{r:?}");
        if r[0] == "truncate" {
            let (step_ratio, s1_ratio): (f64, f64) = (r[8].parse().unwrap(), r[9].parse().unwrap());
            assert!(step_ratio > 1.0 && s1_ratio > 1.0, "{r:?}");
        }
    }
    for t in ["schedule", "truncate"] {
        let png = std::fs::read(dir.path().join(format!("m-backtest-{t}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
    // A size law cannot compete on loss curves; a task twice is a typo.
    for (args, want) in [
        (vec!["--laws", "chinchilla"], "size law"),
        (vec!["--task", "schedule,schedule"], "twice"),
        (vec!["--task", "sizes"], "unknown backtest task"),
    ] {
        let o = std::process::Command::new(exe)
            .arg("backtest")
            .args(&args)
            .arg("--manifest")
            .arg(&m)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn skip_fraction_leaves_out_the_first_points_and_says_so() {
    use losscast::fit::{self, FitOptions};
    let truth = [2.4, 0.6, 0.5, 0.56];
    let runs: Vec<Run> = SCHEDULES[..3]
        .iter()
        .map(|(n, s)| synthetic("annealing", &truth, n, s, 0.0))
        .collect();
    let law = law::build("annealing", LawOptions::default()).unwrap();
    let options = FitOptions {
        skip_fraction: 0.2,
        ..FitOptions::default()
    };
    let rec = fit::fit(law.as_ref(), &runs, &options).unwrap();
    for (d, r) in rec.data.iter().zip(&runs) {
        let from = (0.2 * *r.steps.last().unwrap() as f64).ceil() as i64;
        let kept = r.steps.iter().filter(|&&s| s >= from).count();
        assert_eq!(d.points_used, kept, "{}", d.name);
        assert!(
            d.notes.iter().any(|n| n.contains("left out of the fit")),
            "{:?}",
            d.notes
        );
    }
    // Noise-free data from the law: the later points alone still give the truth.
    for (name, want) in ["L0", "A", "alpha", "C"].iter().zip(truth) {
        let got = rec.params[*name];
        assert!((got - want).abs() < 1e-3 * want, "{name}: {got} vs {want}");
    }
    let bad = FitOptions {
        skip_fraction: 1.0,
        ..FitOptions::default()
    };
    let err = fit::fit(law.as_ref(), &runs, &bad).unwrap_err().to_string();
    assert!(err.contains("[0, 1)"), "{err}");
}

#[test]
fn weighing_runs_equally_gives_each_run_the_same_total_weight() {
    use losscast::fit::objective::FitPoints;
    use losscast::law::Features;
    let (f, a, b) = (Features::default(), vec![1.0; 30], vec![1.0; 10]);
    let mut pts = vec![FitPoints::new(&f, &a), FitPoints::new(&f, &b)];
    FitPoints::weigh_runs_equally(&mut pts);
    let totals: Vec<f64> = pts.iter().map(|p| p.weight * p.loss.len() as f64).collect();
    assert!((totals[0] - totals[1]).abs() < 1e-12, "{totals:?}");
    // The sum of weights stays the number of points, so δ keeps its meaning.
    assert!((totals[0] + totals[1] - 40.0).abs() < 1e-12);
}

#[test]
fn fitting_options_compete_under_their_own_names() {
    use losscast::fit::RunWeighting;
    let opts = LawOptions::default();
    let methods =
        backtest::with_skip_fractions(vec![Method::new("annealing", &opts)], &[0.0, 0.1]).unwrap();
    let methods = backtest::with_weightings(methods, &[RunWeighting::Points, RunWeighting::Runs]);
    let names: Vec<&str> = methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "annealing by point",
            "annealing",
            "annealing skip 10 % by point",
            "annealing skip 10 %"
        ]
    );
    assert!(
        backtest::with_skip_fractions(vec![Method::new("annealing", &opts)], &[0.1, 0.1]).is_err()
    );
    assert!(backtest::with_skip_fractions(vec![Method::new("annealing", &opts)], &[1.5]).is_err());

    // A law without priors (joint-additive) competes once however many prior choices are
    // given; one with priors (multipower: β, γ; annealing: α) both ways.
    let methods = backtest::with_priors(
        vec![
            Method::new("joint-additive", &opts),
            Method::new("multipower", &opts),
        ],
        &[true, false],
    );
    let names: Vec<&str> = methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["joint-additive", "multipower", "multipower no prior"]
    );
    assert!(methods[1].options.priors && !methods[2].options.priors);
}
