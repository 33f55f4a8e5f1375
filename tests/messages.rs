//! Messages a user can act on: a ragged CSV line by its line, a damaged TensorBoard file by its
//! offset, huge numbers in short form, inspect agreeing with fit, read warnings reaching the fit
//! record, and a non-log refused after its first bytes.

mod common;
use common::{data, losscast, losscast_ok, refusal};
use std::io::Write;

#[test]
fn a_ragged_csv_line_is_named_by_its_line_not_by_polars() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("rag.csv"),
        "step,loss,lr\n1,3,1e-3\n2,2.9,1e-3,5,6\n",
    )
    .unwrap();
    for cmd in [
        vec!["fit", "rag.csv", "--out", "f.json"],
        vec!["inspect", "rag.csv"],
    ] {
        let e = refusal(d, &cmd);
        assert!(
            e.contains("rag.csv:3:12: 5 cells, but the header has 3"),
            "{e}"
        );
        assert!(!e.contains("Schema"), "{e}");
    }
}

#[test]
fn a_tensorboard_file_with_a_corrupt_first_record_names_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut bytes = std::fs::read(data(
        "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__simple_value.tfevents",
    ))
    .unwrap();
    bytes[9] ^= 0xff; // the first record's length checksum
    for name in ["run.tfevents", "renamed.bin"] {
        std::fs::write(d.join(name), &bytes).unwrap();
        let e = refusal(d, &["inspect", name]);
        assert!(e.contains("record at byte offset 0"), "{name}: {e}");
        assert!(!e.contains("unrecognised"), "{name}: {e}");
    }
}

#[test]
fn huge_numbers_print_in_short_form() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = data("mpl/csv_25/cosine_24000.csv");
    let csv = csv.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "fit",
                csv,
                "--schedule",
                "cosine:peak=3e-4,total=24000",
                "--lambda",
                "1e300",
            ],
            "got 1e300",
        ),
        (
            vec![
                "predict",
                "--law",
                "annealing",
                "--params",
                "L0=2,A=1,alpha=0.5,C=1",
                "--schedule",
                "cosine:peak=3e-4,total=24000",
                "--steps",
                "1e300",
            ],
            "step 1e300 is beyond",
        ),
        (
            vec![
                "fit",
                csv,
                "--schedule",
                "cosine:peak=3e-4,end=-1e200,total=24000",
            ],
            "got -1e200",
        ),
    ];
    for (args, want) in cases {
        let e = refusal(d, &args);
        assert!(e.contains(want), "{args:?}: {e}");
        let longest_digits = e
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest_digits < 20, "{args:?}: {e}");
    }
}

/// A plain CSV that repeats a step is read by inspect (with hygiene) but refused by fit at its
/// line; inspect must say so.
#[test]
fn inspect_says_when_fit_would_refuse_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("rep.csv"),
        "step,loss,lr\n1,3,1e-3\n1,2.9,1e-3\n2,2.8,1e-3\n",
    )
    .unwrap();
    let out = losscast_ok(d, &["inspect", "rep.csv", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let err = v["inputs"][0]["runs"][0]["fit_error"].as_str().unwrap();
    assert!(err.contains("rep.csv:3:1"), "{err}");
    let fit = refusal(d, &["fit", "rep.csv", "--out", "f.json"]);
    assert!(fit.contains(err), "inspect: {err}\nfit: {fit}");
    // A log fit reads has no fit_error.
    let ok = data("logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log");
    let out = losscast_ok(d, &["inspect", ok.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["inputs"][0]["runs"][0].get("fit_error").is_none(), "{v}");
}

/// A TensorBoard file cut off mid-record: inspect warns, and so does fit, in its record too.
#[test]
fn read_warnings_reach_the_fit_record_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bytes = std::fs::read(data(
        "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__simple_value.tfevents",
    ))
    .unwrap();
    std::fs::write(d.join("cut.tfevents"), &bytes[..30_000]).unwrap();
    let out = losscast_ok(d, &["fit", "cut.tfevents", "--out", "f.json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is cut off"), "{err}");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("f.json")).unwrap()).unwrap();
    let in_record = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("is cut off"))
    };
    assert!(in_record(&rec["warnings"]), "{}", rec["warnings"]);
    assert!(in_record(&rec["data"][0]["warnings"]), "{}", rec["data"][0]);
}

/// A file that is no log is refused after its first bytes: a FIFO fed 64 KB of text and more
/// after that sees its reader go away (the write fails) instead of being drained to the end.
#[test]
fn a_non_log_is_refused_after_its_first_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("not-a-log");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            let chunk = vec![b'x'; 16 * 1024];
            // 16 MB if nobody stops reading; the pipe holds 64 KB.
            (0..1024).all(|_| f.write_all(&chunk).is_ok())
        })
    };
    let out = losscast(dir.path(), &["inspect", "not-a-log"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognised log format"));
    let wrote_everything = writer.join().unwrap();
    assert!(!wrote_everything, "inspect read the whole stream");
}
