//! The floors of losscast, bottom to top, and the test that holds the code to them.
//!
//! A module of `src/` may import only modules on floors below its own: never one on its own
//! floor, never one above. So there is no import loop, each floor can be read, tested and
//! changed knowing only what is under it, and a newcomer can tell what may call what.
//! ARCHITECTURE.md gives each floor's purpose and each folder's job.
//!
//! This is an architecture test in the manner of ArchUnit or import-linter: it reads every
//! `crate::` path (and `super::` path that leaves its module) in `src/`, and a wrong-way import
//! fails here, naming the file, the line, the import and the rule, rather than in a review.
//! Placing a new module means adding it to [`FLOORS`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom to top. `lib.rs` and `main.rs` stand above every floor.
const FLOORS: &[(&str, &[&str])] = &[
    ("errors and exit codes", &["error"]),
    (
        "numbers as people read them, the step limit, grouping",
        &["base"],
    ),
    (
        "logs and tables, in every format, become frames",
        &["ingest"],
    ),
    (
        "LR schedules; a command's output files",
        &["schedule", "output"],
    ),
    (
        "manifests; a log joined with its schedule is a run",
        &["runs"],
    ),
    (
        "the laws; tables of finished runs and IsoFLOP",
        &["law", "sizes"],
    ),
    ("fitting a law, and the fit record", &["fit"]),
    (
        "forecasts from a fit: curves, intervals, extrapolation",
        &["forecast"],
    ),
    (
        "evaluation: backtests, comparisons, rollouts, calibration",
        &["backtest"],
    ),
    ("figures", &["plot"]),
    (
        "what users run: schedule plans, watching a run, the HTML report, the benchmark",
        &["plan", "watch", "report", "benchmark"],
    ),
    ("the command line", &["cli"]),
];

/// Files longer than this are split by what their parts do.
const MAX_LINES: usize = 800;

/// The floor of every top-level module.
fn floor_of() -> BTreeMap<&'static str, usize> {
    FLOORS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, mods))| mods.iter().map(move |m| (*m, i)))
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/`: `src/fit/record/mod.rs` is `[fit, record]`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a Rust file with comments and string and char literals blanked (line breaks
/// kept), so that `crate::` in a doc comment or a message is not read as an import.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|&c| if c == '\n' { '\n' } else { ' ' }))
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < chars.len() {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (i == 0 || !ident(chars[i - 1]) || chars[i - 1] == 'b') && {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            chars.get(i + 1 + hashes) == Some(&'"')
        } {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            i += 2 + hashes;
            while i < chars.len() && !at(i, &close) {
                i += 1;
            }
            i += close.len();
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' && chars.get(i + 1) == Some(&'\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
        } else {
            out.push(c);
            i += 1;
            continue;
        }
        let end = i.min(chars.len());
        blank(&mut out, &chars[start..end]);
    }
    out
}

/// Every path that leaves its file's top-level module: the module it names and the line.
/// `crate::a::b`, each element of `crate::{a::b, c}`, and `super::` chains that climb past
/// the top-level module.
fn imports(file: &Path) -> Vec<(String, usize)> {
    imports_in(&std::fs::read_to_string(file).unwrap(), &module_path(file))
}

fn imports_in(text: &str, module: &[String]) -> Vec<(String, usize)> {
    let code = code_only(text);
    let line_of = |pos: usize| code[..pos].matches('\n').count() + 1;
    let first_segments = |rest: &str| -> Vec<String> {
        let rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut element, mut out) = (0, String::new(), Vec::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => out.push(std::mem::take(&mut element)),
                    _ if depth == 0 => element.push(c),
                    _ => {}
                }
            }
            out.push(element);
            out.iter()
                .filter_map(|e| e.split("::").next().map(|s| s.trim().to_string()))
                .filter(|s| !s.is_empty() && s != "self")
                .collect()
        } else {
            let name: String = rest
                .chars()
                .take_while(|&c| c.is_alphanumeric() || c == '_')
                .collect();
            vec![name]
        }
    };
    let mut out = Vec::new();
    for (pos, _) in code.match_indices("crate::") {
        let before = code[..pos].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        for name in first_segments(&code[pos + "crate::".len()..]) {
            out.push((name, line_of(pos)));
        }
    }
    // `super::` inside an inline `mod tests { .. }` names the file's own module.
    let inline_modules = inline_module_spans(&code);
    for (pos, _) in code.match_indices("super::") {
        let before = code[..pos].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let climbs = code.as_bytes()[pos..]
            .chunks(7)
            .take_while(|c| *c == b"super::")
            .count();
        let depth = module.len() + inline_modules.iter().filter(|r| r.contains(&pos)).count();
        if climbs >= depth {
            let rest = &code[pos + 7 * climbs..];
            for name in first_segments(rest) {
                out.push((name, line_of(pos)));
            }
        }
    }
    out
}

/// The byte spans of the inline modules (`mod name { .. }`) of a file's code.
fn inline_module_spans(code: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for (pos, _) in code.match_indices("mod ") {
        if pos > 0 && (bytes[pos - 1].is_ascii_alphanumeric() || bytes[pos - 1] == b'_') {
            continue;
        }
        let rest = &code[pos + 4..];
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let Some(open) = rest[name_len..].trim_start().strip_prefix('{') else {
            continue; // `mod name;`: a file of its own
        };
        let start = code.len() - open.len();
        let mut depth = 1;
        let mut end = start;
        for (i, c) in open.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = start + i;
                break;
            }
        }
        out.push(start..end);
    }
    out
}

/// The floor a path's first segment stands on: a module's, or for an item of `lib.rs`
/// (`crate::Error`, `crate::Result`, `crate::VERSION`: re-exports of `error` and the version)
/// the ground floor.
fn floor_of_import(name: &str, floors: &BTreeMap<&str, usize>) -> Option<usize> {
    match floors.get(name) {
        Some(&f) => Some(f),
        None if name.starts_with(|c: char| c.is_uppercase()) => Some(0),
        None => None,
    }
}

fn describe(floor: usize) -> String {
    format!("floor {floor}: {}", FLOORS[floor].0)
}

#[test]
fn every_module_imports_only_the_floors_below_its_own() {
    let floors = floor_of();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let module = module_path(file);
        let Some(own) = module.first().and_then(|m| floors.get(m.as_str()).copied()) else {
            continue; // lib.rs, main.rs: the roof, checked by every_module_has_a_floor
        };
        for (name, line) in imports(file) {
            if name == module[0] {
                continue;
            }
            let rel = file.strip_prefix(src().parent().unwrap()).unwrap();
            match floor_of_import(&name, &floors) {
                Some(f) if f < own => {}
                Some(f) => wrong.push(format!(
                    "{}:{line}: {} ({}) imports {name} ({}), which is not below it",
                    rel.display(),
                    module[0],
                    describe(own),
                    describe(f)
                )),
                None => wrong.push(format!(
                    "{}:{line}: imports crate::{name}, which no floor holds",
                    rel.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "a module may import only modules on floors below its own (tests/layers.rs, \
         ARCHITECTURE.md). Move the item down to a floor both can see, or have the caller above \
         pass it in:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_has_a_floor_and_a_folder() {
    let floors = floor_of();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_file() && !["lib", "main", "error"].contains(&name.as_str()) {
            panic!(
                "src/{name}.rs sits at the root of src/: give it a folder (src/{name}/mod.rs) or \
                 move it into the folder whose job it shares"
            );
        }
        if name != "lib" && name != "main" {
            assert!(
                floors.contains_key(name.as_str()),
                "module {name} has no floor: add it to FLOORS in tests/layers.rs, where its \
                 imports put it, and to ARCHITECTURE.md"
            );
            found.push(name);
        }
    }
    for name in floors.keys() {
        assert!(
            found.iter().any(|f| f == name),
            "FLOORS lists {name}, which src/ lacks"
        );
    }
}

#[test]
fn source_files_stay_short() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by what their parts do (at most {MAX_LINES} lines): {long:?}"
    );
}

#[test]
fn the_reader_sees_through_comments_strings_and_groups() {
    let module = |m: &[&str]| m.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let found = |text: &str, m: &[&str]| -> Vec<String> {
        imports_in(text, &module(m))
            .into_iter()
            .map(|(name, line)| format!("{name}@{line}"))
            .collect()
    };
    let text = "let s = \"crate::cli\"; // crate::plot\nlet c = '\"'; let r = r#\"crate::x\"#;\n\
                use crate::{fit::FitRecord, law::{self, Law}, Error};\nfn f() { crate::plot::x(); }";
    assert_eq!(
        found(text, &["ingest", "table"]),
        ["fit@3", "law@3", "Error@3", "plot@4"]
    );
    // `super::` within the module is the module's own business; past its top it is an import.
    let text = "use super::super::plot::Figure;\nuse super::columns;";
    assert!(found(text, &["ingest", "formats", "hf"]).is_empty());
    assert_eq!(found(text, &["ingest", "table"]), ["plot@1"]);
    let text = "mod tests {\n    use super::*;\n    use super::super::fit::x;\n}\nuse super::plot;";
    assert_eq!(found(text, &["output"]), ["fit@3", "plot@5"]);
}
