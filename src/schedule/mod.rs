//! Learning-rate schedules: a spec string becomes the LR at every optimizer step.
//!
//! Laws sum the LR over *every* step (S1, S2), so a schedule must give a value for each step from
//! 0, warmup included, even when a log only records the LR now and then. The formulas follow the
//! Multi-Power-Law reference code exactly, so its published schedules are reproduced to the bit:
//! warmup is `linspace(0, peak, warmup)` (step 0 has LR 0, step `warmup-1` has the peak).
//!
//! The spec grammar (`kind:key=value,...`) lives in [`spec`]; it round-trips through `Display`.

mod spec;
pub use spec::MAX_LR;

use crate::error::{Error, Result};
use std::path::PathBuf;

/// How a WSD schedule decays from `peak` to `end` between `decay_start` and `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecayShape {
    /// Geometric: `peak^(1-p) * end^p`.
    Exp,
    Linear,
    Cosine,
    /// `end + (peak-end)(1 - sqrt(p))`, the cooldown Hägele et al. recommend.
    Sqrt,
}

/// What happens after warmup.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Constant,
    Cosine {
        end: f64,
    },
    Linear {
        end: f64,
    },
    Wsd {
        end: f64,
        decay_start: u64,
        shape: DecayShape,
    },
    /// Piecewise constant: from each `(step, lr)` on, the LR is `lr`. Sorted by step.
    Steps {
        drops: Vec<(u64, f64)>,
    },
    /// Inverse square root (T5, the original Transformer): `peak·√(W/s)` from step `W` on, the
    /// peak before it; `W = timescale`.
    Rsqrt {
        timescale: u64,
    },
    /// Polynomial decay (HF `polynomial`, PyTorch `PolynomialLR`):
    /// `end + (peak−end)·(1−p)^power`, p the progress from warmup to total.
    Poly {
        end: f64,
        power: f64,
    },
    /// Exponential decay (TF `ExponentialDecay`, PyTorch `ExponentialLR`): `peak·gamma^(k/every)`
    /// k steps after warmup, with the exponent floored when `staircase`.
    Exp {
        gamma: f64,
        every: u64,
        staircase: bool,
    },
    /// Cosine with hard restarts (HF `cosine_with_restarts`, SGDR): `cycles` cosine decays from
    /// the peak to `end`, each `mult` times as long as the one before, filling warmup..total.
    CosineRestarts {
        end: f64,
        cycles: u64,
        mult: f64,
    },
}

/// A schedule given by formula: a warmup, then a shape, held at its value at `total` afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    pub peak: f64,
    pub warmup: u64,
    pub total: u64,
    pub shape: Shape,
}

/// A parsed schedule spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Formula(Formula),
    /// A per-step LR array read from a CSV (`file:PATH[#COLUMN]`). `values[s]` is the LR at step
    /// `s`; steps past the end keep the last value.
    File {
        path: PathBuf,
        column: Option<String>,
        values: Vec<f64>,
        /// What reading the file had to do (gaps interpolated, round-off zeroed), for records.
        notes: Vec<String>,
    },
}

pub use spec::parse;

/// The CSV a `file:PATH[#COLUMN]` spec reads, resolved against `base_dir`; `None` for formulas.
pub fn file_path(spec: &str, base_dir: &std::path::Path) -> Option<PathBuf> {
    let rest = spec.trim().strip_prefix("file:")?.trim();
    let path = rest.rsplit_once('#').map_or(rest, |(p, _)| p);
    (!path.is_empty()).then(|| base_dir.join(path))
}

impl Formula {
    /// LR at step `s`. Steps past `total` keep the LR at `total`.
    pub fn lr_at(&self, s: u64) -> f64 {
        let s = s.min(self.total);
        if s < self.warmup {
            // numpy.linspace(0, peak, warmup)[s]
            return if self.warmup <= 1 {
                0.0
            } else {
                self.peak * s as f64 / (self.warmup - 1) as f64
            };
        }
        let peak = self.peak;
        // Progress through the post-warmup phase, 0 at `warmup`, 1 at `total`.
        let progress = |from: u64| {
            if self.total <= from {
                1.0
            } else {
                (s.saturating_sub(from)) as f64 / (self.total - from) as f64
            }
        };
        match &self.shape {
            Shape::Constant => peak,
            Shape::Cosine { end } => {
                let p = progress(self.warmup);
                end + 0.5 * (peak - end) * (1.0 + (std::f64::consts::PI * p).cos())
            }
            Shape::Linear { end } => peak + (end - peak) * progress(self.warmup),
            Shape::Wsd {
                end,
                decay_start,
                shape,
            } => {
                if s < *decay_start {
                    return peak;
                }
                let p = progress(*decay_start);
                match shape {
                    DecayShape::Exp => peak.powf(1.0 - p) * end.powf(p),
                    DecayShape::Linear => peak + (end - peak) * p,
                    DecayShape::Cosine => {
                        end + 0.5 * (peak - end) * (1.0 + (std::f64::consts::PI * p).cos())
                    }
                    DecayShape::Sqrt => end + (peak - end) * (1.0 - p.sqrt()),
                }
            }
            Shape::Steps { drops } => drops
                .iter()
                .take_while(|(at, _)| *at <= s)
                .last()
                .map_or(peak, |(_, lr)| *lr),
            Shape::Rsqrt { timescale } => {
                let w = *timescale as f64;
                peak * (w / (s as f64).max(w)).sqrt()
            }
            Shape::Poly { end, power } => {
                end + (peak - end) * (1.0 - progress(self.warmup)).powf(*power)
            }
            Shape::Exp {
                gamma,
                every,
                staircase,
            } => {
                let k = (s - self.warmup) as f64 / *every as f64;
                peak * gamma.powf(if *staircase { k.floor() } else { k })
            }
            Shape::CosineRestarts { end, cycles, mult } => {
                let span = (self.total - self.warmup) as f64;
                let p = (s - self.warmup) as f64;
                if span <= 0.0 || p >= span {
                    return *end;
                }
                let q = restart_progress(p, span, *cycles, *mult);
                end + 0.5 * (peak - end) * (1.0 + (std::f64::consts::PI * q).cos())
            }
        }
    }
}

/// Progress within the current cycle, in [0, 1), `p` steps into a `span` split into `cycles`
/// cycles, each `mult` times as long as the one before.
fn restart_progress(p: f64, span: f64, cycles: u64, mult: f64) -> f64 {
    let n = cycles as f64;
    if mult == 1.0 {
        let len = span / n;
        let k = (p / len).floor().min(n - 1.0);
        return ((p - k * len) / len).clamp(0.0, 1.0);
    }
    // Cycle k starts at first·(mult^k − 1)/(mult − 1) and lasts first·mult^k.
    let first = span * (mult - 1.0) / (mult.powf(n) - 1.0);
    let start = |k: f64| first * (mult.powf(k) - 1.0) / (mult - 1.0);
    let mut k = ((1.0 + p * (mult - 1.0) / first).ln() / mult.ln())
        .floor()
        .clamp(0.0, n - 1.0);
    // Round-off at a cycle boundary can put k one off; the boundaries decide.
    if k > 0.0 && p < start(k) {
        k -= 1.0;
    } else if k < n - 1.0 && p >= start(k + 1.0) {
        k += 1.0;
    }
    ((p - start(k)) / (first * mult.powf(k))).clamp(0.0, 1.0)
}

impl Schedule {
    /// LR at steps `0..len`.
    /// [`Schedule::lr_array`] into `out`, reusing its memory: a plan of 20-million-step
    /// candidates fills one buffer per core instead of faulting in 160 MB per candidate.
    pub fn lr_array_into(&self, len: usize, out: &mut Vec<f64>) {
        out.clear();
        match self {
            Schedule::Formula(f) => out.extend((0..len as u64).map(|s| f.lr_at(s))),
            Schedule::File { values, .. } => {
                let last = values.last().copied().unwrap_or(0.0);
                out.extend((0..len).map(|s| values.get(s).copied().unwrap_or(last)));
            }
        }
    }

    pub fn lr_array(&self, len: usize) -> Vec<f64> {
        match self {
            Schedule::Formula(f) => (0..len as u64).map(|s| f.lr_at(s)).collect(),
            Schedule::File { values, .. } => {
                let last = values.last().copied().unwrap_or(0.0);
                (0..len)
                    .map(|s| values.get(s).copied().unwrap_or(last))
                    .collect()
            }
        }
    }

    /// Whether the schedule gives the LR up to `last_step`. A formula holds its value after
    /// `total` by definition; a `file:` schedule written for fewer steps may be held for at
    /// most 1 % of its length (noted), beyond that the LR there is unknown and refused.
    pub fn covers(&self, last_step: u64) -> Result<Option<String>> {
        let Schedule::File { path, values, .. } = self else {
            return Ok(None);
        };
        let file_last = values.len().saturating_sub(1) as u64;
        if last_step <= file_last {
            return Ok(None);
        }
        let held = last_step - file_last;
        let bound = crate::ingest::max_lr_gap(file_last as i64) as u64;
        if held > bound {
            return Err(Error::input(format!(
                "file:{} gives the LR up to step {file_last}, but step {last_step} is needed: \
                 {held} steps beyond its end, more than the {bound} (1 %) losscast holds its last \
                 LR for; extend the file or give a spec",
                path.display()
            )));
        }
        Ok(Some(format!(
            "file:{}: its last LR (step {file_last}) held for {held} more step(s)",
            path.display()
        )))
    }

    /// What reading the schedule had to do (a `file:` schedule's interpolated gaps, LR round-off
    /// set to 0), for the fit record.
    pub fn notes(&self) -> &[String] {
        match self {
            Schedule::Formula(_) => &[],
            Schedule::File { notes, .. } => notes,
        }
    }

    /// The first step at the schedule's peak LR: the end of its warmup.
    pub fn warmup_end(&self) -> u64 {
        match self {
            Schedule::Formula(f) => f.warmup.saturating_sub(1),
            Schedule::File { values, .. } => {
                let peak = values.iter().copied().fold(0.0f64, f64::max);
                values.iter().position(|&x| x >= peak).unwrap_or(0) as u64
            }
        }
    }

    /// The last step the schedule was written for (`total`, or a file's last row); later steps
    /// keep its LR.
    pub fn total_steps(&self) -> u64 {
        match self {
            Schedule::Formula(f) => f.total,
            Schedule::File { values, .. } => values.len().saturating_sub(1) as u64,
        }
    }
}

#[cfg(test)]
mod tests;
