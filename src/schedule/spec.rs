//! The schedule spec grammar: `kind:key=value,...`, or `file:PATH[#COLUMN]`.
//!
//! Every key is checked: an unknown key, a repeated key, a missing required key or a value out of
//! range is an error that quotes the spec, because a typo in a schedule silently changes S1 and
//! S2 and with them every forecast. `Display` prints the canonical spec, which parses back to the
//! same schedule.

use super::{DecayShape, Formula, Schedule, Shape};
use crate::base::numbers::num;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

const KINDS: &str = "constant, cosine, linear, wsd, steps, rsqrt, poly, exp, cosine_restarts, file";

/// Parse a schedule spec. `base_dir` resolves a relative `file:` path (the manifest's folder, or
/// the working directory on the command line).
pub fn parse(spec: &str, base_dir: &Path) -> Result<Schedule> {
    let spec = spec.trim();
    let bad = |msg: String| Error::input(format!("bad schedule spec '{spec}': {msg}"));
    let (kind, rest) = spec.split_once(':').ok_or_else(|| {
        bad(format!(
            "expected 'kind:key=value,...' with kind one of {KINDS}"
        ))
    })?;
    let kind = kind.trim();
    if kind == "file" {
        return parse_file(rest.trim(), base_dir).map_err(|e| bad(e.to_string()));
    }
    let keys = Keys::parse(rest).map_err(bad)?;
    let allowed: &[&str] = match kind {
        "constant" => &["peak", "warmup", "total"],
        "cosine" | "linear" => &["peak", "end", "warmup", "total"],
        "wsd" => &["peak", "end", "warmup", "total", "decay_start", "shape"],
        "steps" => &["peak", "warmup", "total", "drops"],
        "rsqrt" => &["peak", "warmup", "total", "timescale"],
        "poly" => &["peak", "end", "warmup", "total", "power"],
        "exp" => &["peak", "warmup", "total", "gamma", "every", "staircase"],
        "cosine_restarts" => &["peak", "end", "warmup", "total", "cycles", "mult"],
        other => {
            return Err(bad(format!(
                "unknown kind '{other}', expected one of {KINDS}"
            )))
        }
    };
    keys.check_allowed(allowed).map_err(bad)?;
    let peak = keys.positive("peak").map_err(bad)?;
    if peak > MAX_LR {
        return Err(bad(format!(
            "peak={} is not a learning rate: losscast takes an LR of at most {} (the schedule's \
             areas, sums of millions of LRs, must stay finite)",
            num(peak),
            num(MAX_LR)
        )));
    }
    let total = keys.step("total").map_err(bad)?;
    let warmup = keys.optional_step("warmup").map_err(bad)?.unwrap_or(0);
    if total == 0 {
        return Err(bad("total must be at least 1".into()));
    }
    crate::base::limits::check_step(total, "total").map_err(|e| bad(e.to_string()))?;
    if warmup > total {
        return Err(bad(format!("warmup ({warmup}) exceeds total ({total})")));
    }
    let end = || -> std::result::Result<f64, String> {
        let end = keys.optional_f64("end")?.unwrap_or(0.0);
        if end < 0.0 {
            return Err(format!("end must be >= 0, got {}", num(end)));
        }
        if end > peak {
            return Err(format!(
                "end ({}) exceeds peak ({}); a decay ends below its peak",
                num(end),
                num(peak)
            ));
        }
        Ok(end)
    };
    let shape = match kind {
        "constant" => Shape::Constant,
        "cosine" => Shape::Cosine {
            end: end().map_err(bad)?,
        },
        "linear" => Shape::Linear {
            end: end().map_err(bad)?,
        },
        "wsd" => {
            let end = end().map_err(bad)?;
            let decay_start = keys.step("decay_start").map_err(bad)?;
            if decay_start < warmup || decay_start > total {
                return Err(bad(format!(
                    "decay_start ({decay_start}) must lie between warmup ({warmup}) and total ({total})"
                )));
            }
            // Without shape=, the decay is linear (the shape of Hägele et al.'s WSD); the
            // canonical spec spells it out, so a fit record and a plan show which it was.
            let shape = match keys.get("shape").unwrap_or("linear") {
                "exp" => DecayShape::Exp,
                "linear" => DecayShape::Linear,
                "cosine" => DecayShape::Cosine,
                "sqrt" => DecayShape::Sqrt,
                other => {
                    return Err(bad(format!(
                        "unknown wsd shape '{other}', expected exp, linear, cosine or sqrt"
                    )))
                }
            };
            if shape == DecayShape::Exp && end <= 0.0 {
                return Err(bad("an exp (geometric) decay needs end > 0".into()));
            }
            Shape::Wsd {
                end,
                decay_start,
                shape,
            }
        }
        "steps" => {
            let drops = parse_drops(keys.get("drops").unwrap_or(""), warmup).map_err(bad)?;
            // A step schedule drops: each level lies below the one before it, the peak first.
            let mut level = peak;
            for &(at, lr) in &drops {
                if lr > level {
                    return Err(bad(format!(
                        "the drop at step {at} goes up, from {} to {}: each drop must lower the \
                         LR (below the peak {}, then below the drop before)",
                        num(level),
                        num(lr),
                        num(peak)
                    )));
                }
                level = lr;
            }
            if let Some((at, _)) = drops.iter().find(|(at, _)| *at > total) {
                return Err(bad(format!(
                    "drop at step {at} comes after total ({total}), so it would never happen"
                )));
            }
            Shape::Steps { drops }
        }
        "rsqrt" => {
            let timescale = keys
                .optional_step("timescale")
                .map_err(bad)?
                .unwrap_or(warmup);
            if timescale == 0 {
                return Err(bad(
                    "rsqrt decays as peak·sqrt(W/step) from step W: give warmup > 0 or \
                     timescale=W > 0"
                        .into(),
                ));
            }
            if timescale > total {
                return Err(bad(format!(
                    "timescale ({timescale}) exceeds total ({total})"
                )));
            }
            Shape::Rsqrt { timescale }
        }
        "poly" => {
            let end = end().map_err(bad)?;
            let power = keys.optional_f64("power").map_err(bad)?.unwrap_or(1.0);
            if power <= 0.0 {
                return Err(bad(format!("power must be > 0, got {}", num(power))));
            }
            Shape::Poly { end, power }
        }
        "exp" => {
            let gamma = keys.optional_f64("gamma").map_err(bad)?.ok_or_else(|| {
                bad("missing key 'gamma' (the LR factor per `every` steps)".into())
            })?;
            if !(gamma > 0.0 && gamma <= 1.0) {
                return Err(bad(format!("gamma must lie in (0, 1], got {}", num(gamma))));
            }
            let every = keys.optional_step("every").map_err(bad)?.unwrap_or(1);
            if every == 0 {
                return Err(bad("every must be at least 1".into()));
            }
            let staircase = match keys.get("staircase").unwrap_or("false") {
                "true" => true,
                "false" => false,
                other => return Err(bad(format!("staircase='{other}', expected true or false"))),
            };
            Shape::Exp {
                gamma,
                every,
                staircase,
            }
        }
        "cosine_restarts" => {
            let end = end().map_err(bad)?;
            let cycles = keys.step("cycles").map_err(bad)?;
            if cycles == 0 || cycles > total - warmup {
                return Err(bad(format!(
                    "cycles must lie between 1 and the {} steps after warmup, got {cycles}",
                    total - warmup
                )));
            }
            let mult = keys.optional_f64("mult").map_err(bad)?.unwrap_or(1.0);
            if !(1.0..=100.0).contains(&mult) {
                return Err(bad(format!(
                    "mult (each cycle's length over the last one's) must lie in [1, 100], got {}",
                    num(mult)
                )));
            }
            Shape::CosineRestarts { end, cycles, mult }
        }
        _ => unreachable!("kind checked above"),
    };
    Ok(Schedule::Formula(Formula {
        peak,
        warmup,
        total,
        shape,
    }))
}

fn parse_file(rest: &str, base_dir: &Path) -> Result<Schedule> {
    let (path, column) = match rest.rsplit_once('#') {
        Some((p, c)) => (p, Some(c.to_string())),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(Error::input("file: needs a path"));
    }
    let full = base_dir.join(path);
    let (values, notes) = crate::ingest::read_lr_array(&full, column.as_deref())?;
    Ok(Schedule::File {
        path: path.into(),
        column,
        values,
        notes,
    })
}

/// The largest LR a spec may give: above it a schedule is not a training schedule, and the
/// areas of a 20-million-step run would overflow long before.
pub const MAX_LR: f64 = 100.0;

fn parse_drops(text: &str, warmup: u64) -> std::result::Result<Vec<(u64, f64)>, String> {
    let mut drops = Vec::new();
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (at, lr) = item
            .split_once('@')
            .ok_or_else(|| format!("drop '{item}' should look like STEP@LR, e.g. 8000@9e-5"))?;
        let at: u64 = at
            .trim()
            .parse()
            .map_err(|_| format!("drop step '{at}' is not a whole number"))?;
        let lr: f64 = lr
            .trim()
            .parse()
            .map_err(|_| format!("drop LR '{lr}' is not a number"))?;
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(format!("drop LR must be finite and >= 0, got {}", num(lr)));
        }
        if at > crate::base::limits::MAX_STEPS {
            return Err(format!(
                "drop at step {at} is beyond losscast's limit of {} steps",
                crate::base::limits::MAX_STEPS
            ));
        }
        if at < warmup {
            return Err(format!(
                "drop at step {at} falls inside the warmup ({warmup})"
            ));
        }
        if let Some((prev, _)) = drops.last() {
            if at <= *prev {
                return Err(format!("drop steps must increase, got {prev} then {at}"));
            }
        }
        drops.push((at, lr));
    }
    if drops.is_empty() {
        return Err("steps needs drops=STEP@LR;STEP@LR...".into());
    }
    Ok(drops)
}

/// The `key=value` pairs of a spec, checked for duplicates.
struct Keys<'a>(BTreeMap<&'a str, &'a str>);

impl<'a> Keys<'a> {
    fn parse(text: &'a str) -> std::result::Result<Self, String> {
        let mut map = BTreeMap::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("'{item}' should be key=value"))?;
            if map.insert(k.trim(), v.trim()).is_some() {
                return Err(format!("key '{}' given twice", k.trim()));
            }
        }
        Ok(Keys(map))
    }

    fn check_allowed(&self, allowed: &[&str]) -> std::result::Result<(), String> {
        match self.0.keys().find(|k| !allowed.contains(k)) {
            Some(k) => Err(format!(
                "unknown key '{k}', expected {}",
                allowed.join(", ")
            )),
            None => Ok(()),
        }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.get(key).copied()
    }

    fn optional_f64(&self, key: &str) -> std::result::Result<Option<f64>, String> {
        self.get(key)
            .map(|v| match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                _ => Err(format!("{key}='{v}' is not a finite number")),
            })
            .transpose()
    }

    fn positive(&self, key: &str) -> std::result::Result<f64, String> {
        match self.optional_f64(key)? {
            Some(x) if x > 0.0 => Ok(x),
            Some(x) => Err(format!("{key} must be > 0, got {}", num(x))),
            None => Err(format!("missing key '{key}'")),
        }
    }

    fn optional_step(&self, key: &str) -> std::result::Result<Option<u64>, String> {
        self.get(key)
            .map(|v| {
                // Accept 2.4e4 as well as 24000, but only whole numbers.
                let x: f64 = v
                    .parse()
                    .map_err(|_| format!("{key}='{v}' is not a step count"))?;
                if x >= 0.0 && x.fract() == 0.0 && x < 1e15 {
                    Ok(x as u64)
                } else {
                    Err(format!(
                        "{key}='{v}' is not a whole, non-negative step count"
                    ))
                }
            })
            .transpose()
    }

    fn step(&self, key: &str) -> std::result::Result<u64, String> {
        self.optional_step(key)?
            .ok_or_else(|| format!("missing key '{key}'"))
    }
}

/// LRs in specs: `3e-5`, and plain `0` rather than `0e0`.
fn lr_text(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:e}")
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::File { path, column, .. } => {
                write!(f, "file:{}", path.display())?;
                if let Some(c) = column {
                    write!(f, "#{c}")?;
                }
                Ok(())
            }
            Schedule::Formula(s) => {
                let head =
                    |f: &mut fmt::Formatter<'_>, kind: &str| write!(f, "{kind}:peak={:e}", s.peak);
                let tail = |f: &mut fmt::Formatter<'_>| {
                    write!(f, ",warmup={},total={}", s.warmup, s.total)
                };
                match &s.shape {
                    Shape::Constant => {
                        head(f, "constant")?;
                        tail(f)
                    }
                    Shape::Cosine { end } | Shape::Linear { end } => {
                        let kind = if matches!(s.shape, Shape::Cosine { .. }) {
                            "cosine"
                        } else {
                            "linear"
                        };
                        head(f, kind)?;
                        write!(f, ",end={}", lr_text(*end))?;
                        tail(f)
                    }
                    Shape::Wsd {
                        end,
                        decay_start,
                        shape,
                    } => {
                        head(f, "wsd")?;
                        write!(f, ",end={}", lr_text(*end))?;
                        tail(f)?;
                        let shape = match shape {
                            DecayShape::Exp => "exp",
                            DecayShape::Linear => "linear",
                            DecayShape::Cosine => "cosine",
                            DecayShape::Sqrt => "sqrt",
                        };
                        write!(f, ",decay_start={decay_start},shape={shape}")
                    }
                    Shape::Steps { drops } => {
                        head(f, "steps")?;
                        tail(f)?;
                        let drops: Vec<String> = drops
                            .iter()
                            .map(|(at, lr)| format!("{at}@{}", lr_text(*lr)))
                            .collect();
                        write!(f, ",drops={}", drops.join(";"))
                    }
                    Shape::Rsqrt { timescale } => {
                        head(f, "rsqrt")?;
                        tail(f)?;
                        write!(f, ",timescale={timescale}")
                    }
                    Shape::Poly { end, power } => {
                        head(f, "poly")?;
                        write!(f, ",end={}", lr_text(*end))?;
                        tail(f)?;
                        write!(f, ",power={}", num(*power))
                    }
                    Shape::Exp {
                        gamma,
                        every,
                        staircase,
                    } => {
                        head(f, "exp")?;
                        tail(f)?;
                        write!(
                            f,
                            ",gamma={},every={every},staircase={staircase}",
                            num(*gamma)
                        )
                    }
                    Shape::CosineRestarts { end, cycles, mult } => {
                        head(f, "cosine_restarts")?;
                        write!(f, ",end={}", lr_text(*end))?;
                        tail(f)?;
                        write!(f, ",cycles={cycles},mult={}", num(*mult))
                    }
                }
            }
        }
    }
}
