//! Learning-rate schedules: a spec string becomes the LR at every optimizer step.
//!
//! Laws sum the LR over *every* step (S1, S2), so a schedule must give a value for each step from
//! 0, warmup included, even when a log only records the LR now and then. The formulas follow the
//! Multi-Power-Law reference code exactly, so its published schedules are reproduced to the bit:
//! warmup is `linspace(0, peak, warmup)` (step 0 has LR 0, step `warmup-1` has the peak).
//!
//! The spec grammar (`kind:key=value,...`) lives in [`spec`]; it round-trips through `Display`.

mod spec;

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
    },
}

pub use spec::parse;

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
        }
    }
}

impl Schedule {
    /// LR at steps `0..len`.
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

    /// The number of steps the schedule was written for (`total`, or the file's length).
    pub fn total_steps(&self) -> u64 {
        match self {
            Schedule::Formula(f) => f.total,
            Schedule::File { values, .. } => values.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests;
