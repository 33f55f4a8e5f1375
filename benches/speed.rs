//! Speed figures the issues ask for, printed as a table (`cargo bench`). Whole-process timings
//! run the release binary as a user would, including start-up, reading files and writing the fit
//! file; in-process timings isolate the library call.
//!
//! Not a test: nothing here asserts a time. Compare the figures with the goals in the issues.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(rel)
}

struct Stats {
    min: Duration,
    median: Duration,
    mean: Duration,
}

fn stats(mut t: Vec<Duration>) -> Stats {
    t.sort();
    let mean = t.iter().sum::<Duration>() / t.len() as u32;
    Stats {
        min: t[0],
        median: t[t.len() / 2],
        mean,
    }
}

fn report(name: &str, runs: usize, s: &Stats) {
    println!(
        "{name:<58} {runs:>5} {:>10.2} {:>10.2} {:>10.2}",
        s.min.as_secs_f64() * 1e3,
        s.median.as_secs_f64() * 1e3,
        s.mean.as_secs_f64() * 1e3
    );
}

/// Peak resident memory of one run of the binary, from GNU time (`None` where it is missing).
fn peak_rss_kb(args: &[&str], dir: &Path) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(env!("CARGO_BIN_EXE_losscast"))
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

fn time_process(args: &[&str], runs: usize, dir: &Path) -> Stats {
    let bin = env!("CARGO_BIN_EXE_losscast");
    // One warm-up run so the page cache holds the binary and data.
    let status = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new(bin)
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap();
            let dt = t.elapsed();
            assert!(out.status.success());
            dt
        })
        .collect();
    stats(times)
}

fn time_in_process(f: impl Fn(), runs: usize) -> Stats {
    f();
    stats(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

/// A per-step log of `steps` steps: L = 2.5 + 0.6·S1^−0.5 − 0.5·S2 under a cosine schedule
/// (3e-4 to 3e-5, 2 000 warmup steps), times exp(0.02·z) with z from a seeded normal.
fn write_dense_log(path: &Path, steps: u64) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "step,loss,lr").unwrap();
    let (warmup, peak, end) = (2000.0, 3e-4, 3e-5);
    let (mut s1, mut m, mut s2, mut prev) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = || {
        // xorshift64*: enough for noise, and no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        ((state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    for s in 0..=steps {
        let x = s as f64;
        let lr = if x < warmup {
            peak * x / (warmup - 1.0)
        } else {
            let p = (x - warmup) / (steps as f64 - warmup);
            end + 0.5 * (peak - end) * (1.0 + (std::f64::consts::PI * p).cos())
        };
        s1 += lr;
        if s > 0 {
            m = 0.999 * m + (prev - lr);
        }
        s2 += m;
        prev = lr;
        if s1 <= 0.0 {
            continue;
        }
        let z = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
        let loss = (2.5 + 0.6 * s1.powf(-0.5) - 0.5 * s2) * (0.02 * z).exp();
        writeln!(w, "{s},{loss:.6},{lr:.9e}").unwrap();
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let tissue = data("tissue2024.toml");
    let mpl = data("mpl400.toml");
    println!(
        "{:<58} {:>5} {:>10} {:>10} {:>10}",
        "benchmark", "runs", "min ms", "median ms", "mean ms"
    );
    // `cargo bench --bench speed -- logs` runs only the log-reading figures.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));

    // Issue 5 goals: read the 2.7 MB llm.c stdout log and the 0.8 MB main.log under 100 ms each,
    // and a 1-million-row CSV under 1 s (whole process, release). `inspect` reads every series
    // of the input, applies the hygiene and prints the summary.
    for (label, rel) in [
        (
            "inspect llm.c stdout, 2.7 MB (whole process)",
            "logs/llmc/HectorFCardenas_llm.c__gpt2_train.11685414.log",
        ),
        (
            "inspect llm.c main.log, 0.8 MB (whole process)",
            "logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log",
        ),
    ] {
        let p = data(rel);
        let s = time_process(&["inspect", p.to_str().unwrap()], 20, dir.path());
        report(label, 20, &s);
    }
    let big = dir.path().join("million.csv");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        writeln!(w, "step,loss,lr").unwrap();
        for s in 0..1_000_000u64 {
            let x = s as f64;
            let lr = 3e-4 * (0.5 + 0.5 * (std::f64::consts::PI * x / 1e6).cos());
            writeln!(w, "{s},{:.6},{lr:.6e}", 2.5 + 8.0 * (1.0 + x).powf(-0.3)).unwrap();
        }
    }
    let mb = std::fs::metadata(&big).unwrap().len() as f64 / 1e6;
    let s = time_process(&["inspect", big.to_str().unwrap()], 5, dir.path());
    report(
        &format!("inspect 1M-row CSV, {mb:.0} MB (whole process)"),
        5,
        &s,
    );
    if only.as_deref() == Some("logs") {
        return;
    }

    // Issue 13 goal: a collapse fit plus forecast on the 25-run ladder scale of data (25 curves
    // x 500 points) under 300 ms (in process): 5 sizes x 5 run lengths under one cosine shape,
    // curves L_final(N, D)·x^(−0.1) with ±0.3 % deterministic noise; `fit --law collapse` (shape
    // learned, anchor fitted, record with standard errors) and the forecast of a 4× larger
    // model's whole curve.
    if only.is_none() || only.as_deref() == Some("collapse") {
        let ladder: Vec<losscast::runs::Run> = (0..25)
            .map(|i| {
                let n = 1e8 * 10f64.powf((i / 5) as f64 / 2.0);
                let total = 10_000i64 << (i % 5);
                let spec = format!("cosine:peak=1e-3,end=1e-4,warmup=0,total={total}");
                let sched = losscast::schedule::parse(&spec, Path::new("")).unwrap();
                let lr = sched.lr_array(total as usize + 1);
                let mut steps: Vec<i64> = (0..500)
                    .map(|k| (50.0 * (total as f64 / 50.0).powf(k as f64 / 499.0)).round() as i64)
                    .collect();
                steps.dedup();
                let last =
                    1.8 + 0.6 * (n / 1e10).powf(-0.35) + 0.4 * (total as f64 / 1.6e5).powf(-0.3);
                let loss = steps
                    .iter()
                    .enumerate()
                    .map(|(k, &st)| {
                        let noise = 1.0 + 0.003 * ((k * 7919 % 13) as f64 / 6.0 - 1.0);
                        last * (st as f64 / total as f64).powf(-0.1) * noise
                    })
                    .collect();
                losscast::runs::Run {
                    end: Some(total),
                    ..losscast::runs::Run::in_memory(
                        &format!("{n:e}/{total}"),
                        &spec,
                        lr,
                        steps,
                        loss,
                        Some(n),
                    )
                }
            })
            .collect();
        let target = losscast::schedule::parse(
            "cosine:peak=1e-3,end=1e-4,warmup=0,total=160000",
            Path::new(""),
        )
        .unwrap();
        let target_steps: Vec<i64> = (1..=500).map(|k| 320 * k).collect();
        let law = losscast::law::build("collapse", Default::default()).unwrap();
        let s = time_in_process(
            || {
                let record = losscast::fit::fit(
                    law.as_ref(),
                    &ladder,
                    &losscast::fit::FitOptions::default(),
                )
                .unwrap();
                let fitted = record.build_law().unwrap();
                let params = record.param_vector(fitted.as_ref()).unwrap();
                let p = losscast::forecast::predict::predict(
                    fitted.as_ref(),
                    &params,
                    &target,
                    &target_steps,
                    Some(4e10),
                )
                .unwrap();
                assert_eq!(p.len(), 500);
            },
            10,
        );
        report(
            "collapse fit + forecast, 25 curves x 500 points (in process)",
            10,
            &s,
        );
        if only.is_some() {
            return;
        }
    }

    // Issue 14 goal: a warm refit of a 20 000-point log under 100 ms (in process): the
    // llm.c GPT-2 log's first 20 000 lines' worth of steps as `watch` sees them (a per-step
    // training loss, thinned to 4096 bins by the fit), refitted from the previous optimum after
    // 100 more points, as `watch` does between full multistarts. The cold fit is shown beside it.
    if only.is_none() || only.as_deref() == Some("watch") {
        let spec = "cosine:peak=6e-4,end=0,warmup=700,total=19552";
        let sched = losscast::schedule::parse(spec, Path::new("")).unwrap();
        let log = data("logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log");
        let mut all = losscast::runs::manifest::RunSpec::for_log(&log);
        all.schedule = Some(spec.into());
        let full = losscast::runs::load(&all).unwrap();
        // 19 552 logged steps; repeat the tail to reach 20 000 points of a longer run.
        let n = 20_000usize;
        let steps: Vec<i64> = (1..=n as i64).collect();
        let loss: Vec<f64> = (0..n)
            .map(|i| full.loss[i.min(full.loss.len() - 1)])
            .collect();
        let lr = sched.lr_array(n + 1);
        let run = |k: usize| {
            losscast::runs::Run::in_memory(
                "llmc",
                spec,
                lr.clone(),
                steps[..k].to_vec(),
                loss[..k].to_vec(),
                None,
            )
        };
        let law = losscast::law::build("annealing", Default::default()).unwrap();
        let options = losscast::fit::FitOptions {
            priors: true,
            skip_fraction: 0.1,
            ..losscast::fit::FitOptions::default()
        };
        let before = [run(n - 100)];
        let after = [run(n)];
        let cold = losscast::fit::fit(law.as_ref(), &before, &options).unwrap();
        let warm_options = losscast::fit::FitOptions {
            warm_start: Some(cold.param_vector(law.as_ref()).unwrap()),
            ..options.clone()
        };
        let s = time_in_process(
            || {
                let r = losscast::fit::fit(law.as_ref(), &after, &warm_options).unwrap();
                assert!(r.converged);
            },
            20,
        );
        report("watch: warm refit, 20 000-point log (in process)", 20, &s);
        let s = time_in_process(
            || {
                losscast::fit::fit(law.as_ref(), &after, &options).unwrap();
            },
            5,
        );
        report("watch: cold multistart fit, same log (in process)", 5, &s);
        if only.is_some() {
            return;
        }
    }

    // Issue 12 goal: `backtest` of all tasks and laws on the 9 MPL 400M curves in under 20 s on
    // 2 cores (whole process, release). The size task needs model sizes, which one size lacks,
    // so the laws that apply are annealing and multipower on schedule, horizon and truncate.
    if only.is_none() || only.as_deref() == Some("backtest") {
        let s = time_process(
            &["backtest", "--manifest", mpl.to_str().unwrap()],
            3,
            dir.path(),
        );
        report("backtest, MPL 400M, 9 curves, all tasks and laws", 3, &s);
        if only.is_some() {
            return;
        }
    }

    // Issue 11 goal: an annealing fit on a 1 000 000-point log in under 5 s (whole process,
    // release). A per-step training log: the annealing law under a cosine schedule with 2 %
    // multiplicative noise, the LR logged every step.
    let dense = dir.path().join("dense.csv");
    write_dense_log(&dense, 1_000_000);
    let s = time_process(
        &["fit", dense.to_str().unwrap(), "--out", "dense.json"],
        3,
        dir.path(),
    );
    report(
        "fit annealing, 1M-point per-step log (whole process)",
        3,
        &s,
    );
    // Issue 25 goal: plan at the documented step limit (20 000 000 steps, the default
    // families, intervals and probabilities from the dense fit's calibration) in under 10 s
    // and under 1 GB (whole process, release).
    let plan_limit = [
        "plan",
        "--fit",
        "dense.json",
        "--total",
        "20000000",
        "--peak",
        "3e-4",
        "--warmup",
        "2000",
    ];
    let s = time_process(&plan_limit, 3, dir.path());
    report(
        "plan, default families, 20 000 000 steps (whole process)",
        3,
        &s,
    );
    if let Some(kb) = peak_rss_kb(&plan_limit, dir.path()) {
        println!(
            "{:<58} peak RSS {:.0} MB",
            "plan, default families, 20 000 000 steps",
            kb as f64 / 1024.0
        );
    }
    if only.as_deref() == Some("dense") {
        return;
    }

    // Issue 2 goal: the Tissue reference fit, whole process, under 50 ms.
    let s = time_process(
        &[
            "fit",
            "--manifest",
            tissue.to_str().unwrap(),
            "--warmup-as-peak",
            "--out",
            "tissue.json",
        ],
        30,
        dir.path(),
    );
    report("fit annealing, Tissue points (whole process)", 30, &s);

    let s = time_process(
        &[
            "fit",
            "--manifest",
            mpl.to_str().unwrap(),
            "--out",
            "mpl.json",
        ],
        10,
        dir.path(),
    );
    report("fit annealing, MPL 400M fit split (whole process)", 10, &s);

    let s = time_process(
        &[
            "eval",
            "--fit",
            "mpl.json",
            "--manifest",
            mpl.to_str().unwrap(),
            "--json",
        ],
        10,
        dir.path(),
    );
    report("eval, MPL 400M all 9 curves (whole process)", 10, &s);

    let s = time_process(
        &[
            "plot",
            "--fit",
            "mpl.json",
            "--manifest",
            mpl.to_str().unwrap(),
            "--out",
            "mpl.png",
        ],
        5,
        dir.path(),
    );
    report("plot PNG, MPL 400M all 9 curves (whole process)", 5, &s);

    // Issue 3 goal: fit multipower on the 400M split and evaluate it on all 9 curves, whole
    // process, under 2 s.
    let s = time_process(
        &[
            "compare",
            "--manifest",
            mpl.to_str().unwrap(),
            "--laws",
            "multipower",
            "--json",
        ],
        5,
        dir.path(),
    );
    report(
        "fit multipower 400M split + eval 9 curves (whole process)",
        5,
        &s,
    );

    let published = "L0=2.37474466,A=0.65421216,alpha=0.42878731,B=523.42464371,\
                     C=2.02462735,beta=0.59350493,gamma=0.63472457";
    let s = time_process(
        &[
            "eval",
            "--law",
            "multipower",
            "--params",
            published,
            "--manifest",
            mpl.to_str().unwrap(),
        ],
        10,
        dir.path(),
    );
    report(
        "eval multipower, published 400M, 9 curves (whole process)",
        10,
        &s,
    );

    // The exact Multi-Power-Law evaluation of one 72 000-step curve (546 points), in process.
    let mp = losscast::law::build("multipower", Default::default()).unwrap();
    let cos72 = losscast::runs::manifest::load(&mpl)
        .unwrap()
        .into_iter()
        .find(|s| s.name == "cosine_72000")
        .map(|s| losscast::runs::load(&s).unwrap())
        .unwrap();
    let params = [
        2.37474466,
        0.65421216,
        0.42878731,
        523.42464371,
        2.02462735,
        0.59350493,
        0.63472457,
    ];
    let s = time_in_process(
        || {
            let f = mp
                .features(&losscast::law::Curve {
                    lr: &cos72.lr,
                    steps: &cos72.steps,
                    params: None,
                    end: None,
                })
                .unwrap();
            let mut out = vec![0.0; f.len()];
            mp.predict(&params, &f, &mut out);
        },
        10,
    );
    report("multipower exact eval, cosine_72000 (in process)", 10, &s);

    // Issue 4 goals: the 4 500-start Chinchilla fit on Epoch's 240 points under 2 s, and 1 000
    // bootstrap resamples under 60 s (whole process, release).
    let chin = data("chinchilla/svg_extracted_data.csv");
    let chin = chin.to_str().unwrap();
    let s = time_process(
        &[
            "fit",
            "--law",
            "chinchilla",
            chin,
            "--drop-top-loss",
            "5",
            "--out",
            "ch.json",
        ],
        5,
        dir.path(),
    );
    report(
        "fit chinchilla, 4500 starts, 240 points (whole process)",
        5,
        &s,
    );
    let with_boot = time_process(
        &[
            "fit",
            "--law",
            "chinchilla",
            chin,
            "--drop-top-loss",
            "5",
            "--bootstrap",
            "1000",
            "--out",
            "chb.json",
        ],
        3,
        dir.path(),
    );
    report(
        "fit chinchilla + 1000 bootstrap resamples (whole process)",
        3,
        &with_boot,
    );

    // IsoFLOP analysis of one Porian et al. configuration, and a 3-fold size rollout.
    let iso = data("porian2024/isoflop_points.csv");
    let s = time_process(
        &[
            "isoflop",
            iso.to_str().unwrap(),
            "--c-col",
            "flops",
            "--where",
            "dataset=rw,hparams=tuned,warmup=short,decay=const,param_count=standard,val=val",
        ],
        10,
        dir.path(),
    );
    report(
        "isoflop, one configuration of 1745 rows (whole process)",
        10,
        &s,
    );
    let s = time_process(
        &[
            "eval",
            "--rollout",
            "n",
            "--law",
            "chinchilla",
            chin,
            "--drop-top-loss",
            "5",
            "--folds",
            "3",
        ],
        3,
        dir.path(),
    );
    report(
        "rollout chinchilla, 3 folds x 4500 starts (whole process)",
        3,
        &s,
    );

    let out = Command::new(env!("CARGO_BIN_EXE_losscast"))
        .args([
            "fit",
            "--law",
            "multipower",
            "--manifest",
            mpl.to_str().unwrap(),
            "--out",
            "mp.json",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());

    // Issue 6: the joint fit on all 27 MPL curves, plan over a 200-candidate grid at 24 000
    // steps (target < 2 s), and plan --free (target < 30 s), whole process.
    let joint = dir.path().join("joint_all.toml");
    let text = std::fs::read_to_string(data("mpl_joint.toml"))
        .unwrap()
        .replace("path = \"", &format!("path = \"{}/", data("").display()))
        .replace("role = \"test\"", "role = \"fit\"");
    std::fs::write(&joint, text).unwrap();
    for law in ["joint-additive", "joint-scaled"] {
        let s = time_process(
            &[
                "fit",
                "--law",
                law,
                "--manifest",
                joint.to_str().unwrap(),
                "--out",
                "joint.json",
            ],
            5,
            dir.path(),
        );
        report(
            &format!("fit {law}, all 27 MPL curves (whole process)"),
            5,
            &s,
        );
    }
    let s = time_process(
        &[
            "plan",
            "--fit",
            "mpl.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--warmup",
            "2160",
            "--grid",
            "wsd:decay_frac=0.01..0.5/0.01,shape=linear|sqrt|exp|cosine",
            "--plot",
            "plan.png",
        ],
        5,
        dir.path(),
    );
    report(
        "plan, 200-candidate WSD grid, 24000 steps (whole process)",
        5,
        &s,
    );
    let s = time_process(
        &[
            "plan",
            "--fit",
            "mpl.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--warmup",
            "2160",
            "--free",
            "--plot",
            "plan-free.png",
        ],
        3,
        dir.path(),
    );
    report(
        "plan --free annealing, per-step, 24000 steps (whole process)",
        3,
        &s,
    );
    let s = time_process(
        &[
            "plan",
            "--fit",
            "mp.json",
            "--total",
            "24000",
            "--peak",
            "3e-4",
            "--warmup",
            "2160",
            "--free",
            "--plot",
            "plan-free-mp.png",
        ],
        3,
        dir.path(),
    );
    report(
        "plan --free multipower, per-step, 24000 steps (whole process)",
        3,
        &s,
    );

    // In process: the fit alone, data already loaded.
    let runs: Vec<_> = losscast::runs::manifest::load(&tissue)
        .unwrap()
        .iter()
        .map(|s| losscast::runs::load(s).unwrap())
        .collect();
    let law = losscast::law::build(
        "annealing",
        losscast::law::LawOptions {
            warmup_as_peak: true,
            ..Default::default()
        },
    )
    .unwrap();
    let options = losscast::fit::FitOptions {
        law: law.options().clone(),
        ..Default::default()
    };
    let s = time_in_process(
        || {
            losscast::fit::fit(law.as_ref(), &runs, &options).unwrap();
        },
        30,
    );
    report(
        "fit annealing, Tissue points (in process, 60 starts)",
        30,
        &s,
    );
}
