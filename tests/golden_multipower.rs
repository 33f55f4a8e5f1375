//! Golden tests of the Multi-Power Law against laws.md §2.

mod common;

use common::load_manifest;
use losscast::fit::objective::{FitPoints, HuberLogObjective};
use losscast::fit::{self, FitOptions};
use losscast::law::{self, LawOptions};
use losscast::runs::manifest::Role;

/// laws.md §2, "Published parameters and their test metrics".
const PUBLISHED: [(&str, [f64; 7], [&str; 5]); 3] = [
    (
        "mpl25.toml",
        [
            3.04045406,
            0.52468604,
            0.50786857,
            363.78751622,
            2.06560812,
            0.58279013,
            0.64142257,
        ],
        ["0.99880", "0.00376", "0.00465", "0.00110", "0.00409"],
    ),
    (
        "mpl100.toml",
        [
            2.6514477,
            0.60115152,
            0.45295811,
            437.9464276,
            2.13245612,
            0.59785199,
            0.65523644,
        ],
        ["0.99830", "0.00435", "0.00592", "0.00142", "0.00583"],
    ),
    (
        "mpl400.toml",
        [
            2.37474466,
            0.65421216,
            0.42878731,
            523.42464371,
            2.02462735,
            0.59350493,
            0.63472457,
        ],
        ["0.99776", "0.00484", "0.00730", "0.00168", "0.00995"],
    ),
];

fn multipower() -> Box<dyn law::Law> {
    law::build("multipower", LawOptions::default()).unwrap()
}

/// Evaluating the published parameters reproduces the published test metrics to the digits shown.
#[test]
fn published_parameters_reproduce_published_metrics() {
    let law = multipower();
    for (manifest, params, want) in PUBLISHED {
        let runs = load_manifest(manifest);
        let (_, _, test) = fit::evaluate(law.as_ref(), &params, &runs).unwrap();
        let t = test.unwrap();
        let got = [t.r2, t.mae, t.rmse, t.pred_e, t.worst_e].map(|x| format!("{x:.5}"));
        assert_eq!(got, want, "{manifest}");
    }
}

/// laws.md §2: the train-set Huber objective of the published 400M parameters is 5.7699e-4.
#[test]
fn published_400m_training_objective() {
    let law = multipower();
    let runs = load_manifest("mpl400.toml");
    let fit_runs: Vec<_> = runs
        .iter()
        .filter(|r| r.role == Role::Fit)
        .cloned()
        .collect();
    let feats = fit::features_of(law.as_ref(), &fit_runs).unwrap();
    let points = FitPoints::pair(&feats, &fit_runs);
    let obj = HuberLogObjective::new(law.as_ref(), &points, 1e-3);
    let v = obj.value(&PUBLISHED[2].1);
    assert!((v - 5.7699e-4).abs() < 5e-9, "{v:e}");
}

/// A converged fit on the 400M split goes well below the published parameters' training
/// objective (they come from an early-stopped AdamW run) and stays close on held-out schedules.
#[test]
fn fit_on_400m_split_converges_below_the_published_objective() {
    let law = multipower();
    let runs = load_manifest("mpl400.toml");
    let rec = fit::fit(law.as_ref(), &runs, &FitOptions::default()).unwrap();
    assert!(rec.converged, "{:?}", rec.warnings);
    assert!(
        rec.objective < 5.7699e-4 / 2.0,
        "objective {:e}",
        rec.objective
    );
    let approx = rec.fit_approximation.as_ref().unwrap();
    assert!(approx.max_abs_prediction_error < 5e-5);
    assert!(
        rec.options.law.lr_ref == Some(3e-4),
        "C conditioned on the peak LR"
    );
    let p = rec.param_vector(law.as_ref()).unwrap();
    let (_, _, test) = fit::evaluate(law.as_ref(), &p, &runs).unwrap();
    let mae = test.unwrap().mae;
    // Published: 0.00484. The converged fit is worse held out (laws.md §2 warns of this);
    // it must stay within 40 %.
    assert!(mae < 0.00484 * 1.4, "test MAE {mae}");
}

#[test]
fn degenerate_fits_are_reported() {
    let law = multipower();
    let degenerate = [2.4, 0.65, 0.43, 520.0, 1e-5, 15.0, 0.6];
    let w = law.diagnostics(&degenerate, &[]);
    assert!(w.iter().any(|m| m.contains("degenerate")), "{w:?}");
    assert!(law.diagnostics(&PUBLISHED[2].1, &[]).is_empty());
    // β at its bound is also reported as a parameter at a bound.
    let beta = law.transforms()[5];
    assert!(beta.bound_hit(law::multipower::BETA_MAX).is_some());
    assert!(beta.bound_hit(0.6).is_none());
}
