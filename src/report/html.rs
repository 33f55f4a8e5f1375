//! The report page. Safe by construction: every text from a file (run names, paths, notes) goes
//! through [`esc`] into the markup, the data goes in as JSON with `<`, `>` and `&` escaped (so no
//! value can close its `<script>` element), and the page's own script only ever sets
//! `textContent`. A Content-Security-Policy allows the two inline scripts by hash and nothing
//! from the network.

use super::{Flag, LawSection, ReportData};
use crate::base::numbers;
use crate::error::Result;
use crate::runs::manifest::Role;
use sha2::{Digest, Sha256};

const UPLOT_JS: &str = include_str!("../../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/uplot/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("../../assets/uplot/LICENSE");
const REPORT_JS: &str = include_str!("../../assets/report/report.js");
const REPORT_CSS: &str = include_str!("../../assets/report/report.css");

/// A static figure for readers without JavaScript (and for print).
pub struct StaticFigure {
    pub caption: String,
    /// SVG markup from plotters.
    pub svg: String,
}

/// HTML-escape text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Direction controls and invisible marks are spelt out: U+202E would show a run
            // named "evil" as "live".
            '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}' => out.push_str(&format!("&lt;U+{:04X}&gt;", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// JSON that can sit inside `<script type="application/json">`: `<`, `>` and `&` (and the two
/// line separators JavaScript treats as newlines) as `\u` escapes, which JSON.parse reads back.
pub fn script_json<T: serde::Serialize>(value: &T) -> Result<String> {
    let text = serde_json::to_string(value)
        .map_err(|e| crate::error::Error::failed(format!("cannot encode the report: {e}")))?;
    Ok(text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029"))
}

/// The uPlot bundle without its banner comment: the banner's address is the only URL in it, and
/// a page whose text holds no `http(s)://` at all is easy to check. The licence notice, with the
/// project's name and version, is kept in the page.
fn uplot_js() -> &'static str {
    match UPLOT_JS.strip_prefix("/*! https://github.com/leeoniya/uPlot (v1.6.32) */") {
        Some(rest) => rest.trim_start(),
        None => UPLOT_JS,
    }
}

fn csp_hash(script: &str) -> String {
    format!(
        "'sha256-{}'",
        crate::plot::base64(&Sha256::digest(script.as_bytes()))
    )
}

fn table(head: &[&str], rows: &[Vec<String>], class: &str) -> String {
    let mut s = format!("<table class=\"{class}\"><thead><tr>");
    for h in head {
        s.push_str(&format!("<th>{}</th>", esc(h)));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            s.push_str(&format!("<td>{c}</td>"));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

fn flags_html(flags: &[Flag]) -> String {
    if flags.is_empty() {
        return "<p class=\"ok\">No warnings: every fit is trustworthy, and no forecast leaves \
                what its fit saw.</p>"
            .into();
    }
    let mut s = String::from("<ul class=\"flags\">");
    for f in flags {
        s.push_str(&format!(
            "<li class=\"{}\"><b>{}</b> {}</li>",
            esc(&f.level),
            esc(&f.level),
            esc(&f.text)
        ));
    }
    s.push_str("</ul>");
    s
}

fn runs_html(data: &ReportData) -> String {
    let rows: Vec<Vec<String>> = data
        .runs
        .iter()
        .map(|r| {
            vec![
                esc(&r.name),
                esc(&format!("{:?}", r.role).to_lowercase()),
                r.points.to_string(),
                format!(
                    "{}–{}",
                    r.first_step.map_or("–".into(), |s| s.to_string()),
                    r.last_step.map_or("–".into(), |s| s.to_string())
                ),
                format!("<code>{}</code>", esc(&r.schedule)),
                esc(match r.lr_source {
                    crate::runs::LrSource::Schedule => "schedule spec",
                    crate::runs::LrSource::LogPerStep => "log, every step",
                    crate::runs::LrSource::LogInterpolated => "log, interpolated",
                }),
                esc(&r
                    .notes
                    .iter()
                    .chain(&r.warnings)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")),
            ]
        })
        .collect();
    table(
        &[
            "run", "role", "points", "steps", "schedule", "LR from", "notes",
        ],
        &rows,
        "runs",
    )
}

/// Parameters with their 90 % interval: the bootstrap's percentile interval where the fit has
/// one, else the Laplace covariance's normal interval.
fn params_html(rec: &crate::fit::FitRecord) -> String {
    let law = rec.build_law().ok();
    let names: Vec<String> = match &law {
        Some(l) => l.param_names().iter().map(|n| n.to_string()).collect(),
        None => rec.params.keys().cloned().collect(),
    };
    let values: Vec<f64> = names.iter().map(|n| rec.params[n]).collect();
    let (lo, hi, what): (Vec<Option<f64>>, Vec<Option<f64>>, String) =
        match (&rec.bootstrap, &rec.laplace) {
            (Some(b), _) => (
                names
                    .iter()
                    .map(|n| b.intervals.get(n).map(|i| i[0]))
                    .collect(),
                names
                    .iter()
                    .map(|n| b.intervals.get(n).map(|i| i[1]))
                    .collect(),
                format!("{:.0} % bootstrap interval", 100.0 * b.level),
            ),
            (None, Some(l)) if l.covariance.len() == names.len() => {
                let z = crate::base::stats::normal_quantile(0.95);
                let sd: Vec<f64> = (0..names.len())
                    .map(|i| l.covariance[i][i].max(0.0).sqrt())
                    .collect();
                (
                    values
                        .iter()
                        .zip(&sd)
                        .map(|(v, s)| Some(v - z * s))
                        .collect(),
                    values
                        .iter()
                        .zip(&sd)
                        .map(|(v, s)| Some(v + z * s))
                        .collect(),
                    "90 % interval (Laplace)".into(),
                )
            }
            _ => (
                vec![None; names.len()],
                vec![None; names.len()],
                "interval".into(),
            ),
        };
    let rel = |n: &str| rec.relative_errors.get(n).copied().flatten();
    let rows: Vec<Vec<String>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut flags = Vec::new();
            if rec.at_bound.contains(n) {
                flags.push("at a bound");
            }
            if rec.unidentified.contains(n) {
                flags.push("unidentified");
            }
            // Values to six digits (they get copied into other tools); an interval to the digits
            // that tell its ends from the value.
            let d = match (lo[i], hi[i]) {
                (Some(a), Some(b)) => numbers::digits_for(&[a, values[i], b]),
                _ => 3,
            };
            vec![
                format!("<code>{}</code>", esc(n)),
                numbers::sig(values[i], 6),
                match (lo[i], hi[i]) {
                    (Some(a), Some(b)) => {
                        format!("[{}, {}]", numbers::sig(a, d), numbers::sig(b, d))
                    }
                    _ => "–".into(),
                },
                rel(n).map_or("–".into(), |r| {
                    format!("{} %", numbers::sig(100.0 * r, 3))
                }),
                esc(&flags.join(", ")),
            ]
        })
        .collect();
    table(
        &["parameter", "value", &what, "rel. s.e.", ""],
        &rows,
        "params",
    )
}

fn fit_facts_html(r: &crate::fit::FitRecord) -> String {
    format!(
        "<p class=\"facts\">Objective (Huber on log residuals) <b>{}</b> over {} points; \
         {}converged{}; <b>{:.0} %</b> of {} starts reached the best optimum; {}.</p>",
        numbers::sig(r.objective, 5),
        r.points_used,
        if r.converged { "" } else { "<b>not</b> " },
        if r.termination == "converged" {
            String::new()
        } else {
            format!(" ({})", esc(&r.termination))
        },
        100.0 * r.starts_at_best,
        r.starts,
        if r.trustworthy {
            "trustworthy".to_string()
        } else {
            "<b class=\"bad\">not trustworthy</b>".to_string()
        }
    )
}

fn metrics_html(s: &LawSection) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut roles: Vec<String> = Vec::new();
    let mut cols: [Vec<f64>; 4] = Default::default();
    let mut push = |name: String, role: String, m: &crate::fit::metrics::Metrics| {
        names.push(name);
        roles.push(role);
        cols[0].push(m.r2);
        cols[1].push(m.mae);
        cols[2].push(m.pred_e);
        cols[3].push(m.worst_e);
    };
    for m in &s.metrics {
        push(
            esc(&m.name),
            format!("{:?}", m.role).to_lowercase(),
            &m.metrics,
        );
    }
    if let Some(m) = &s.fit_mean {
        push("<b>mean, fit runs</b>".into(), "fit".into(), m);
    }
    if let Some(m) = &s.test_mean {
        push("<b>mean, test runs</b>".into(), "test".into(), m);
    }
    let r2 = numbers::column(&cols[0]);
    let mae = numbers::column(&cols[1]);
    let pred = numbers::percent_column(&cols[2]);
    let worst = numbers::percent_column(&cols[3]);
    let rows: Vec<Vec<String>> = (0..names.len())
        .map(|i| {
            vec![
                names[i].clone(),
                roles[i].clone(),
                r2[i].clone(),
                mae[i].clone(),
                pred[i].clone(),
                worst[i].clone(),
            ]
        })
        .collect();
    table(
        &["run", "role", "R²", "MAE (loss)", "PredE", "WorstE"],
        &rows,
        "metrics",
    )
}

fn json_table(rows: &[serde_json::Value], keys: &[(&str, &str)]) -> String {
    let cols: Vec<Vec<String>> = keys
        .iter()
        .map(|(k, _)| {
            let nums: Vec<f64> = rows.iter().filter_map(|r| r[*k].as_f64()).collect();
            let d = numbers::digits_for(&nums);
            rows.iter()
                .map(|r| match &r[*k] {
                    serde_json::Value::Number(n) => match n.as_i64() {
                        Some(i) => i.to_string(),
                        None => numbers::sig(n.as_f64().unwrap_or(f64::NAN), d),
                    },
                    serde_json::Value::String(s) => esc(s),
                    serde_json::Value::Bool(b) => (if *b { "yes" } else { "" }).into(),
                    serde_json::Value::Array(a) => esc(&a
                        .iter()
                        .map(|v| v.as_str().map_or(v.to_string(), String::from))
                        .collect::<Vec<_>>()
                        .join("; ")),
                    serde_json::Value::Null => "–".into(),
                    other => esc(&other.to_string()),
                })
                .collect()
        })
        .collect();
    let rows_out: Vec<Vec<String>> = (0..rows.len())
        .map(|i| cols.iter().map(|c| c[i].clone()).collect())
        .collect();
    let head: Vec<&str> = keys.iter().map(|(_, h)| *h).collect();
    table(&head, &rows_out, "json")
}

fn backtest_html(b: &serde_json::Value) -> String {
    let summary: Vec<serde_json::Value> = b["summary"].as_array().cloned().unwrap_or_default();
    let mut s = String::from(
        "<section id=\"backtest\"><h2>Backtest: held-out forecasts on these runs</h2>\
         <p>Each fold hides part of the runs (a schedule, the longer horizons, the rest of a run, \
         the larger models), fits the rest and scores the forecast of what was hidden. PredE is \
         the mean relative error of the held-out points.</p>",
    );
    s.push_str(&json_table(
        &summary,
        &[
            ("task", "task"),
            ("method", "law"),
            ("folds", "folds"),
            ("pred_e", "PredE"),
            ("worst_e", "WorstE"),
            ("final_err", "final-point error"),
            ("best", "best"),
        ],
    ));
    if let Some(cal) = b["calibration"].as_array().filter(|c| !c.is_empty()) {
        s.push_str("<h3>Coverage of 90 % intervals on the held-out folds</h3>");
        s.push_str(&json_table(
            cal,
            &[
                ("task", "task"),
                ("method", "law"),
                ("folds", "folds"),
                ("point_coverage", "points inside"),
                ("final_coverage", "finals inside"),
                ("mean_half_width", "mean half-width"),
            ],
        ));
    }
    s.push_str("</section>");
    s
}

fn plan_html(p: &serde_json::Value) -> String {
    // A gap inside the law's error gets a word, not a percentage.
    let cands: Vec<serde_json::Value> = p["candidates"]
        .as_array()
        .map(|c| {
            c.iter()
                .take(15)
                .enumerate()
                .map(|(i, c)| {
                    let mut c = c.clone();
                    if i > 0 && c["indistinct"] == serde_json::Value::Bool(true) {
                        c["p_beats_best"] = "indistinguishable".into();
                    }
                    c
                })
                .collect()
        })
        .unwrap_or_default();
    let mut s = format!(
        "<section id=\"plan\"><h2>Plan: schedules ranked by predicted final loss</h2>\
         <p>{} law, {} steps, peak LR {}, warmup {}. The interval is the fit's 90 % forecast \
         interval; P(beats #1) is the chance the candidate beats the first, over parameter draws \
         and the law's own error on schedule differences; where that chance is 5 % or more the \
         two are indistinguishable.</p>",
        esc(p["law"].as_str().unwrap_or("")),
        p["total"],
        p["peak"],
        p["warmup"],
    );
    s.push_str(&json_table(
        &cands,
        &[
            ("spec", "schedule"),
            ("final_loss_pred", "final loss"),
            ("lo", "lo"),
            ("hi", "hi"),
            ("p_beats_best", "P(beats #1)"),
            ("extrapolation", "extrapolates"),
            ("reasons", "why"),
        ],
    ));
    s.push_str("<div class=\"chart\" id=\"chart-plan\"></div></section>");
    s
}

fn forecasts_html(data: &ReportData) -> String {
    if data.forecasts.is_empty() {
        return String::new();
    }
    let mut s = String::from("<section id=\"forecasts\"><h2>Forecasts</h2>");
    for (k, f) in data.forecasts.iter().enumerate() {
        s.push_str(&format!("<h3><code>{}</code></h3>", esc(&f.schedule)));
        let rows: Vec<Vec<String>> = f
            .by_law
            .iter()
            .zip(&data.laws)
            .map(|(p, l)| {
                let last = p["predictions"]
                    .as_array()
                    .and_then(|a| a.last())
                    .cloned()
                    .unwrap_or_default();
                let num = |k: &str| last[k].as_f64().map_or("–".into(), |v| numbers::sig(v, 5));
                vec![
                    esc(&l.law),
                    last["step"].to_string(),
                    num("loss_pred"),
                    format!("[{}, {}]", num("lo"), num("hi")),
                    esc(&p["warnings"]
                        .as_array()
                        .map(|w| {
                            w.iter()
                                .filter_map(|x| x.as_str())
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .unwrap_or_default()),
                ]
            })
            .collect();
        s.push_str(&table(
            &["law", "final step", "loss", "90 % interval", "warnings"],
            &rows,
            "forecast",
        ));
        s.push_str(&format!(
            "<div class=\"chart\" id=\"chart-forecast-{k}\"></div>"
        ));
    }
    s.push_str("</section>");
    s
}

/// The static figures a reader without JavaScript sees in place of the charts.
fn noscript_figures(figs: Option<&[StaticFigure]>) -> String {
    let Some(figs) = figs else {
        return String::new();
    };
    let mut out = String::from("<noscript>");
    for f in figs {
        out.push_str(&format!(
            "<figure class=\"static\">{}<figcaption>{}</figcaption></figure>",
            f.svg,
            esc(&f.caption)
        ));
    }
    out.push_str("</noscript>");
    out
}

fn size_html(i: usize, s: &super::size::SizeSection, figs: Option<&Vec<StaticFigure>>) -> String {
    let mut out = format!(
        "<section class=\"size\" id=\"size-{i}\"><h2>Size law: {}</h2>",
        esc(&s.law)
    );
    out.push_str(&fit_facts_html(&s.record));
    out.push_str(&params_html(&s.record));
    {
        let m = &s.record.metrics.fit_mean;
        out.push_str(&format!(
            "<p>Over the {} fitted points: R² {}, MAE {} (loss), PredE {}, WorstE {}.</p>",
            s.loss.len(),
            numbers::sig(m.r2, 5),
            numbers::sig(m.mae, 3),
            numbers::percent_column(&[m.pred_e])[0],
            numbers::percent_column(&[m.worst_e])[0]
        ));
    }
    out.push_str(&format!(
        "<h3>Predicted against observed loss</h3><div class=\"chart\" id=\"chart-parity-{i}\">\
         </div><h3>Loss against compute C = 6ND: iso-N curves{}</h3><div class=\"chart\" \
         id=\"chart-compute-{i}\"></div>",
        if s.frontier.is_some() {
            " and the compute-optimal frontier"
        } else {
            ""
        }
    ));
    match &s.isoflop {
        Ok(iso) => {
            out.push_str(
                "<h3>IsoFLOP analysis</h3><p>The points grouped into compute budgets; a \
                 parabola in ln N around each budget's lowest loss gives N_opt, and N_opt ∝ \
                 C^a across budgets.</p>",
            );
            let rows: Vec<serde_json::Value> = iso
                .budgets
                .iter()
                .map(|b| {
                    serde_json::json!({
                        "compute": b.compute, "points": b.n.len(),
                        "n_opt": b.parabola.as_ref().and_then(|p| p.n_opt),
                        "loss_opt": b.parabola.as_ref().and_then(|p| p.loss_opt),
                        "why": b.parabola.as_ref().and_then(|p| p.reason.clone()),
                    })
                })
                .collect();
            out.push_str(&json_table(
                &rows,
                &[
                    ("compute", "budget C (FLOP)"),
                    ("points", "points"),
                    ("n_opt", "N_opt"),
                    ("loss_opt", "loss at N_opt"),
                    ("why", "no optimum because"),
                ],
            ));
            if let Some(sc) = &iso.parabola {
                out.push_str(&format!(
                    "<p>N_opt ∝ C^<b>{}</b>{} and D_opt ∝ C^<b>{}</b> over {} budgets (R² {}).</p>",
                    numbers::sig(sc.n_opt.exponent, 4),
                    sc.n_opt
                        .exponent_stderr
                        .map_or(String::new(), |e| format!(" ± {}", numbers::sig(e, 2))),
                    numbers::sig(sc.d_opt.exponent, 4),
                    sc.n_opt.budgets,
                    numbers::sig(sc.n_opt.r2, 4)
                ));
            }
            out.push_str(&format!(
                "<div class=\"chart\" id=\"chart-isoflop-{i}\"></div>"
            ));
        }
        Err(why) => out.push_str(&format!(
            "<h3>IsoFLOP analysis</h3><p>None: {}</p>",
            esc(why)
        )),
    }
    out.push_str(&noscript_figures(figs.map(Vec::as_slice)));
    out.push_str("</section>");
    out
}

fn provenance_html(data: &ReportData) -> String {
    let mut s = String::from("<section id=\"provenance\"><h2>Provenance</h2>");
    s.push_str(&format!(
        "<p>Written by losscast {} with <code>{}</code></p>",
        esc(&data.losscast_version),
        esc(&data.command)
    ));
    let rows: Vec<Vec<String>> = data
        .runs
        .iter()
        .map(|r| {
            vec![
                esc(&r.name),
                format!("<code>{}</code>", esc(&r.path)),
                format!("<code>{}</code>", esc(&r.sha256)),
            ]
        })
        .collect();
    if !rows.is_empty() {
        s.push_str(&table(&["run", "path", "sha256"], &rows, "prov"));
    }
    if let Some(t) = &data.table {
        s.push_str(&table(
            &["table", "sha256"],
            &[vec![
                format!("<code>{}</code>", esc(&t.path)),
                format!("<code>{}</code>", esc(&t.sha256)),
            ]],
            "prov",
        ));
    }
    let fits: Vec<Vec<String>> = data
        .laws
        .iter()
        .map(|l| (&l.law, &l.fit_file, &l.record))
        .chain(data.sizes.iter().map(|l| (&l.law, &l.fit_file, &l.record)))
        .map(|(law, fit_file, record)| {
            vec![
                esc(law),
                fit_file
                    .as_deref()
                    .map_or("fitted for this report".into(), |f| {
                        format!("<code>{}</code>", esc(f))
                    }),
                esc(&record.losscast_version),
            ]
        })
        .collect();
    s.push_str(&table(&["law", "fit", "fitted by losscast"], &fits, "prov"));
    s.push_str("</section>");
    s
}

/// The whole page.
pub fn render(data: &ReportData, figures: &[Vec<StaticFigure>]) -> Result<String> {
    let json = script_json(data)?;
    let uplot = uplot_js();
    let csp = format!(
        "default-src 'none'; script-src {} {}; style-src 'unsafe-inline'; img-src data:; \
         font-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(uplot),
        csp_hash(REPORT_JS)
    );
    let mut body = String::new();
    body.push_str(&format!(
        "<header><h1>{}</h1><p class=\"sub\">losscast {} · {} · {}</p></header>",
        esc(&data.title),
        esc(&data.losscast_version),
        match &data.table {
            Some(t) => format!("a table of {} runs", t.rows),
            None => format!("{} run(s)", data.runs.len()),
        },
        esc(&data
            .laws
            .iter()
            .map(|l| l.law.as_str())
            .chain(data.sizes.iter().map(|l| l.law.as_str()))
            .collect::<Vec<_>>()
            .join(", "))
    ));
    body.push_str("<section id=\"trust\"><h2>Trust</h2>");
    body.push_str(&flags_html(&data.flags));
    body.push_str("</section>");
    match &data.table {
        Some(t) => {
            body.push_str("<section id=\"runs\"><h2>Table of runs</h2>");
            body.push_str(&format!(
                "<p><code>{}</code>: {} rows. {}</p>",
                esc(&t.path),
                t.rows,
                esc(&t.notes.join("; "))
            ));
        }
        None => {
            body.push_str("<section id=\"runs\"><h2>Runs</h2>");
            body.push_str(&runs_html(data));
        }
    }
    body.push_str("</section>");
    body.push_str(
        "<div id=\"controls\" class=\"controls\" hidden><label><input type=\"checkbox\" \
         id=\"logx\"> log step axis</label> <label><input type=\"checkbox\" id=\"logy\"> log \
         loss axis</label> <span class=\"hint\">Drag to zoom (linked across a law's charts), \
         double-click to reset; click a run below to hide or show it.</span><div id=\"legend\" \
         class=\"legend\"></div></div>",
    );
    for (i, s) in data.laws.iter().enumerate() {
        let tested = s.metrics.iter().any(|m| m.role == Role::Test);
        body.push_str(&format!(
            "<section class=\"law\" id=\"law-{i}\"><h2>Law: {}</h2>",
            esc(&s.law)
        ));
        body.push_str(&fit_facts_html(&s.record));
        body.push_str(&params_html(&s.record));
        body.push_str(&format!(
            "<h3>Metrics per run{}</h3>",
            if tested {
                " (fit runs: in-sample; test runs: forecasts)"
            } else {
                ""
            }
        ));
        body.push_str(&metrics_html(s));
        body.push_str(&format!(
            "<h3>Observed and predicted loss</h3><div class=\"readout\" id=\"readout-{i}\" \
             aria-live=\"polite\"></div><div class=\"chart\" id=\"chart-loss-{i}\"></div>\
             <h3>Residuals and LR schedule</h3><div class=\"chart\" id=\"chart-resid-{i}\"></div>\
             <div class=\"chart\" id=\"chart-lr-{i}\"></div>"
        ));
        body.push_str(&noscript_figures(figures.get(i).map(Vec::as_slice)));
        body.push_str("</section>");
    }
    for (i, s) in data.sizes.iter().enumerate() {
        body.push_str(&size_html(i, s, figures.get(i)));
    }
    body.push_str(&forecasts_html(data));
    if let Some(b) = &data.backtest {
        body.push_str(&backtest_html(b));
    }
    if let Some(p) = &data.plan {
        body.push_str(&plan_html(p));
    }
    body.push_str(&provenance_html(data));
    body.push_str(&format!(
        "<footer><p>Charts drawn with uPlot 1.6.32 (MIT licence; notice in this page's \
         source).</p></footer><!-- uPlot 1.6.32, github.com/leeoniya/uPlot\n{}\n-->",
        UPLOT_LICENSE.replace("--", "- -")
    ));
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{}</style><style>{}</style></head><body>{}\
         <script type=\"application/json\" id=\"losscast-data\">{}</script>\
         <script>{}</script><script>{}</script></body></html>\n",
        csp, // our own text and base64: no quote or markup to escape
        esc(&data.title),
        UPLOT_CSS,
        REPORT_CSS,
        body,
        json,
        uplot,
        REPORT_JS
    ))
}
