//! The size-law command line: fit a table, predict at (N, D) with intervals, compute-optimal
//! allocation, and its bad-input cases.

mod common;

use common::{data, losscast};
use serde_json::Value;
use std::process::Output;

fn json_ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fit_predict_optimal_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let table = data("chinchilla/svg_extracted_data.csv");
    let rec = json_ok(&losscast(
        d,
        &[
            "fit",
            "--law",
            "chinchilla",
            table.to_str().unwrap(),
            "--drop-top-loss",
            "5",
            "--bootstrap",
            "100",
            "--seed",
            "11",
            "--out",
            "ch.json",
            "--json",
        ],
    ));
    assert_eq!(rec["law"], "chinchilla");
    assert_eq!(rec["points_used"], 240);
    assert_eq!(rec["options"]["table_filters"]["drop_top_loss"], 5);
    assert_eq!(rec["options"]["bootstrap"]["resamples"], 100);
    assert_eq!(rec["data"][0]["points_filtered_out"], 5);
    assert!(rec["data"][0].get("schedule").is_none());
    let iv = &rec["bootstrap"]["intervals"]["alpha"];
    assert!(iv[0].as_f64().unwrap() < iv[1].as_f64().unwrap());

    // predict: {"predictions": [{"n", "d", "loss_pred", "lo", "hi"}]}, lo < loss_pred < hi.
    let p = json_ok(&losscast(
        d,
        &[
            "predict",
            "--fit",
            "ch.json",
            "--n",
            "7e10,1e9",
            "--d",
            "1.4e12,2e10",
            "--json",
        ],
    ));
    let preds = p["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 2);
    for x in preds {
        let (lo, l, hi) = (
            x["lo"].as_f64().unwrap(),
            x["loss_pred"].as_f64().unwrap(),
            x["hi"].as_f64().unwrap(),
        );
        assert!(lo < l && l < hi, "{x}");
    }
    // E + A/N^α + B/D^β at Chinchilla's own size with the re-fit of laws.md §3.
    let want = 1.8172 + 477.83 * 7e10f64.powf(-0.3473) + 2143.35 * 1.4e12f64.powf(-0.3672);
    assert!((preds[0]["loss_pred"].as_f64().unwrap() - want).abs() < 2e-3);

    // optimal: N_opt·D_opt = C/6, with intervals for every reported quantity.
    let o = json_ok(&losscast(
        d,
        &[
            "optimal",
            "--fit",
            "ch.json",
            "--compute",
            "5.76e23",
            "--json",
        ],
    ));
    let (n, dd) = (o["n_opt"].as_f64().unwrap(), o["d_opt"].as_f64().unwrap());
    assert!((6.0 * n * dd / 5.76e23 - 1.0).abs() < 1e-9);
    assert!((o["tokens_per_param"].as_f64().unwrap() - dd / n).abs() < 1e-9 * dd / n);
    for k in ["n_opt", "d_opt", "tokens_per_param", "loss_pred"] {
        let iv = o["intervals"][k].as_array().unwrap();
        let v = o[k].as_f64().unwrap();
        assert!(
            iv[0].as_f64().unwrap() <= v && v <= iv[1].as_f64().unwrap(),
            "{k}"
        );
    }
    // Figures of the fit: each kind draws what it promises (SVG text is checkable).
    let table_arg = table.to_str().unwrap();
    for (kind, expect) in [
        (
            "compute",
            vec!["compute-optimal frontier", "95 % bootstrap band", "N ≈ "],
        ),
        (
            "frontier",
            vec!["N_opt(C) (95 % band)", "D_opt(C) (95 % band)", "runs: N"],
        ),
        (
            "bootstrap",
            vec![
                "alpha: 0.34",
                "beta: 0.36",
                "a: 0.51",
                "100 bootstrap resamples",
            ],
        ),
    ] {
        let svg = d.join(format!("{kind}.svg"));
        let out = losscast(
            d,
            &[
                "plot",
                "--fit",
                "ch.json",
                table_arg,
                "--drop-top-loss",
                "5",
                "--kind",
                kind,
                "--out",
                svg.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&svg).unwrap();
        for e in expect {
            assert!(text.contains(e), "{kind}: no '{e}'");
        }
    }
    // Histograms need a bootstrap; a frontier needs chinchilla.
    let out = losscast(
        d,
        &[
            "plot",
            "--law",
            "chinchilla",
            "--params",
            "E=1.8172,A=477.83,B=2143.35,alpha=0.3473,beta=0.3672",
            table_arg,
            "--kind",
            "bootstrap",
            "--out",
            "x.png",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = losscast(
        d,
        &[
            "plot",
            "--law",
            "power",
            "--params",
            "E=1.7,A=100,alpha=0.3",
            table_arg,
            "--kind",
            "frontier",
            "--out",
            "x.png",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!d.join("x.png").exists());

    // Without a bootstrap, lo and hi are null.
    let p = json_ok(&losscast(
        d,
        &[
            "predict",
            "--law",
            "chinchilla",
            "--params",
            "E=1.8172,A=477.83,B=2143.35,alpha=0.3473,beta=0.3672",
            "--n",
            "7e10",
            "--d",
            "1.4e12",
            "--json",
        ],
    ));
    assert!(p["predictions"][0]["lo"].is_null() && p["predictions"][0]["hi"].is_null());
}

#[test]
fn size_law_bad_inputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.csv"), "N,loss\n1e8,3.0\n").unwrap();
    let params = "E=1.8,A=400,B=2000,alpha=0.35,beta=0.37";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["fit", "--law", "chinchilla", "t.csv"],
            "missing tokens (or compute) column",
        ),
        (
            vec!["fit", "--law", "chinchilla"],
            "give the table FILE, or --manifest",
        ),
        (
            vec!["fit", "--law", "chinchilla", "--manifest", "m.toml"],
            "m.toml: manifest not found",
        ),
        (
            vec![
                "predict",
                "--law",
                "chinchilla",
                "--params",
                params,
                "--n",
                "1e9,2e9",
                "--d",
                "1e10",
            ],
            "paired --n and --d",
        ),
        (
            vec![
                "optimal",
                "--law",
                "chinchilla",
                "--params",
                params,
                "--compute=-1",
            ],
            "--compute must be a finite number > 0",
        ),
        (
            vec![
                "optimal",
                "--law",
                "annealing",
                "--params",
                "L0=1,A=1,alpha=1,C=1",
                "--compute",
                "1e20",
            ],
            "needs a chinchilla fit",
        ),
    ];
    for (args, want) in cases {
        let out = losscast(d, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// `--fix` and `--tie`: the record holds the full parameter set with the constraints applied,
/// and records them in its options.
#[test]
fn fix_and_tie() {
    let dir = tempfile::tempdir().unwrap();
    let table = data("chinchilla/svg_extracted_data.csv");
    let rec = json_ok(&losscast(
        dir.path(),
        &[
            "fit",
            "--law",
            "chinchilla",
            table.to_str().unwrap(),
            "--drop-top-loss",
            "5",
            "--fix",
            "E=1.69",
            "--tie",
            "alpha=beta",
            "--out",
            "c.json",
            "--json",
        ],
    ));
    assert_eq!(rec["params"]["E"], 1.69);
    assert_eq!(rec["params"]["alpha"], rec["params"]["beta"]);
    assert_eq!(rec["options"]["fixed"]["E"], 1.69);
    assert_eq!(rec["options"]["tied"]["alpha"], "beta");
    assert_eq!(rec["converged"], true);
    // Pinning E at Hoffmann's 1.69 costs objective against the free optimum 1.018274e-3
    // (laws.md §3).
    assert!(rec["objective"].as_f64().unwrap() > 1.018274e-3);
    // The constrained fit file is an ordinary chinchilla fit for its readers.
    let o = json_ok(&losscast(
        dir.path(),
        &["optimal", "--fit", "c.json", "--compute", "1e22", "--json"],
    ));
    assert!(o["n_opt"].as_f64().unwrap() > 0.0);
}

/// `plot` of a size law draws predicted against observed loss for the table.
#[test]
fn parity_plot_of_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let table = data("chinchilla/svg_extracted_data.csv");
    let params = "E=1.81722,A=477.826,B=2143.42,alpha=0.34731,beta=0.367172";
    for out in ["p.svg", "p.png"] {
        let o = losscast(
            dir.path(),
            &[
                "plot",
                "--law",
                "chinchilla",
                "--params",
                params,
                table.to_str().unwrap(),
                "--out",
                out,
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let svg = std::fs::read_to_string(dir.path().join("p.svg")).unwrap();
    assert!(svg.contains("chinchilla law: E=1.81722"));
    assert!(svg.contains("predicted loss") && svg.contains("observed loss"));
    assert!(svg.contains("N in [1e9, 1e10)"));
    let decoder = png::Decoder::new(std::fs::File::open(dir.path().join("p.png")).unwrap());
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (1400, 1000));
}
