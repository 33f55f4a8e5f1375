//! Backtests rank the law that generated the data first, and their splits hide what they say.

use losscast::backtest::{self, Method, Plan, Task};
use losscast::law::{self, Curve, LawOptions};
use losscast::manifest::Role;
use losscast::runs::{LrSource, Run};
use losscast::schedule;
use std::path::Path;

/// A run of `law` with parameters `truth` under `spec`, logged every 400 steps after warmup,
/// with a deterministic ±`noise` relative pattern.
fn synthetic(law_name: &str, truth: &[f64], name: &str, spec: &str, noise: f64) -> Run {
    let law = law::build(law_name, LawOptions::default()).unwrap();
    let sched = schedule::parse(spec, Path::new("")).unwrap();
    let total = sched.total_steps() as i64;
    let steps: Vec<i64> = (1..total / 400)
        .map(|k| 400 * k)
        .filter(|&s| s > 2000)
        .collect();
    let lr = sched.lr_array(total as usize + 1);
    let f = law
        .features(&Curve {
            lr: &lr,
            steps: &steps,
            params: None,
        })
        .unwrap();
    let mut loss = vec![0.0; steps.len()];
    law.predict(truth, &f, &mut loss);
    for (i, l) in loss.iter_mut().enumerate() {
        *l *= 1.0 + noise * ((i * 7919 % 13) as f64 / 6.0 - 1.0);
    }
    Run {
        name: name.into(),
        role: Role::Fit,
        path: format!("synthetic/{name}"),
        sha256: String::new(),
        steps,
        loss,
        lr,
        schedule: spec.into(),
        lr_source: LrSource::Schedule,
        filtered_out: 0,
        dropped_before_learning: 0,
        notes: vec![],
        warnings: vec![],
        min_step: None,
        max_step: None,
        params: None,
    }
}

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
    let table = backtest::report::table(&b);
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
        tasks: vec![Task::Size],
        methods: vec![Method::new("annealing", &LawOptions::default())],
    };
    let err = backtest::run(&runs, &plan, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("no backtest fold"), "{err}");
}
