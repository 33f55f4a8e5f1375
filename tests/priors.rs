//! The Multi-Power Law's priors on β and γ: recorded in the fit, reversible with `--no-prior`,
//! and they make the paper split's forecasts at least as good as the published parameters'.

mod common;

use common::{data, losscast_json, losscast_ok};
use serde_json::Value;
use std::path::Path;

fn fit(dir: &Path, manifest: &str, extra: &[&str]) -> Value {
    let m = data(manifest);
    let mut args = vec![
        "fit",
        "--law",
        "multipower",
        "--manifest",
        m.to_str().unwrap(),
        "--out",
        "m.json",
    ];
    args.extend_from_slice(extra);
    losscast_ok(dir, &args);
    serde_json::from_str(&std::fs::read_to_string(dir.join("m.json")).unwrap()).unwrap()
}

fn eval_test_mae(dir: &Path, manifest: &str) -> f64 {
    let m = data(manifest);
    let v = losscast_json(
        dir,
        &[
            "eval",
            "--fit",
            "m.json",
            "--manifest",
            m.to_str().unwrap(),
            "--json",
        ],
    );
    v["test_mean"]["mae"].as_f64().unwrap()
}

/// On the 100M paper split (laws.md §2) the published parameters reach test MAE 0.00435. The
/// fit with its priors must reach that too; without them it does not (0.00497 measured).
#[test]
fn priors_are_recorded_and_forecast_the_100m_split_as_well_as_the_published_fit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rec = fit(d, "mpl100.toml", &[]);
    assert_eq!(rec["options"]["priors"], true);
    let terms: Vec<&str> = rec["prior"]["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["param"].as_str().unwrap())
        .collect();
    assert_eq!(terms, ["beta", "gamma"]);
    let penalty = rec["prior"]["penalty"].as_f64().unwrap();
    let objective = rec["objective"].as_f64().unwrap();
    assert!(
        penalty >= 0.0 && penalty < 0.01 * objective,
        "{penalty} vs {objective}"
    );
    assert_eq!(rec["converged"], true);
    let unid = rec["unidentified"].as_array().unwrap();
    assert!(
        !unid.iter().any(|u| u == "beta" || u == "gamma"),
        "{unid:?}"
    );
    let with_prior = eval_test_mae(d, "mpl100.toml");
    assert!(with_prior <= 0.00435, "test MAE {with_prior}");

    let bare = fit(d, "mpl100.toml", &["--no-prior"]);
    assert_eq!(bare["options"]["priors"], false);
    assert!(bare.get("prior").is_none());
    let without = eval_test_mae(d, "mpl100.toml");
    assert!(without > with_prior, "{without} vs {with_prior}");
}

/// The annealing law's α prior, learned from the open ladders: recorded with its centre and
/// spread, off with `--no-prior`; on the Tissue cosine run alone (1 run, 20 points) it holds α
/// nearer the ladders' value than the bare fit does, and both fits stay within the noise.
#[test]
fn the_annealing_alpha_prior_is_recorded_and_reversible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data("tissue2024.toml");
    let run = |extra: &[&str]| -> Value {
        let mut args = vec![
            "fit",
            "--law",
            "annealing",
            "--manifest",
            m.to_str().unwrap(),
            "--out",
            "a.json",
        ];
        args.extend_from_slice(extra);
        losscast_ok(d, &args);
        serde_json::from_str(&std::fs::read_to_string(d.join("a.json")).unwrap()).unwrap()
    };
    let rec = run(&[]);
    let terms = rec["prior"]["terms"].as_array().unwrap();
    assert_eq!(terms.len(), 1, "{terms:?}");
    assert_eq!(terms[0]["param"], "alpha");
    let center = terms[0]["center"].as_f64().unwrap();
    assert_eq!(center, losscast::law::priors::alpha_center(None));
    assert_eq!(terms[0]["log_sd"], losscast::law::priors::ALPHA_LOG_SD);
    let bare = run(&["--no-prior"]);
    assert!(bare.get("prior").is_none());
    let (a, b) = (
        rec["params"]["alpha"].as_f64().unwrap(),
        bare["params"]["alpha"].as_f64().unwrap(),
    );
    assert!(
        (a / center).ln().abs() <= (b / center).ln().abs() + 1e-9,
        "prior {a}, bare {b}, centre {center}"
    );
}
