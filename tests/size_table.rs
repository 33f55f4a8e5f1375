//! Size tables from a manifest of logs: `params` and `tokens_per_step` per run, the loss at the
//! last step or at `at_steps`, read straight from the Multi-Power-Law logs.

mod common;

use common::{data, losscast};
use losscast::sizes::from_runs::table_from_runs;

fn manifest(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let mut text = String::new();
    for size in [25, 100, 400] {
        let log = data(&format!("mpl/csv_{size}/cosine_24000.csv"));
        text += &format!(
            "[[run]]\nname = \"m{size}\"\npath = \"{}\"\nparams = {size}e6\ntokens_per_step = 5e5\n{extra}\n",
            log.display()
        );
    }
    let p = dir.join("sizes.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// The loss the CSV holds at `step` (columns step,lr,loss).
fn logged(size: u32, step: i64) -> f64 {
    let text = std::fs::read_to_string(data(&format!("mpl/csv_{size}/cosine_24000.csv"))).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.trim().split(',').collect::<Vec<_>>())
        .find(|f| f[0] == step.to_string())
        .map(|f| f[2].parse().unwrap())
        .unwrap()
}

#[test]
fn final_loss_and_listed_steps_become_rows() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), "");
    let specs = losscast::runs::manifest::load(&m).unwrap();
    let t = table_from_runs(&m, &specs).unwrap();
    assert_eq!(t.n, vec![25e6, 100e6, 400e6]);
    assert_eq!(t.d, vec![23920.0 * 5e5; 3]);
    assert_eq!(
        t.loss,
        vec![logged(25, 23920), logged(100, 23920), logged(400, 23920)]
    );
    assert!(t.notes[0].contains("sha256"), "{:?}", t.notes);

    let m = manifest(dir.path(), "at_steps = [8048, 12016, 16112]");
    let specs = losscast::runs::manifest::load(&m).unwrap();
    let t = table_from_runs(&m, &specs).unwrap();
    assert_eq!(t.loss.len(), 9);
    assert_eq!(t.loss[4], logged(100, 12016));
    assert_eq!(t.d[4], 12016.0 * 5e5);
    assert_eq!(t.c[4], 6.0 * 100e6 * 12016.0 * 5e5);

    // Between two logged steps the loss is interpolated; outside them it is an error.
    let m = manifest(dir.path(), "at_steps = [8112]");
    let specs = losscast::runs::manifest::load(&m).unwrap();
    let t = table_from_runs(&m, &specs).unwrap();
    let (a, b) = (logged(25, 8048), logged(25, 8176));
    assert!((t.loss[0] - 0.5 * (a + b)).abs() < 1e-12);
    let m = manifest(dir.path(), "at_steps = [30000]");
    let specs = losscast::runs::manifest::load(&m).unwrap();
    let e = table_from_runs(&m, &specs).unwrap_err().to_string();
    assert!(
        e.contains("run 'm25': step 30000 is outside the logged steps"),
        "{e}"
    );
}

#[test]
fn fit_from_a_manifest_records_each_log() {
    let dir = tempfile::tempdir().unwrap();
    manifest(
        dir.path(),
        "at_steps = [4080, 8048, 12016, 16112, 20080, 23920]",
    );
    let out = losscast(
        dir.path(),
        &[
            "fit",
            "--law",
            "chinchilla",
            "--manifest",
            "sizes.toml",
            "--out",
            "f.json",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["points_used"], 18);
    let notes = v["data"][0]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 3);
    assert!(notes[2]
        .as_str()
        .unwrap()
        .contains("csv_400/cosine_24000.csv"));

    // A run without params is refused with its name.
    std::fs::write(
        dir.path().join("bad.toml"),
        format!(
            "[[run]]\nname = \"x\"\npath = \"{}\"\n",
            data("mpl/csv_25/cosine_24000.csv").display()
        ),
    )
    .unwrap();
    let out = losscast(
        dir.path(),
        &["fit", "--law", "chinchilla", "--manifest", "bad.toml"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run 'x': has no params"));
}
