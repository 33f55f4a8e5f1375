//! Numbers as people read them. Every message, table, figure label and report cell formats its
//! numbers here, so one value reads the same everywhere and none prints as a 150-digit decimal.
//!
//! - [`num`]: a number in a message, as the user typed it.
//! - [`short`]: six significant digits (parameters in summaries, figure labels).
//! - [`fixed`]: a fixed count of decimals (loss tables).
//! - [`sig`], [`column`], [`percent_column`]: a report's table columns, each at the fewest
//!   significant digits (3 to 6) at which its distinct values stay distinct, so 2.41703 and
//!   2.41826 do not both read 2.42.
//! - [`short_size`], [`step_label`], [`sci_label`]: model sizes in fold labels, and axis ticks.

/// A number in 6 significant digits, switching to exponent form for very small or large values.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.5e}")
    } else {
        let digits = if a == 0.0 {
            5
        } else {
            (5 - a.log10().floor() as i32).clamp(0, 9) as usize
        };
        format!("{v:.digits$}")
    }
}

/// A number as a user typed it, but never as a 150-digit decimal: Rust's `{}` writes 1e150 out
/// in full, so anything long switches to the shortest exponent form (`1e150`, `-4.2e-22`).
pub fn num(v: f64) -> String {
    let plain = format!("{v}");
    if plain.len() <= 12 {
        plain
    } else {
        format!("{v:e}")
    }
}

/// `x` with `digits` decimals, as tables print losses, switching to the exponent form where
/// fixed notation would run to hundreds of digits.
pub fn fixed(x: f64, digits: usize) -> String {
    let a = x.abs();
    if a.is_finite() && a >= 1e6 {
        format!("{x:.digits$e}")
    } else {
        format!("{x:.digits$}")
    }
}

/// The fewest significant digits, from 3 to 6, at which values that differ print differently.
pub fn digits_for(values: &[f64]) -> usize {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    (3..=6)
        .find(|&d| {
            let mut shown: Vec<(String, f64)> = finite.iter().map(|&v| (sig(v, d), v)).collect();
            shown.sort_by(|a, b| a.0.cmp(&b.0));
            shown
                .windows(2)
                .all(|w| w[0].0 != w[1].0 || w[0].1 == w[1].1)
        })
        .unwrap_or(6)
}

/// `v` to `digits` significant digits: plain between 1e-3 and 1e6, scientific outside.
pub fn sig(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "–".into()
        } else {
            format!("{v}")
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{:.*e}", digits.saturating_sub(1), v);
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A whole column, at the digits it needs.
pub fn column(values: &[f64]) -> Vec<String> {
    let d = digits_for(values);
    values.iter().map(|&v| sig(v, d)).collect()
}

/// A share as a percentage, at the digits the column needs.
pub fn percent_column(values: &[f64]) -> Vec<String> {
    let scaled: Vec<f64> = values.iter().map(|v| 100.0 * v).collect();
    column(&scaled)
        .into_iter()
        .map(|s| format!("{s} %"))
        .collect()
}

/// A model size for people: 2.85e9, not 2849804288.
pub fn short_size(n: f64) -> String {
    let s = format!("{n:.3e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    format!("{mantissa}e{exp}")
}

/// Steps as people write them: 500, 12k, 1.5M.
pub fn step_label(v: &f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(*v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Compact scientific labels for log axes: 3e8, 1e9.
pub fn sci_label(v: &f64) -> String {
    format!("{v:.0e}")
}

/// An axis tick of a loss: at most four significant digits, in scientific notation outside
/// [1e-3, 1e5), so that a figure of absurd values shows "5.00e305", not 306 digits.
pub fn tick_label(v: &f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}");
    }
    let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_stay_short() {
        assert_eq!(tick_label(&2.5), "2.5");
        assert_eq!(tick_label(&3.0), "3");
        assert_eq!(tick_label(&2.83456), "2.835");
        assert_eq!(tick_label(&5e305), "5.00e305");
        assert_eq!(tick_label(&-1.5e-7), "-1.50e-7");
    }

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(num(1e150), "1e150");
        assert_eq!(num(-4.2e-22), "-4.2e-22");
        assert_eq!(num(3e-4), "0.0003");
        assert_eq!(num(24000.0), "24000");
        assert_eq!(num(f64::INFINITY), "inf");
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(2.6278012), "2.62780");
        assert_eq!(short(0.42966), "0.429660");
        assert_eq!(short(523.42464371), "523.425");
        assert_eq!(short(1.6292e-5), "1.62920e-5");
    }

    #[test]
    fn digits_grow_until_values_differ() {
        assert_eq!(digits_for(&[2.41703, 2.41826]), 4);
        assert_eq!(column(&[2.41703, 2.41826]), vec!["2.417", "2.418"]);
        assert_eq!(digits_for(&[0.99917, 0.99784, 0.99762]), 4);
        assert_eq!(digits_for(&[1.0, 2.0]), 3);
        // Equal values may print alike.
        assert_eq!(digits_for(&[3.0, 3.0]), 3);
    }

    #[test]
    fn large_and_small_are_scientific() {
        assert_eq!(sig(2143.417, 4), "2143");
        assert_eq!(sig(5.76e23, 3), "5.76e23");
        assert_eq!(sig(3e-5, 3), "3.00e-5");
        assert_eq!(sig(0.0012345, 3), "0.00123");
        assert_eq!(sig(f64::NAN, 3), "–");
        assert_eq!(
            percent_column(&[0.00177, 0.00206]),
            vec!["0.177 %", "0.206 %"]
        );
    }

    #[test]
    fn sizes_print_short() {
        assert_eq!(short_size(2849804288.0), "2.85e9");
        assert_eq!(short_size(4e8), "4e8");
        assert_eq!(short_size(247586304.0), "2.476e8");
    }
}
