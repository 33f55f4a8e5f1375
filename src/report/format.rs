//! Numbers as a reader wants them in a table: each column gets the fewest significant digits
//! (3 to 6) at which its distinct values stay distinct, so 2.41703 and 2.41826 do not both read
//! 2.42, and a column of R² near 1 shows the digits that differ.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
