//! Cases the issue did not list, found by trying many more careless commands and damaged
//! inputs: each used to panic, read without end, answer wrongly or ignore what it was told.

mod common;
use common::{data, losscast, losscast_json, losscast_ok, refused};
use std::path::Path;

const COSINE: &str = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn a_negative_step_in_a_trainer_log_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "trainer_state.json",
        r#"{"global_step": 30, "log_history": [
            {"step": -5, "loss": 2.0, "learning_rate": 1e-5},
            {"step": 10, "loss": 1.9, "learning_rate": 1e-5},
            {"step": 20, "loss": 1.8, "learning_rate": 1e-5},
            {"step": 30, "loss": 1.7, "learning_rate": 1e-5}]}"#,
    );
    refused(
        d,
        &["fit", "trainer_state.json", "--out", "f.json"],
        "steps count optimizer steps from 0",
    );
    let out = losscast_ok(d, &["inspect", "trainer_state.json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fit would refuse it"), "{text}");
}

#[test]
fn devices_are_refused_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        vec!["fit", "/dev/zero", "--out", "f.json"],
        vec!["inspect", "/dev/urandom"],
        vec!["predict", "--fit", "/dev/zero", "--schedule", COSINE],
        vec!["fit", "--manifest", "/dev/zero", "--out", "f.json"],
    ] {
        refused(d, &args, "is a device");
    }
}

#[test]
fn bootstrap_counts_are_bounded_and_small_ones_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let table = data("chinchilla/svg_extracted_data.csv");
    let table = table.to_str().unwrap();
    for n in ["1", "100000000"] {
        refused(
            d,
            &["fit", "--law", "power", table, "--bootstrap", n],
            "use between 20 and 100000 resamples",
        );
    }
    let rec = losscast_json(
        d,
        &[
            "fit",
            "--law",
            "power",
            table,
            "--bootstrap",
            "40",
            "--out",
            "p.json",
            "--json",
        ],
    );
    let warned = rec["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("resample(s) in each tail"));
    assert!(warned, "{}", rec["warnings"]);
}

#[test]
fn ambiguous_or_repeated_columns_are_refused_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "two.csv",
        "step,lr,Loss,loss\n1,1e-3,4,2\n2,1e-3,3.8,1.9\n",
    );
    refused(
        d,
        &["fit", "two.csv", "--out", "f.json"],
        "columns 'Loss' and 'loss' could each be the loss",
    );
    write(d, "dup.csv", "step,loss,loss\n1,1e-3,2\n");
    refused(
        d,
        &["fit", "dup.csv", "--out", "f.json"],
        "dup.csv:1:11: the header names column 'loss' twice",
    );
    write(d, "nn.csv", "n,N,D,loss\n1,1e8,1e9,3\n2,2e8,2e9,2.8\n");
    refused(
        d,
        &["fit", "--law", "power", "nn.csv"],
        "columns 'n' and 'N' could each be the same quantity",
    );
    // A compute column the user names wins over a tokens column found by name.
    write(
        d,
        "cd.csv",
        "N,D,C,loss\n1e8,1,6e17,3.0\n2e8,1,2.4e18,2.8\n4e8,1,9.6e18,2.6\n8e8,1,3.84e19,2.5\n",
    );
    let v = losscast_json(
        d,
        &[
            "fit",
            "--law",
            "power",
            "cd.csv",
            "--c-col",
            "C",
            "--variable",
            "d",
            "--out",
            "cd.json",
            "--json",
        ],
    );
    let notes = v["data"][0]["notes"].to_string();
    assert!(notes.contains("C/(6N)"), "{notes}");
}

#[test]
fn non_finite_answers_fail_instead_of_printing_inf_or_nan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = losscast(
        d,
        &[
            "optimal",
            "--law",
            "chinchilla",
            "--params",
            "E=1,A=0,B=1,alpha=0.3,beta=0.3",
            "--compute",
            "1e21",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no finite compute-optimal"));
    let out = losscast(
        d,
        &[
            "predict",
            "--law",
            "annealing",
            "--params",
            "L0=1e308,A=1e308,alpha=0.5,C=0",
            "--schedule",
            COSINE,
            "--steps",
            "5000",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    // 1e308 is finite, and far above any loss: the plausibility gate refuses it.
    assert!(String::from_utf8_lossy(&out.stderr).contains("implausible"));
}

#[test]
fn plan_leaves_out_default_candidates_that_do_not_fit_a_short_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = data("mpl400.toml");
    losscast_ok(
        d,
        &["fit", "--manifest", m.to_str().unwrap(), "--out", "a.json"],
    );
    let out = losscast_ok(
        d,
        &[
            "plan", "--fit", "a.json", "--total", "4000", "--peak", "3e-4", "--warmup", "2160",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("steps candidate(s) do not fit 4000 steps"),
        "{err}"
    );
}

#[test]
fn options_about_the_logs_lr_are_refused_next_to_a_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = data("mpl/csv_25/cosine_24000.csv");
    let csv = csv.to_str().unwrap();
    refused(
        d,
        &[
            "fit",
            csv,
            "--schedule",
            COSINE,
            "--lr-shift",
            "5",
            "--out",
            "f.json",
        ],
        "lr_shift (--lr-shift) shifts the log's LR, which a schedule spec replaces",
    );
    refused(
        d,
        &[
            "fit",
            csv,
            "--schedule",
            COSINE,
            "--lr",
            "lr",
            "--out",
            "f.json",
        ],
        "is not read when a schedule spec gives the LR",
    );
}

#[test]
fn file_schedules_are_neither_extended_nor_read_without_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "one.csv", "lr\n3e-4\n");
    refused(
        d,
        &[
            "predict",
            "--law",
            "annealing",
            "--params",
            "L0=2.4,A=0.6,alpha=0.5,C=0.5",
            "--schedule",
            "file:one.csv",
            "--steps",
            "4000",
        ],
        "gives the LR up to step 0, but step 4000 is needed",
    );
    write(d, "bare.csv", "3e-4\n3e-4\n2e-4\n");
    refused(
        d,
        &[
            "predict",
            "--law",
            "annealing",
            "--params",
            "L0=2.4,A=0.6,alpha=0.5,C=0.5",
            "--schedule",
            "file:bare.csv",
            "--steps",
            "1",
        ],
        "the first line holds numbers, not column names",
    );
}

#[test]
fn damaged_csv_text_is_named_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "quote.csv", "step,loss\n1,2\n2,\"3\n");
    refused(
        d,
        &[
            "fit",
            "quote.csv",
            "--schedule",
            "constant:peak=1e-3,total=5",
        ],
        "quote.csv:3:1: a quote opened on this line is never closed",
    );
    write(d, "tabs.csv", "step\tloss\n1\t2\n");
    refused(
        d,
        &["fit", "tabs.csv", "--out", "f.json"],
        "the header looks tab-separated",
    );
    // Blank lines at the end, as editors leave them, are not rows.
    let mut text = std::fs::read_to_string(data("mpl/csv_25/cosine_24000.csv")).unwrap();
    text.push_str("\n\n\r\n");
    write(d, "trail.csv", &text);
    losscast_ok(
        d,
        &["fit", "trail.csv", "--schedule", COSINE, "--out", "t.json"],
    );
}

#[test]
fn text_values_in_a_trainer_state_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "trainer_state.json",
        r#"{"log_history": [
            {"step": 10, "loss": 2.0, "learning_rate": 1e-5},
            {"step": 20, "loss": "1.9", "learning_rate": 1e-5},
            {"step": 1.5, "loss": 1.8, "learning_rate": 1e-5},
            {"step": 30, "loss": 1.7, "learning_rate": 1e-5}]}"#,
    );
    let out = losscast_ok(d, &["inspect", "trainer_state.json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("'loss': 1 text value(s)"), "{text}");
    assert!(text.contains("not a whole number"), "{text}");
}

#[test]
fn command_line_mistakes_are_refused_in_losscasts_voice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = data("mpl/csv_25/cosine_24000.csv");
    let csv = csv.to_str().unwrap();
    // A negative value is a value, and the range check answers it.
    refused(
        d,
        &[
            "fit",
            csv,
            "--schedule",
            COSINE,
            "--huber-delta",
            "-1",
            "--out",
            "f.json",
        ],
        "--huber-delta must be > 0, got -1",
    );
    refused(
        d,
        &["fti"],
        "losscast: error: unrecognized subcommand 'fti'",
    );
    refused(
        d,
        &[
            "fit",
            csv,
            "--schedule",
            "steps:peak=1e-3,total=1000,drops=2000@1e-4",
        ],
        "comes after total",
    );
    refused(
        d,
        &[
            "fit",
            csv,
            "--schedule",
            "cosine:peak=1e-3,end=1e-2,total=1000",
        ],
        "exceeds peak",
    );
    losscast_ok(d, &["fit", csv, "--schedule", COSINE, "--out", "a.json"]);
    let m = data("mpl400.toml");
    let m = m.to_str().unwrap();
    refused(
        d,
        &[
            "eval",
            "--fit",
            "a.json",
            "--manifest",
            m,
            "--plot",
            "e.png",
        ],
        "--plot does not apply here",
    );
    refused(
        d,
        &[
            "eval",
            "--rollout",
            "params",
            "--law",
            "annealing",
            "--manifest",
            m,
        ],
        "needs a law with a size term",
    );
    let single = d.join("fit-only.toml");
    std::fs::write(
        &single,
        format!(
            "[[run]]\nname = \"a\"\npath = \"{}\"\nschedule = \"{COSINE}\"\n",
            data("mpl/csv_25/cosine_24000.csv").display()
        ),
    )
    .unwrap();
    refused(
        d,
        &["compare", "--manifest", single.to_str().unwrap()],
        "the manifest has none",
    );
    write(d, "afile", "");
    refused(d, &["demo", "--fits", "afile"], "afile is not a folder");
}

/// losscast's own files in each other's place: a manifest or a fit file given as a log, and a
/// log or a fit file given as a manifest, are named as what they are (they used to fail on a
/// cell count, "4 cells, but the header has 3", or on TOML's "key with no value").
#[test]
fn a_manifest_a_fit_file_and_a_log_in_each_others_place_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let manifest = data("mpl25.toml");
    let manifest = manifest.to_str().unwrap();
    write(d, "log.csv", "step,loss,lr\n1,3.0,1e-4\n2,2.9,1e-4\n");
    write(
        d,
        "fit.json",
        "{\n  \"law\": \"annealing\",\n  \"params\": {\"L0\": 2.0}\n}\n",
    );
    write(
        d,
        "runs.txt",
        "# runs\n[[run]]\nname = \"a\"\nlog = \"log.csv\"\n",
    );
    refused(
        d,
        &["fit", manifest, "--out", "f.json"],
        "pass it with --manifest",
    );
    refused(
        d,
        &["fit", "runs.txt", "--out", "f.json"],
        "pass it with --manifest",
    );
    refused(d, &["inspect", manifest], "pass it with --manifest");
    refused(
        d,
        &["fit", "fit.json", "--out", "f.json"],
        "use it with --fit",
    );
    refused(
        d,
        &["fit", "--manifest", "log.csv", "--out", "f.json"],
        "looks like a CSV log, not a TOML manifest",
    );
    refused(
        d,
        &["backtest", "--manifest", "fit.json"],
        "JSON, not a TOML manifest",
    );
    assert!(!d.join("f.json").exists());
}

/// Text logs saved with a UTF-8 byte-order mark (Excel, some exporters) are read as without
/// one: `inspect` called a BOM CSV an "unrecognised log format", and a BOM JSON-lines log was
/// not JSON.
#[test]
fn a_byte_order_mark_does_not_hide_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: Vec<String> = (1..=8)
        .map(|s| format!("{s},{:.4},1e-4", 3.0 + 1.0 / s as f64))
        .collect();
    write(
        d,
        "bom.csv",
        &format!("\u{feff}step,loss,lr\n{}\n", rows.join("\n")),
    );
    let lines: Vec<String> = (1..=8)
        .map(|s| format!("{{\"step\": {s}, \"loss\": {:.4}}}", 3.0 + 1.0 / s as f64))
        .collect();
    write(d, "bom.jsonl", &format!("\u{feff}{}\n", lines.join("\n")));
    for f in ["bom.csv", "bom.jsonl"] {
        let out = losscast_ok(d, &["inspect", f]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("8 points  steps 1..8"), "{f}: {text}");
    }
}
