//! `--law collapse` from the command line on the bundled ladders: a fit file that carries its
//! learned shape, forecasts of a larger model read back from it, refusals of what it cannot
//! forecast, and a size forecast that beats carrying the next size's curve over unchanged.
//! [`law`]: the law through the library's fit on synthetic ladders.

mod common;
use common::{data, load_manifest, losscast_json, losscast_ok, refused};
use losscast::fit::metrics;

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

/// The collapse law through the fit, on synthetic ladders whose shape and anchor are known: the
/// shape and the anchor's parameters are recovered, a larger model's curve is forecast, a ladder
/// that does not collapse is flagged, what two sizes cannot pin is stated, what the ladder never
/// ran is refused, and the Jacobian matches finite differences.
mod law {
    use losscast::fit::{self, FitOptions};
    use losscast::law::collapse::Collapse;
    use losscast::law::{Curve, Law, LawOptions};
    use losscast::runs::Run;

    /// The anchor of the synthetic ladders, Chinchilla's E, A, B, alpha, beta over n = N/1e9
    /// and d = D/80 000 steps, the references of a fit on the three sizes up to 1e9 (α ≠ β, so
    /// the over-training form cannot follow it).
    fn truth() -> [f64; 5] {
        [1.8, 0.6, 0.4, 0.35, 0.2]
    }

    /// ℓ*(x) = x^(−0.1): every size's curve is its final loss times this (`bent` makes one
    /// size decay twice as steeply instead, a ladder that does not collapse).
    fn run(n: f64, total: i64, bent: bool) -> Run {
        let spec = format!("cosine:peak=1e-3,end=1e-4,warmup=0,total={total}");
        let sched = losscast::schedule::parse(&spec, std::path::Path::new("")).unwrap();
        let lr = sched.lr_array(total as usize + 1);
        // Log-spaced from step 50, as checkpoints often are: dense enough in ln x that the
        // shape's interpolation is exact to ~1e-6.
        let mut steps: Vec<i64> = (0..300)
            .map(|k| (50.0 * (total as f64 / 50.0).powf(k as f64 / 299.0)).round() as i64)
            .collect();
        steps.dedup();
        let p = truth();
        let (nn, d) = (n / 1e9, total as f64 / 80_000.0);
        let final_loss = p[0] + p[1] * nn.powf(-p[3]) + p[2] * d.powf(-p[4]);
        let power = if bent { -0.2 } else { -0.1 };
        let loss = steps
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                // ±0.1 % deterministic noise, as logged losses have (exact data leaves the fit's
                // orthogonality check at round-off, where it cannot judge convergence).
                let noise = 1.0 + 1e-3 * ((k * 7919 % 13) as f64 / 6.0 - 1.0);
                final_loss * (s as f64 / total as f64).powf(power) * noise
            })
            .collect();
        Run {
            end: Some(total),
            ..Run::in_memory(&format!("{n:e}/{total}"), &spec, lr, steps, loss, Some(n))
        }
    }

    fn ladder(sizes: &[f64]) -> Vec<Run> {
        sizes
            .iter()
            .flat_map(|&n| [10_000, 20_000, 40_000, 80_000].map(|t| run(n, t, false)))
            .collect()
    }

    fn fitted(runs: &[Run]) -> (fit::FitRecord, Box<dyn Law>, Vec<f64>) {
        let law = Collapse::new(LawOptions::default());
        let record = fit::fit(&law, runs, &FitOptions::default()).unwrap();
        let built = record.build_law().unwrap();
        let params = record.param_vector(built.as_ref()).unwrap();
        (record, built, params)
    }

    fn predict(law: &dyn Law, params: &[f64], r: &Run) -> Vec<f64> {
        let f = fit::features_of(law, std::slice::from_ref(r)).unwrap();
        let mut out = vec![0.0; r.loss.len()];
        law.predict(params, &f[0], &mut out);
        out
    }

    #[test]
    fn a_known_collapse_and_anchor_are_recovered() {
        let runs = ladder(&[1e8, 3e8, 1e9]);
        let (record, law, p) = fitted(&runs);
        let state = record.options.law.collapse.as_deref().unwrap();
        assert_eq!(state.anchor, "chinchilla", "{:?}", state.notes);
        assert!(state.groups.len() == 1 && state.sizes == 3);
        assert!(record.warnings.is_empty(), "{:?}", record.warnings);
        for (name, (got, want)) in law.param_names().iter().zip(p.iter().zip(truth())) {
            assert!((got - want).abs() < 3e-2 * want, "{name}: {got} vs {want}");
        }
        // A 10B model's whole curve at a length the ladder ran, and at one it did not.
        for total in [20_000, 30_000] {
            let target = run(1e10, total, false);
            for (g, w) in predict(law.as_ref(), &p, &target).iter().zip(&target.loss) {
                assert!((g - w).abs() < 2e-3 * w, "{total}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn the_largest_size_is_forecast_from_the_smaller_ones() {
        let all = ladder(&[1e8, 3e8, 1e9, 3e9]);
        let (fit_runs, held): (Vec<Run>, Vec<Run>) =
            all.into_iter().partition(|r| r.params < Some(2e9));
        let (_, law, p) = fitted(&fit_runs);
        for target in &held {
            let got = predict(law.as_ref(), &p, target);
            let worst = got
                .iter()
                .zip(&target.loss)
                .map(|(g, w)| ((g - w) / w).abs())
                .fold(0.0, f64::max);
            assert!(worst < 2e-3, "{}: {worst} ({p:?})", target.name);
        }
    }

    #[test]
    fn a_ladder_that_does_not_collapse_is_flagged() {
        let mut runs = ladder(&[1e8, 3e8, 1e9]);
        for r in runs.iter_mut().filter(|r| r.params == Some(3e8)) {
            *r = run(3e8, r.end.unwrap(), true);
        }
        let (record, ..) = fitted(&runs);
        assert!(
            record
                .warnings
                .iter()
                .any(|w| w.contains("do not collapse")),
            "{:?}",
            record.warnings
        );
    }

    #[test]
    fn two_sizes_state_their_assumptions() {
        let runs: Vec<Run> = [1e8, 3e8]
            .iter()
            .flat_map(|&n| [run(n, 10_000, false), run(n, 20_000, false)])
            .collect();
        let (record, law, _) = fitted(&runs);
        let state = record.options.law.collapse.as_deref().unwrap();
        assert!(!state.trend);
        assert!(state
            .notes
            .iter()
            .any(|n| n.contains("alpha has a log-normal prior")));
        assert_eq!(law.priors().len(), 2, "alpha, and beta from two lengths");
        assert!(record.warnings.iter().any(|w| w.contains("two sizes")));
    }

    #[test]
    fn schedules_and_lengths_the_ladder_never_ran_are_refused() {
        let runs: Vec<Run> = [1e8, 3e8, 1e9]
            .iter()
            .map(|&n| run(n, 10_000, false))
            .collect();
        let (_, law, _) = fitted(&runs);
        assert_eq!(
            law.param_names(),
            ["E", "A", "alpha"],
            "one length: no data term"
        );
        let longer = run(1e10, 20_000, false);
        let e = fit::features_of(law.as_ref(), &[longer])
            .unwrap_err()
            .to_string();
        assert!(e.contains("only for 10000 steps"), "{e}");
        let lr = vec![1e-3; 10_001];
        let constant = Curve {
            lr: &lr,
            steps: &[100, 200],
            params: Some(1e10),
            end: None,
        };
        let e = law.features(&constant).unwrap_err().to_string();
        assert!(e.contains("matches none of the ladder's schedules"), "{e}");
        let unfitted = Collapse::new(LawOptions::default());
        assert!(unfitted.features(&constant).is_err());
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        for sizes in [&[1e8, 3e8, 1e9][..], &[1e8, 3e8]] {
            let runs = ladder(sizes);
            let (_, law, _) = fitted(&runs);
            let mut target = run(1e10, 20_000, false);
            target.steps = vec![50, 700, 9_000, 20_000];
            target.loss = vec![1.0; 4];
            let f = &fit::features_of(law.as_ref(), &[target]).unwrap()[0];
            let p = [1.7, 0.5, 0.3, 0.45, 0.25];
            let k = law.param_names().len();
            let p = &p[..k];
            let (mut out, mut jac) = (vec![0.0; 4], vec![0.0; 4 * k]);
            law.predict_jacobian(p, f, &mut out, &mut jac);
            for j in 0..k {
                let h = 1e-6 * p[j];
                let (mut up, mut down) = (p.to_vec(), p.to_vec());
                up[j] += h;
                down[j] -= h;
                let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
                law.predict(&up, f, &mut a);
                law.predict(&down, f, &mut b);
                for i in 0..4 {
                    let fd = (a[i] - b[i]) / (2.0 * h);
                    assert!(
                        (fd - jac[i * k + j]).abs() < 1e-6 * (1.0 + fd.abs()),
                        "param {j} point {i}: {fd} vs {}",
                        jac[i * k + j]
                    );
                }
            }
        }
    }
}
