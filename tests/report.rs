//! `losscast report`: a page that parses, loads nothing from the network, carries the fit
//! records themselves, stays small, and shows hostile names as text. (The browser test,
//! tests/browser/, checks that it draws and responds.)

mod common;

use common::{data, losscast, losscast_ok};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

const COSINE: &str = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000";

/// The elements of an HTML page nest properly: every element opened is closed in order, but for
/// the void elements; script and style hold raw text. Returns the first problem.
fn nesting_problem(page: &str) -> Option<String> {
    const VOID: &[&str] = &["meta", "link", "br", "hr", "img", "input", "col", "wbr"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
            continue;
        }
        if rest.starts_with("<!") {
            rest = &rest[rest.find('>')? + 1..];
            continue;
        }
        let end = rest.find('>')?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(o) if o == name.trim() => {}
                other => return Some(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            return Some(format!("a '<' that starts no tag: <{tag}>"));
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}>");
            rest = &rest[rest.find(&close)? + close.len()..];
            continue;
        }
        if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
            open.push(name);
        }
    }
    (!open.is_empty()).then(|| format!("left open: {open:?}"))
}

fn between<'a>(page: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find(start) {
        rest = &rest[i + start.len()..];
        let j = rest.find(end).expect("closed");
        out.push(&rest[..j]);
        rest = &rest[j..];
    }
    out
}

fn embedded(page: &str) -> Value {
    let json = between(
        page,
        "<script type=\"application/json\" id=\"losscast-data\">",
        "</script>",
    );
    assert_eq!(json.len(), 1);
    serde_json::from_str(json[0]).expect("the embedded JSON parses")
}

#[test]
fn the_mpl400_report_parses_loads_nothing_and_carries_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fit_file = d.join("mpl400.json");
    let manifest = data("mpl400.toml");
    let m = manifest.to_str().unwrap();
    losscast_ok(
        d,
        &["fit", "--manifest", m, "--out", fit_file.to_str().unwrap()],
    );
    let page_file = d.join("report.html");
    losscast_ok(
        d,
        &[
            "report",
            "--manifest",
            m,
            "--fit",
            fit_file.to_str().unwrap(),
            "--forecast",
            "cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000",
            "--plan",
            "--total 24000 --peak 3e-4 --warmup 2160 --families wsd,cosine",
            "--out",
            page_file.to_str().unwrap(),
        ],
    );
    let page = std::fs::read_to_string(&page_file).unwrap();
    // Within budget, and nothing fetched from anywhere.
    assert!(page.len() < 1 << 20, "{} bytes", page.len());
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert_eq!(nesting_problem(&page), None);
    // The CSP forbids every load and admits exactly the page's two scripts, by hash.
    let csp = between(
        &page,
        "http-equiv=\"Content-Security-Policy\" content=\"",
        "\"",
    )[0];
    assert!(
        csp.starts_with("default-src 'none'; script-src 'sha256-"),
        "{csp}"
    );
    let scripts: Vec<&str> = between(&page, "<script>", "</script>");
    assert_eq!(scripts.len(), 2);
    for s in scripts {
        let hash = losscast::plot::base64(&Sha256::digest(s.as_bytes()));
        assert!(
            csp.contains(&format!("'sha256-{hash}'")),
            "a script is not in the CSP"
        );
    }
    // The embedded record is the fit file's, value for value.
    let v = embedded(&page);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&fit_file).unwrap()).unwrap();
    assert_eq!(v["laws"][0]["record"], file);
    assert_eq!(v["runs"].as_array().unwrap().len(), 9);
    assert_eq!(v["laws"][0]["curves"].as_array().unwrap().len(), 9);
    assert!(v["plan"]["candidates"].as_array().unwrap().len() > 5);
    let pred = v["forecasts"][0]["by_law"][0]["predictions"]
        .as_array()
        .unwrap();
    assert_eq!(pred.last().unwrap()["step"], 72000);
    // Tables without JavaScript: the runs, parameters and metrics; a static figure.
    for t in [
        "<table class=\"runs\"",
        "<table class=\"params\"",
        "<table class=\"metrics\"",
    ] {
        assert!(page.contains(t), "{t}");
    }
    assert!(between(&page, "<noscript>", "</noscript>")[0].contains("<svg"));
    // Provenance: every run's sha256, the version and the command line.
    for run in v["runs"].as_array().unwrap() {
        assert!(page.contains(run["sha256"].as_str().unwrap()));
    }
    // The command that wrote the page, not the plan it ran inside.
    let command = v["command"].as_str().unwrap();
    assert!(command.contains("report --manifest"), "{command}");
    assert!(command.contains("--forecast"), "{command}");
}

#[test]
fn a_hostile_run_name_is_text() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = "</script><img src=x onerror=alert(1)>";
    let manifest = d.join("xss.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[run]]\nname = \"{name}\"\npath = \"{}\"\nschedule = \"{COSINE}\"\n",
            data("mpl/csv_400/cosine_24000.csv").display()
        ),
    )
    .unwrap();
    let out = d.join("xss.html");
    losscast_ok(
        d,
        &[
            "report",
            "--manifest",
            manifest.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let page = std::fs::read_to_string(&out).unwrap();
    // Nowhere in the page as markup: in tables escaped, in the JSON as \u escapes.
    assert!(!page.contains("<img"), "an <img> tag reached the page");
    assert!(!page.contains(name));
    assert!(page.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert_eq!(nesting_problem(&page), None);
    let v = embedded(&page);
    assert_eq!(v["runs"][0]["name"], name);
}

#[test]
fn a_size_law_page_has_parity_compute_and_isoflop() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let table = data("chinchilla/svg_extracted_data.csv");
    let fit_file = d.join("ch.json");
    losscast_ok(
        d,
        &[
            "fit",
            "--law",
            "chinchilla",
            table.to_str().unwrap(),
            "--drop-top-loss",
            "5",
            "--out",
            fit_file.to_str().unwrap(),
        ],
    );
    let out = d.join("ch.html");
    losscast_ok(
        d,
        &[
            "report",
            "--fit",
            fit_file.to_str().unwrap(),
            table.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.len() < 1 << 20);
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert_eq!(nesting_problem(&page), None);
    let v = embedded(&page);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&fit_file).unwrap()).unwrap();
    let z = &v["sizes"][0];
    assert_eq!(z["record"], file);
    // The fit's own points: Epoch's 240 after dropping the 5 highest losses (laws.md §3).
    assert_eq!(z["loss"].as_array().unwrap().len(), 240);
    assert_eq!(z["predicted"].as_array().unwrap().len(), 240);
    assert!(z["frontier"]["c"].as_array().unwrap().len() > 10);
    assert!(z["iso_n"].as_array().unwrap().len() >= 3);
    assert!(!z["isoflop"]["Ok"]["budgets"].as_array().unwrap().is_empty());
    // laws.md §3's optimum, as the parameter table shows it (six significant digits).
    assert!(
        page.contains("<td>1.81722</td>"),
        "E = 1.81722 is not in the table"
    );
    for id in ["chart-parity-0", "chart-compute-0", "chart-isoflop-0"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
}

#[test]
fn refusals_name_the_problem_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("r.html");
    let o = out.to_str().unwrap();
    let m = data("tissue2024.toml");
    let m = m.to_str().unwrap();
    // A size law's fit.
    let ch = d.join("ch.json");
    losscast_ok(
        d,
        &[
            "fit",
            "--law",
            "chinchilla",
            data("chinchilla/svg_extracted_data.csv").to_str().unwrap(),
            "--out",
            ch.to_str().unwrap(),
        ],
    );
    // A size law and a loss-curve law in one page.
    let anneal = d.join("a.json");
    losscast_ok(
        d,
        &["fit", "--manifest", m, "--out", anneal.to_str().unwrap()],
    );
    let r = losscast(
        d,
        &[
            "report",
            "--manifest",
            m,
            "--fit",
            ch.to_str().unwrap(),
            "--fit",
            anneal.to_str().unwrap(),
            "--out",
            o,
        ],
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("one report per kind of law"));
    // A size law over a manifest of loss curves: the table reader says why not.
    let r = losscast(
        d,
        &[
            "report",
            "--manifest",
            m,
            "--fit",
            ch.to_str().unwrap(),
            "--out",
            o,
        ],
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("a size law does not use"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    // A plan section with arguments plan refuses.
    let r = losscast(
        d,
        &[
            "report",
            "--manifest",
            m,
            "--plan",
            "--total banana",
            "--out",
            o,
        ],
    );
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("the plan section") && err.contains("banana"),
        "{err}"
    );
    assert!(!Path::new(o).exists());
}

#[test]
fn a_long_per_step_log_makes_a_small_page() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("long.csv");
    let mut text = String::from("step,loss\n");
    for s in 1..=60_000 {
        text.push_str(&format!(
            "{s},{:.6}\n",
            2.5 + 3.0 / (s as f64 / 1000.0 + 1.0).sqrt()
        ));
    }
    std::fs::write(&log, text).unwrap();
    let out = d.join("long.html");
    losscast_ok(
        d,
        &[
            "report",
            log.to_str().unwrap(),
            "--schedule",
            "cosine:peak=3e-4,end=3e-5,warmup=1000,total=60000",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.len() < 400_000, "{} bytes", page.len());
    let v = embedded(&page);
    let run = &v["runs"][0];
    // Every point counted; at most 1500 drawn, the last among them, curve and points aligned.
    assert_eq!(run["points"], 60_000);
    assert_eq!(run["step"].as_array().unwrap().len(), 1500);
    assert_eq!(run["step"].as_array().unwrap().last().unwrap(), 60_000);
    assert_eq!(
        v["laws"][0]["curves"][0]["predicted"]
            .as_array()
            .unwrap()
            .len(),
        1500
    );
}
