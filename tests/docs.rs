//! What the help and the README promise is true: each command's own help text, the schedule
//! grammar and manifest keys in --help, the font inside SVG figures, figures only when asked
//! for, and README paths that exist.

mod common;
use common::{data, losscast_ok};
use std::path::Path;

fn help(cmd: &str) -> String {
    let out = losscast_ok(Path::new("."), &[cmd, "--help"]);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts_are_each_commands_own_and_carry_the_grammar() {
    let fit = help("fit");
    assert!(!fit.contains("A single log file (CSV)"), "{fit}");
    assert!(fit.contains("in any format `inspect` reads"), "{fit}");
    for cmd in ["fit", "eval", "plot"] {
        let h = help(cmd);
        assert!(h.contains("Schedules (--schedule"), "{cmd}");
        assert!(h.contains("cosine_restarts"), "{cmd}");
        assert!(h.contains("Manifests (--manifest"), "{cmd}");
        assert!(h.contains("tokens_per_step"), "{cmd}");
    }
    for cmd in ["predict", "plan"] {
        assert!(help(cmd).contains("Schedules (--schedule"), "{cmd}");
    }
    let predict = help("predict");
    for copied in ["`plot` takes several", "with --rollout"] {
        assert!(!predict.contains(copied), "predict --help: {copied}");
    }
    let optimal = help("optimal");
    for foreign in [
        "--lambda",
        "--warmup-as-peak",
        "--variable",
        "--rollout",
        "`plot`",
    ] {
        assert!(!optimal.contains(foreign), "optimal --help: {foreign}");
    }
}

#[test]
fn svg_figures_carry_their_font() {
    let dir = tempfile::tempdir().unwrap();
    let m = data("tissue2024.toml");
    losscast_ok(
        dir.path(),
        &[
            "plot",
            "--law",
            "annealing",
            "--params",
            "L0=2.6278,A=0.42966,alpha=0.54985,C=0.41077",
            "--warmup-as-peak",
            "--manifest",
            m.to_str().unwrap(),
            "--out",
            "p.svg",
        ],
    );
    let svg = std::fs::read_to_string(dir.path().join("p.svg")).unwrap();
    let face = svg.find("@font-face").expect("an embedded font");
    assert!(svg[face..].starts_with("@font-face{font-family:\"losscast-sans\""));
    assert!(
        svg.contains("src:url(data:font/ttf;base64,AAEAAA"),
        "a TrueType font"
    );
    assert!(
        svg.contains("font-family=\"losscast-sans\""),
        "text uses it"
    );
}

#[test]
fn rollout_draws_figures_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let m = data("mpl_joint.toml");
    losscast_ok(
        dir.path(),
        &[
            "eval",
            "--rollout",
            "params",
            "--law",
            "joint-additive",
            "--fix",
            "beta=0.34",
            "--manifest",
            m.to_str().unwrap(),
            "--folds",
            "1",
            "--json",
        ],
    );
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(files.is_empty(), "{files:?}");
}

/// Every `data/...` path the README names exists, so its examples run as written.
#[test]
fn readme_paths_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut checked = 0;
    for word in readme.split(|c: char| c.is_whitespace() || "`()[],;\"'".contains(c)) {
        let Some(rel) = word.strip_prefix("data/") else {
            continue;
        };
        let rel = rel.trim_end_matches(['.', ':']);
        if rel.is_empty() || rel.contains('*') || rel.contains('<') || rel.ends_with("mpl*") {
            continue;
        }
        assert!(
            root.join("data").join(rel).exists(),
            "README names data/{rel}"
        );
        checked += 1;
    }
    assert!(checked > 10, "only {checked} paths found");
}

/// The README's `inspect` example runs as written, from the repository root.
#[test]
fn readme_inspect_example_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.starts_with("losscast inspect "));
    let mut command = String::new();
    for line in lines.by_ref() {
        command.push_str(line.trim_end_matches('\\'));
        command.push(' ');
        if !line.ends_with('\\') {
            break;
        }
    }
    let args: Vec<&str> = command
        .split_whitespace()
        .skip(1)
        .filter(|a| !a.starts_with('['))
        .collect();
    assert!(args.len() >= 3, "{command}");
    losscast_ok(root, &args);
}
