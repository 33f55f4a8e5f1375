//! `losscast plan`: ranking by predicted final loss (checked against `predict`, an independent
//! path through the law), extrapolation marks, the free-form schedule's shape, and joint fits.

mod common;
use common::{data, losscast, losscast_json, losscast_ok};
use serde_json::Value;
use std::path::Path;

fn fit_annealing_400m(dir: &Path) {
    let m = data("mpl400.toml");
    losscast_ok(
        dir,
        &[
            "fit",
            "--law",
            "annealing",
            "--manifest",
            m.to_str().unwrap(),
            "--out",
            "a.json",
        ],
    );
}

#[test]
fn best_wsd_beats_every_grid_member_and_cosine_and_matches_predict() {
    let dir = tempfile::tempdir().unwrap();
    fit_annealing_400m(dir.path());
    let v = losscast_json(
        dir.path(),
        &[
            "plan",
            "--fit",
            "a.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--warmup",
            "2160",
            "--grid",
            "wsd:decay_frac=0.05..0.5/0.05,shape=linear|sqrt|exp",
            "--families",
            "cosine",
            "--plot",
            "plan.png",
            "--json",
        ],
    );
    let cands = v["candidates"].as_array().unwrap();
    assert_eq!(cands.len(), 30 + 3);
    let loss = |c: &Value| c["final_loss_pred"].as_f64().unwrap();
    let is = |c: &Value, kind: &str| c["spec"].as_str().unwrap().starts_with(kind);
    let best_wsd = cands
        .iter()
        .filter(|c| is(c, "wsd:"))
        .map(loss)
        .fold(f64::INFINITY, f64::min);
    for c in cands {
        assert!(best_wsd <= loss(c), "{c}");
        assert!(c["extrapolation"].is_boolean(), "{c}");
    }
    let best_cos = cands
        .iter()
        .filter(|c| is(c, "cosine:"))
        .map(loss)
        .fold(f64::INFINITY, f64::min);
    assert!(
        best_wsd <= best_cos,
        "best WSD {best_wsd} vs cosine {best_cos}"
    );
    // Sorted best first, and each figure is what `predict` gives at the last step.
    assert!(cands.windows(2).all(|w| loss(&w[0]) <= loss(&w[1])));
    for c in [&cands[0], &cands[7], cands.last().unwrap()] {
        let p = losscast_json(
            dir.path(),
            &[
                "predict",
                "--fit",
                "a.json",
                "--schedule",
                c["spec"].as_str().unwrap(),
                "--steps",
                "24000",
                "--json",
            ],
        );
        let want = p["predictions"][0]["loss_pred"].as_f64().unwrap();
        assert!(
            (loss(c) - want).abs() < 1e-12,
            "{}: {} vs {want}",
            c["spec"],
            loss(c)
        );
    }
    assert!(dir.path().join("plan.png").exists());
}

#[test]
fn constant_past_the_fit_runs_is_marked_as_an_extrapolation() {
    let dir = tempfile::tempdir().unwrap();
    fit_annealing_400m(dir.path());
    // The 400M fit runs stop at step 23 936; S1 of a 48 000-step constant run is far beyond.
    let v = losscast_json(
        dir.path(),
        &[
            "plan",
            "--fit",
            "a.json",
            "--total",
            "48000",
            "--peak",
            "3e-4",
            "--warmup",
            "2160",
            "--families",
            "constant",
            "--json",
        ],
    );
    let c = &v["candidates"][0];
    assert_eq!(c["extrapolation"], true);
    assert!(c["reasons"][0].as_str().unwrap().contains("S1"), "{c}");
    // No figure unless asked for: the working folder holds only the fit file.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        files,
        vec!["a.json"],
        "plan wrote files it was not asked for"
    );
    assert_eq!(v["plot"], Value::Null);
}

#[test]
fn free_form_schedule_starts_at_the_peak_never_increases_and_beats_the_families() {
    let dir = tempfile::tempdir().unwrap();
    fit_annealing_400m(dir.path());
    let v = losscast_json(
        dir.path(),
        &[
            "plan",
            "--fit",
            "a.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--warmup",
            "2160",
            "--free",
            "--free-out",
            "free.csv",
            "--json",
        ],
    );
    let text = std::fs::read_to_string(dir.path().join("free.csv")).unwrap();
    let lr: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(lr.len(), 24001);
    assert_eq!(lr[2160], 3e-4, "starts at the peak");
    assert!(
        lr[2160..].windows(2).all(|w| w[1] <= w[0]),
        "non-increasing"
    );
    assert!(lr.iter().all(|&x| x >= 0.0));
    let gain = v["free"]["gain_over_best_family"].as_f64().unwrap();
    assert!(gain >= 0.0, "{}", v["free"]);
    // The CSV is a usable file: schedule, and predict agrees with plan's figure.
    let p = losscast_json(
        dir.path(),
        &[
            "predict",
            "--fit",
            "a.json",
            "--schedule",
            "file:free.csv",
            "--steps",
            "24000",
            "--json",
        ],
    );
    let want = v["free"]["final_loss_pred"].as_f64().unwrap();
    let got = p["predictions"][0]["loss_pred"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
}

#[test]
fn joint_fits_plan_for_a_model_size_and_mark_sizes_outside_the_fit() {
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
    let args = |n: &'static str| {
        vec![
            "plan",
            "--fit",
            "j.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--warmup",
            "2160",
            "--families",
            "cosine",
            "--params",
            n,
            "--json",
        ]
    };
    let inside = losscast_json(dir.path(), &args("5e7"));
    let outside = losscast_json(dir.path(), &args("4e8"));
    let r = outside["candidates"][0]["reasons"].to_string();
    assert!(r.contains("outside the fitted sizes"), "{r}");
    assert!(!inside["candidates"][0]["reasons"]
        .to_string()
        .contains("outside"));
    // A bigger model is predicted to reach a lower loss on the same schedule.
    let l = |v: &Value| v["candidates"][0]["final_loss_pred"].as_f64().unwrap();
    assert!(l(&outside) < l(&inside));
    // Without the size, a joint fit cannot plan.
    let out = losscast(
        dir.path(),
        &[
            "plan", "--fit", "j.json", "--total", "24000", "--peak", "3e-4",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--params"));
}

#[test]
fn free_form_under_the_multi_power_law_improves_on_the_best_family_member() {
    let dir = tempfile::tempdir().unwrap();
    let m = data("mpl400.toml");
    losscast_ok(
        dir.path(),
        &[
            "fit",
            "--law",
            "multipower",
            "--manifest",
            m.to_str().unwrap(),
            "--out",
            "m.json",
        ],
    );
    let v = losscast_json(
        dir.path(),
        &[
            "plan",
            "--fit",
            "m.json",
            "--total",
            "8000",
            "--peak",
            "3e-4",
            "--warmup",
            "500",
            "--free",
            "--knots",
            "150",
            "--free-out",
            "free.csv",
            "--json",
        ],
    );
    let lr: Vec<f64> = std::fs::read_to_string(dir.path().join("free.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(lr[500], 3e-4);
    assert!(lr[500..].windows(2).all(|w| w[1] <= w[0]));
    let gain = v["free"]["gain_over_best_family"].as_f64().unwrap();
    assert!(gain >= 0.0, "{}", v["free"]);
}

/// `plan`'s probabilities come from the fit's parameter uncertainty: a fit to the first third
/// of one cosine run cannot tell close decay lengths apart (each beats the top one in a share
/// of the draws, and is marked), while every candidate carries a final-loss interval around
/// its forecast.
#[test]
fn candidates_a_short_fit_cannot_separate_are_marked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = data("mpl/csv_400/cosine_24000.csv");
    losscast_ok(
        d,
        &[
            "fit",
            log.to_str().unwrap(),
            "--schedule",
            "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000",
            "--max-step",
            "8000",
            "--law",
            "annealing",
            "--out",
            "short.json",
        ],
    );
    let plan = || {
        losscast_json(
            d,
            &[
                "plan",
                "--fit",
                "short.json",
                "--total",
                "24000",
                "--peak",
                "3e-4",
                "--warmup",
                "2160",
                "--grid",
                "wsd:decay_frac=0.1..0.3/0.05,shape=cosine",
                "--json",
            ],
        )
    };
    let j = plan();
    let c = j["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 5);
    assert_eq!(j["level"], 0.9);
    for x in c {
        let (lo, hi, f) = (
            x["lo"].as_f64().unwrap(),
            x["hi"].as_f64().unwrap(),
            x["final_loss_pred"].as_f64().unwrap(),
        );
        assert!(lo < f && f < hi, "{x}");
    }
    let p: Vec<f64> = c[1..]
        .iter()
        .map(|x| x["p_beats_best"].as_f64().unwrap())
        .collect();
    assert!(p.iter().all(|&p| p > 0.0 && p < 0.5), "{p:?}");
    assert!(c[1]["indistinct"].as_bool().unwrap(), "{}", c[1]);
    // The same seed gives the same probabilities.
    let again = plan();
    assert_eq!(again["candidates"], j["candidates"]);
}
