//! Property tests standing in for fuzz targets: damaged copies of the real fixtures and arbitrary
//! bytes go through the TFRecord/protobuf reader and every log parser. The property is the
//! issue's: an error that names the file, or a read, and never a panic.
//!
//! CI runs proptest's default case count; a longer campaign is
//! `PROPTEST_CASES=20000 cargo test --release --test fuzz`.

mod common;
use common::data;
use losscast::ingest::{formats, tfevents};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// The first 16 KB of each fixture: enough for every record type and line kind, small enough
/// for thousands of cases.
fn fixtures() -> &'static [Vec<u8>] {
    static F: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    F.get_or_init(|| {
        [
            "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__simple_value.tfevents",
            "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__tensor_content_f32.tfevents",
            "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__tensor_double_val.tfevents",
            "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__tensor_float_val.tfevents",
            "logs/tfevents/AchiniSNA_CryptoLLM__lightning_version_0__events.out.tfevents.1734723039.LAPTOP-DV1E1V0C",
            "logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log",
            "logs/llmc/HectorFCardenas_llm.c__gpt2_train.11685414.log",
            "logs/hf/Dheena731_tinyLlama-finetune__trainer_state.json",
            "logs/lightning/0Xero7_slm_training__version_0__metrics.csv",
            "logs/llamafactory/suzushi-tw_luojiu-7b-base__trainer_log.jsonl",
            "logs/wandb/GENERATED__llmc_wandb_chart_export.csv",
            "logs/wandb/GENERATED__llmc_wandb_history.csv",
        ]
        .iter()
        .map(|rel| {
            let b = std::fs::read(data(rel)).unwrap();
            b[..b.len().min(16 * 1024)].to_vec()
        })
        .collect()
    })
}

/// Lines in the shapes the text parsers look for, to splice into logs.
const LINES: &[&str] = &[
    "s:12 trl:3.25 lr:0.0006 norm:1.0",
    "s:12 tel:nan",
    "step   12/19560 | loss 3.251 (+nanz)| norm 1.0 | lr 6.00e-04 | 10.0 ms | 40.1% bf16 MFU | 1 tok/s",
    " iteration       10/    1000 | consumed samples: 80 | learning rate: 1.0E-04 | lm loss: 9.1E+00 |",
    "iter 10: loss 3.5, time 10.0ms, mfu 1.00%",
    "step 500: train loss 3.1, val loss 3.2",
    "{\"current_steps\": -5, \"loss\": Infinity}",
    "{\"_step\": 1e99, \"train/loss\": \"x\"}",
    ",,,,,,,,",
    "\"a - b__MIN\",\"\"\"",
    "\u{feff}\u{0}\u{7f}",
];

#[derive(Debug, Clone)]
enum Damage {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
    Zero(usize, usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Damage::Flip(i, x)),
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), 0..LINES.len()).prop_map(|(i, l)| Damage::Insert(i, l)),
        (any::<usize>(), 1..400usize).prop_map(|(i, n)| Damage::Duplicate(i, n)),
        (any::<usize>(), 1..64usize).prop_map(|(i, n)| Damage::Zero(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, d: &Damage) {
    if bytes.is_empty() {
        return;
    }
    let at = |i: usize, b: &Vec<u8>| i % b.len();
    match *d {
        Damage::Flip(i, x) => {
            let i = at(i, bytes);
            bytes[i] ^= x;
        }
        Damage::Truncate(i) => {
            let i = at(i, bytes);
            bytes.truncate(i);
        }
        Damage::Insert(i, l) => {
            let i = at(i, bytes);
            let line = format!("\n{}\n", LINES[l]);
            bytes.splice(i..i, line.bytes());
        }
        Damage::Duplicate(i, n) => {
            let i = at(i, bytes);
            let end = (i + n).min(bytes.len());
            let chunk = bytes[i..end].to_vec();
            bytes.splice(end..end, chunk);
        }
        Damage::Zero(i, n) => {
            let i = at(i, bytes);
            let end = (i + n).min(bytes.len());
            bytes[i..end].fill(0);
        }
    }
}

fn check_error_names_file(r: Result<impl Sized, losscast::error::Error>) {
    if let Err(e) = r {
        let msg = e.to_string();
        assert!(
            msg.contains("fuzz.input"),
            "error without the file name: {msg}"
        );
    }
}

proptest! {
    #[test]
    fn damaged_fixtures_never_panic(
        which in 0..12usize,
        damages in proptest::collection::vec(damage(), 1..6),
    ) {
        let mut bytes = fixtures()[which].clone();
        for d in &damages {
            apply(&mut bytes, d);
        }
        let p = Path::new("fuzz.input");
        check_error_names_file(formats::parse(p, &bytes));
        if which < 5 {
            check_error_names_file(tfevents::parse(p, &bytes));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let p = Path::new("fuzz.input");
        check_error_names_file(formats::parse(p, &bytes));
        check_error_names_file(tfevents::parse(p, &bytes));
    }

    #[test]
    fn arbitrary_text_lines_never_panic(
        lines in proptest::collection::vec(
            prop_oneof![
                (0..LINES.len()).prop_map(|i| LINES[i].to_string()),
                "[ -~]{0,80}",
            ],
            1..40,
        ),
    ) {
        let p = Path::new("fuzz.input");
        let text = lines.join("\n");
        check_error_names_file(formats::parse(p, text.as_bytes()));
    }
}
