//! The forecasting benchmark scores what a user gets, and `--law auto` never refuses.

mod common;

use common::{synthetic, synthetic_at};
use losscast::runs::Run;
use std::path::Path;
use std::process::{Command, Output};

const TRUTH: [f64; 4] = [2.4, 0.6, 0.5, 0.56];

fn losscast(args: &[&str], files: &[&Path]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_losscast"));
    c.args(args);
    for f in files {
        c.arg(f);
    }
    c.output().unwrap()
}

fn write_runs(dir: &Path, runs: &[Run]) -> std::path::PathBuf {
    let mut toml = String::new();
    for r in runs {
        let mut csv = String::from("step,loss\n");
        for (s, l) in r.steps.iter().zip(&r.loss) {
            csv.push_str(&format!("{s},{l}\n"));
        }
        std::fs::write(dir.join(format!("{}.csv", r.name)), csv).unwrap();
        toml.push_str(&format!(
            "[[run]]\nname = \"{0}\"\npath = \"{0}.csv\"\nschedule = \"{1}\"\n\n",
            r.name, r.schedule
        ));
    }
    let m = dir.join("runs.toml");
    std::fs::write(&m, toml).unwrap();
    m
}

/// Three schedules of the annealing law: forecasting one from the others, and each run's
/// second half from its first, auto must choose a law and forecast within the noise; the
/// horizon case is scored on the tail only and its last point lies twice as far as the fit's.
#[test]
fn benchmark_scores_auto_and_each_law_on_held_out_curves() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<Run> = [
        (
            "cosine",
            "cosine:peak=3e-4,end=3e-5,warmup=2000,total=24000",
        ),
        ("constant", "constant:peak=3e-4,warmup=2000,total=24000"),
        (
            "wsdcon",
            "steps:peak=3e-4,warmup=2000,total=16000,drops=8000@3e-5",
        ),
    ]
    .iter()
    .map(|(n, s)| synthetic("annealing", &TRUTH, n, s, 5e-4))
    .collect();
    write_runs(dir.path(), &runs);
    let spec = dir.path().join("bench.toml");
    std::fs::write(
        &spec,
        "[[case]]\nladder = \"synthetic\"\ntask = \"schedule\"\nmanifest = \"runs.toml\"\n\
         test_runs = [\"wsdcon\"]\n\n\
         [[case]]\nladder = \"synthetic\"\ntask = \"horizon\"\nmanifest = \"runs.toml\"\n\
         runs = [\"cosine\"]\ncut_fraction = 0.5\n",
    )
    .unwrap();
    let o = losscast(&["benchmark", "--json", "--spec"], &[&spec]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(b["cases"], 2);
    let curves = b["curves"].as_array().unwrap();
    let auto: Vec<&serde_json::Value> = curves.iter().filter(|c| c["method"] == "auto").collect();
    assert_eq!(auto.len(), 2, "{curves:?}");
    for c in &auto {
        assert!(c["chose"].is_string());
        assert!(c["pred_e"].as_f64().unwrap() < 3e-3, "{c}");
    }
    let tail = auto.iter().find(|c| c["task"] == "horizon").unwrap();
    // Scored on the points after the cut at half the last step, and only those.
    let cut = runs[0].steps.last().unwrap() / 2;
    let after = runs[0].steps.iter().filter(|&&s| s > cut).count();
    assert_eq!(tail["points"].as_u64().unwrap(), after as u64, "{tail}");
    let d = tail["distance"].as_f64().unwrap();
    assert!((1.9..2.2).contains(&d), "{tail}");
    // Every law that applies competes too: both schedule laws, on both cases.
    for law in ["annealing", "multipower"] {
        assert_eq!(curves.iter().filter(|c| c["method"] == law).count(), 2);
    }
    // The table names every cell.
    let o = losscast(&["benchmark", "--spec"], &[&spec]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("| synthetic | horizon | **auto** | 1 | 0 |"),
        "{table}"
    );
}

#[test]
fn a_case_with_two_split_rules_is_refused_naming_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bench.toml");
    std::fs::write(
        &spec,
        "[[case]]\nladder = \"x\"\ntask = \"size\"\nmanifest = \"m.toml\"\nroles = true\n\
         test_above = 1e9\n",
    )
    .unwrap();
    let o = losscast(&["benchmark", "--spec"], &[&spec]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bench.toml") && err.contains("exactly one split rule"),
        "{err}"
    );
}

/// A run with too few points for any backtest fold (a run 10 % done) still gets a forecast:
/// auto fits the default law, and the record and the output say it could not choose.
#[test]
fn auto_falls_back_to_the_default_law_when_no_fold_can_choose() {
    let dir = tempfile::tempdir().unwrap();
    let run = synthetic_at(
        "annealing",
        &TRUTH,
        "early",
        "cosine:peak=3e-4,end=3e-5,warmup=200,total=24000",
        5e-4,
        (1..=12).map(|k| 250 * k).collect(),
        None,
    );
    let m = write_runs(dir.path(), &[run]);
    let out = dir.path().join("auto.json");
    let o2 = Command::new(env!("CARGO_BIN_EXE_losscast"))
        .args(["fit", "--law", "auto", "--manifest"])
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o2.stdout);
    assert!(
        o2.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o2.stderr)
    );
    assert!(stdout.contains("could not choose"), "{stdout}");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(rec["law"], "annealing");
    let why = rec["selection"]["fallback"].as_str().unwrap();
    assert!(why.contains("no backtest fold"), "{why}");
}
