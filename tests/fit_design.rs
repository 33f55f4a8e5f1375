//! A fit says when its runs cannot separate α from L0, and which run would.

mod common;

use common::synthetic;
use losscast::fit::{self, FitOptions};
use losscast::law::{self, LawOptions};
use losscast::runs::Run;

fn run(name: &str, spec: &str) -> Run {
    synthetic("annealing", &[2.4, 0.6, 0.5, 0.56], name, spec, 0.0)
}

fn warns(runs: &[Run]) -> bool {
    let law = law::build("annealing", LawOptions::default()).unwrap();
    let rec = fit::fit(law.as_ref(), runs, &FitOptions::default()).unwrap();
    rec.warnings
        .iter()
        .any(|w| w.contains("L0 and α trade off"))
}

#[test]
fn cosine_runs_of_one_horizon_are_flagged_and_a_constant_run_or_a_longer_one_clears_it() {
    let cos = |n: &str, end: &str| {
        run(
            n,
            &format!("cosine:peak=3e-4,end={end},warmup=2000,total=24000"),
        )
    };
    assert!(warns(&[cos("a", "3e-5"), cos("b", "0")]));
    assert!(!warns(&[
        cos("a", "3e-5"),
        run("const", "constant:peak=3e-4,warmup=2000,total=24000")
    ]));
    assert!(!warns(&[
        cos("a", "3e-5"),
        run("long", "cosine:peak=3e-4,end=3e-5,warmup=2000,total=48000")
    ]));
}
