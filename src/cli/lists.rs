//! Items of comma-separated options, read as people type them: `--laws 'annealing, multipower'`
//! names multipower, not " multipower". clap splits on the comma; these parsers trim each item
//! and refuse an empty one, so every list option (laws, tasks, families, sizes) reads alike.
//! Step counts (`--total`) are read here too, in the forms people write them (24000, 2e7), and
//! held to the one step limit before anything is sized by them.

/// A name: trimmed, not empty.
pub(super) fn name(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("an empty item (two commas, or a trailing comma?)".into());
    }
    Ok(t.to_string())
}

/// A number: trimmed, then parsed as f64.
pub(super) fn number(s: &str) -> Result<f64, String> {
    let t = s.trim();
    t.parse::<f64>()
        .map_err(|_| format!("'{t}' is not a number"))
}

/// A step count: a whole number >= 0, written plainly or as 2e7, within
/// [`crate::base::limits::MAX_STEPS`].
pub(super) fn steps(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let n = match t.parse::<u64>() {
        Ok(n) => n,
        Err(_) => match t.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 => x as u64,
            Ok(x) if x < 0.0 => return Err(format!("'{t}' is negative; a step count is >= 0")),
            _ => return Err(format!("'{t}' is not a whole number of steps")),
        },
    };
    crate::base::limits::check_step(n, "step count")
        .map(|()| n)
        .map_err(|e| e.to_string())
}
