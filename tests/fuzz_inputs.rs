//! Fuzz targets for everything else a user types or hands over: schedule specs, `--steps`,
//! `--where`, manifests, plain CSV logs (with their schedule), `file:` LR files, size tables and
//! fit files. Inputs are grammar-aware (real keys, extreme numbers, huge steps) or damaged copies
//! of the bundled files. The property: a value or a bad-input error (exit code 2) that names the
//! input, never a panic, and never an allocation sized by a step beyond the limit.
//!
//! CI runs proptest's default case count; the campaign in the note is
//! `PROPTEST_CASES=1000000 cargo test --release --test fuzz_inputs -- --test-threads 2`.

mod common;
use common::data;
use losscast::error::Error;
use losscast::fit::FitRecord;
use losscast::forecast::predict;
use losscast::ingest::condition::Condition;
use losscast::ingest::table::{read_table, TableColumns};
use losscast::ingest::{read_log, read_lr_array, ReadOptions};
use losscast::runs::{self, manifest};
use losscast::schedule;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Numbers as users mistype them.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "3e-4",
    "3e-5",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    "24000",
    "2160",
    "1e12",
    "1e15",
    "18446744073709551616",
    "0.5",
    "1.5",
    "2.4e4",
    "",
    "abc",
    "1,2",
    "1e",
    "20000000",
    "20000001",
    "9e18",
];
const KINDS: &[&str] = &[
    "constant",
    "cosine",
    "linear",
    "wsd",
    "steps",
    "rsqrt",
    "poly",
    "exp",
    "cosine_restarts",
    "file",
    "logged",
    "cosin",
    "",
];
const KEYS: &[&str] = &[
    "peak",
    "end",
    "warmup",
    "total",
    "decay_start",
    "shape",
    "drops",
    "timescale",
    "power",
    "gamma",
    "every",
    "staircase",
    "cycles",
    "mult",
    "wamup",
];
const WORDS: &[&str] = &[
    "exp",
    "linear",
    "cosine",
    "sqrt",
    "true",
    "false",
    "8000@9e-5;12000@3e-5",
    "5@0.1;4@0.01",
    "100@1e308",
    "1e12@1e-4",
    "@",
    ";",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..NUMBERS.len()).prop_map(|i| NUMBERS[i].to_string()),
        (0..WORDS.len()).prop_map(|i| WORDS[i].to_string()),
        any::<f64>().prop_map(|x| format!("{x:e}")),
        any::<u64>().prop_map(|x| x.to_string()),
    ]
}

fn spec() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            0..KINDS.len(),
            proptest::collection::vec((0..KEYS.len(), value()), 0..8)
        )
            .prop_map(|(k, kv)| {
                let keys: Vec<String> = kv
                    .into_iter()
                    .map(|(key, v)| format!("{}={v}", KEYS[key]))
                    .collect();
                format!("{}:{}", KINDS[k], keys.join(","))
            }),
        "[ -~]{0,60}",
    ]
}

/// Bad input must be bad input, and must say what it was about.
fn bad_input(r: Result<impl Sized, Error>, names: &str) {
    if let Err(e) = r {
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains(names), "{names} not in: {e}");
    }
}

/// A scratch file per test thread, rewritten for every case.
fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let thread = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    dir.path().join(format!("{thread}-{name}"))
}

fn head_of(rel: &str, n: usize) -> Vec<u8> {
    let b = std::fs::read(data(rel)).unwrap();
    b[..b.len().min(n)].to_vec()
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, String),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Edit::Flip(i, x)),
        any::<usize>().prop_map(Edit::Truncate),
        (
            any::<usize>(),
            prop_oneof![
                value(),
                Just("\n".to_string()),
                Just(",".to_string()),
                Just("\"".to_string()),
                Just("\n1000000000000,2.5,3e-4\n".to_string()),
                Just("\n5,2.5,-4.2e-22\n".to_string()),
                Just("[[run]]\nname=\"x\"\npath=\"x\"\n".to_string()),
                Just("= \"file:lr.csv\"".to_string()),
            ]
        )
            .prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<usize>(), 1..40usize).prop_map(|(i, n)| Edit::Delete(i, n)),
    ]
}

fn edited(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        if bytes.is_empty() {
            break;
        }
        let at = |i: usize, b: &Vec<u8>| i % b.len();
        match e {
            Edit::Flip(i, x) => {
                let i = at(*i, &bytes);
                bytes[i] ^= x;
            }
            Edit::Truncate(i) => {
                let i = at(*i, &bytes);
                bytes.truncate(i);
            }
            Edit::Insert(i, s) => {
                let i = at(*i, &bytes);
                bytes.splice(i..i, s.bytes());
            }
            Edit::Delete(i, n) => {
                let i = at(*i, &bytes);
                let end = (i + n).min(bytes.len());
                bytes.drain(i..end);
            }
        }
    }
    bytes
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(edit(), 1..5)
}

proptest! {
    /// Specs parse, or are refused quoting the spec; a parsed spec prints back to itself and
    /// gives finite, non-negative LRs.
    #[test]
    fn schedule_specs(text in spec()) {
        match schedule::parse(&text, Path::new("/nonexistent")) {
            Ok(s) => {
                let printed = s.to_string();
                let again = schedule::parse(&printed, Path::new("/nonexistent")).unwrap();
                prop_assert_eq!(&again, &s, "{} -> {}", text, printed);
                let n = (s.total_steps() as usize + 2).min(4096);
                prop_assert!(s.lr_array(n).iter().all(|x| x.is_finite() && *x >= 0.0), "{}", text);
            }
            Err(e) => {
                prop_assert_eq!(e.exit_code(), 2);
                let msg = e.to_string();
                prop_assert!(msg.contains(text.trim()) || msg.contains("file"), "{}", msg);
            }
        }
    }

    #[test]
    fn steps_lists(text in prop_oneof![
        proptest::collection::vec(value(), 1..5).prop_map(|v| v.join(",")),
        (value(), value(), value()).prop_map(|(a, b, c)| format!("{a}:{b}:{c}")),
        "[ -~]{0,30}",
    ]) {
        match predict::parse_steps(&text) {
            Ok(steps) => prop_assert!(
                !steps.is_empty()
                    && steps.iter().all(|&s| (0..=losscast::base::limits::MAX_STEPS as i64).contains(&s))
            ),
            Err(e) => prop_assert_eq!(e.exit_code(), 2),
        }
    }

    #[test]
    fn where_conditions(text in prop_oneof![
        (value(), prop_oneof![Just("="), Just("!="), Just("<="), Just(">"), Just("=<")], value())
            .prop_map(|(a, op, b)| format!("{a}{op}{b}")),
        "[ -~]{0,30}",
    ]) {
        if let Err(e) = Condition::parse(&text) {
            prop_assert_eq!(e.exit_code(), 2);
        }
    }

    /// Damaged manifests: an error naming the manifest; loading each run of a manifest that
    /// parses never panics or aborts.
    #[test]
    fn manifests(ed in edits()) {
        let text = edited(head_of("mpl400.toml", 4096), &ed);
        // Beside a link to the bundled curves, so the manifest's relative paths resolve
        // without writing into the repository.
        let path = scratch("fuzz.toml");
        let link = path.with_file_name("mpl");
        if !link.exists() {
            let _ = std::os::unix::fs::symlink(data("mpl"), &link);
        }
        std::fs::write(&path, &text).unwrap();
        let loaded = manifest::load(&path);
        match loaded {
            Ok(specs) => {
                for s in specs.iter().take(2) {
                    if let Err(e) = runs::load(s) {
                        prop_assert_eq!(e.exit_code(), 2, "{}", e);
                    }
                }
            }
            Err(e) => {
                prop_assert_eq!(e.exit_code(), 2);
                prop_assert!(e.to_string().contains("fuzz.toml"), "{}", e);
            }
        }
    }

    /// Damaged plain CSV logs, read with a schedule and with their own LR.
    #[test]
    fn csv_logs(ed in edits(), with_schedule in any::<bool>()) {
        let bytes = edited(head_of("mpl/csv_25/cosine_24000.csv", 3000), &ed);
        let path = scratch("log.csv");
        std::fs::write(&path, &bytes).unwrap();
        bad_input(read_log(&path, &ReadOptions::default()), "log.csv");
        let spec = manifest::RunSpec {
            schedule: with_schedule
                .then(|| "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000".into()),
            ..manifest::RunSpec::for_log(&path)
        };
        if let Err(e) = runs::load(&spec) {
            prop_assert_eq!(e.exit_code(), 2, "{}", e);
        }
    }

    /// Damaged `file:` LR files.
    #[test]
    fn lr_files(ed in edits()) {
        let mut csv = String::from("step,lr\n");
        for s in 0..200 {
            csv += &format!("{s},{:e}\n", 3e-4 * (1.0 - s as f64 / 200.0));
        }
        let path = scratch("lr.csv");
        std::fs::write(&path, edited(csv.into_bytes(), &ed)).unwrap();
        match read_lr_array(&path, None) {
            Ok((lr, _)) => prop_assert!(
                lr.iter().all(|x| x.is_finite() && *x >= 0.0)
                    && lr.len() as u64 <= losscast::base::limits::MAX_STEPS + 1
            ),
            Err(e) => {
                prop_assert_eq!(e.exit_code(), 2);
                prop_assert!(e.to_string().contains("lr.csv"), "{}", e);
            }
        }
    }

    /// Damaged size tables.
    #[test]
    fn tables(ed in edits()) {
        let bytes = edited(head_of("chinchilla/svg_extracted_data.csv", 3000), &ed);
        let path = scratch("table.csv");
        std::fs::write(&path, &bytes).unwrap();
        bad_input(read_table(&path, &TableColumns::default()), "table.csv");
    }

    /// Damaged fit files: refused naming the file, or a law whose parameters pass the domain
    /// check and forecast without a panic.
    #[test]
    fn fit_files(ed in edits()) {
        let bytes = edited(fit_file().to_vec(), &ed);
        let path = scratch("fit.json");
        std::fs::write(&path, &bytes).unwrap();
        match FitRecord::load(&path) {
            Ok(rec) => {
                if let Ok(law) = rec.build_law() {
                    if let Ok(p) = rec.param_vector(law.as_ref()) {
                        let s = schedule::parse(
                            "cosine:peak=3e-4,end=3e-5,warmup=100,total=1000",
                            Path::new(""),
                        )
                        .unwrap();
                        let _ = predict::predict(law.as_ref(), &p, &s, &[500, 1000], None);
                    }
                }
            }
            Err(e) => {
                prop_assert_eq!(e.exit_code(), 2);
                prop_assert!(e.to_string().contains("fit.json"), "{}", e);
            }
        }
    }
}

/// A real fit record to damage: the published Tissue et al. fit, as `fit` writes it.
fn fit_file() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| {
        let runs = common::load_manifest("tissue2024.toml");
        let law = losscast::law::build(
            "annealing",
            losscast::law::LawOptions {
                warmup_as_peak: true,
                ..Default::default()
            },
        )
        .unwrap();
        let rec = losscast::fit::fit(law.as_ref(), &runs, &Default::default()).unwrap();
        rec.to_bytes().unwrap()
    })
}
