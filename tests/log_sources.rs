//! W&B exports, MLflow folders, TensorBoard folders of runs, HF output folders, generic JSON-lines
//! and Parquet logs, and fits whose LR is logged more or less often than the loss.
//!
//! The GENERATED fixtures hold real llm.c values in those layouts (data/logs/generate.py), so the
//! golden values are the llm.c log's own, read independently of the layout under test.

mod common;
use common::{data, losscast_json};
use losscast::ingest::formats::{self, Clean, Format, SeriesLog};
use losscast::ingest::{read_log, ReadOptions};
use std::collections::HashMap;

const LLMC: &str = "logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log";

fn series(log: &SeriesLog, run: usize, name: &str) -> Clean {
    log.runs[run].series[name].finish()
}

/// The llm.c log's own train loss, LR and val loss by step, parsed here from its text.
fn llmc_truth() -> [HashMap<i64, f64>; 3] {
    let mut out = [HashMap::new(), HashMap::new(), HashMap::new()];
    for line in std::fs::read_to_string(data(LLMC)).unwrap().lines() {
        let kv: HashMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|f| f.split_once(':'))
            .collect();
        let s: i64 = kv["s"].parse().unwrap();
        for (i, key) in ["trl", "lr", "tel"].iter().enumerate() {
            if let Some(v) = kv.get(key) {
                out[i].insert(s, v.parse().unwrap());
            }
        }
    }
    out
}

fn assert_matches(c: &Clean, truth: &HashMap<i64, f64>, offset: i64) {
    for (s, v) in c.steps.iter().zip(&c.values) {
        assert_eq!(Some(v), truth.get(&(s - offset)), "step {s}");
    }
}

#[test]
fn wandb_chart_export_one_run_per_column_triple() {
    let [train, _, _] = llmc_truth();
    let p = data("logs/wandb/GENERATED__llmc_wandb_chart_export.csv");
    let log = formats::read(&p).unwrap();
    assert_eq!(log.format, Format::WandbChart);
    // The run name contains " - "; the split is on the last one.
    let names: Vec<&str> = log.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["gpt2-124m - fineweb", "brisk-pond-1"]);
    let a = series(&log, 0, "train/loss");
    assert_eq!(a.steps.len(), 392); // steps 0, 50, ..., 19550; empty cells are not points
    assert_eq!((a.steps[0], a.values[0]), (0, 11.0116));
    assert_matches(&a, &train, 0);
    let b = series(&log, 1, "train/loss");
    assert_eq!(
        (b.steps.len(), b.steps[0], *b.steps.last().unwrap()),
        (196, 25, 19525)
    );
    assert_matches(&b, &train, 25);
    assert!(log.warnings.iter().any(|w| w.contains("sampled")));

    // Two runs in one file: a fit must be told which.
    let e = read_log(&p, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 runs") && e.contains("'brisk-pond-1'"), "{e}");
    let opts = ReadOptions {
        select: Some(("run".into(), "brisk-pond-1".into())),
        ..ReadOptions::default()
    };
    let run = read_log(&p, &opts).unwrap();
    assert_eq!(run.steps().len(), 196);
    assert!(run.lr_points.is_none());
}

#[test]
fn wandb_api_history_csv_and_legacy_jsonl() {
    let [train, lr, val] = llmc_truth();
    let log = formats::read(&data("logs/wandb/GENERATED__llmc_wandb_history.csv")).unwrap();
    assert_eq!(log.format, Format::WandbHistory);
    let loss = series(&log, 0, "train/loss");
    assert_eq!(loss.steps.len(), 2001);
    assert_matches(&loss, &train, 0);
    assert_matches(&series(&log, 0, "train/learning_rate"), &lr, 0);
    let eval = series(&log, 0, "eval/loss");
    assert_eq!(eval.steps, (0..=2000).step_by(250).collect::<Vec<_>>());
    assert_matches(&eval, &val, 0);
    // The pandas index and W&B's clock columns are not series.
    let keys: Vec<&String> = log.runs[0].series.keys().collect();
    assert_eq!(keys, ["eval/loss", "train/learning_rate", "train/loss"]);
    assert_eq!(
        formats::lr_series(&log.runs[0]),
        Some("train/learning_rate")
    );
    assert!(log.warnings.iter().any(|w| w.contains("_step")));

    // The real legacy wandb-history.jsonl: sparse keys, a media dict that is not a metric.
    let log = formats::read(&data(
        "logs/wandb/mfts_spaceinvaders-wandb-challenge__wandb-history.jsonl",
    ))
    .unwrap();
    assert_eq!(log.format, Format::WandbHistory);
    let r = series(&log, 0, "episodic_reward");
    assert_eq!((r.steps.len(), r.steps[0], r.values[0]), (98, 0, 180.0));
    assert!(!log.runs[0].series.contains_key("gameplays"));
    assert!(formats::lr_series(&log.runs[0]).is_none());
}

#[test]
fn mlflow_run_experiment_and_mlruns_folders() {
    let [train, lr, val] = llmc_truth();
    let root = data("logs/mlflow/GENERATED__llmc_mlruns");
    let exp = root.join("0");
    let run_dir = exp.join("5f1e0c2a9b7d4e3f8a6c1b2d3e4f5a6b");
    let mut digests = Vec::new();
    for p in [&root, &exp, &run_dir] {
        let log = formats::read(p).unwrap();
        assert_eq!(log.format, Format::Mlflow);
        assert_eq!(log.runs.len(), 1);
        assert_eq!(log.runs[0].name, "gpt2-124m-fineweb"); // run_name from meta.yaml
        let loss = series(&log, 0, "train/loss"); // metrics/train/loss: a key with a slash
        assert_eq!(loss.steps.len(), 2001);
        assert_matches(&loss, &train, 0);
        assert_matches(&series(&log, 0, "lr"), &lr, 0);
        assert_matches(&series(&log, 0, "eval/loss"), &val, 0);
        assert_eq!(log.files.len(), 3);
        digests.push(log.sha256);
    }
    assert_eq!(digests[1].len(), 64);

    // A two-field legacy line is step 0; a malformed line names the file and line.
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("run").join("metrics");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join("loss"), "1700000000000 3.5\n1700000000100 3.25 10\n").unwrap();
    let log = formats::read(&dir.path().join("run")).unwrap();
    assert_eq!(series(&log, 0, "loss").steps, [0, 10]);
    std::fs::write(
        m.join("loss"),
        "1700000000000 3.5 0\n1700000000100 oops 10\n",
    )
    .unwrap();
    let e = formats::read(&dir.path().join("run"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("metrics/loss:2:1") && e.contains("oops"), "{e}");
}

/// Split a TFRecord file at a record boundary, so each half is a valid event file.
fn split_records(bytes: &[u8], keep_first: usize) -> (Vec<u8>, Vec<u8>) {
    let mut at = 0;
    for _ in 0..keep_first {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
        at += 8 + 4 + len + 4;
    }
    (bytes[..at].to_vec(), bytes[at..].to_vec())
}

#[test]
fn tensorboard_folder_of_runs_with_a_resumed_run() {
    let whole = std::fs::read(data(
        "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__simple_value.tfevents",
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let (a, b) = (runs.join("Nov22_a"), runs.join("Nov22_b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(a.join("events.out.tfevents.1700000000.host.1.0"), &whole).unwrap();
    // Run b was stopped and resumed: its history is in two files, started in that order (the
    // later one sorts first by name, so order must come from the start time).
    let (first, second) = split_records(&whole, 2000);
    std::fs::write(b.join("events.out.tfevents.1700000000.zz.1.0"), &first).unwrap();
    let mut resumed = split_records(&whole, 1).0; // the file_version record
    resumed.extend_from_slice(&second);
    std::fs::write(b.join("events.out.tfevents.1700000500.aa.1.0"), &resumed).unwrap();
    std::fs::write(b.join("notes.txt"), "not an event file").unwrap();

    let log = formats::read(dir.path()).unwrap();
    assert_eq!(log.format, Format::Tensorboard);
    let names: Vec<&str> = log.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["runs/Nov22_a", "runs/Nov22_b"]);
    let full = series(&log, 0, "train/loss");
    assert_eq!(full.steps.len(), 1001);
    let joined = series(&log, 1, "train/loss");
    assert_eq!(joined.steps, full.steps);
    assert_eq!(joined.values, full.values);
    assert!(log.warnings.iter().any(|w| w.contains("2 event files")));
    assert_eq!(log.files.len(), 3);

    // An annealing-law fit straight from the folder, run picked by name.
    let v = losscast_json(
        dir.path(),
        &[
            "fit",
            "--law",
            "annealing",
            ".",
            "--select",
            "run=runs/Nov22_b",
            "--min-step",
            "100",
            "--json",
            "--out",
            "tb.json",
        ],
    );
    assert_eq!(v["points_used"], 901);
    assert_eq!(v["data"][0]["lr_source"], "log_per_step");
    assert!(
        v["metrics"]["fit_mean"]["r2"].as_f64().unwrap() > 0.9,
        "{}",
        v["metrics"]
    );
}

#[test]
fn hf_output_folder_reads_the_latest_checkpoint() {
    let src = std::fs::read(data(
        "logs/hf/suzushi-tw_luojiu-7b-base__trainer_state.json",
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (n, body) in [
        (100, b"{\"log_history\": []}".to_vec()),
        (8712, src.clone()),
    ] {
        let c = dir.path().join(format!("checkpoint-{n}"));
        std::fs::create_dir_all(&c).unwrap();
        std::fs::write(c.join("trainer_state.json"), body).unwrap();
    }
    let log = formats::read(dir.path()).unwrap();
    assert_eq!(log.format, Format::HfTrainerState);
    assert_eq!(log.files, ["checkpoint-8712/trainer_state.json"]);
    assert_eq!(series(&log, 0, "loss").steps.len(), 1742);
}

#[test]
fn generic_jsonl_and_parquet_logs() {
    use polars::prelude::{df, ParquetWriter};
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("log.jsonl");
    std::fs::write(
        &jsonl,
        "{\"step\": 0, \"loss\": 4.0, \"lr\": 0.001, \"tag\": \"a\"}\n\
         {\"step\": 1, \"loss\": 3.5, \"lr\": 0.001}\n\
         {\"step\": 2, \"loss\": NaN, \"lr\": 0.001}\n\
         {\"step\": 3, \"loss\": 3.0, \"lr\": 0.0005}\n",
    )
    .unwrap();
    let log = formats::read(&jsonl).unwrap();
    assert_eq!(log.format, Format::Jsonl);
    let loss = series(&log, 0, "loss");
    assert_eq!(
        (loss.steps.clone(), loss.hygiene.non_finite),
        (vec![0, 1, 3], 1)
    );
    assert!(!log.runs[0].series.contains_key("tag"));

    let pq = dir.path().join("log.parquet");
    let mut frame = df!(
        "step" => [0i64, 1, 2, 3],
        "loss" => [Some(4.0), Some(3.5), None, Some(3.0)],
        "learning_rate" => [1e-3, 1e-3, 1e-3, 5e-4],
        "run" => ["x", "x", "x", "x"],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut frame)
        .unwrap();
    let log = formats::read(&pq).unwrap();
    assert_eq!(log.format, Format::Parquet);
    assert_eq!(series(&log, 0, "loss").steps, [0, 1, 3]);
    assert!(log.warnings.iter().any(|w| w.contains("run")));
    let run = read_log(&pq, &ReadOptions::default()).unwrap();
    assert_eq!(run.loss(), [4.0, 3.5, 3.0]);
    assert_eq!(run.lr().unwrap(), [Some(1e-3), Some(1e-3), Some(5e-4)]);
}

#[test]
fn fits_interpolate_an_lr_logged_every_k_steps_and_use_a_dense_lr_for_a_sparse_loss() {
    let dir = tempfile::tempdir().unwrap();
    // HF logged every 5 steps (loss and LR): the LR is interpolated, and the record says so.
    let hf = data("logs/hf/suzushi-tw_luojiu-7b-base__trainer_state.json");
    let v = losscast_json(
        dir.path(),
        &[
            "fit",
            "--law",
            "annealing",
            hf.to_str().unwrap(),
            "--json",
            "--out",
            "hf.json",
        ],
    );
    assert_eq!(v["data"][0]["lr_source"], "log_interpolated");
    let notes = v["data"][0]["notes"].to_string();
    assert!(notes.contains("largest gap 5 steps"), "{notes}");
    assert!(notes.contains("no LR logged before step 5"), "{notes}");

    // llm.c: eval loss every 250 steps, LR every step. The per-step LR is used as logged; the
    // last eval (step 19552) is one step past the last LR and holds it, with a note.
    let llmc = data(LLMC);
    let v = losscast_json(
        dir.path(),
        &[
            "fit",
            "--law",
            "annealing",
            llmc.to_str().unwrap(),
            "--loss",
            "eval",
            "--min-step",
            "1000",
            "--json",
            "--out",
            "eval.json",
        ],
    );
    assert_eq!(v["points_used"], 76); // val points at 1000, 1250, ..., 19500 and 19552
    assert_eq!(v["data"][0]["lr_source"], "log_interpolated");
    let notes = v["data"][0]["notes"].to_string();
    assert!(
        notes.contains("held at") && notes.contains("for 1 step"),
        "{notes}"
    );
    assert!(
        v["metrics"]["fit_mean"]["r2"].as_f64().unwrap() > 0.9,
        "{}",
        v["metrics"]
    );
}

#[test]
fn inspect_reports_folders_runs_and_lr_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let mlruns = data("logs/mlflow/GENERATED__llmc_mlruns");
    let chart = data("logs/wandb/GENERATED__llmc_wandb_chart_export.csv");
    let hf = data("logs/hf/suzushi-tw_luojiu-7b-base__trainer_state.json");
    let v = losscast_json(
        dir.path(),
        &[
            "inspect",
            mlruns.to_str().unwrap(),
            chart.to_str().unwrap(),
            hf.to_str().unwrap(),
            "--json",
        ],
    );
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs[0]["format"], "mlflow");
    assert_eq!(inputs[0]["lr_complete"], true);
    assert_eq!(inputs[1]["format"], "wandb_chart_csv");
    assert_eq!(inputs[1]["runs"].as_array().unwrap().len(), 2);
    assert_eq!(inputs[1]["lr_complete"], false);
    assert_eq!(inputs[2]["lr_complete"], false);
    let w = inputs[2]["warnings"].to_string();
    assert!(
        w.contains("largest gap 5") && w.contains("interpolate"),
        "{w}"
    );
}

#[test]
fn hygiene_is_recorded_in_the_fit_file() {
    let dir = tempfile::tempdir().unwrap();
    // A resumed run (steps 300 and 400 logged twice, the later records differ), a NaN, and one
    // line out of order.
    let mut text = String::new();
    for s in (100..=500).step_by(100) {
        text.push_str(&format!(
            "{{\"step\": {s}, \"loss\": {}}}\n",
            4.0 - s as f64 / 1000.0
        ));
    }
    text.push_str("{\"step\": 300, \"loss\": 3.65}\n{\"step\": 400, \"loss\": 3.55}\n");
    text.push_str("{\"step\": 600, \"loss\": NaN}\n{\"step\": 50, \"loss\": 4.1}\n");
    for s in (700..=1500).step_by(100) {
        text.push_str(&format!(
            "{{\"step\": {s}, \"loss\": {}}}\n",
            4.0 - s as f64 / 1000.0
        ));
    }
    std::fs::write(dir.path().join("log.jsonl"), text).unwrap();
    let v = losscast_json(
        dir.path(),
        &[
            "fit",
            "--law",
            "annealing",
            "log.jsonl",
            "--schedule",
            "cosine:peak=1e-3,end=1e-4,warmup=10,total=1500",
            "--json",
            "--out",
            "f.json",
        ],
    );
    let notes = v["data"][0]["notes"].to_string();
    assert!(notes.contains("2 repeated step(s)"), "{notes}");
    assert!(notes.contains("sorted"), "{notes}");
    assert!(
        notes.contains("1 NaN or infinite value(s) dropped"),
        "{notes}"
    );
    assert_eq!(v["points_used"], 15); // 50, 100..500, 700..1500
}
