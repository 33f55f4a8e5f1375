//! Schedule planning: rank candidate schedules by the loss a fitted law predicts at the end of a
//! run, before the run is paid for.
//!
//! A plan is only as good as the law, and a law is only trusted where it was fitted: a candidate
//! whose S1 or S2 at the last step exceeds what the fit runs reached (or whose model size lies
//! outside the fitted sizes) is marked as an extrapolation, with the reason.

pub mod free;
pub mod grid;

use crate::error::{Error, Result};
use crate::fit::Domain;
use crate::law::areas::areas_at;
use crate::law::{Curve, Law};
use crate::schedule;
use grid::Frame;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// One ranked schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Canonical schedule spec, usable with `--schedule` and in manifests.
    pub spec: String,
    pub final_loss_pred: f64,
    /// Whether the forecast leaves the fit runs' domain; `null` when the fit file predates
    /// domains.
    pub extrapolation: Option<bool>,
    pub reasons: Vec<String>,
    /// S1 and S2 at the last step, with the law's conventions.
    pub s1: f64,
    pub s2: f64,
    /// The forecast interval of the final loss, when the fit carries a calibration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lo: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hi: Option<f64>,
    /// Share of parameter draws (the fit's Laplace approximation) in which this candidate ends
    /// lower than the top-ranked one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_beats_best: Option<f64>,
    /// The draws cannot tell it from the top-ranked one: it beats it in at least
    /// [`INDISTINCT`] of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indistinct: Option<bool>,
}

/// A candidate that beats the top-ranked one in this share of draws or more cannot be told
/// apart from it (a one-sided 5 % test).
pub const INDISTINCT: f64 = 0.05;

/// Parameter draws `plan` compares candidates on.
pub const DRAWS: usize = 1000;

/// Intervals and probabilities for ranked candidates: each final loss's interval from the
/// fit's calibration, and, over [`DRAWS`] seeded parameter draws, how often each candidate
/// ends below the top-ranked one, each draw's gap widened by the law's own error on schedule
/// differences where the fit's calibration measured it
/// ([`crate::fit::record::ErrorModel::gap_sd`]).
pub fn add_uncertainty(
    law: &dyn Law,
    params: &[f64],
    ranked: &mut [Candidate],
    ends: &[End],
    intervals: &crate::forecast::interval::Source,
    seed: u64,
) -> Result<()> {
    for (c, end) in ranked.iter_mut().zip(ends) {
        let Some(at) = end.beyond else {
            return Err(Error::failed(
                "plan: the ranking was made without intervals; rank with them to add them",
            ));
        };
        let b = intervals.bands(law, params, &end.features, &[at])[0];
        (c.lo, c.hi) = (Some(b.lo), Some(b.hi));
    }
    let features: Vec<&crate::law::Features> = ends.iter().map(|e| &e.features).collect();
    let valid = |p: &[f64]| crate::law::check_params(law, p).is_ok();
    let Some(draws) =
        crate::forecast::interval::parameter_draws(intervals.laplace, params, DRAWS, seed, &valid)
    else {
        return Ok(());
    };
    let finals: Vec<Vec<f64>> = draws
        .par_iter()
        .map(|p| {
            features
                .iter()
                .map(|f| {
                    let mut out = [0.0];
                    law.predict(p, f, &mut out);
                    out[0]
                })
                .collect()
        })
        .collect();
    let usable: Vec<&Vec<f64>> = finals
        .iter()
        .filter(|v| v.iter().all(|x| x.is_finite()))
        .collect();
    if usable.is_empty() {
        return Ok(());
    }
    // The law's own error on a difference of schedules, as the backtest of the fit runs
    // measured it: a candidate 0.16 % behind, where the law misjudges schedules by 0.2 %,
    // may well be the better one, whatever the parameter draws say.
    let gap_sd = intervals.model.gap_sd.filter(|g| *g > 0.0);
    for (i, c) in ranked.iter_mut().enumerate() {
        let p = if i == 0 {
            0.5
        } else {
            let beats = |v: &&Vec<f64>| -> f64 {
                match gap_sd {
                    Some(sd) => crate::base::stats::normal_cdf(-(v[i] / v[0] - 1.0) / sd),
                    None => f64::from(u8::from(v[i] < v[0])),
                }
            };
            usable.iter().map(beats).sum::<f64>() / usable.len() as f64
        };
        c.p_beats_best = Some(p);
        c.indistinct = Some(i == 0 || p >= INDISTINCT);
    }
    Ok(())
}

/// The final-step loss of a per-step LR array, its S1, S2, and the law's features there.
fn final_loss(
    law: &dyn Law,
    params: &[f64],
    lr: &[f64],
    model_size: Option<f64>,
) -> Result<(f64, f64, f64, crate::law::Features)> {
    let last = lr.len() as i64 - 1;
    let f = law.features(&Curve {
        lr,
        steps: &[last],
        params: model_size,
        end: None,
    })?;
    let mut out = [0.0];
    law.predict(params, &f, &mut out);
    let (s1, s2) = law
        .areas_in_features(&f, 0)
        .unwrap_or_else(|| end_areas(law, lr));
    Ok((out[0], s1, s2, f))
}

/// S1 and S2 at the last step of `lr`, with the law's warmup convention and λ: what a forecast
/// is compared with the fit's [`Domain`] on.
pub fn end_areas(law: &dyn Law, lr: &[f64]) -> (f64, f64) {
    if lr.is_empty() {
        return (0.0, 0.0);
    }
    let eff = crate::law::effective(law, lr);
    let (s1, s2) = areas_at(&eff, law.options().lambda, &[lr.len() as i64 - 1]);
    (s1[0], s2[0])
}

pub use crate::forecast::extrapolate::beyond_domain as extrapolation;

/// A candidate that could not be ranked, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unranked {
    pub spec: String,
    pub reason: String,
}

/// Candidates best first, and those whose forecast is not a loss at all.
#[derive(Debug, Clone)]
pub struct Ranking {
    pub ranked: Vec<Candidate>,
    pub unranked: Vec<Unranked>,
    /// What [`add_uncertainty`] needs of each ranked candidate, in `ranked`'s order.
    pub ends: Vec<End>,
}

/// A candidate's last step as a law sees it: its features there, and how far it lies beyond
/// the fit. Kept so that intervals and probabilities need not rebuild a schedule's per-step LR
/// array (160 MB at the 20-million-step limit) a second time.
#[derive(Debug, Clone)]
pub struct End {
    pub features: crate::law::Features,
    pub beyond: Option<crate::forecast::interval::Beyond>,
}

/// Score every spec and sort best first (lowest predicted final loss). A forecast that is not a
/// finite positive loss (a peak of 1e308 makes S1 infinite; a zero-LR tail can drive the law
/// below 0), or that the fit's plausibility `gate` refuses, is never ranked, since −inf would
/// otherwise come first; an error when none is left. With `intervals`, each candidate's
/// distance beyond the fit comes from the same S1 and S2; each core fills one LR buffer,
/// candidate after candidate (bounded memory at any `--total`, and no page faults for 160 MB
/// per candidate).
pub fn rank(
    law: &dyn Law,
    params: &[f64],
    domain: Option<&Domain>,
    specs: &[String],
    model_size: Option<f64>,
    gate: &crate::fit::plausible::Gate,
    intervals: Option<&crate::forecast::interval::Source>,
) -> Result<Ranking> {
    let all: Vec<(Candidate, End)> = specs
        .par_iter()
        .map_init(Vec::new, |lr, spec| {
            let sched = schedule::parse(spec, Path::new(""))?;
            sched.lr_array_into(sched.total_steps() as usize + 1, lr);
            let (loss, s1, s2, features) = final_loss(law, params, lr, model_size)
                .map_err(|e| Error::input(format!("candidate '{spec}': {e}")))?;
            let beyond = intervals.map(|iv| iv.distance_from_areas(s1, s2, model_size));
            let (extrapolation, reasons) = extrapolation(domain, s1, s2, model_size);
            Ok((
                Candidate {
                    spec: sched.to_string(),
                    final_loss_pred: loss,
                    extrapolation,
                    reasons,
                    s1,
                    s2,
                    lo: None,
                    hi: None,
                    p_beats_best: None,
                    indistinct: None,
                },
                End { features, beyond },
            ))
        })
        .collect::<Result<_>>()?;
    // A forecast that is not a finite positive loss, or that the fit's plausibility gate
    // refuses, is never ranked: the gate's reason says why.
    let mut ranked = Vec::new();
    let mut unranked = Vec::new();
    for (c, end) in all {
        let why = if !(c.s1.is_finite() && c.s2.is_finite()) {
            Some(format!(
                "S1 {}, S2 {} are not finite: the schedule lies outside where the law holds",
                crate::base::numbers::num(c.s1),
                crate::base::numbers::num(c.s2)
            ))
        } else {
            gate.check(c.final_loss_pred, "the final step")
                .err()
                .map(|e| e.to_string())
        };
        match why {
            Some(reason) => unranked.push(Unranked {
                reason,
                spec: c.spec,
            }),
            None => ranked.push((c, end)),
        }
    }
    if ranked.is_empty() {
        return Err(Error::failed(format!(
            "no candidate schedule has a finite positive forecast ({} tried); first: {}: {}",
            unranked.len(),
            unranked.first().map_or("", |u| u.spec.as_str()),
            unranked.first().map_or("", |u| u.reason.as_str())
        )));
    }
    ranked.sort_by(|(a, _), (b, _)| {
        a.final_loss_pred
            .total_cmp(&b.final_loss_pred)
            .then_with(|| a.spec.cmp(&b.spec))
    });
    let (ranked, ends) = ranked.into_iter().unzip();
    Ok(Ranking {
        ranked,
        unranked,
        ends,
    })
}

/// Check the frame a plan is made in.
pub fn check_frame(f: &Frame) -> Result<()> {
    if f.total == 0 || f.warmup >= f.total {
        return Err(Error::input(format!(
            "--total {} must exceed --warmup {}",
            f.total, f.warmup
        )));
    }
    if !(f.peak.is_finite() && f.peak > 0.0) {
        return Err(Error::input(format!(
            "--peak {} must be a finite number > 0",
            crate::base::numbers::num(f.peak)
        )));
    }
    if f.peak > schedule::MAX_LR {
        return Err(Error::input(format!(
            "--peak {} is not a learning rate: losscast takes an LR of at most {}",
            crate::base::numbers::num(f.peak),
            crate::base::numbers::num(schedule::MAX_LR)
        )));
    }
    crate::base::limits::check_step(f.total, "--total")
}

/// The predicted loss along a per-step LR array at about `points` steps from step `from`, for
/// plots.
pub fn predicted_curve(
    law: &dyn Law,
    params: &[f64],
    lr: &[f64],
    model_size: Option<f64>,
    from: usize,
    points: usize,
) -> Result<Vec<(f64, f64)>> {
    let total = lr.len() - 1;
    let every = (total / points.max(1)).max(1);
    // Not before the first step with some learning: the law is undefined there.
    let first = law
        .effective_lr(lr)
        .iter()
        .position(|&x| x > 0.0)
        .unwrap_or(0)
        .max(from)
        .min(total);
    let mut steps: Vec<i64> = (first..=total).step_by(every).map(|s| s as i64).collect();
    if steps.last() != Some(&(total as i64)) {
        steps.push(total as i64);
    }
    let f = law.features(&Curve {
        lr,
        steps: &steps,
        params: model_size,
        end: None,
    })?;
    let mut pred = vec![0.0; steps.len()];
    law.predict(params, &f, &mut pred);
    Ok(steps.iter().map(|&s| s as f64).zip(pred).collect())
}

/// The plan figure: the `top` best candidates and, if given, a free-form schedule (its LR array,
/// predicted final loss and whether it extrapolates).
#[allow(clippy::too_many_arguments)]
pub fn figure(
    law: &dyn Law,
    params: &[f64],
    ranked: &[Candidate],
    frame: Frame,
    model_size: Option<f64>,
    top: usize,
    free: Option<(&[f64], f64, bool)>,
    intervals: Option<&crate::forecast::interval::Source>,
) -> Result<crate::plot::plan::PlanPlot> {
    use crate::plot::plan::{PlanCurve, PlanPlot};
    let from = frame.warmup.max(frame.total / 50) as usize;
    let mut curves = Vec::new();
    // The band of one curve, at the curve's own steps.
    let band = |lr: &[f64], loss: &[(f64, f64)]| -> Result<Option<Vec<(f64, f64, f64)>>> {
        let Some(iv) = intervals else {
            return Ok(None);
        };
        let steps: Vec<i64> = loss.iter().map(|p| p.0 as i64).collect();
        let f = law.features(&Curve {
            lr,
            steps: &steps,
            params: model_size,
            end: None,
        })?;
        let at = iv.distances(law, lr, &steps, model_size);
        let b = iv.bands(law, params, &f, &at);
        Ok(Some(
            steps
                .iter()
                .zip(b)
                .map(|(&s, b)| (s as f64, b.lo, b.hi))
                .collect(),
        ))
    };
    for c in ranked.iter().take(top) {
        let sched = schedule::parse(&c.spec, Path::new(""))?;
        let lr = sched.lr_array(frame.total as usize + 1);
        let loss = predicted_curve(law, params, &lr, model_size, from, 400)?;
        // The legend says what the table says: a gap inside the law's error is no percentage.
        let p = match (c.p_beats_best, c.indistinct) {
            _ if std::ptr::eq(c, &ranked[0]) => String::new(),
            (Some(_), Some(true)) => "  indistinguishable from #1".to_string(),
            (Some(p), _) => format!("  P(beats #1) {:.0} %", 100.0 * p),
            _ => String::new(),
        };
        curves.push(PlanCurve {
            label: format!("{:.4}  {}{p}", c.final_loss_pred, short_spec(&c.spec)),
            band: band(&lr, &loss)?,
            loss,
            lr,
            extrapolation: c.extrapolation == Some(true),
        });
    }
    if let Some((lr, loss, extrapolation)) = free {
        let curve = predicted_curve(law, params, lr, model_size, from, 400)?;
        curves.push(PlanCurve {
            label: format!("{loss:.4}  free-form"),
            band: band(lr, &curve)?,
            loss: curve,
            lr: lr.to_vec(),
            extrapolation,
        });
    }
    let size = model_size.map_or(String::new(), |n| format!(", N = {n:.3e}"));
    Ok(PlanPlot {
        title: format!(
            "{} plan: {} steps, peak {:e}, warmup {}{size} (dashed: extrapolation{})",
            law.name(),
            frame.total,
            frame.peak,
            frame.warmup,
            intervals.map_or(String::new(), |iv| format!(
                "; bands: {:.0} % intervals",
                100.0 * iv.level
            ))
        ),
        curves,
    })
}

/// The spec without the keys every candidate shares, for legends.
pub fn short_spec(spec: &str) -> String {
    let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let keep: Vec<&str> = rest
        .split(',')
        .filter(|kv| {
            !["peak=", "warmup=", "total="]
                .iter()
                .any(|p| kv.starts_with(p))
        })
        .collect();
    format!("{kind}:{}", keep.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::{build, LawOptions};

    /// The end areas a plan reads from the annealing law's features are those of a pass over
    /// the LR array, bit for bit, with and without warmup-as-peak.
    #[test]
    fn end_areas_from_features_equal_the_pass() {
        let sched = schedule::parse(
            "wsd:peak=3e-4,end=3e-5,warmup=500,total=8000,decay_start=6000,shape=sqrt",
            Path::new(""),
        )
        .unwrap();
        let lr = sched.lr_array(8001);
        for warmup_as_peak in [false, true] {
            let law = build(
                "annealing",
                LawOptions {
                    warmup_as_peak,
                    ..LawOptions::default()
                },
            )
            .unwrap();
            let f = law
                .features(&Curve {
                    lr: &lr,
                    steps: &[8000],
                    params: None,
                    end: None,
                })
                .unwrap();
            let (a, b) = law.areas_in_features(&f, 0).unwrap();
            let (c, d) = end_areas(law.as_ref(), &lr);
            assert_eq!((a.to_bits(), b.to_bits()), (c.to_bits(), d.to_bits()));
        }
    }
}
