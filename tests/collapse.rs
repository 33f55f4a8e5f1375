//! `--law collapse` from the command line on the bundled ladders: a fit file that carries its
//! learned shape, forecasts of a larger model read back from it, refusals of what it cannot
//! forecast, and a size forecast that beats carrying the next size's curve over unchanged.

mod common;
use common::{data, load_manifest, losscast_json, losscast_ok, refused};
use losscast::metrics;

const COSINE: &str = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";

/// `fit --law collapse` on a bundled manifest, writing `out`; the record as JSON.
fn fit_collapse(dir: &std::path::Path, manifest: &str, out: &std::path::Path) -> serde_json::Value {
    let manifest = data(manifest);
    losscast_json(
        dir,
        &[
            "fit",
            "--manifest",
            manifest.to_str().unwrap(),
            "--law",
            "collapse",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    )
}

/// `predict --fit FIT --schedule SCHEDULE --params N [--steps STEPS]` as (step, loss) rows.
fn predicted(
    dir: &std::path::Path,
    fit: &std::path::Path,
    schedule: &str,
    n: &str,
    steps: Option<&str>,
) -> Vec<(i64, f64)> {
    let mut args = vec![
        "predict",
        "--fit",
        fit.to_str().unwrap(),
        "--schedule",
        schedule,
        "--params",
        n,
    ];
    if let Some(s) = steps {
        args.extend(["--steps", s]);
    }
    let out = losscast_ok(dir, &args);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].parse().unwrap(), cells[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn a_fit_file_carries_its_shape_and_forecasts_a_larger_model() {
    let dir = tempfile::tempdir().unwrap();
    let fit = dir.path().join("c.json");
    let rec = fit_collapse(dir.path(), "mpl_joint.toml", &fit);
    let state = &rec["options"]["law"]["collapse"];
    // Nine MPL schedules: nine shapes, each from 25M and 100M.
    assert_eq!(state["groups"].as_array().unwrap().len(), 9, "{state}");
    assert_eq!(state["sizes"], 2);
    let params = rec["params"].as_object().unwrap();
    assert!(params.contains_key("alpha") && !params.contains_key("beta"));
    let warnings = rec["warnings"].to_string();
    assert!(warnings.contains("two sizes"), "{warnings}");

    let losses: Vec<f64> = predicted(dir.path(), &fit, COSINE, "4e8", Some("4000,12000,24000"))
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(losses.len(), 3, "{losses:?}");
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");

    refused(
        dir.path(),
        &[
            "predict",
            "--fit",
            fit.to_str().unwrap(),
            "--schedule",
            "constant:peak=3e-4,warmup=0,total=24000",
            "--params",
            "4e8",
        ],
        "matches none of the ladder's schedules",
    );
    refused(
        dir.path(),
        &[
            "plan",
            "--fit",
            fit.to_str().unwrap(),
            "--params",
            "4e8",
            "--total",
            "24000",
            "--peak",
            "3e-4",
        ],
        "cannot rank new ones",
    );
    refused(
        dir.path(),
        &[
            "predict",
            "--law",
            "collapse",
            "--params",
            "E=1,A=1,alpha=0.3",
            "--schedule",
            COSINE,
        ],
        "learns its shape",
    );
}

/// The 400M curves forecast from 25M and 100M are closer than the 100M curves themselves, the
/// forecast a size law has to beat.
#[test]
fn the_size_forecast_beats_the_next_size_down() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = data("mpl_joint.toml");
    let b = losscast_json(
        dir.path(),
        &[
            "backtest",
            "--manifest",
            manifest.to_str().unwrap(),
            "--task",
            "size",
            "--laws",
            "collapse",
            "--json",
        ],
    );
    let folds = b["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 1, "two fit sizes are needed, so one fold");
    let pred_e = folds[0]["pred_e"].as_f64().unwrap();

    let runs = load_manifest("mpl_joint.toml");
    let mut carried = Vec::new();
    for big in runs.iter().filter(|r| r.params == Some(4e8)) {
        let schedule = big.name.split_once('/').unwrap().1;
        let small = runs
            .iter()
            .find(|r| r.name == format!("100M/{schedule}"))
            .unwrap();
        let shared: Vec<(f64, f64)> = big
            .steps
            .iter()
            .zip(&big.loss)
            .filter_map(|(&s, &l)| {
                // The 100M loss at the same step, linear between its logged steps.
                let i = small.steps.partition_point(|&t| t < s);
                let (&s1, &l1) = (small.steps.get(i)?, small.loss.get(i)?);
                if s1 == s || i == 0 {
                    return (s1 == s).then_some((l, l1));
                }
                let (s0, l0) = (small.steps[i - 1], small.loss[i - 1]);
                Some((l, l0 + (l1 - l0) * (s - s0) as f64 / (s1 - s0) as f64))
            })
            .collect();
        let (obs, pred): (Vec<f64>, Vec<f64>) = shared.into_iter().unzip();
        carried.push(metrics::curve_metrics(&obs, &pred).pred_e);
    }
    let carried = carried.iter().sum::<f64>() / carried.len() as f64;
    assert!(
        pred_e < 0.5 * carried,
        "collapse {pred_e} vs the 100M curves {carried}"
    );
}

/// Pile-T5's curves are read from step 20 000 and its schedule has no warmup: predict's default
/// steps (every 100th from the start) begin where the shape can reach, instead of failing on the
/// first one.
#[test]
fn default_forecast_steps_start_where_the_shape_does() {
    let dir = tempfile::tempdir().unwrap();
    let fit = dir.path().join("p.json");
    fit_collapse(dir.path(), "pile_t5_20k.toml", &fit);
    let schedule = "rsqrt:peak=0.01,warmup=0,total=2000000,timescale=10000";
    let steps: Vec<i64> = predicted(dir.path(), &fit, schedule, "1.1e10", None)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    // The shape starts at step 20 000 and is continued back to half of that, no further.
    assert_eq!(
        steps.first(),
        Some(&10_000),
        "{:?}",
        &steps[..3.min(steps.len())]
    );
    assert_eq!(steps.last(), Some(&2_000_000));
}

/// A rollout fold's collapse law is the one its fit learned: its parameters carry the learned
/// anchor's names and its held-out curves can be drawn.
#[test]
fn a_rollout_names_and_draws_each_folds_learned_law() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = data("mpl_joint.toml");
    let plot = dir.path().join("r.png");
    let out = losscast_json(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "params",
            "--law",
            "collapse",
            "--manifest",
            manifest.to_str().unwrap(),
            "--folds",
            "1",
            "--plot",
            plot.to_str().unwrap(),
            "--json",
        ],
    );
    let params = out["folds"][0]["params"].as_object().unwrap();
    let names: Vec<&String> = params.keys().collect();
    assert_eq!(names, ["A", "E", "alpha"], "{params:?}");
    assert!(dir.path().join("r-fold1.png").is_file());
}
