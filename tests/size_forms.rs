//! The kaplan, power, overtrain and chinchilla-nd laws recover the parameters that generated
//! a table.

use losscast::fit::{self, FitOptions};
use losscast::ingest::table::{read_table, TableColumns};
use losscast::law::{self, LawOptions};

fn table(dir: &std::path::Path, f: impl Fn(f64, f64) -> f64) -> std::path::PathBuf {
    let mut csv = String::from("N,D,loss\n");
    for i in 0..8 {
        for j in 0..8 {
            let n = 1e7 * 10f64.powf(i as f64 * 3.0 / 7.0);
            let d = 1e9 * 10f64.powf(j as f64 * 3.0 / 7.0);
            csv.push_str(&format!("{n},{d},{}\n", f(n, d)));
        }
    }
    let p = dir.join("t.csv");
    std::fs::write(&p, csv).unwrap();
    p
}

fn fit_params(name: &str, variable: Option<&str>, path: &std::path::Path) -> Vec<f64> {
    let law = law::build(
        name,
        LawOptions {
            variable: variable.map(String::from),
            ..LawOptions::default()
        },
    )
    .unwrap();
    let t = read_table(path, &TableColumns::default()).unwrap();
    let rec = fit::fit_table(law.as_ref(), &t, "t.csv", &FitOptions::default()).unwrap();
    assert!(rec.converged, "{name}: {:?}", rec.warnings);
    rec.param_vector(law.as_ref()).unwrap()
}

#[test]
fn power_law_in_compute_recovers_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let p = table(dir.path(), |n, d| 1.9 + 60.0 * (6.0 * n * d).powf(-0.12));
    let got = fit_params("power", Some("c"), &p);
    for (g, t) in got.iter().zip([1.9, 60.0, 0.12]) {
        assert!((g - t).abs() < 1e-4 * t, "{got:?}");
    }
}

#[test]
fn kaplan_recovers_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let truth = [8.8e13, 5.4e13, 0.076, 0.095];
    let p = table(dir.path(), |n, d| {
        ((truth[0] / n).powf(truth[2] / truth[3]) + truth[1] / d).powf(truth[3])
    });
    let got = fit_params("kaplan", None, &p);
    for (g, t) in got.iter().zip(truth) {
        assert!((g - t).abs() < 1e-3 * t, "{got:?}");
    }
}

#[test]
fn overtrain_recovers_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let truth = [1.8, 4.0e3, 7.0e2, 0.16];
    let p = table(dir.path(), |n, d| {
        let (m, c) = (d / n, 6.0 * n * d);
        truth[0] + (truth[1] * m.powf(truth[3]) + truth[2] * m.powf(-truth[3])) * c.powf(-truth[3])
    });
    let got = fit_params("overtrain", None, &p);
    for (g, t) in got.iter().zip(truth) {
        assert!((g - t).abs() < 1e-3 * t, "{got:?}");
    }
}

/// A data exponent that grows with N (ρ > 0) and a data coefficient that shrinks (κ > 0)
/// are recovered from an 8 × 8 grid of (N, D).
#[test]
fn chinchilla_nd_recovers_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let truth = [1.7, 0.45, 0.34, 0.6, 0.08, 0.28, 0.05];
    let p = table(dir.path(), |n, d| {
        let (n, d) = (n / 1e9, d / 1e10);
        truth[0]
            + truth[1] * n.powf(-truth[2])
            + truth[3] * n.powf(-truth[4]) * d.powf(-truth[5] * n.powf(truth[6]))
    });
    let got = fit_params("chinchilla-nd", None, &p);
    for (g, t) in got.iter().zip(truth) {
        assert!((g - t).abs() < 1e-3 * t.abs(), "{got:?}");
    }
}
