//! Answers that used to be wrong without a word: an LR invented before the first logged value,
//! parameters the data cannot determine reported as fitted, readers that ignore an
//! untrustworthy fit or an extrapolation, values outside a law's domain, −inf ranked first, a
//! flat IsoFLOP sweep given an optimum, and options silently ignored.

mod common;
use common::{data, losscast, losscast_json, losscast_ok, refused};
use serde_json::Value;
use std::path::Path;

const COSINE: &str = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";
const CONSTANT: &str = "constant:peak=3e-4,warmup=0,total=24000";

fn fit_json(dir: &Path, args: &[&str]) -> Value {
    let mut full = vec!["fit"];
    full.extend(args);
    full.push("--json");
    losscast_json(dir, &full)
}

/// Item 5: the bundled MPL CSVs log their LR from step 2160 on; eval without a schedule held it
/// back to step 0 (R² −0.40 instead of 0.997).
#[test]
fn an_lr_first_logged_after_warmup_is_refused_in_fits_and_evals() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = data("mpl/csv_400/cosine_72000.csv");
    let csv = csv.to_str().unwrap();
    refused(
        d,
        &["fit", csv, "--out", "f.json"],
        "the LR is first logged at step 2176",
    );
    losscast_ok(
        d,
        &[
            "fit",
            "--manifest",
            data("mpl400.toml").to_str().unwrap(),
            "--out",
            "f.json",
        ],
    );
    refused(d, &["eval", "--fit", "f.json", csv], "Give the schedule");
    // With the schedule, the same evaluation is the good one.
    let v = losscast_json(
        d,
        &[
            "eval",
            "--fit",
            "f.json",
            csv,
            "--schedule",
            "cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000",
            "--json",
        ],
    );
    assert!(v["runs"][0]["r2"].as_f64().unwrap() > 0.99, "{v}");
}

/// Item 6: on a constant-LR run the Multi-Power Law's decay parameters stay at their start
/// values; the fit must say the data do not determine them.
#[test]
fn parameters_a_constant_run_cannot_determine_are_unidentified_for_every_law() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = data("mpl/csv_400/constant_24000.csv");
    let csv = csv.to_str().unwrap();
    let rec = fit_json(
        d,
        &[
            "--law",
            "multipower",
            csv,
            "--schedule",
            CONSTANT,
            "--out",
            "m.json",
        ],
    );
    let unid: Vec<&str> = rec["unidentified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for p in ["B", "C", "beta", "gamma"] {
        assert!(unid.contains(&p), "{p} not in {unid:?}");
    }
    assert_eq!(rec["trustworthy"], false);
    // The annealing law's C, with and without a warmup before the constant LR.
    for sched in [CONSTANT, "constant:peak=3e-4,warmup=2160,total=24000"] {
        let rec = fit_json(
            d,
            &[
                "--law",
                "annealing",
                csv,
                "--schedule",
                sched,
                "--out",
                "a.json",
            ],
        );
        assert!(
            rec["unidentified"]
                .as_array()
                .unwrap()
                .contains(&Value::from("C")),
            "{sched}: {}",
            rec["unidentified"]
        );
        assert_eq!(rec["trustworthy"], false);
        assert!(rec["relative_errors"]["L0"].as_f64().unwrap() < 0.1);
    }
    // A run that anneals determines every annealing parameter to a few per cent.
    let cosine = data("mpl/csv_400/cosine_24000.csv");
    let rec = fit_json(
        d,
        &[
            "--law",
            "annealing",
            cosine.to_str().unwrap(),
            "--schedule",
            COSINE,
            "--out",
            "c.json",
        ],
    );
    assert_eq!(rec["unidentified"], serde_json::json!([]));
    for p in ["L0", "A", "alpha", "C"] {
        let e = rec["relative_errors"][p].as_f64().unwrap();
        assert!(e < 0.2, "{p}: {e}");
    }
}

/// Item 7: every reader of an untrustworthy fit says so on stderr and in its JSON, and predict
/// names its extrapolations.
#[test]
fn readers_warn_about_untrustworthy_fits_and_extrapolation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = data("mpl/csv_400/constant_24000.csv");
    let csv = csv.to_str().unwrap();
    losscast_ok(
        d,
        &[
            "fit",
            "--law",
            "annealing",
            csv,
            "--schedule",
            CONSTANT,
            "--out",
            "bad.json",
        ],
    );
    let readers: Vec<Vec<&str>> = vec![
        vec![
            "predict",
            "--fit",
            "bad.json",
            "--schedule",
            COSINE,
            "--json",
        ],
        vec![
            "eval",
            "--fit",
            "bad.json",
            csv,
            "--schedule",
            CONSTANT,
            "--json",
        ],
        vec![
            "plan", "--fit", "bad.json", "--total", "24000", "--peak", "3e-4", "--json",
        ],
        vec![
            "plot",
            "--fit",
            "bad.json",
            csv,
            "--schedule",
            CONSTANT,
            "--out",
            "p.png",
        ],
    ];
    for args in readers {
        let out = losscast_ok(d, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("bad.json is not a trustworthy fit: the data do not determine C"),
            "{args:?}: {err}"
        );
        if args.contains(&"--json") {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["fit_trustworthy"], false, "{args:?}");
            assert!(
                v["warnings"][0]
                    .as_str()
                    .unwrap()
                    .contains("not a trustworthy fit"),
                "{args:?}"
            );
        }
    }
    // Extrapolation: a longer run than any fit run, and steps inside the warmup.
    let cosine = data("mpl/csv_400/cosine_24000.csv");
    losscast_ok(
        d,
        &[
            "fit",
            cosine.to_str().unwrap(),
            "--schedule",
            COSINE,
            "--out",
            "good.json",
        ],
    );
    let v = losscast_json(
        d,
        &[
            "predict",
            "--fit",
            "good.json",
            "--schedule",
            "cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000",
            "--steps",
            "1000,72000",
            "--json",
        ],
    );
    assert_eq!(v["fit_trustworthy"], true);
    let w: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(w.iter().any(|x| x.contains("inside the warmup")), "{w:?}");
    assert!(
        w.iter().any(|x| x.contains("S1") && x.contains("beyond")),
        "{w:?}"
    );
    // Inside the fitted range: no warning at all.
    let v = losscast_json(
        d,
        &[
            "predict",
            "--fit",
            "good.json",
            "--schedule",
            COSINE,
            "--steps",
            "12000",
            "--json",
        ],
    );
    assert_eq!(v["warnings"], serde_json::json!([]), "{v}");
}

/// Item 8: one domain check for --fix, --params and fit files; non-finite forecasts are never
/// ranked; a flat sweep has no optimum.
#[test]
fn values_outside_a_laws_domain_and_non_finite_forecasts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cosine = data("mpl/csv_25/cosine_24000.csv");
    let cosine = cosine.to_str().unwrap();
    refused(
        d,
        &[
            "fit",
            cosine,
            "--schedule",
            COSINE,
            "--fix",
            "alpha=-1",
            "--out",
            "f.json",
        ],
        "--fix: alpha = -1 is negative",
    );
    refused(
        d,
        &[
            "predict",
            "--law",
            "annealing",
            "--params",
            "L0=2.4,A=0.6,alpha=-0.5,C=0.5",
            "--schedule",
            COSINE,
        ],
        "--params: alpha = -0.5 is negative",
    );
    refused(
        d,
        &[
            "predict",
            "--law",
            "multipower",
            "--params",
            "L0=2.4,A=0.6,alpha=0.5,B=500,C=2,beta=25,gamma=0.6",
            "--schedule",
            COSINE,
        ],
        "beta = 25 lies outside [0, 20]",
    );
    losscast_ok(d, &["fit", cosine, "--schedule", COSINE, "--out", "f.json"]);
    let mut rec: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("f.json")).unwrap()).unwrap();
    rec["params"]["alpha"] = Value::from(-0.5);
    std::fs::write(d.join("edited.json"), rec.to_string()).unwrap();
    refused(
        d,
        &["predict", "--fit", "edited.json", "--schedule", COSINE],
        "edited.json: fit file parameter alpha = -0.5 is negative",
    );
    refused(
        d,
        &[
            "plan",
            "--fit",
            "edited.json",
            "--total",
            "1000",
            "--peak",
            "1e-3",
        ],
        "alpha = -0.5 is negative",
    );
    // A peak of 1e308 would make S1 infinite: it is no learning rate, refused up front.
    let out = losscast(
        d,
        &[
            "plan", "--fit", "f.json", "--total", "24000", "--peak", "1e308",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--peak 1e308 is not a learning rate"), "{err}");
    // A flat IsoFLOP sweep: every budget says so, and there is no exponent.
    let mut t = String::from("N,flops,loss\n");
    for c in [1e18, 1e19, 1e20] {
        for n in [1e7, 2e7, 4e7, 8e7, 1.6e8] {
            t += &format!("{n},{c},3.0\n");
        }
    }
    std::fs::write(d.join("flat.csv"), t).unwrap();
    // The budgets' reasons are printed, and the run fails: no exponent is no answer.
    let out = losscast(d, &["isoflop", "flat.csv", "--c-col", "flops", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["parabola"], Value::Null, "{v}");
    assert!(v["budgets"][0]["parabola"]["reason"]
        .as_str()
        .unwrap()
        .contains("no real curvature"));
}

/// Item 9: options that do not apply exit 2 and say where they do.
#[test]
fn options_that_do_not_apply_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data("mpl400.toml");
    let m = m.to_str().unwrap();
    let cosine = data("mpl/csv_25/cosine_24000.csv");
    let cosine = cosine.to_str().unwrap();
    let table = data("chinchilla/svg_extracted_data.csv");
    let table = table.to_str().unwrap();
    refused(
        d,
        &["fit", "--manifest", m, "--bootstrap", "100"],
        "--bootstrap does not apply here: the case bootstrap is for size laws",
    );
    refused(
        d,
        &["fit", "--manifest", m, "--min-step", "5000"],
        "--min-step does not apply here: it reads a single log FILE; with --manifest",
    );
    refused(
        d,
        &[
            "eval",
            "--law",
            "annealing",
            "--params",
            "L0=2.4,A=0.6,alpha=0.5,C=0.5",
            "--manifest",
            m,
            "--loss",
            "eval",
        ],
        "--loss does not apply here",
    );
    refused(
        d,
        &["fit", "--law", "chinchilla", table, "--schedule", COSINE],
        "--schedule does not apply here",
    );
    refused(
        d,
        &["fit", cosine, "--schedule", COSINE, "--drop-top-loss", "5"],
        "--drop-top-loss does not apply here",
    );
    refused(
        d,
        &["fit", "--law", "chinchilla", table, "--seed", "3"],
        "--seed does not apply here: it sets up --bootstrap K",
    );
    refused(
        d,
        &["fit", cosine, "--schedule", COSINE, "--variable", "n"],
        "--variable does not apply here",
    );
    losscast_ok(
        d,
        &[
            "fit",
            "--law",
            "chinchilla",
            table,
            "--drop-top-loss",
            "5",
            "--out",
            "c.json",
        ],
    );
    refused(
        d,
        &[
            "predict", "--fit", "c.json", "--n", "1e9", "--d", "2e10", "--out", "p.csv",
        ],
        "--out applies to schedule laws",
    );
    refused(
        d,
        &[
            "predict", "--fit", "c.json", "--n", "1e9", "--d", "2e10", "--steps", "5",
        ],
        "--steps applies to schedule laws",
    );
    refused(
        d,
        &[
            "predict",
            "--law",
            "annealing",
            "--params",
            "4e8",
            "--schedule",
            COSINE,
        ],
        "--params N (a bare number) is the model size of a joint fit",
    );
    losscast_ok(d, &["fit", cosine, "--schedule", COSINE, "--out", "a.json"]);
    refused(
        d,
        &[
            "predict",
            "--fit",
            "a.json",
            "--params",
            "4e8",
            "--schedule",
            COSINE,
        ],
        "applies to joint size x schedule laws",
    );
    refused(
        d,
        &[
            "plan", "--fit", "a.json", "--total", "1000", "--peak", "1e-3", "--params", "4e8",
        ],
        "applies to joint size x schedule fits",
    );
    refused(
        d,
        &[
            "plan",
            "--fit",
            "a.json",
            "--total",
            "1000",
            "--peak",
            "1e-3",
            "--plot-top",
            "3",
        ],
        "--plot-top does not apply here",
    );
    refused(
        d,
        &[
            "plot",
            "--fit",
            "a.json",
            cosine,
            "--schedule",
            COSINE,
            "--kind",
            "frontier",
            "--out",
            "p.png",
        ],
        "--kind does not apply here",
    );
    refused(
        d,
        &[
            "eval",
            "--rollout",
            "n",
            "--law",
            "chinchilla",
            table,
            "--plot",
            "r.png",
        ],
        "--plot does not apply here",
    );
}
