//! Where a forecast leaves what its fit saw.
//!
//! A law fitted on runs up to S1 = 9 says little about S1 = 27, and a joint law fitted on 25M and
//! 100M models says little about 7B. Forecasts there may still be the best guess available, but a
//! user must be told, on every path that forecasts: `predict`, `plan`, `optimal`.

use crate::base::numbers::short;
use crate::fit::{Domain, TableDomain};
use crate::law::areas::{annealing_area, forward_area};
use crate::law::Law;

/// Relative slack before a model size, token count or compute counts as outside the fitted
/// range (round-off).
const SLACK: f64 = 1e-9;

/// How far beyond the fit runs' S1 and S2 a forecast may go before it counts as an
/// extrapolation: 0.1 % of the fit runs' S1 (both areas are sums of LRs over steps).
/// Forecasting a few steps past the last logged point is not news; more annealing than any fit
/// run had is.
const AREA_SLACK: f64 = 1e-3;

/// Why a schedule forecast with end areas `s1`, `s2` for a model of `model_size` parameters is an
/// extrapolation. `None` when the fit file predates domains.
pub fn beyond_domain(
    domain: Option<&Domain>,
    s1: f64,
    s2: f64,
    model_size: Option<f64>,
) -> (Option<bool>, Vec<String>) {
    let Some(d) = domain else {
        return (None, Vec::new());
    };
    let mut reasons = Vec::new();
    let slack = AREA_SLACK * d.s1_max;
    if s1 > d.s1_max + slack {
        reasons.push(format!("S1 {s1:.4} beyond the fit runs' {:.4}", d.s1_max));
    }
    if s2 > d.s2_max + slack {
        reasons.push(format!("S2 {s2:.4} beyond the fit runs' {:.4}", d.s2_max));
    }
    if let (Some(n), Some([lo, hi])) = (model_size, d.params) {
        if n < lo * (1.0 - SLACK) || n > hi * (1.0 + SLACK) {
            reasons.push(format!(
                "N {n:.3e} outside the fitted sizes {lo:.3e}..{hi:.3e}"
            ));
        }
    }
    (Some(!reasons.is_empty()), reasons)
}

/// Why a forecast of `lr` (every step from 0) at `steps` is an extrapolation: steps inside the
/// warmup, where the LR still rises and the law's areas mean little; S1 or S2 beyond the fit
/// runs'; a model size outside the fitted ones.
pub fn schedule_forecast(
    law: &dyn Law,
    domain: Option<&Domain>,
    lr: &[f64],
    steps: &[i64],
    model_size: Option<f64>,
) -> Vec<String> {
    let mut out = Vec::new();
    let eff = law.effective_lr(lr);
    // The warmup ends where the LR first reaches its largest value.
    let peak = eff.iter().copied().fold(0.0f64, f64::max);
    let warmup_end = eff.iter().position(|&x| x >= peak).unwrap_or(0) as i64;
    let in_warmup: Vec<i64> = steps.iter().copied().filter(|&s| s < warmup_end).collect();
    if let (Some(first), Some(last)) = (in_warmup.first(), in_warmup.last()) {
        out.push(format!(
            "{} forecast step(s) ({first}..={last}) lie inside the warmup (the LR peaks at step \
             {warmup_end}), where the law describes loss poorly",
            in_warmup.len()
        ));
    }
    let s1 = forward_area(&eff);
    let s2 = annealing_area(&eff, law.options().lambda);
    let at = |v: &[f64]| {
        steps
            .iter()
            .filter_map(|&s| usize::try_from(s).ok().and_then(|i| v.get(i).copied()))
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let (_, reasons) = beyond_domain(domain, at(&s1), at(&s2), model_size);
    out.extend(reasons);
    out
}

/// Why a size-law forecast at (N, D) pairs is an extrapolation beyond the fitted table.
pub fn table_forecast(domain: Option<&TableDomain>, n: &[f64], d: &[f64]) -> Vec<String> {
    let Some(t) = domain else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let outside = |v: f64, [lo, hi]: [f64; 2]| v < lo * (1.0 - SLACK) || v > hi * (1.0 + SLACK);
    for (&n, &d) in n.iter().zip(d) {
        if outside(n, t.n) {
            out.push(format!(
                "N {} outside the fitted sizes {}..{}",
                short(n),
                short(t.n[0]),
                short(t.n[1])
            ));
        }
        if outside(d, t.d) {
            out.push(format!(
                "D {} outside the fitted tokens {}..{}",
                short(d),
                short(t.d[0]),
                short(t.d[1])
            ));
        }
    }
    out
}

/// Why a compute-optimal allocation at `compute` is an extrapolation beyond the fitted table.
pub fn compute_forecast(domain: Option<&TableDomain>, compute: f64) -> Vec<String> {
    match domain {
        Some(t) if compute < t.c[0] * (1.0 - SLACK) || compute > t.c[1] * (1.0 + SLACK) => {
            vec![format!(
                "compute {} FLOP outside the fitted {}..{} (C = 6ND)",
                short(compute),
                short(t.c[0]),
                short(t.c[1])
            )]
        }
        _ => Vec::new(),
    }
}
