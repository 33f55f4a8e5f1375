//! Log formats read by content, on real fixtures: point counts, first and last values, LR
//! presence; and damaged copies give clear errors or documented partial reads, never panics.

mod common;
use common::{data, losscast};
use losscast::ingest::formats::{self, Format};

fn series(log: &formats::SeriesLog, name: &str) -> formats::Clean {
    log.runs[0].series[name].finish()
}

#[test]
fn llmc_main_log() {
    let log = formats::read(&data(
        "logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log",
    ))
    .unwrap();
    assert_eq!(log.format, Format::LlmcMainLog);
    let loss = series(&log, "train/loss");
    assert_eq!(loss.steps.len(), 19552);
    assert_eq!((loss.steps[0], loss.values[0]), (0, 11.0116));
    assert_eq!(
        (*loss.steps.last().unwrap(), *loss.values.last().unwrap()),
        (19551, 3.2813)
    );
    let val = series(&log, "val/loss");
    assert_eq!(val.steps.len(), 80); // `grep -c tel:`
    assert_eq!((val.steps[79], val.values[79]), (19552, 3.2731));
    assert_eq!(formats::lr_series(&log.runs[0]), Some("lr"));
    let r = formats::inspect(&data(
        "logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log",
    ))
    .unwrap();
    assert!(r.lr_complete);
}

#[test]
fn llmc_stdout_with_its_config_and_a_garbled_line() {
    let path = data("logs/llmc/HectorFCardenas_llm.c__gpt2_train.11685414.log");
    let log = formats::read(&path).unwrap();
    assert_eq!(log.format, Format::LlmcStdout);
    assert_eq!(log.tokens_per_step, Some(524288.0));
    let loss = series(&log, "train/loss");
    // 19 560 `step k/19560` lines; step k is iteration k − 1.
    assert_eq!(loss.steps.len(), 19560);
    assert_eq!((loss.steps[0], loss.values[0]), (0, 11.009662));
    assert_eq!(*loss.values.last().unwrap(), 3.253402);
    assert_eq!(series(&log, "val/loss").values[0], 11.007921);
    // Line "step 19528/19560 | ... | lError: Token out of vocabulary": its LR is lost, said so.
    assert_eq!(series(&log, "lr").steps.len(), 19559);
    assert!(
        log.warnings.iter().any(|w| w.contains("garbled")),
        "{:?}",
        log.warnings
    );
    let r = formats::inspect(&path).unwrap();
    assert!(!r.lr_complete);
}

#[test]
fn hf_trainer_state_train_and_eval_series_without_the_summary() {
    let log = formats::read(&data(
        "logs/hf/Dheena731_tinyLlama-finetune__trainer_state.json",
    ))
    .unwrap();
    assert_eq!(log.format, Format::HfTrainerState);
    let loss = series(&log, "loss");
    assert_eq!(loss.steps.len(), 186);
    assert_eq!((loss.steps[0], loss.values[0]), (15, 2.0762));
    assert_eq!(series(&log, "eval_loss").steps.len(), 14);
    assert_eq!(formats::lr_series(&log.runs[0]), Some("learning_rate"));
    let log = formats::read(&data("logs/hf/Jaong_Checkpoint-of-CPT__trainer_state.json")).unwrap();
    assert!(log.warnings.iter().any(|w| w.contains("summary")));
    // The summary's whole-run `train_loss` is not a curve point.
    assert!(!log.runs[0].series.contains_key("train_loss"));
}

#[test]
fn bare_nan_in_trainer_state_is_read_and_dropped_with_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("trainer_state.json");
    std::fs::write(
        &p,
        r#"{"global_step": 3, "log_history": [
  {"step": 1, "loss": 3.0, "grad_norm": NaN, "learning_rate": 1e-4},
  {"step": 2, "loss": Infinity, "learning_rate": 2e-4},
  {"step": 2, "loss": 2.5, "learning_rate": 2e-4},
  {"step": 3, "train_runtime": 10.0, "train_loss": 2.7}
]}"#,
    )
    .unwrap();
    let r = formats::inspect(&p).unwrap();
    let loss = r.runs[0].series.iter().find(|s| s.name == "loss").unwrap();
    assert_eq!(loss.points, 2); // the resumed step 2 keeps its last record
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("loss: 1 repeated step")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("grad_norm: 1 NaN")),
        "{:?}",
        r.warnings
    );
    std::fs::write(
        &p,
        "{\"log_history\": [\n  {\"step\": 1, \"loss\": 3.0,,}\n]}",
    )
    .unwrap();
    let e = formats::read(&p).unwrap_err().to_string();
    assert!(e.contains("trainer_state.json:2:"), "{e}");
}

#[test]
fn megatron_and_nanogpt_text() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("megatron.out");
    // The real line quoted in log-formats.md §4, a second iteration, and a validation block.
    std::fs::write(
        &m,
        "[lrdn3321:3]: [2025-03-31 05:54:07] iteration       50/  242204 | consumed samples:        50400 | elapsed time per iteration (ms): 1552.8 | throughput per GPU (TFLOP/s/GPU): 134.0 | learning rate: 8.000000E-06 | global batch size:  1008 | lm loss: 6.258318E+00 | loss scale: 1.0 | grad norm: 1.520 | number of skipped iterations:   0 | number of nan iterations:   0 |\n\
         iteration      100/  242204 | consumed samples:       100800 | learning rate: 1.600000E-05 | lm loss: 5.100000E+00 |\n\
         ----------------------------------------------------------------------------------\n \
         validation loss at iteration 100 | lm loss value: 3.245123E+00 | lm loss PPL: 2.566412E+01 |\n",
    )
    .unwrap();
    let log = formats::read(&m).unwrap();
    assert_eq!(log.format, Format::Megatron);
    let loss = series(&log, "lm loss");
    assert_eq!(
        (loss.steps.clone(), loss.values.clone()),
        (vec![50, 100], vec![6.258318, 5.1])
    );
    assert_eq!(series(&log, "learning rate").values, vec![8e-6, 1.6e-5]);
    assert_eq!(
        series(&log, "validation/lm loss value").values,
        vec![3.245123]
    );
    let n = dir.path().join("nanogpt.txt");
    std::fs::write(
        &n,
        "tokens per iteration will be: 491,520\nstep 0: train loss 4.2874, val loss 4.2823\n\
         iter 0: loss 4.2654, time 13500.54ms, mfu -100.00%\niter 10: loss 3.1462, time 13.86ms, mfu 26.88%\n",
    )
    .unwrap();
    let log = formats::read(&n).unwrap();
    assert_eq!(log.format, Format::Nanogpt);
    assert_eq!(series(&log, "loss").values, vec![4.2654, 3.1462]);
    assert_eq!(series(&log, "val loss").values, vec![4.2823]);
    assert_eq!(formats::lr_series(&log.runs[0]), None);
    // A metric line with a bad number names its line.
    std::fs::write(
        &n,
        "iter 0: loss 4.2654, time 1ms\niter 10: loss oops, time 1ms\n",
    )
    .unwrap();
    let e = formats::read(&n).unwrap_err().to_string();
    assert!(
        e.contains("nanogpt.txt:2:1: loss: expected a number, found 'oops'"),
        "{e}"
    );
}

#[test]
fn damaged_copies_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    for rel in [
        "logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log",
        "logs/hf/Jaong_Checkpoint-of-CPT__trainer_state.json",
        "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__tensor_double_val.tfevents",
        "logs/tfevents/AchiniSNA_CryptoLLM__lightning_version_0__events.out.tfevents.1734723039.LAPTOP-DV1E1V0C",
        "logs/llmc/HectorFCardenas_llm.c__gpt2_train.11685414.log",
        "logs/hf/suzushi-tw_luojiu-7b-base__trainer_state.json",
        "logs/lightning/0Xero7_slm_training__version_0__metrics.csv",
        "logs/llamafactory/suzushi-tw_luojiu-7b-base__trainer_log.jsonl",
        "logs/wandb/GENERATED__llmc_wandb_chart_export.csv",
        "logs/wandb/GENERATED__llmc_wandb_history.csv",
        "logs/wandb/mfts_spaceinvaders-wandb-challenge__wandb-history.jsonl",
        "logs/mlflow/GENERATED__llmc_mlruns/0/5f1e0c2a9b7d4e3f8a6c1b2d3e4f5a6b/metrics/train/loss",
    ] {
        let bytes = std::fs::read(data(rel)).unwrap();
        let head = &bytes[..bytes.len().min(20_000)];
        let p = dir.path().join("copy");
        for (k, variant) in [
            head[..head.len() / 2].to_vec(),
            head.iter()
                .enumerate()
                .map(|(i, b)| if i % 997 == 5 { b ^ 0x55 } else { *b })
                .collect(),
            [head, b"\n\x00\xff garbage line\n!!!\n".as_slice()].concat(),
        ]
        .into_iter()
        .enumerate()
        {
            std::fs::write(&p, &variant).unwrap();
            // Either a read (possibly partial, with warnings) or a clear error naming the file.
            // MLflow metric files are read inside their run folder.
            let input = if rel.contains("mlruns") {
                let m = dir.path().join("run").join("metrics");
                std::fs::create_dir_all(&m).unwrap();
                std::fs::write(m.join("copy"), &variant).unwrap();
                dir.path().join("run")
            } else {
                p.clone()
            };
            if let Err(e) = formats::read(&input) {
                assert!(e.to_string().contains("copy"), "{rel} variant {k}: {e}");
            }
        }
    }
}

#[test]
fn inspect_cli_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let a = data("logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log");
    let b = data("logs/tfevents/GENERATED__llmc_main_log_steps0-1000__tensor_content_f32.tfevents");
    let out = losscast(
        dir.path(),
        &[
            "inspect",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert_eq!(inputs[0]["format"], "llmc_main_log");
    assert_eq!(inputs[1]["format"], "tensorboard");
    assert_eq!(inputs[1]["lr_complete"], true);
    let s = &inputs[1]["runs"][0]["series"];
    let loss = s
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "train/loss")
        .unwrap();
    assert_eq!(
        (
            loss["points"].as_u64(),
            loss["first_step"].as_i64(),
            loss["last_step"].as_i64()
        ),
        (Some(1001), Some(0), Some(1000))
    );
    let out = losscast(dir.path(), &["inspect", "nope.log"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn annealing_fit_straight_from_llmc_and_tensorboard_logs() {
    let dir = tempfile::tempdir().unwrap();
    let llmc = data("logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log");
    let out = losscast(
        dir.path(),
        &[
            "fit",
            "--law",
            "annealing",
            llmc.to_str().unwrap(),
            "--min-step",
            "1000",
            "--out",
            "a.json",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Steps 1000..19551 of the log's train loss, with its per-step LR column: 18 552 points,
    // more than a fit needs, averaged in bins of 5 (at most 4 096 per run).
    assert_eq!(v["points_used"], 18552usize.div_ceil(5));
    assert!(
        v["data"][0]["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("18552 points averaged in bins of 5")),
        "{}",
        v["data"][0]["notes"]
    );
    assert_eq!(v["data"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(
        v["metrics"]["fit_mean"]["r2"].as_f64().unwrap() > 0.9,
        "{}",
        v["metrics"]
    );

    let tb = data("logs/tfevents/GENERATED__llmc_main_log_steps0-1000__tensor_float_val.tfevents");
    let tb = tb.to_str().unwrap();
    let out = losscast(
        dir.path(),
        &["fit", "--law", "annealing", tb, "--out", "b.json", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["points_used"].as_u64().unwrap() >= 1000);
    // --loss-col names a series; `eval` picks the evaluation loss; a wrong tag lists the series.
    let log = formats::read(std::path::Path::new(tb)).unwrap();
    assert_eq!(
        formats::loss_series(&log.runs[0], Some("eval")),
        Ok("eval/loss")
    );
    assert_eq!(formats::loss_series(&log.runs[0], None), Ok("train/loss"));
    let out = losscast(
        dir.path(),
        &["fit", "--law", "annealing", tb, "--loss-col", "nope"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no 'nope' series") && err.contains("train/loss"),
        "{err}"
    );
}

#[test]
fn loss_and_lr_tags_in_flags_and_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let tb = data("logs/tfevents/GENERATED__llmc_main_log_steps0-1000__simple_value.tfevents");
    // `--loss TAG` and `--lr TAG` are the issue's spellings of --loss-col/--lr-col.
    let out = losscast(
        dir.path(),
        &[
            "eval",
            "--law",
            "annealing",
            "--params",
            // Parameters whose predictions stay within the plausibility gate at step 0.
            "L0=2,A=0.5,alpha=0.3,C=1",
            tb.to_str().unwrap(),
            "--loss",
            "train/loss",
            "--lr",
            "train/learning_rate",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A manifest takes `loss = ...`, `lr = ...` and `lr_shift`, recorded in the fit's notes.
    std::fs::write(
        dir.path().join("m.toml"),
        format!(
            "[[run]]\nname = \"tb\"\npath = \"{}\"\nloss = \"train/loss\"\nlr = \"train/learning_rate\"\nlr_shift = 1\nschedule = \"logged\"\nmin_step = 100\n",
            tb.display()
        ),
    )
    .unwrap();
    let out = losscast(
        dir.path(),
        &[
            "fit",
            "--law",
            "annealing",
            "--manifest",
            "m.toml",
            "--json",
            "--out",
            "f.json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = v["data"][0]["notes"].to_string();
    assert!(notes.contains("shifted by 1 step"), "{notes}");
}

#[test]
fn lightning_metrics_csv_and_llamafactory_jsonl() {
    let log = formats::read(&data(
        "logs/lightning/0Xero7_slm_training__version_0__metrics.csv",
    ))
    .unwrap();
    assert_eq!(log.format, Format::LightningCsv);
    let loss = series(&log, "train_loss_step");
    assert_eq!(loss.steps.len(), 2814); // rows with a train_loss_step cell
    assert_eq!((loss.steps[0], loss.values[0]), (49, 7.628580570220947));
    assert_eq!(series(&log, "val_loss").steps.len(), 10);
    assert_eq!(
        formats::loss_series(&log.runs[0], None),
        Ok("train_loss_step")
    );
    assert_eq!(
        formats::loss_series(&log.runs[0], Some("eval")),
        Ok("val_loss")
    );
    // `epoch` repeated with the same value in a train and a val row is not a resumed run.
    assert_eq!(series(&log, "epoch").hygiene.repeated_steps, 0);

    let log = formats::read(&data(
        "logs/llamafactory/suzushi-tw_luojiu-7b-base__trainer_log.jsonl",
    ))
    .unwrap();
    assert_eq!(log.format, Format::LlamaFactory);
    let loss = series(&log, "loss");
    assert_eq!(loss.steps.len(), 1742); // the last line's nulls are not points
    assert_eq!((loss.steps[0], loss.values[0]), (5, 1.7484));
    assert_eq!(
        (*loss.steps.last().unwrap(), *loss.values.last().unwrap()),
        (8710, 1.3703)
    );
    assert_eq!(formats::lr_series(&log.runs[0]), Some("learning_rate"));
}
