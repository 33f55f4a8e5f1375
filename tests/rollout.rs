//! `eval --rollout n`: fits on the smaller sizes, scores the larger ones.

mod common;

use common::{losscast, losscast_json, refused};
use serde_json::Value;

/// An exact Chinchilla surface (Hoffmann's published parameters) on a 5 × 5 grid of N and D.
fn write_surface(path: &std::path::Path) {
    let (e, a, b, alpha, beta) = (1.69, 406.4, 410.7, 0.34, 0.28);
    let mut csv = String::from("params,tokens,loss,tag\n");
    for n in [1e7, 3e7, 1e8, 3e8, 1e9] {
        for d in [1e9, 3e9, 1e10, 3e10, 1e11] {
            let l = e + a / f64::powf(n, alpha) + b / f64::powf(d, beta);
            csv += &format!("{n},{d},{l},keep\n");
        }
    }
    csv += "5e9,1e11,9.9,drop\n"; // removed by --where; it would ruin the largest fold
    std::fs::write(path, csv).unwrap();
}

#[test]
fn rollout_of_an_exact_surface_extrapolates_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("grid.csv");
    write_surface(&table);
    let out = losscast(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "n",
            "--law",
            "chinchilla",
            "grid.csv",
            "--where",
            "tag=keep",
            "--folds",
            "2",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let folds = v["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 2);
    assert_eq!(folds[0]["held_out"], serde_json::json!([1e9]));
    assert_eq!(folds[1]["held_out"], serde_json::json!([3e8, 1e9]));
    assert_eq!(folds[0]["points"].as_array().unwrap().len(), 5);
    assert_eq!(folds[1]["points"].as_array().unwrap().len(), 10);
    for f in folds {
        assert!(f["max_rel_err"].as_f64().unwrap() < 1e-4, "{f}");
        for p in f["points"].as_array().unwrap() {
            let (l, lp) = (
                p["loss"].as_f64().unwrap(),
                p["loss_pred"].as_f64().unwrap(),
            );
            let r = p["rel_err"].as_f64().unwrap();
            assert!((r - (lp - l) / l).abs() < 1e-15);
            assert!(p["n"].as_f64().is_some() && p["d"].as_f64().is_some());
        }
    }
    // The human table names the folds.
    let out = losscast(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "n",
            "--law",
            "chinchilla",
            "grid.csv",
            "--where",
            "tag=keep",
            "--folds",
            "1",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1.000e9"), "{text}");
}

#[test]
fn rollout_rejects_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    write_surface(&dir.path().join("grid.csv"));
    // A schedule law.
    let out = losscast(
        dir.path(),
        &["eval", "--rollout", "n", "--law", "annealing", "grid.csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    // Two sizes only.
    let out = losscast(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "n",
            "--law",
            "chinchilla",
            "grid.csv",
            "--max-n",
            "3e7",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 3 model sizes"));
    // --law without --params and without --rollout.
    let out = losscast(dir.path(), &["eval", "--law", "chinchilla", "grid.csv"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Mean |relative error| of each rollout fold of `law` on Epoch AI's Chinchilla points.
fn epoch_rollout(dir: &std::path::Path, law: &str) -> Vec<f64> {
    let table = common::data("chinchilla/svg_extracted_data.csv");
    let v = losscast_json(
        dir,
        &[
            "eval",
            "--rollout",
            "n",
            "--law",
            law,
            table.to_str().unwrap(),
            "--drop-top-loss",
            "5",
            "--folds",
            "3",
            "--json",
        ],
    );
    v["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let pts = f["points"].as_array().unwrap();
            pts.iter()
                .map(|p| p["rel_err"].as_f64().unwrap().abs())
                .sum::<f64>()
                / pts.len() as f64
        })
        .collect()
}

/// On real data (Epoch AI's 240 Chinchilla points, the largest 1–3 sizes held out), letting the
/// data term depend on N extrapolates upward better than Chinchilla at every fold (measured
/// 0.48 / 0.45 / 0.64 % against 1.41 / 2.05 / 2.11 %).
#[test]
fn chinchilla_nd_extrapolates_epoch_points_better_than_chinchilla() {
    let dir = tempfile::tempdir().unwrap();
    let chin = epoch_rollout(dir.path(), "chinchilla");
    let nd = epoch_rollout(dir.path(), "chinchilla-nd");
    assert_eq!(chin.len(), 3);
    for (k, (c, n)) in chin.iter().zip(&nd).enumerate() {
        assert!(n < c, "fold {}: chinchilla-nd {n} vs chinchilla {c}", k + 1);
        assert!(*n < 0.01, "fold {}: chinchilla-nd {n}", k + 1);
    }
}

/// `--law auto` rolls every size law through the same folds and names the best; on an exact
/// Chinchilla surface Chinchilla extrapolates exactly, so the best does at least as well.
#[test]
fn rollout_auto_compares_every_size_law() {
    let dir = tempfile::tempdir().unwrap();
    write_surface(&dir.path().join("grid.csv"));
    let v = losscast_json(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "n",
            "--law",
            "auto",
            "grid.csv",
            "--where",
            "tag=keep",
            "--folds",
            "2",
            "--json",
        ],
    );
    let laws = v["laws"].as_array().unwrap();
    let names: Vec<&str> = laws.iter().map(|l| l["law"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "chinchilla",
            "overtrain",
            "chinchilla-nd",
            "kaplan",
            "power"
        ]
    );
    let err = |name: &str| {
        laws.iter().find(|l| l["law"] == name).unwrap()["mean_rel_err"]
            .as_f64()
            .unwrap()
    };
    assert!(err("chinchilla") < 1e-4);
    let best = v["best"].as_str().unwrap();
    assert!(err(best) <= err("chinchilla"));
    for l in laws {
        assert_eq!(l["folds"].as_array().unwrap().len(), 2, "{}", l["law"]);
    }
    refused(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "n",
            "--law",
            "auto",
            "grid.csv",
            "--fix",
            "E=1.69",
        ],
        "--law auto compares several",
    );
}

/// `--rollout shape` on the Multi-Power-Law ladder: per schedule the 400M curve from the 25M
/// and 100M shapes, anchored at its own final loss. The shapes drift with N, so the trend in
/// ln N transfers far better than the mean (measured 0.11 % against 1.26 % mean PredE).
#[test]
fn shape_rollout_scores_the_largest_curve_per_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let m = common::data("mpl_joint.toml");
    let v = losscast_json(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "shape",
            "--manifest",
            m.to_str().unwrap(),
            "--json",
        ],
    );
    let folds = v["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 9);
    for f in folds {
        assert!(f["held_out"].as_str().unwrap().starts_with("400M/"), "{f}");
        assert_eq!(f["fit_runs"].as_array().unwrap().len(), 2);
    }
    let (plain, trend) = (
        v["mean_pred_e_mean_shape"].as_f64().unwrap(),
        v["mean_pred_e_trend"].as_f64().unwrap(),
    );
    assert!(trend < 0.003 && trend < plain / 3.0, "{trend} vs {plain}");

    refused(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "shape",
            "--law",
            "chinchilla",
            "--manifest",
            m.to_str().unwrap(),
        ],
        "fits no law",
    );
    refused(
        dir.path(),
        &["eval", "--rollout", "n", "grid.csv"],
        "give --law",
    );
}
