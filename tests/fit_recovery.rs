//! The fit recovers parameters that generated the data, and says so when the data cannot
//! identify a parameter.

mod common;

use losscast::fit::{self, FitOptions};
use losscast::law::{self, LawOptions};
use losscast::runs::Run;
use losscast::schedule;
use std::path::Path;

fn synthetic_run(name: &str, spec: &str, truth: &[f64], noise: f64) -> Run {
    synthetic_run_every(name, spec, truth, noise, 200)
}

/// A run logged every `every` steps after step 1000.
fn synthetic_run_every(name: &str, spec: &str, truth: &[f64], noise: f64, every: i64) -> Run {
    let total = schedule::parse(spec, Path::new("")).unwrap().total_steps() as i64;
    let steps: Vec<i64> = (1..=total / every)
        .map(|k| every * k)
        .filter(|&s| s > 1000)
        .collect();
    common::synthetic_at("annealing", truth, name, spec, noise, steps, None)
}

#[test]
fn recovers_generating_parameters() {
    let truth = [2.5, 0.5, 0.45, 0.6];
    let runs = vec![
        synthetic_run(
            "cos",
            "cosine:peak=3e-4,end=3e-5,warmup=1000,total=24000",
            &truth,
            0.0,
        ),
        synthetic_run(
            "const",
            "constant:peak=3e-4,warmup=1000,total=24000",
            &truth,
            0.0,
        ),
        synthetic_run(
            "wsd",
            "wsd:peak=3e-4,end=3e-5,warmup=1000,total=24000,decay_start=18000,shape=sqrt",
            &truth,
            0.0,
        ),
    ];
    let law = law::build("annealing", LawOptions::default()).unwrap();
    let rec = fit::fit(law.as_ref(), &runs, &FitOptions::default()).unwrap();
    let got = rec.param_vector(law.as_ref()).unwrap();
    for (name, (g, t)) in ["L0", "A", "alpha", "C"].iter().zip(got.iter().zip(truth)) {
        assert!((g - t).abs() < 1e-5 * t, "{name}: {g} vs {t}");
    }
    assert!(rec.objective < 1e-16, "objective {}", rec.objective);

    // With 0.2 % noise the estimates stay close.
    let noisy: Vec<Run> = [
        "cosine:peak=3e-4,end=3e-5,warmup=1000,total=24000",
        "constant:peak=3e-4,warmup=1000,total=24000",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| synthetic_run(&format!("r{i}"), s, &truth, 2e-3))
    .collect();
    let rec = fit::fit(law.as_ref(), &noisy, &FitOptions::default()).unwrap();
    assert!(rec.converged);
    assert!((rec.params["L0"] - 2.5).abs() < 0.1, "{:?}", rec.params);
    assert!((rec.params["C"] - 0.6).abs() < 0.15, "{:?}", rec.params);
}

#[test]
fn unidentified_annealing_coefficient_is_reported() {
    let truth = [2.5, 0.5, 0.45, 0.6];
    let runs = vec![synthetic_run(
        "const",
        "constant:peak=3e-4,warmup=1000,total=24000",
        &truth,
        0.0,
    )];
    let law = law::build("annealing", LawOptions::default()).unwrap();
    let rec = fit::fit(law.as_ref(), &runs, &FitOptions::default()).unwrap();
    assert!(
        rec.warnings
            .iter()
            .any(|w| w.contains("C is not identified")),
        "{:?}",
        rec.warnings
    );
}

/// A per-step log is averaged in bins before fitting; the record says so, and the generating
/// parameters are still recovered.
#[test]
fn dense_logs_are_thinned_with_a_recorded_rule() {
    let truth = [2.5, 0.5, 0.45, 0.6];
    let runs = vec![synthetic_run_every(
        "dense",
        "cosine:peak=3e-4,end=3e-5,warmup=1000,total=24000",
        &truth,
        2e-3,
        1,
    )];
    assert_eq!(runs[0].loss.len(), 23_000);
    let law = law::build("annealing", LawOptions::default()).unwrap();
    let rec = fit::fit(law.as_ref(), &runs, &FitOptions::default()).unwrap();
    assert!(rec.points_used <= 4096, "{}", rec.points_used);
    assert!(
        rec.data[0]
            .notes
            .iter()
            .any(|n| n.contains("23000 points averaged in bins of 7")),
        "{:?}",
        rec.data[0].notes
    );
    assert_eq!(rec.options.max_points_per_run, 4096);
    for (name, t) in ["L0", "A", "alpha", "C"].iter().zip(truth) {
        let g = rec.params[*name];
        assert!((g - t).abs() < 0.02 * t, "{name}: {g} vs {t}");
    }
}
