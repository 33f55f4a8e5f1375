//! Schedules against the formulas of laws.md §2 (the Multi-Power-Law runs), written out here
//! independently of the generator, and the spec grammar's errors.

use super::*;
use std::path::Path;

fn lr(spec: &str, len: usize) -> Vec<f64> {
    parse(spec, Path::new("")).unwrap().lr_array(len)
}

/// numpy.linspace(0, 3e-4, 2160)
fn mpl_warmup(s: usize) -> f64 {
    3e-4 * s as f64 / 2159.0
}

fn assert_close(got: &[f64], want: impl Fn(usize) -> f64) {
    for (s, &g) in got.iter().enumerate() {
        let w = want(s);
        assert!(
            (g - w).abs() <= 1e-15 + 1e-12 * w.abs(),
            "step {s}: got {g:e}, want {w:e}"
        );
    }
}

#[test]
fn mpl_cosine_matches_laws_md() {
    for t in [24000usize, 72000] {
        let got = lr(
            &format!("cosine:peak=3e-4,end=3e-5,warmup=2160,total={t}"),
            t,
        );
        assert_close(&got, |s| {
            if s < 2160 {
                mpl_warmup(s)
            } else {
                3e-5 + 0.5
                    * (3e-4 - 3e-5)
                    * (1.0
                        + (std::f64::consts::PI * (s as f64 - 2160.0) / (t as f64 - 2160.0)).cos())
            }
        });
    }
}

#[test]
fn mpl_constant_wsd_wsdld_wsdcon_match_laws_md() {
    let got = lr("constant:peak=3e-4,warmup=2160,total=72000", 72000);
    assert_close(&got, |s| if s < 2160 { mpl_warmup(s) } else { 3e-4 });

    let got = lr(
        "wsd:peak=3e-4,end=3e-5,warmup=2160,total=24000,decay_start=20000,shape=exp",
        24000,
    );
    assert_close(&got, |s| match s {
        s if s < 2160 => mpl_warmup(s),
        s if s < 20000 => 3e-4,
        s => {
            let s = s as f64;
            3e-4f64.powf((24000.0 - s) / 4000.0) * 3e-5f64.powf((s - 20000.0) / 4000.0)
        }
    });

    let got = lr(
        "wsd:peak=3e-4,end=3e-5,warmup=2160,total=24000,decay_start=20000,shape=linear",
        24000,
    );
    assert_close(&got, |s| match s {
        s if s < 2160 => mpl_warmup(s),
        s if s < 20000 => 3e-4,
        s => 3e-4 + (3e-5 - 3e-4) * (s as f64 - 20000.0) / 4000.0,
    });

    for x in [3.0, 9.0, 18.0] {
        let got = lr(
            &format!(
                "steps:peak=3e-4,warmup=2160,total=16000,drops=8000@{}",
                x * 1e-5
            ),
            16000,
        );
        assert_close(&got, |s| match s {
            s if s < 2160 => mpl_warmup(s),
            s if s < 8000 => 3e-4,
            _ => x * 1e-5,
        });
    }
}

#[test]
fn warmup_convention_and_hold_after_total() {
    let got = lr("cosine:peak=2e-4,end=0,warmup=500,total=20000", 20005);
    assert_eq!(got[0], 0.0);
    assert_eq!(got[499], 2e-4);
    assert_eq!(got[500], 2e-4);
    assert_eq!(got[20000], 0.0);
    assert_eq!(got[20004], got[20000]);
    let no_warmup = lr("constant:peak=1e-3,warmup=0,total=10", 3);
    assert_eq!(no_warmup, vec![1e-3; 3]);
    let one = lr("linear:peak=1e-3,end=0,warmup=1,total=11", 12);
    assert_eq!(one[0], 0.0);
    assert_eq!(one[1], 1e-3);
    assert!((one[6] - 0.5e-3).abs() < 1e-18);
    assert_eq!(one[11], 0.0);
}

#[test]
fn sqrt_and_cosine_decay_shapes() {
    let spec = "wsd:peak=1,end=0,warmup=0,total=100,decay_start=0,shape=sqrt";
    let got = lr(spec, 101);
    assert!((got[25] - 0.5).abs() < 1e-15);
    let spec = "wsd:peak=1,end=0,warmup=0,total=100,decay_start=0,shape=cosine";
    let got = lr(spec, 101);
    assert!((got[50] - 0.5).abs() < 1e-15);
}

#[test]
fn specs_round_trip_through_display() {
    for spec in [
        "constant:peak=3e-4,warmup=2160,total=24000",
        "cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000",
        "linear:peak=1e-3,end=0,warmup=100,total=1000",
        "wsd:peak=3e-4,end=3e-5,warmup=2160,total=24000,decay_start=20000,shape=exp",
        "wsd:peak=3e-4,end=0,warmup=0,total=24000,decay_start=20000,shape=sqrt",
        "steps:peak=3e-4,warmup=2160,total=16000,drops=8000@9e-5;12000@3e-5",
        "rsqrt:peak=1e-2,warmup=0,total=100000,timescale=10000",
        "rsqrt:peak=1e-3,warmup=4000,total=50000",
        "poly:peak=1e-3,end=1e-5,warmup=100,total=1100,power=0.5",
        "poly:peak=1e-3,warmup=0,total=10",
        "exp:peak=1e-3,warmup=0,total=5000,gamma=0.5,every=1000,staircase=true",
        "exp:peak=1e-3,total=5000,gamma=0.9995",
        "cosine_restarts:peak=1e-3,end=1e-5,warmup=100,total=1000,cycles=3,mult=1.5",
        "cosine_restarts:peak=1e-3,total=1000,cycles=4",
    ] {
        let a = parse(spec, Path::new("")).unwrap();
        let printed = a.to_string();
        let b = parse(&printed, Path::new("")).unwrap();
        assert_eq!(a, b, "{spec} -> {printed}");
    }
}

#[test]
fn bad_specs_say_what_is_wrong() {
    let cases = [
        ("cosin:peak=1,total=10", "unknown kind 'cosin'"),
        ("cosine", "expected 'kind:key=value"),
        ("cosine:peak=1,total=10,wamup=5", "unknown key 'wamup'"),
        ("cosine:total=10", "missing key 'peak'"),
        ("cosine:peak=1", "missing key 'total'"),
        ("cosine:peak=-1,total=10", "peak must be > 0"),
        (
            "cosine:peak=1,total=10,warmup=11",
            "warmup (11) exceeds total",
        ),
        ("cosine:peak=1,peak=2,total=10", "given twice"),
        ("cosine:peak=abc,total=10", "not a finite number"),
        ("constant:peak=1,total=10.5", "not a whole"),
        (
            "wsd:peak=1,end=0.1,total=10,decay_start=11",
            "decay_start (11)",
        ),
        (
            "wsd:peak=1,end=0.1,total=10,decay_start=5,shape=cubic",
            "unknown wsd shape",
        ),
        (
            "wsd:peak=1,end=0,total=10,decay_start=5,shape=exp",
            "needs end > 0",
        ),
        ("steps:peak=1,total=10,drops=5@0.1;4@0.01", "must increase"),
        ("steps:peak=1,total=10,drops=5", "STEP@LR"),
        (
            "steps:peak=1,total=10,warmup=6,drops=5@0.1",
            "inside the warmup",
        ),
        ("rsqrt:peak=1,total=10", "give warmup > 0 or timescale"),
        (
            "rsqrt:peak=1,total=10,timescale=11",
            "timescale (11) exceeds",
        ),
        ("poly:peak=1,total=10,power=0", "power must be > 0"),
        ("exp:peak=1,total=10", "missing key 'gamma'"),
        ("exp:peak=1,total=10,gamma=1.5", "gamma must lie in (0, 1]"),
        (
            "exp:peak=1,total=10,gamma=0.5,every=0",
            "every must be at least 1",
        ),
        (
            "exp:peak=1,total=10,gamma=0.5,staircase=yes",
            "expected true or false",
        ),
        ("cosine_restarts:peak=1,total=10", "missing key 'cycles'"),
        (
            "cosine_restarts:peak=1,total=10,cycles=11",
            "cycles must lie between 1",
        ),
        ("cosine_restarts:peak=1,total=10,cycles=2,mult=0.5", "mult"),
        ("cosine:peak=3e-4,total=10,end=-1e150", "got -1e150"),
        (
            "cosine:peak=1e150,total=10",
            "peak=1e150 is not a learning rate",
        ),
        ("file:", "needs a path"),
        ("file:/nonexistent/lr.csv", "file not found"),
    ];
    for (spec, want) in cases {
        let e = parse(spec, Path::new("")).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{spec}");
        let msg = e.to_string();
        assert!(msg.contains(want), "{spec}: {msg}");
        assert!(msg.contains(spec.trim()), "message quotes the spec: {msg}");
    }
}

#[test]
fn file_schedules_read_a_per_step_array() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lr.csv"),
        "step,lr\r\n0,0\r\n1,1e-4\r\n2,2e-4\r\n",
    )
    .unwrap();
    let s = parse("file:lr.csv", dir.path()).unwrap();
    assert_eq!(s.lr_array(5), vec![0.0, 1e-4, 2e-4, 2e-4, 2e-4]);
    assert_eq!(s.to_string(), "file:lr.csv");

    std::fs::write(dir.path().join("two.csv"), "a,b\n1,5\n2,6\n").unwrap();
    let s = parse("file:two.csv#b", dir.path()).unwrap();
    assert_eq!(s.lr_array(2), vec![5.0, 6.0]);

    std::fs::write(dir.path().join("back.csv"), "step,lr\n0,1\n2,1\n1,1\n").unwrap();
    let e = parse("file:back.csv", dir.path()).unwrap_err().to_string();
    assert!(e.contains("back.csv:4:"), "{e}");
    assert!(e.contains("steps must increase"), "{e}");
}

/// A real 34 000-step LR log skips a row: the gap is interpolated and recorded; a gap longer than
/// 1 % of the run is refused by its steps.
#[test]
fn file_schedules_fill_short_gaps_and_refuse_long_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("step,lr\n");
    for s in (0..=34_000).filter(|&s| s != 17_001) {
        csv += &format!("{s},{}\n", 1e-3 * (1.0 - s as f64 / 34_000.0));
    }
    std::fs::write(dir.path().join("skip.csv"), &csv).unwrap();
    let s = parse("file:skip.csv", dir.path()).unwrap();
    let v = s.lr_array(34_001);
    let want = 1e-3 * (1.0 - 17_001.0 / 34_000.0);
    assert!((v[17_001] - want).abs() < 1e-15, "{}", v[17_001]);
    assert_eq!(s.notes().len(), 1, "{:?}", s.notes());
    assert!(s.notes()[0].contains("17001..=17001"), "{:?}", s.notes());

    // 1 % of 1000 steps is 10: a gap of 10 is filled, a gap of 11 is refused by name.
    let rows = |skip: std::ops::RangeInclusive<i64>| {
        let mut t = String::from("step,lr\n");
        for s in (0..=1000).filter(|s| !skip.contains(s)) {
            t += &format!("{s},1e-3\n");
        }
        t
    };
    std::fs::write(dir.path().join("ten.csv"), rows(500..=509)).unwrap();
    assert!(parse("file:ten.csv", dir.path()).is_ok());
    std::fs::write(dir.path().join("eleven.csv"), rows(500..=510)).unwrap();
    let e = parse("file:eleven.csv", dir.path()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let e = e.to_string();
    assert!(e.contains("500..=510 (11 steps)"), "{e}");
    // A late first row is a gap too.
    std::fs::write(dir.path().join("late.csv"), "step,lr\n50,1\n100,1\n").unwrap();
    let e = parse("file:late.csv", dir.path()).unwrap_err().to_string();
    assert!(e.contains("0..=49"), "{e}");
}

/// A linear decay to zero, as a trainer logs it, ends in float round-off below zero.
#[test]
fn lr_round_off_below_zero_is_zero_and_noted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lr.csv"),
        "step,lr\n0,3e-4\n1,1.5e-4\n2,-4.2e-22\n",
    )
    .unwrap();
    let s = parse("file:lr.csv", dir.path()).unwrap();
    assert_eq!(s.lr_array(3), vec![3e-4, 1.5e-4, 0.0]);
    assert!(
        s.notes()[0].contains("1 slightly negative"),
        "{:?}",
        s.notes()
    );
    // A real negative is an error at its cell.
    std::fs::write(dir.path().join("neg.csv"), "step,lr\n0,3e-4\n1,-1e-6\n").unwrap();
    let e = parse("file:neg.csv", dir.path()).unwrap_err().to_string();
    assert!(e.contains("neg.csv:3:"), "{e}");
    assert!(e.contains("real negative"), "{e}");
}

/// Closed forms written out independently of `Formula::lr_at`.
#[test]
fn rsqrt_poly_exp_and_restarts_match_their_closed_forms() {
    // T5: constant 1e-2 for 10 000 steps, then 1e-2·sqrt(10 000 / s).
    let got = lr(
        "rsqrt:peak=1e-2,warmup=0,total=100000,timescale=10000",
        100_001,
    );
    assert_close(&got, |s| 1e-2 * (1e4 / (s as f64).max(1e4)).sqrt());
    // The Transformer: linear warmup to the peak at W, then peak·sqrt(W/s).
    let got = lr("rsqrt:peak=1e-3,warmup=4000,total=50000", 50_001);
    assert_close(&got, |s| {
        if s < 4000 {
            1e-3 * s as f64 / 3999.0
        } else {
            1e-3 * (4000.0 / s as f64).sqrt()
        }
    });
    // HF polynomial decay with warmup, power 2.
    let got = lr(
        "poly:peak=1e-3,end=1e-5,warmup=100,total=1100,power=2",
        1_200,
    );
    assert_close(&got, |s| {
        if s < 100 {
            1e-3 * s as f64 / 99.0
        } else {
            let p = ((s.min(1100) - 100) as f64 / 1000.0).min(1.0);
            1e-5 + (1e-3 - 1e-5) * (1.0 - p).powi(2)
        }
    });
    // Exponential decay, continuous and staircase.
    let got = lr(
        "exp:peak=1e-3,warmup=0,total=5000,gamma=0.5,every=1000",
        5_001,
    );
    assert_close(&got, |s| 1e-3 * 0.5f64.powf(s as f64 / 1000.0));
    let got = lr(
        "exp:peak=1e-3,warmup=10,total=5000,gamma=0.5,every=1000,staircase=true",
        5_001,
    );
    assert_close(&got, |s| {
        if s < 10 {
            1e-3 * s as f64 / 9.0
        } else {
            1e-3 * 0.5f64.powi(((s - 10) / 1000) as i32)
        }
    });
    // HF cosine with hard restarts: 3 equal cycles over 900 steps after a 100-step warmup.
    let got = lr(
        "cosine_restarts:peak=1e-3,end=0,warmup=100,total=1000,cycles=3",
        1_001,
    );
    assert_close(&got, |s| {
        if s < 100 {
            return 1e-3 * s as f64 / 99.0;
        }
        if s >= 1000 {
            return 0.0;
        }
        let q = ((s - 100) % 300) as f64 / 300.0;
        0.5e-3 * (1.0 + (std::f64::consts::PI * q).cos())
    });
    // SGDR with cycles doubling: 100, 200, 400 steps.
    let got = lr(
        "cosine_restarts:peak=1,end=0.1,warmup=0,total=700,cycles=3,mult=2",
        701,
    );
    assert_close(&got, |s| {
        let (start, len) = match s {
            s if s < 100 => (0, 100),
            s if s < 300 => (100, 200),
            s if s < 700 => (300, 400),
            _ => return 0.1,
        };
        let q = (s - start) as f64 / len as f64;
        0.1 + 0.45 * (1.0 + (std::f64::consts::PI * q).cos())
    });
}

#[test]
fn steps_beyond_the_limit_are_refused_before_allocating() {
    for spec in [
        "constant:peak=1e-3,total=1e12",
        "cosine:peak=1e-3,warmup=0,total=1000000000000",
        "steps:peak=1e-3,total=100,drops=1000000000000@1e-4",
    ] {
        let e = parse(spec, Path::new("")).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{spec}");
        assert!(e.to_string().contains("limit"), "{spec}: {e}");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("far.csv"),
        "step,lr\n0,1\n1000000000000,1\n",
    )
    .unwrap();
    let e = parse("file:far.csv", dir.path()).unwrap_err().to_string();
    assert!(e.contains("limit"), "{e}");
}

#[test]
fn schedules_are_non_negative_and_bounded_by_peak() {
    for spec in [
        "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000",
        "linear:peak=3e-4,end=0,warmup=10,total=1000",
        "wsd:peak=3e-4,end=3e-5,warmup=2160,total=24000,decay_start=20000,shape=sqrt",
        "steps:peak=3e-4,warmup=0,total=100,drops=10@1e-4;20@0",
        "rsqrt:peak=3e-4,warmup=100,total=20000",
        "poly:peak=3e-4,end=0,warmup=10,total=1000,power=3",
        "exp:peak=3e-4,warmup=10,total=1000,gamma=0.99",
        "cosine_restarts:peak=3e-4,end=3e-5,warmup=10,total=1000,cycles=7,mult=1.3",
    ] {
        let v = lr(spec, 30000);
        assert!(
            v.iter().all(|&x| (0.0..=3e-4 * (1.0 + 1e-12)).contains(&x)),
            "{spec}"
        );
    }
}
