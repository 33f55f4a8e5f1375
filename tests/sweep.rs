//! The CLI over every bundled data file and fixture, with each command that reads it, as a
//! careless user would run it: nothing aborts (every exit code is 0, 1 or 2, never a signal or a
//! panic), and no input file is changed (every file under `data/` has the same sha256 after).

mod common;
use common::{data, files_under};
use losscast::ingest::sha256_hex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn checksums(root: &Path) -> BTreeMap<PathBuf, String> {
    files_under(root)
        .into_iter()
        .map(|p| {
            let sum = sha256_hex(&std::fs::read(&p).unwrap());
            (p, sum)
        })
        .collect()
}

const ANNEALING: &str = "L0=2.6,A=0.5,alpha=0.5,C=0.5";
const CHINCHILLA: &str = "E=1.82,A=482,B=2085,alpha=0.348,beta=0.366";

/// Runs one command in `dir`; returns its exit code, insisting it is 0, 1 or 2 and no panic.
fn run(dir: &Path, args: &[&str]) -> i32 {
    run_allowing(dir, args, 2)
}

/// [`run`], with exit codes up to `highest` allowed (`watch` exits 3 on divergence).
fn run_allowing(dir: &Path, args: &[&str], highest: i32) -> i32 {
    let out = Command::new(env!("CARGO_BIN_EXE_losscast"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    assert!(
        code.is_some_and(|c| (0..=highest).contains(&c)),
        "{args:?} ended with {:?}: {err}",
        out.status
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    if code != Some(0) && code != Some(3) {
        assert!(err.contains("losscast: error:"), "{args:?}: {err}");
    }
    code.unwrap()
}

#[test]
fn every_command_over_every_bundled_file() {
    let root = data("");
    let before = checksums(&root);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut tally = |c: i32| *codes.entry(c).or_default() += 1;

    // Every file and every log folder, with the commands that read a log or a table.
    let mut inputs: Vec<PathBuf> = files_under(&root);
    inputs.push(data("logs/tfevents"));
    inputs.push(data("logs/mlflow/GENERATED__llmc_mlruns"));
    for input in &inputs {
        let p = input.to_str().unwrap();
        let is_manifest = p.ends_with(".toml");
        tally(run(d, &["inspect", p]));
        if is_manifest {
            tally(run(d, &["fit", "--manifest", p, "--out", "m.json"]));
            tally(run(
                d,
                &[
                    "eval",
                    "--law",
                    "annealing",
                    "--params",
                    ANNEALING,
                    "--manifest",
                    p,
                ],
            ));
            tally(run(
                d,
                &[
                    "plot",
                    "--law",
                    "annealing",
                    "--params",
                    ANNEALING,
                    "--manifest",
                    p,
                    "--out",
                    "m.png",
                ],
            ));
            continue;
        }
        tally(run(d, &["fit", p, "--out", "f.json"]));
        tally(run(
            d,
            &[
                "fit",
                p,
                "--schedule",
                "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000",
                "--out",
                "s.json",
            ],
        ));
        tally(run(
            d,
            &["eval", "--law", "annealing", "--params", ANNEALING, p],
        ));
        tally(run(
            d,
            &[
                "plot",
                "--law",
                "chinchilla",
                "--params",
                CHINCHILLA,
                p,
                "--out",
                "t.png",
            ],
        ));
        tally(run(d, &["isoflop", p]));
    }
    // The readers of what was fitted, on every fit file the sweep wrote.
    for fit in ["m.json", "f.json", "s.json"] {
        if !d.join(fit).exists() {
            continue;
        }
        tally(run(
            d,
            &[
                "predict",
                "--fit",
                fit,
                "--schedule",
                "wsd:peak=3e-4,end=3e-5,warmup=2160,total=48000,decay_start=40000,shape=sqrt",
                "--steps",
                "1000,24000,48000",
            ],
        ));
        tally(run(
            d,
            &["plan", "--fit", fit, "--total", "24000", "--peak", "3e-4"],
        ));
        tally(run(d, &["optimal", "--fit", fit, "--compute", "1e21"]));
    }

    let after = checksums(&root);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files appeared in or vanished from data/"
    );
    for (p, sum) in &before {
        assert_eq!(&after[p], sum, "{} changed", p.display());
    }
    // Both outcomes occur: the sweep exercised reads and refusals.
    assert!(codes.get(&0).copied().unwrap_or(0) > 50, "{codes:?}");
    assert!(codes.get(&2).copied().unwrap_or(0) > 50, "{codes:?}");
    eprintln!("exit codes over the sweep: {codes:?}");
}

/// The commands added since the first sweep (issue 25), over every bundled file: `backtest` on
/// every manifest, `watch --once` on every log, `report` of a study and of a log with a plan,
/// and `report --plan` aiming an output at an input. Exit codes 0 to 3 only (3: watch saw divergence), no panic, no input changed.
#[test]
fn backtest_watch_and_report_over_every_bundled_file() {
    let root = data("");
    let before = checksums(&root);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut tally = |c: i32| *codes.entry(c).or_default() += 1;
    let cosine = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";
    let mut inputs: Vec<PathBuf> = files_under(&root);
    inputs.push(data("logs/tfevents"));
    for input in &inputs {
        let p = input.to_str().unwrap();
        if p.ends_with(".toml") {
            tally(run(
                d,
                &[
                    "backtest",
                    "--manifest",
                    p,
                    "--task",
                    "truncate",
                    "--laws",
                    "annealing",
                    "--max-points",
                    "200",
                ],
            ));
            continue;
        }
        tally(run_allowing(
            d,
            &[
                "watch",
                p,
                "--schedule",
                cosine,
                "--once",
                "--fail-on-divergence",
            ],
            3,
        ));
    }
    // A report of a small study, and of a log with a plan.
    let tissue = data("tissue2024.toml");
    tally(run(
        d,
        &[
            "report",
            "--manifest",
            tissue.to_str().unwrap(),
            "--out",
            "r.html",
        ],
    ));
    let log = data("mpl/csv_25/cosine_24000.csv");
    tally(run(
        d,
        &[
            "report",
            log.to_str().unwrap(),
            "--schedule",
            cosine,
            "--plan",
            "--total 24000 --peak 3e-4 --warmup 2160 --families wsd",
            "--out",
            "l.html",
        ],
    ));
    // A plan nested in a report may not write over the report's inputs.
    let m = data("tissue2024.toml");
    let plan = format!(
        "--total 24000 --peak 3e-4 --warmup 2160 --free --free-out {}",
        m.display()
    );
    tally(run(
        d,
        &[
            "report",
            "--manifest",
            m.to_str().unwrap(),
            "--plan",
            &plan,
            "--out",
            "p.html",
        ],
    ));
    let after = checksums(&root);
    assert_eq!(
        before, after,
        "a file under data/ changed, appeared or vanished"
    );
    assert!(codes.get(&0).copied().unwrap_or(0) > 10, "{codes:?}");
    assert!(codes.get(&2).copied().unwrap_or(0) > 10, "{codes:?}");
    eprintln!("exit codes over the second sweep: {codes:?}");
}
