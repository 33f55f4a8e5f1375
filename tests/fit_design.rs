//! A fit says when its runs cannot separate α from L0, and which run would.

use losscast::fit::{self, FitOptions};
use losscast::law::{self, Curve, LawOptions};
use losscast::manifest::Role;
use losscast::runs::{LrSource, Run};
use losscast::schedule;
use std::path::Path;

fn run(name: &str, spec: &str) -> Run {
    let law = law::build("annealing", LawOptions::default()).unwrap();
    let sched = schedule::parse(spec, Path::new("")).unwrap();
    let total = sched.total_steps() as i64;
    let steps: Vec<i64> = (1..total / 400)
        .map(|k| 400 * k)
        .filter(|&s| s > 2000)
        .collect();
    let lr = sched.lr_array(total as usize + 1);
    let f = law
        .features(&Curve {
            lr: &lr,
            steps: &steps,
            params: None,
        })
        .unwrap();
    let mut loss = vec![0.0; steps.len()];
    law.predict(&[2.4, 0.6, 0.5, 0.56], &f, &mut loss);
    Run {
        name: name.into(),
        role: Role::Fit,
        path: format!("synthetic/{name}"),
        sha256: String::new(),
        steps,
        loss,
        lr,
        schedule: spec.into(),
        lr_source: LrSource::Schedule,
        filtered_out: 0,
        dropped_before_learning: 0,
        notes: vec![],
        warnings: vec![],
        min_step: None,
        max_step: None,
        params: None,
    }
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
