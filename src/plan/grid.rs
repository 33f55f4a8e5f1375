//! Candidate schedules: the default families and the user's `--grid` specs.
//!
//! A grid is a schedule spec whose values may be lists: `wsd:decay_frac=0.05..0.5/0.05,
//! shape=linear|sqrt|exp`. `a..b/h` is an inclusive range, `x|y|z` a list. Besides the spec keys
//! it takes `decay_frac` (a WSD decay over that share of the steps) and `end_frac` (the final LR
//! as a share of the peak), because those are how people think about schedules and they do not
//! depend on the run length. `peak`, `warmup` and `total` come from `plan`'s flags.

use crate::error::{Error, Result};

/// The end LR (share of the peak) of an exp WSD decay asked to end at 0.
pub const EXP_END_FRAC: f64 = 0.01;

/// What every candidate shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub total: u64,
    pub peak: f64,
    pub warmup: u64,
}

/// The default families: WSD (decay share × shape), cosine (end LR), linear to zero, step decays,
/// and constant as the reference: 51 candidates.
pub const FAMILIES: &[&str] = &["wsd", "cosine", "linear", "steps", "constant"];

fn family_grid(name: &str) -> Result<&'static str> {
    Ok(match name {
        "wsd" => "wsd:decay_frac=0.1..0.5/0.1,shape=linear|sqrt|exp|cosine,end_frac=0|0.1",
        // (exp decays cannot reach 0: its end_frac=0 becomes EXP_END_FRAC, see to_spec)
        "cosine" => "cosine:end_frac=0|0.01|0.1",
        "linear" => "linear:end_frac=0|0.1",
        "steps" => "steps:drops=0.5@0.1|0.5@0.316;0.75@0.1|0.6@0.316;0.8@0.1|0.8@0.1|0.9@0.1",
        "constant" => "constant:",
        other => {
            return Err(Error::input(format!(
                "unknown family '{other}', expected some of: {}",
                FAMILIES.join(", ")
            )))
        }
    })
}

/// Expand families and grids into canonical-ready spec strings, with a note for each family
/// member that does not fit the frame (a step drop inside a long warmup of a short run): those
/// are the defaults' doing, not the user's, so they are left out rather than refused. A user's
/// `--grid` member that does not parse is an error.
pub fn candidates(
    families: &[String],
    grids: &[String],
    frame: Frame,
) -> Result<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for f in families {
        let (fits, left_out): (Vec<String>, Vec<String>) = expand(family_grid(f.trim())?, frame)?
            .into_iter()
            .partition(|spec| crate::schedule::parse(spec, std::path::Path::new("")).is_ok());
        if !left_out.is_empty() {
            notes.push(format!(
                "{} {} candidate(s) do not fit {} steps with {} warmup steps and were left out \
                 (e.g. {})",
                left_out.len(),
                f.trim(),
                frame.total,
                frame.warmup,
                left_out[0]
            ));
        }
        out.extend(fits);
    }
    for g in grids {
        out.extend(expand(g, frame)?);
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(Error::input(format!(
            "no candidate schedules{} (give --families or --grid)",
            notes.first().map_or(String::new(), |n| format!(": {n}"))
        )));
    }
    Ok((out, notes))
}

/// One grid to its specs.
pub fn expand(grid: &str, frame: Frame) -> Result<Vec<String>> {
    let bad = |m: String| Error::input(format!("bad --grid '{grid}': {m}"));
    let (kind, rest) = grid
        .split_once(':')
        .ok_or_else(|| bad("expected 'kind:key=values,...'".into()))?;
    let kind = kind.trim();
    let mut axes: Vec<(String, Vec<String>)> = Vec::new();
    for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("'{item}' should be KEY=VALUES")))?;
        if ["peak", "warmup", "total"].contains(&k.trim()) {
            return Err(bad(format!(
                "'{}' comes from --{}; a grid varies the shape only",
                k.trim(),
                k.trim()
            )));
        }
        if axes.iter().any(|(seen, _)| seen == k.trim()) {
            return Err(bad(format!("key '{}' given twice", k.trim())));
        }
        axes.push((k.trim().to_string(), values(v.trim()).map_err(bad)?));
    }
    for (a, b) in [("decay_frac", "decay_start"), ("end_frac", "end")] {
        if axes.iter().any(|(k, _)| k == a) && axes.iter().any(|(k, _)| k == b) {
            return Err(bad(format!(
                "'{a}' and '{b}' both set the same thing; give one"
            )));
        }
    }
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (k, vs) in &axes {
        combos = combos
            .iter()
            .flat_map(|c| {
                vs.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((k.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    combos
        .iter()
        .map(|c| to_spec(kind, c, frame).map_err(bad))
        .collect()
}

/// `a..b/h`, `x|y|z` or a single value.
fn values(text: &str) -> std::result::Result<Vec<String>, String> {
    if let Some((range, step)) = text.split_once('/') {
        let (a, b) = range
            .split_once("..")
            .ok_or_else(|| format!("'{text}': a range is START..END/STEP"))?;
        let num = |s: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{s}' is not a number"))
        };
        let (a, b, h) = (num(a)?, num(b)?, num(step)?);
        if !(h > 0.0 && b >= a) {
            return Err(format!("'{text}': need STEP > 0 and END >= START"));
        }
        let n = ((b - a) / h + 1e-9).floor() as usize;
        if n > 10_000 {
            return Err(format!("'{text}' has more than 10 000 values"));
        }
        // Round away the float noise of a + k·h so specs print as the user wrote them.
        return Ok((0..=n)
            .map(|k| show(((a + k as f64 * h) * 1e12).round() / 1e12))
            .collect());
    }
    Ok(text.split('|').map(|v| v.trim().to_string()).collect())
}

fn to_spec(kind: &str, keys: &[(String, String)], f: Frame) -> std::result::Result<String, String> {
    let num = |k: &str, v: &str| {
        v.parse::<f64>()
            .map_err(|_| format!("{k}='{v}' is not a number"))
    };
    let mut parts = vec![
        format!("peak={}", show(f.peak)),
        format!("warmup={}", f.warmup),
        format!("total={}", f.total),
    ];
    let span = f.total.saturating_sub(f.warmup) as f64;
    for (k, v) in keys {
        match k.as_str() {
            "decay_frac" => {
                let frac = num(k, v)?;
                if !(0.0..=1.0).contains(&frac) {
                    return Err(format!("decay_frac={v} must lie in [0, 1]"));
                }
                let start = f.total - (frac * span).round() as u64;
                parts.push(format!("decay_start={start}"));
            }
            "end_frac" => parts.push(format!("end={}", show(clean(num(k, v)? * f.peak)))),
            // Drops as `FRACTION_OF_RUN@FRACTION_OF_PEAK;...`, so a grid does not depend on the
            // run length either; absolute `STEP@LR` drops are passed through.
            "drops" if kind == "steps" && v.split(';').all(is_fraction_drop) => {
                let drops: Vec<String> = v
                    .split(';')
                    .map(|d| {
                        let (at, to) = d.split_once('@').unwrap_or((d, "0"));
                        let at: f64 = at.trim().parse().unwrap_or(0.0);
                        let to: f64 = to.trim().parse().unwrap_or(0.0);
                        format!(
                            "{}@{}",
                            (at * f.total as f64).round() as u64,
                            show(clean(to * f.peak))
                        )
                    })
                    .collect();
                parts.push(format!("drops={}", drops.join(";")));
            }
            _ => parts.push(format!("{k}={v}")),
        }
    }
    // A geometric decay never reaches 0, so an exp WSD asked to end at 0 ends at 1 % of the peak.
    let exp = keys.iter().any(|(k, v)| k == "shape" && v == "exp");
    if kind == "wsd" && exp {
        for p in parts.iter_mut() {
            if p == "end=0" {
                *p = format!("end={}", show(clean(EXP_END_FRAC * f.peak)));
            }
        }
    }
    if kind == "wsd" && !keys.iter().any(|(k, _)| k == "end" || k == "end_frac") {
        let end = if exp {
            clean(EXP_END_FRAC * f.peak)
        } else {
            0.0
        };
        parts.push(format!("end={end}"));
    }
    if (kind == "cosine" || kind == "linear")
        && !keys.iter().any(|(k, _)| k == "end" || k == "end_frac")
    {
        parts.push("end=0".into());
    }
    Ok(format!("{kind}:{}", parts.join(",")))
}

/// A product like 0.316 × 3e-4 without its float noise (9.48e-5, not 9.480000000000001e-5).
use crate::base::numbers::num as show;

fn clean(x: f64) -> f64 {
    format!("{x:.10e}").parse().unwrap_or(x)
}

fn is_fraction_drop(d: &str) -> bool {
    d.split_once('@').is_some_and(|(at, to)| {
        let ok = |s: &str| {
            s.trim()
                .parse::<f64>()
                .is_ok_and(|x| (0.0..1.0).contains(&x))
        };
        ok(at) && ok(to)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Frame = Frame {
        total: 24000,
        peak: 3e-4,
        warmup: 2160,
    };

    #[test]
    fn ranges_and_lists_expand_to_every_combination() {
        let specs = expand("wsd:decay_frac=0.05..0.5/0.05,shape=linear|sqrt|exp", F).unwrap();
        assert_eq!(specs.len(), 30);
        assert!(specs
            .iter()
            .any(|s| s.contains("decay_start=22908") && s.contains("shape=sqrt")));
        for s in &specs {
            crate::schedule::parse(s, std::path::Path::new("")).unwrap();
        }
    }

    #[test]
    fn default_families_parse() {
        let fams: Vec<String> = FAMILIES.iter().map(|s| s.to_string()).collect();
        let (specs, notes) = candidates(&fams, &[], F).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(specs.len(), 51);
        for s in &specs {
            crate::schedule::parse(s, std::path::Path::new(""))
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }

    #[test]
    fn bad_grids_say_why() {
        let e = expand("wsd:decay_frac=0.5..0.1/0.1", F)
            .unwrap_err()
            .to_string();
        assert!(e.contains("END >= START"), "{e}");
        let e = expand("wsd:total=5", F).unwrap_err().to_string();
        assert!(e.contains("--total"), "{e}");
        assert!(expand("nope", F).is_err());
    }
}
