//! Joint model-size × schedule laws: recovery of known parameters from synthetic runs of several
//! sizes, the flag on a size exponent two sizes cannot determine, and the rollout over params
//! on the Multi-Power-Law curves.

mod common;
use common::{assert_rel, data, losscast, losscast_json, losscast_ok, synthetic_at};
use losscast::fit::{self, FitOptions};
use losscast::law::{self, LawOptions};
use losscast::runs::Run;
use losscast::schedule;
use std::path::Path;

const SCHEDULES: &[&str] = &[
    "cosine:peak=3e-4,end=3e-5,warmup=500,total=12000",
    "constant:peak=3e-4,warmup=500,total=12000",
    "wsd:peak=3e-4,end=3e-5,warmup=500,total=12000,decay_start=9000,shape=linear",
];

fn synthetic(law_name: &str, truth: &[f64], sizes: &[f64]) -> Vec<Run> {
    let mut runs = Vec::new();
    for &n in sizes {
        for spec in SCHEDULES {
            let total = schedule::parse(spec, Path::new("")).unwrap().total_steps();
            let steps: Vec<i64> = (1000..=total as i64).step_by(250).collect();
            let name = format!("{n:e}/{spec}");
            runs.push(synthetic_at(
                law_name,
                truth,
                &name,
                spec,
                0.0,
                steps,
                Some(n),
            ));
        }
    }
    runs
}

fn fit(law_name: &str, runs: &[Run]) -> fit::FitRecord {
    let law = law::build(law_name, LawOptions::default()).unwrap();
    fit::fit(law.as_ref(), runs, &FitOptions::default()).unwrap()
}

#[test]
fn joint_additive_recovers_known_parameters_from_four_sizes() {
    let truth = [1.9, 0.55, 0.5, 0.9, 0.3, 0.45];
    let runs = synthetic("joint-additive", &truth, &[3e7, 1e8, 3e8, 1e9]);
    let rec = fit("joint-additive", &runs);
    for (name, want) in ["L0", "A", "alpha", "B", "beta", "C"].iter().zip(truth) {
        assert_rel(name, rec.params[*name], want, 1e-3);
    }
    assert!(rec.trustworthy, "{:?}", rec.warnings);
    assert!(rec.unidentified.is_empty());
}

#[test]
fn joint_scaled_recovers_known_parameters_from_four_sizes() {
    let truth = [1.7, 0.8, 0.3, 0.6, -0.05, 0.5, 0.4, 0.15];
    let runs = synthetic("joint-scaled", &truth, &[3e7, 1e8, 3e8, 1e9]);
    let rec = fit("joint-scaled", &runs);
    let names = ["E", "B", "beta", "a", "p", "alpha", "c", "q"];
    for (name, want) in names.iter().zip(truth) {
        let got = rec.params[*name];
        // p and q may be near 0: compare absolutely there.
        assert!(
            (got - want).abs() <= 2e-3 * want.abs().max(0.1),
            "{name}: got {got}, want {want}"
        );
    }
    assert!(rec.trustworthy, "{:?}", rec.warnings);
}

#[test]
fn two_sizes_cannot_determine_the_size_exponent_and_the_fit_says_so() {
    let truth = [1.9, 0.55, 0.5, 0.9, 0.3, 0.45];
    let runs = synthetic("joint-additive", &truth, &[3e7, 1e8]);
    let rec = fit("joint-additive", &runs);
    assert!(!rec.trustworthy);
    assert!(
        rec.unidentified.iter().any(|p| p == "beta"),
        "{:?}",
        rec.unidentified
    );
    assert!(rec.warnings.iter().any(|w| w.contains("two model sizes")));
    // The curves themselves are still fitted exactly.
    assert!(rec.metrics.fit_mean.pred_e < 1e-4);
}

#[test]
fn joint_law_needs_each_runs_model_size() {
    let mut runs = synthetic("joint-additive", &[1.9, 0.55, 0.5, 0.9, 0.3, 0.45], &[1e8]);
    runs[0].params = None;
    let law = law::build("joint-additive", LawOptions::default()).unwrap();
    let e = fit::fit(law.as_ref(), &runs, &FitOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("params = N"), "{e}");
}

/// The figures of the issue-6 note: a joint law fitted on the 25M and 100M curves forecasts all
/// nine 400M curves. With the size exponent fixed at Chinchilla's N exponent (0.34, Hoffmann
/// et al.), the fit is determined and its forecast reproducible.
#[test]
fn rollout_over_params_on_the_mpl_curves() {
    let dir = tempfile::tempdir().unwrap();
    let m = data("mpl_joint.toml");
    let v = losscast_json(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "params",
            "--law",
            "joint-additive",
            "--fix",
            "beta=0.34",
            "--manifest",
            m.to_str().unwrap(),
            "--folds",
            "1",
            "--plot",
            "r.png",
            "--json",
        ],
    );
    let fold = &v["folds"][0];
    assert_eq!(fold["held_out"], serde_json::json!([4e8]));
    assert_eq!(fold["fit_runs"], 18);
    let runs = fold["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 9);
    for r in runs {
        for k in ["name", "params", "r2", "mae", "pred_e", "worst_e"] {
            assert!(!r[k].is_null(), "{k} missing in {r}");
        }
    }
    assert_eq!(fold["params"]["beta"], 0.34);
    assert_rel(
        "fold 1 mean PredE",
        fold["test_mean"]["pred_e"].as_f64().unwrap(),
        0.00858,
        0.03,
    );
    assert!(dir.path().join("r-fold1.png").exists());
}

#[test]
fn predict_takes_the_model_size_of_a_joint_fit() {
    let dir = tempfile::tempdir().unwrap();
    let m = data("mpl_joint.toml");
    losscast_ok(
        dir.path(),
        &[
            "fit",
            "--law",
            "joint-additive",
            "--fix",
            "beta=0.34",
            "--manifest",
            m.to_str().unwrap(),
            "--out",
            "j.json",
        ],
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("j.json")).unwrap()).unwrap();
    let p = |k: &str| rec["params"][k].as_f64().unwrap();
    let spec = "constant:peak=3e-4,warmup=0,total=10000";
    let pred = |n: &str| -> f64 {
        let v = losscast_json(
            dir.path(),
            &[
                "predict",
                "--fit",
                "j.json",
                "--params",
                n,
                "--schedule",
                spec,
                "--steps",
                "10000",
                "--json",
            ],
        );
        v["predictions"][0]["loss_pred"].as_f64().unwrap()
    };
    // The law by hand: constant LR from step 0, so S1 = 10001·η and S2 = 0.
    for n in [4e8f64, 1e9] {
        let s1: f64 = 10001.0 * 3e-4;
        let want = p("L0") + p("A") * s1.powf(-p("alpha")) + p("B") * (n / 1e8).powf(-p("beta"));
        assert_rel("loss", pred(&format!("{n}")), want, 1e-9);
    }
    // Without a size the joint law cannot forecast.
    let out = losscast(
        dir.path(),
        &[
            "predict",
            "--fit",
            "j.json",
            "--schedule",
            spec,
            "--steps",
            "10000",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Size exponents mean something physically: a term may change at most 100-fold over a 100×
/// ladder. Unbounded, a q the data could not pin ran to 40 and forecast 10⁸ nats (Gemstones,
/// issue 26). Data made with q = 1.8 now fit with q at its bound, which the record says, and a
/// value outside is refused.
#[test]
fn joint_scaled_size_exponents_stay_in_their_bounds() {
    let truth = [1.7, 0.8, 0.3, 0.6, -0.05, 0.5, 0.4, 1.8];
    let runs = synthetic("joint-scaled", &truth, &[3e7, 1e8, 3e8, 1e9]);
    let rec = fit("joint-scaled", &runs);
    let bound = law::joint::SIZE_EXPONENT_BOUND;
    for name in ["p", "q"] {
        let v = rec.params[name];
        assert!((-bound..=bound).contains(&v), "{name} = {v}");
    }
    assert!(rec.params["q"] > 0.99 * bound, "{:?}", rec.params);
    assert!(
        rec.at_bound.iter().any(|b| b.contains('q')),
        "{:?}",
        rec.at_bound
    );
    let l = law::build("joint-scaled", LawOptions::default()).unwrap();
    let q = l.param_names().iter().position(|n| *n == "q").unwrap();
    let refused = law::check_value(l.as_ref(), q, 40.0).unwrap_err();
    assert!(refused.contains("outside [-1, 1]"), "{refused}");
}
