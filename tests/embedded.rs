//! Commands run in-process with data handed over in memory (what the Python module does): the
//! same parsing, fits and messages as the binary, frames read as their files would be, and the
//! output captured rather than printed.

mod common;

use common::data;
use losscast::cli::embedded::{call, FrameRun, Inputs};
use losscast::ingest::memory::{MemColumn, MemFrame};
use losscast::runs::manifest::Role;
use serde_json::Value;

const COSINE_SPEC: &str = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";

/// The MPL 400M cosine run's columns as a frame would hand them over.
fn cosine_frame() -> MemFrame {
    let text = std::fs::read_to_string(data("mpl/csv_400/cosine_24000.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    let columns = header
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let col = if *name == "step" {
                MemColumn::I64(rows.iter().map(|r| r[j] as i64).collect())
            } else {
                MemColumn::F64(rows.iter().map(|r| r[j]).collect())
            };
            (name.to_string(), col)
        })
        .collect();
    MemFrame { columns }
}

fn one_run(label: &str, frame: MemFrame, schedule: Option<&str>) -> Inputs {
    Inputs {
        frames: vec![(
            label.to_string(),
            vec![FrameRun {
                name: "cosine_24000".into(),
                frame,
                schedule: schedule.map(String::from),
                role: Role::Fit,
                params: None,
                tokens_per_step: None,
            }],
        )],
        fits: Vec::new(),
    }
}

fn args(list: &[&str]) -> Vec<String> {
    std::iter::once("losscast")
        .chain(list.iter().copied())
        .map(String::from)
        .collect()
}

#[test]
fn a_frame_fits_as_its_csv_does_and_the_output_is_captured() {
    let dir = tempfile::tempdir().unwrap();
    let (from_frame, from_file) = (dir.path().join("frame.json"), dir.path().join("file.json"));
    let frame = call(
        args(&[
            "fit",
            "<frame>",
            "--no-intervals",
            "--out",
            from_frame.to_str().unwrap(),
        ]),
        one_run("<frame>", cosine_frame(), Some(COSINE_SPEC)),
    );
    assert_eq!(frame.code, 0, "{}", frame.stderr);
    // The summary went to the buffer, not the process's stdout.
    assert!(frame.stdout.contains("L0"), "{}", frame.stdout);
    let csv = data("mpl/csv_400/cosine_24000.csv");
    let file = call(
        args(&[
            "fit",
            csv.to_str().unwrap(),
            "--schedule",
            COSINE_SPEC,
            "--no-intervals",
            "--out",
            from_file.to_str().unwrap(),
        ]),
        Inputs::default(),
    );
    assert_eq!(file.code, 0, "{}", file.stderr);
    let read = |p: &std::path::Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (a, b) = (read(&from_frame), read(&from_file));
    assert_eq!(a["params"], b["params"]);
    assert_eq!(a["data"][0]["path"], "<frame>");
    assert_eq!(a["data"][0]["points_used"], b["data"][0]["points_used"]);
    // The digest is over the frame's columns, the same for the same frame.
    assert_eq!(
        a["data"][0]["sha256"].as_str().unwrap(),
        cosine_frame().sha256()
    );
}

#[test]
fn a_fit_record_in_memory_is_read_by_label() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.json");
    let fit = call(
        args(&[
            "fit",
            "<frame>",
            "--no-intervals",
            "--out",
            out.to_str().unwrap(),
        ]),
        one_run("<frame>", cosine_frame(), Some(COSINE_SPEC)),
    );
    assert_eq!(fit.code, 0, "{}", fit.stderr);
    let record = std::fs::read_to_string(&out).unwrap();
    let inputs = Inputs {
        frames: Vec::new(),
        fits: vec![("<fit>".into(), record.clone())],
    };
    let p = call(
        args(&[
            "predict",
            "--fit",
            "<fit>",
            "--schedule",
            COSINE_SPEC,
            "--steps",
            "24000",
            "--json",
        ]),
        inputs,
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    let v: Value = serde_json::from_str(&p.stdout).unwrap();
    let from_file = call(
        args(&[
            "predict",
            "--fit",
            out.to_str().unwrap(),
            "--schedule",
            COSINE_SPEC,
            "--steps",
            "24000",
            "--json",
        ]),
        Inputs::default(),
    );
    let w: Value = serde_json::from_str(&from_file.stdout).unwrap();
    assert_eq!(v["predictions"], w["predictions"]);
    // Outside a call nothing is registered: the label is a missing file again.
    let gone = call(
        args(&["predict", "--fit", "<fit>", "--schedule", COSINE_SPEC]),
        Inputs::default(),
    );
    assert_eq!(gone.code, 2);
    assert!(gone.stderr.contains("<fit>"), "{}", gone.stderr);
}

#[test]
fn bad_frames_and_flags_give_the_cli_errors() {
    // A frame without a loss column, named by its label.
    let frame = MemFrame {
        columns: vec![
            ("step".into(), MemColumn::I64(vec![1, 2, 3])),
            ("accuracy".into(), MemColumn::F64(vec![0.1, 0.2, 0.3])),
        ],
    };
    let out = call(
        args(&["fit", "<pandas DataFrame>", "--no-intervals"]),
        one_run("<pandas DataFrame>", frame, Some(COSINE_SPEC)),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("losscast: error: <pandas DataFrame>: "),
        "{}",
        out.stderr
    );
    // Columns of different lengths.
    let ragged = MemFrame {
        columns: vec![
            ("step".into(), MemColumn::I64(vec![1, 2, 3])),
            ("loss".into(), MemColumn::F64(vec![3.0, 2.9])),
        ],
    };
    let out = call(
        args(&["fit", "<f>", "--no-intervals"]),
        one_run("<f>", ragged, Some(COSINE_SPEC)),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("column 'loss' has 2 rows, the first column 3"),
        "{}",
        out.stderr
    );
    // select on a frame keeps rows by any column, and says when none match.
    let mut two = cosine_frame();
    let n = match &two.columns[0].1 {
        MemColumn::I64(v) => v.len(),
        _ => unreachable!(),
    };
    two.columns
        .push(("run".into(), MemColumn::Text(vec![Some("a".into()); n])));
    let out = call(
        args(&["fit", "<f>", "--select", "run=b", "--no-intervals"]),
        one_run("<f>", two.clone(), Some(COSINE_SPEC)),
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no row has run=b"), "{}", out.stderr);
    let dir = tempfile::tempdir().unwrap();
    let ok = call(
        args(&[
            "fit",
            "<f>",
            "--select",
            "run=a",
            "--no-intervals",
            "--out",
            dir.path().join("a.json").to_str().unwrap(),
        ]),
        one_run("<f>", two, Some(COSINE_SPEC)),
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    // Two runs in one frame, told apart only by a text column: refused, not merged.
    let mut doubled = cosine_frame();
    for (name, col) in &mut doubled.columns {
        match col {
            MemColumn::I64(v) => v.extend(v.clone()),
            MemColumn::F64(v) => v.extend(v.clone()),
            MemColumn::Text(_) => unreachable!("{name}"),
        }
    }
    doubled.columns.push((
        "run".into(),
        MemColumn::Text(
            (0..2 * n)
                .map(|i| Some(if i < n { "a" } else { "b" }.into()))
                .collect(),
        ),
    ));
    let out = call(
        args(&["fit", "<f>", "--no-intervals"]),
        one_run("<f>", doubled, Some(COSINE_SPEC)),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("several runs in one frame"),
        "{}",
        out.stderr
    );
    // clap's refusal of an unknown flag is captured too.
    let out = call(
        args(&["fit", "x.csv", "--max-pointz", "3"]),
        Inputs::default(),
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unexpected argument '--max-pointz'"));
    assert!(out.stdout.is_empty());
}

#[test]
fn eval_curves_give_each_runs_points_and_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let fit_file = dir.path().join("f.json");
    let manifest = data("tissue2024.toml");
    let fit = call(
        args(&[
            "fit",
            "--manifest",
            manifest.to_str().unwrap(),
            "--warmup-as-peak",
            "--out",
            fit_file.to_str().unwrap(),
        ]),
        Inputs::default(),
    );
    assert_eq!(fit.code, 0, "{}", fit.stderr);
    let e = call(
        args(&[
            "eval",
            "--fit",
            fit_file.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--json",
            "--curves",
        ]),
        Inputs::default(),
    );
    assert_eq!(e.code, 0, "{}", e.stderr);
    let v: Value = serde_json::from_str(&e.stdout).unwrap();
    for run in v["runs"].as_array().unwrap() {
        let c = &run["curve"];
        let observed: Vec<f64> = serde_json::from_value(c["observed"].clone()).unwrap();
        let predicted: Vec<f64> = serde_json::from_value(c["predicted"].clone()).unwrap();
        assert_eq!(observed.len(), 20);
        assert_eq!(c["step"].as_array().unwrap().len(), 20);
        // PredE recomputed from the curve equals the one eval reports (laws.md §0's metric).
        let pred_e = observed
            .iter()
            .zip(&predicted)
            .map(|(l, p)| (l - p).abs() / l)
            .sum::<f64>()
            / 20.0;
        assert!((pred_e - run["pred_e"].as_f64().unwrap()).abs() < 1e-12);
        let (lo, hi) = (c["lo"].as_array().unwrap(), c["hi"].as_array().unwrap());
        assert!(lo
            .iter()
            .zip(hi)
            .zip(&predicted)
            .all(|((l, h), p)| l.as_f64().unwrap() < *p && *p < h.as_f64().unwrap()));
    }
}

#[test]
fn a_fit_file_read_back_is_the_same_record_to_the_last_bit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.json");
    let fit = call(
        args(&[
            "fit",
            "--manifest",
            data("tissue2024.toml").to_str().unwrap(),
            "--warmup-as-peak",
            "--out",
            out.to_str().unwrap(),
        ]),
        Inputs::default(),
    );
    assert_eq!(fit.code, 0, "{}", fit.stderr);
    let written = std::fs::read(&out).unwrap();
    let back = losscast::fit::FitRecord::load(&out).unwrap();
    assert_eq!(back.to_bytes().unwrap(), written);
}
