//! Forecasts from a fitted law: the loss of any schedule at any step, without refitting.

use crate::error::{Error, Result};
use crate::fit::plausible::Gate;
use crate::law::{Curve, Law};
use crate::schedule::Schedule;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    pub step: i64,
    pub lr: f64,
    pub loss_pred: f64,
    /// The forecast interval at the level asked for, when the fit carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lo: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hi: Option<f64>,
}

/// Parse `--steps`: a list `1000,2000` or a range `START:END:STEP` (END included).
pub fn parse_steps(text: &str) -> Result<Vec<i64>> {
    let bad = |m: &str| Error::input(format!("bad --steps '{text}': {m}"));
    let num = |s: &str| -> Result<i64> {
        let x: f64 = s
            .trim()
            .parse()
            .map_err(|_| bad(&format!("'{s}' is not a step")))?;
        if x.fract() != 0.0 || x < 0.0 || !x.is_finite() {
            return Err(bad(&format!("'{s}' is not a whole step >= 0")));
        }
        if x > crate::base::limits::MAX_STEPS as f64 {
            return Err(bad(&format!(
                "step {} is beyond losscast's limit of {} steps per run",
                crate::base::numbers::num(x),
                crate::base::limits::MAX_STEPS
            )));
        }
        Ok(x as i64)
    };
    let steps: Vec<i64> = if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        let [start, end, by] = parts[..] else {
            return Err(bad("a range is START:END:STEP"));
        };
        let (start, end, by) = (num(start)?, num(end)?, num(by)?);
        if by == 0 || end < start {
            return Err(bad("a range needs STEP > 0 and END >= START"));
        }
        (start..=end).step_by(by as usize).collect()
    } else {
        text.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(num)
            .collect::<Result<_>>()?
    };
    if steps.is_empty() {
        return Err(bad("no steps"));
    }
    Ok(steps)
}

/// Every 100th step from the end of warmup to the schedule's end (and the end itself): inside
/// the warmup the law describes loss poorly, and a forecast there is warned about.
pub fn default_steps(schedule: &Schedule) -> Vec<i64> {
    let total = schedule.total_steps() as i64;
    let warmup = schedule.warmup_end() as i64;
    let mut steps: Vec<i64> = (1..=total / 100)
        .map(|k| 100 * k)
        .filter(|&s| s >= warmup)
        .collect();
    if steps.last() != Some(&total) && total > 0 {
        steps.push(total);
    }
    steps
}

/// Predicted loss of `schedule` at `steps`, for a model of `model_size` parameters when the law
/// is a joint size × schedule law.
pub fn predict(
    law: &dyn Law,
    params: &[f64],
    schedule: &Schedule,
    steps: &[i64],
    model_size: Option<f64>,
) -> Result<Vec<Prediction>> {
    predict_with_intervals(
        law,
        params,
        schedule,
        steps,
        model_size,
        None,
        &Gate::without_data(),
    )
}

/// [`predict`], each point with its interval when `intervals` is given, and each checked by
/// `gate` (the fit's plausibility gate: exit 1 on a forecast the fit gives no grounds for).
pub fn predict_with_intervals(
    law: &dyn Law,
    params: &[f64],
    schedule: &Schedule,
    steps: &[i64],
    model_size: Option<f64>,
    intervals: Option<&crate::forecast::interval::Source>,
    gate: &Gate,
) -> Result<Vec<Prediction>> {
    let mut sorted = steps.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let last = *sorted
        .last()
        .ok_or_else(|| Error::input("no steps to predict"))?;
    if last < 0 {
        return Err(Error::input(format!(
            "cannot predict at negative step {last}"
        )));
    }
    crate::base::limits::check_step(last as u64, "predict")?;
    schedule.covers(last as u64)?;
    let lr = schedule.lr_array(last as usize + 1);
    let features = law.features(&Curve {
        lr: &lr,
        steps: &sorted,
        params: model_size,
        end: Some((schedule.total_steps() as i64).max(last)),
    })?;
    let mut pred = vec![0.0; sorted.len()];
    law.predict(params, &features, &mut pred);
    let bands = intervals.map(|iv| {
        let d = iv.distances(law, &lr, &sorted, model_size);
        iv.bands(law, params, &features, &d)
    });
    let out: Vec<Prediction> = sorted
        .iter()
        .zip(&pred)
        .enumerate()
        .map(|(i, (&step, &loss_pred))| Prediction {
            step,
            lr: lr[step as usize],
            loss_pred,
            lo: bands.as_ref().map(|b| b[i].lo),
            hi: bands.as_ref().map(|b| b[i].hi),
        })
        .collect();
    gate.check_all(&pred, |i| format!("step {}", sorted[i]))?;
    Ok(out)
}

/// CSV text `step,lr,loss_pred`, with `lo,hi` when the predictions carry intervals.
pub fn to_csv(preds: &[Prediction]) -> String {
    let bands = preds.iter().all(|p| p.lo.is_some());
    let mut s = String::from(if bands {
        "step,lr,loss_pred,lo,hi\n"
    } else {
        "step,lr,loss_pred\n"
    });
    let fixed = |v: f64| crate::base::numbers::fixed(v, 6);
    for p in preds {
        s.push_str(&format!("{},{:e},{}", p.step, p.lr, fixed(p.loss_pred)));
        if let (true, Some(lo), Some(hi)) = (bands, p.lo, p.hi) {
            s.push_str(&format!(",{},{}", fixed(lo), fixed(hi)));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_lists_and_ranges() {
        assert_eq!(parse_steps("1000,2000").unwrap(), vec![1000, 2000]);
        assert_eq!(
            parse_steps("1000:3000:1000").unwrap(),
            vec![1000, 2000, 3000]
        );
        assert_eq!(parse_steps("1e3").unwrap(), vec![1000]);
        assert!(parse_steps("1000:10").is_err());
        assert!(parse_steps("10:5:1").is_err());
        assert!(parse_steps("1.5").is_err());
        assert!(parse_steps("").is_err());
        let e = parse_steps("1e15").unwrap_err().to_string();
        assert!(e.contains("limit"), "{e}");
        assert!(parse_steps("0:1e15:1").is_err());
    }

    #[test]
    fn default_steps_start_after_warmup() {
        let s = crate::schedule::parse(
            "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000",
            std::path::Path::new(""),
        )
        .unwrap();
        let steps = default_steps(&s);
        assert_eq!(steps.first(), Some(&2200));
        assert_eq!(steps.last(), Some(&24000));
        assert!(steps.windows(2).all(|w| w[1] - w[0] == 100));
    }
}

/// A run's observed points beside a law's prediction at each, with the interval bounds where
/// the fit has a calibration: what `eval --curves` prints and `report` draws.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RunCurve {
    pub step: Vec<i64>,
    pub observed: Vec<f64>,
    pub predicted: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lo: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hi: Option<Vec<f64>>,
}

/// [`RunCurve`] of `run` under `params`.
pub fn run_curve(
    law: &dyn Law,
    params: &[f64],
    run: &crate::runs::Run,
    intervals: Option<&crate::forecast::interval::Source>,
) -> Result<RunCurve> {
    let feats = law
        .features(&Curve {
            lr: &run.lr,
            steps: &run.steps,
            params: run.params,
            end: run.end,
        })
        .map_err(|e| Error::input(format!("run '{}': {e}", run.name)))?;
    let mut predicted = vec![0.0; run.steps.len()];
    law.predict(params, &feats, &mut predicted);
    let bands = intervals.map(|iv| {
        let at = iv.distances(law, &run.lr, &run.steps, run.params);
        iv.bands(law, params, &feats, &at)
    });
    Ok(RunCurve {
        step: run.steps.clone(),
        observed: run.loss.clone(),
        predicted,
        lo: bands.as_ref().map(|b| b.iter().map(|x| x.lo).collect()),
        hi: bands.as_ref().map(|b| b.iter().map(|x| x.hi).collect()),
    })
}
