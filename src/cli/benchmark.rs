//! `losscast benchmark`: the open forecasting benchmark (see `crate::benchmark`).

use super::{to_json, write_outputs};
use crate::base::numbers::num;
use crate::benchmark::{self, Benchmark, Options};
use crate::error::Result;
use crate::output::{self, Kind, Output};
use clap::Args;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct BenchmarkArgs {
    /// The benchmark spec: `[[case]]` tables naming a manifest and how to split it.
    #[arg(long, default_value = "data/benchmark.toml")]
    spec: PathBuf,
    /// Run only the cases kept aside (`check = true`): a check that defaults chosen on the
    /// main cases were not tuned to them.
    #[arg(long)]
    check: bool,
    /// Only these ladders, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = super::lists::name)]
    ladders: Vec<String>,
    /// Only these methods, comma-separated (`auto` or law names).
    #[arg(long, value_delimiter = ',', value_parser = super::lists::name)]
    methods: Vec<String>,
    /// Leave out each fit run's points before this fraction of its last step, in every fit
    /// (as `fit --skip-fraction`): to measure a fitting option before it becomes a default.
    #[arg(long, default_value_t = 0.0)]
    skip_fraction: f64,
    /// Fit without the laws' priors (as `fit --no-prior`).
    #[arg(long)]
    no_prior: bool,
    /// Also write the table here (Markdown).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print every curve's score as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run(a: BenchmarkArgs) -> Result<()> {
    let outs: Vec<Output> = a
        .out
        .iter()
        .map(|p| Output::new("--out", p, Kind::Text))
        .collect();
    output::check(&outs, std::slice::from_ref(&a.spec))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "benchmark {bar:30} {pos}/{len} forecasts, {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let options = Options {
        check: a.check,
        ladders: (!a.ladders.is_empty()).then(|| a.ladders.clone()),
        methods: (!a.methods.is_empty()).then(|| a.methods.clone()),
        skip_fraction: a.skip_fraction,
        no_prior: a.no_prior,
    };
    if !(0.0..1.0).contains(&options.skip_fraction) {
        return Err(crate::error::Error::input(format!(
            "--skip-fraction must be in [0, 1), not {}",
            num(options.skip_fraction)
        )));
    }
    let b = benchmark::run(&a.spec, &options, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let text = table(&b);
    if a.json {
        outln!("{}", to_json(&b)?);
    } else {
        out!("{text}");
    }
    if let Some(p) = &a.out {
        write_outputs(&[(p.as_path(), text.into_bytes())])?;
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.3} %", 100.0 * v))
}

fn signed(v: Option<f64>, n: usize) -> String {
    v.map_or("—".into(), |v| format!("{:+.2} % ({n})", 100.0 * v))
}

/// The Markdown table: one row per (ladder, task, method), then each method over all cells.
pub fn table(b: &Benchmark) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Forecasting benchmark{}: {} cases from {}, {} s.\n\nPredE: mean over the held-out curves of \
         mean |L − P| / L. Final: mean signed error (P − L) / L at each curve's last point (count), \
         binned by how far beyond the fit it lies (its step over the fit's last step, or its size \
         over the fit's largest).\n",
        if b.check { " (cases kept aside)" } else { "" },
        b.cases,
        b.spec,
        num((b.seconds * 10.0).round() / 10.0)
    );
    let _ = writeln!(
        s,
        "| ladder | task | method | cases | failed | PredE | final {} | final {} | final {} | max abs final | auto chose |",
        benchmark::BIN_NAMES[0],
        benchmark::BIN_NAMES[1],
        benchmark::BIN_NAMES[2]
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for c in &b.cells {
        let max_abs = c
            .bins
            .iter()
            .filter_map(|b| b.max_abs)
            .max_by(f64::total_cmp);
        let chose = c
            .chose
            .iter()
            .map(|(n, k)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.ladder,
            c.task,
            if c.method == benchmark::AUTO {
                "**auto**".to_string()
            } else {
                c.method.clone()
            },
            c.cases,
            c.failed,
            pct(c.pred_e),
            signed(c.bins[0].mean_signed, c.bins[0].curves),
            signed(c.bins[1].mean_signed, c.bins[1].curves),
            signed(c.bins[2].mean_signed, c.bins[2].curves),
            max_abs.map_or("—".into(), |v| format!("{:.2} %", 100.0 * v)),
            chose
        );
    }
    let _ = writeln!(
        s,
        "\nMean PredE over the (ladder, task) cells that every method of a kind (forecasts of a \
         model's own runs; size forecasts) forecast without a failure, each cell once:\n\n| method | \
         mean PredE | cells |\n|---|---|---|"
    );
    for (m, p, n) in &b.overall {
        let _ = writeln!(s, "| {m} | {} | {n} |", pct(Some(*p)));
    }
    if !b.failures.is_empty() {
        let _ = writeln!(s, "\nFailures:\n");
        for f in &b.failures {
            let _ = writeln!(
                s,
                "- {} {} {} — {}: {}",
                f.ladder, f.task, f.case, f.method, f.error
            );
        }
    }
    s
}
