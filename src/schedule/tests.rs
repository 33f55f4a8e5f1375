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

    std::fs::write(dir.path().join("gap.csv"), "step,lr\n0,1\n2,1\n").unwrap();
    let e = parse("file:gap.csv", dir.path()).unwrap_err().to_string();
    assert!(e.contains("gap.csv:3:"), "{e}");
    assert!(e.contains("one row per step"), "{e}");
}

#[test]
fn schedules_are_non_negative_and_bounded_by_peak() {
    for spec in [
        "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000",
        "linear:peak=3e-4,end=0,warmup=10,total=1000",
        "wsd:peak=3e-4,end=3e-5,warmup=2160,total=24000,decay_start=20000,shape=sqrt",
        "steps:peak=3e-4,warmup=0,total=100,drops=10@1e-4;20@0",
    ] {
        let v = lr(spec, 30000);
        assert!(
            v.iter().all(|&x| (0.0..=3e-4 * (1.0 + 1e-12)).contains(&x)),
            "{spec}"
        );
    }
}
