//! IsoFLOP analysis (Hoffmann et al.'s approach 2): for each compute budget, fit loss against
//! ln N, take the minimum as N_opt(C), then fit `N_opt ∝ C^a` and `D_opt ∝ C^b` across budgets.
//!
//! Two choices decide the answer, and both are recorded:
//! - **The window.** Sweeps span far more sizes than a parabola can describe: Porian et al.'s
//!   budgets run from the optimum to 100× beyond it, with losses from 4.6 to 10. A parabola
//!   through all of them puts the vertex where the far points pull it, not where the loss is
//!   lowest (on their Kaplan-style configuration the exponent comes out 1.2 instead of 0.83). So
//!   by default each budget is fitted on the `window` sizes nearest its lowest observed loss.
//! - **The shape.** A parabola is the classic choice; a cubic lets the two sides of the minimum
//!   differ, as they do when α ≠ β. Both are reported so a user sees how much the shape matters.
//!
//! A budget whose fitted minimum falls outside the sizes it sampled gives no optimum (the
//! minimum was not bracketed), and is listed with the reason rather than extrapolated.

use crate::base::groups::groups_within;
use crate::error::{Error, Result};
use crate::ingest::table::{read_table, TableColumns, TableFilters};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How budgets are formed and fitted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IsoflopOptions {
    /// Sizes per budget fitted around the lowest observed loss (0: all of them).
    pub window: usize,
    /// Points whose compute differs by at most this relative amount share a budget.
    pub budget_tol: f64,
}

impl Default for IsoflopOptions {
    fn default() -> Self {
        IsoflopOptions {
            window: 5,
            budget_tol: 0.01,
        }
    }
}

impl IsoflopOptions {
    pub fn validate(&self) -> Result<()> {
        if self.window != 0 && self.window < 3 {
            return Err(Error::input(
                "--window must be 0 (all sizes) or at least 3 (a parabola needs 3 points)",
            ));
        }
        if !(self.budget_tol >= 0.0 && self.budget_tol < 1.0) {
            return Err(Error::input("--budget-tol must lie in [0, 1)"));
        }
        Ok(())
    }
}

/// A polynomial in u = ln N − center, coefficients in ascending powers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polynomial {
    pub center: f64,
    pub coeffs: Vec<f64>,
}

impl Polynomial {
    pub fn eval_ln_n(&self, ln_n: f64) -> f64 {
        let u = ln_n - self.center;
        self.coeffs.iter().rev().fold(0.0, |acc, c| acc * u + c)
    }
}

/// One shape fitted to one budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapeFit {
    pub poly: Polynomial,
    /// The minimiser, when the fit has a minimum inside the fitted sizes.
    pub n_opt: Option<f64>,
    pub loss_opt: Option<f64>,
    /// Why there is no optimum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The points of one compute budget and what was fitted to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// The budget's compute (the median of its points' C).
    pub compute: f64,
    /// Sizes in increasing order, one loss each (the lowest when a size repeats).
    pub n: Vec<f64>,
    pub loss: Vec<f64>,
    /// Index range `[first, last]` into `n` of the fitted window.
    pub window: [usize; 2],
    pub parabola: Option<ShapeFit>,
    pub cubic: Option<ShapeFit>,
}

/// `y = coef · C^exponent`, fitted by least squares on logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerLaw {
    pub exponent: f64,
    pub coef: f64,
    pub r2: f64,
    /// Standard error of the exponent (null with fewer than 3 budgets).
    pub exponent_stderr: Option<f64>,
    pub budgets: usize,
}

/// The compute-optimal scaling implied by one shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub n_opt: PowerLaw,
    pub d_opt: PowerLaw,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsoflopResult {
    pub options: IsoflopOptions,
    pub budgets: Vec<Budget>,
    pub parabola: Option<Scaling>,
    pub cubic: Option<Scaling>,
    pub warnings: Vec<String>,
}

/// Least-squares polynomial of `degree` through (u, y); `None` when the system is singular.
fn polyfit(x: &[f64], y: &[f64], degree: usize) -> Option<Polynomial> {
    let center = x.iter().sum::<f64>() / x.len() as f64;
    let a = DMatrix::from_fn(x.len(), degree + 1, |i, j| (x[i] - center).powi(j as i32));
    let b = DVector::from_column_slice(y);
    let svd = crate::base::linalg::svd(a)?;
    let smax = svd.singular_values.max();
    if svd.singular_values.min() <= smax * 1e-12 {
        return None;
    }
    let c = svd.solve(&b, smax * 1e-14).ok()?;
    Some(Polynomial {
        center,
        coeffs: c.iter().copied().collect(),
    })
}

/// The local minimum of a parabola or cubic in u, if it has one.
fn local_min(c: &[f64]) -> Option<f64> {
    let (c1, c2) = (c[1], c[2]);
    let c3 = c.get(3).copied().unwrap_or(0.0);
    // p'(u) = c1 + 2 c2 u + 3 c3 u²; the minimum is the root where p'' = 2 c2 + 6 c3 u > 0.
    if c3.abs() <= 1e-12 * c2.abs().max(c1.abs()) {
        return (c2 > 0.0).then(|| -c1 / (2.0 * c2));
    }
    let disc = c2 * c2 - 3.0 * c3 * c1;
    if disc <= 0.0 {
        return None;
    }
    // The root with p'' > 0 is (−c2 + √disc)/(3 c3); written to avoid cancellation.
    let q = -(c2 + c2.signum() * disc.sqrt());
    [q / (3.0 * c3), c1 / q]
        .into_iter()
        .filter(|u| u.is_finite())
        .find(|u| 2.0 * c2 + 6.0 * c3 * u > 0.0)
}

fn fit_shape(ln_n: &[f64], loss: &[f64], degree: usize) -> Option<ShapeFit> {
    if ln_n.len() < degree + 1 {
        return None;
    }
    let poly = polyfit(ln_n, loss, degree)?;
    let (lo, hi) = (ln_n[0], ln_n[ln_n.len() - 1]);
    let (n_opt, loss_opt, reason) = match local_min(&poly.coeffs).map(|u| u + poly.center) {
        None => (None, None, Some("the fit has no minimum".to_string())),
        Some(x) if x <= lo || x >= hi => (
            None,
            None,
            Some(format!(
                "the minimum (N = {:.3e}) lies outside the fitted sizes [{:.3e}, {:.3e}]",
                x.exp(),
                lo.exp(),
                hi.exp()
            )),
        ),
        Some(x) => {
            let at_min = poly.eval_ln_n(x);
            match flat_reason(&poly, ln_n, loss, at_min) {
                Some(why) => (None, None, Some(why)),
                None => (Some(x.exp()), Some(at_min), None),
            }
        }
    };
    Some(ShapeFit {
        poly,
        n_opt,
        loss_opt,
        reason,
    })
}

/// Why a fitted minimum is not a real one: the curve must rise from it to the window's edges
/// by more than the fit's own scatter and more than round-off. A flat sweep (every size at the
/// same loss) fits a parabola whose curvature is rounding noise, and its "optimum" anywhere.
fn flat_reason(poly: &Polynomial, ln_n: &[f64], loss: &[f64], at_min: f64) -> Option<String> {
    let (lo, hi) = (ln_n[0], ln_n[ln_n.len() - 1]);
    let rise = poly.eval_ln_n(lo).max(poly.eval_ln_n(hi)) - at_min;
    let scatter = (ln_n
        .iter()
        .zip(loss)
        .map(|(&x, &y)| (y - poly.eval_ln_n(x)).powi(2))
        .sum::<f64>()
        / ln_n.len() as f64)
        .sqrt();
    let floor = 1e-9 * at_min.abs().max(1e-300);
    (rise <= floor.max(2.0 * scatter)).then(|| {
        format!(
            "no real curvature: the fit rises {} across the window, within its scatter {} or \
             round-off",
            crate::base::numbers::num(rise),
            crate::base::numbers::num(scatter)
        )
    })
}

/// Least squares of ln y on ln C.
fn power_law(c: &[f64], y: &[f64]) -> Option<PowerLaw> {
    let k = c.len();
    if k < 2 {
        return None;
    }
    let x: Vec<f64> = c.iter().map(|v| v.ln()).collect();
    let z: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let (mx, mz) = (
        x.iter().sum::<f64>() / k as f64,
        z.iter().sum::<f64>() / k as f64,
    );
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let sxz: f64 = x.iter().zip(&z).map(|(a, b)| (a - mx) * (b - mz)).sum();
    let szz: f64 = z.iter().map(|v| (v - mz).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxz / sxx;
    let intercept = mz - slope * mx;
    let ssr: f64 = x
        .iter()
        .zip(&z)
        .map(|(a, b)| (b - intercept - slope * a).powi(2))
        .sum();
    Some(PowerLaw {
        exponent: slope,
        coef: intercept.exp(),
        r2: if szz > 0.0 { 1.0 - ssr / szz } else { 1.0 },
        exponent_stderr: (k >= 3).then(|| (ssr / (k - 2) as f64 / sxx).sqrt()),
        budgets: k,
    })
}

fn scaling(budgets: &[Budget], shape: impl Fn(&Budget) -> Option<&ShapeFit>) -> Option<Scaling> {
    let pts: Vec<(f64, f64)> = budgets
        .iter()
        .filter_map(|b| Some((b.compute, shape(b)?.n_opt?)))
        .collect();
    let c: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let n: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let d: Vec<f64> = pts.iter().map(|(c, n)| c / (6.0 * n)).collect();
    Some(Scaling {
        n_opt: power_law(&c, &n)?,
        d_opt: power_law(&c, &d)?,
    })
}

/// Group points into budgets and fit each; `c`, `n`, `loss` are positive and of equal length.
pub fn analyse(c: &[f64], n: &[f64], loss: &[f64], opts: &IsoflopOptions) -> Result<IsoflopResult> {
    opts.validate()?;
    let groups = groups_within(c, opts.budget_tol);
    let mut warnings = Vec::new();
    let mut budgets = Vec::new();
    for g in groups {
        let mut cs: Vec<f64> = g.iter().map(|&i| c[i]).collect();
        cs.sort_by(f64::total_cmp);
        let compute = cs[cs.len() / 2];
        let mut pts: Vec<(f64, f64)> = g.iter().map(|&i| (n[i], loss[i])).collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        pts.dedup_by(|later, first| later.0 == first.0); // keeps the lowest loss per size
        if pts.len() < 3 {
            warnings.push(format!(
                "budget C = {compute:.3e}: {} distinct size(s), a parabola needs 3; skipped",
                pts.len()
            ));
            continue;
        }
        let best = (0..pts.len())
            .min_by(|&a, &b| pts[a].1.total_cmp(&pts[b].1))
            .unwrap_or(0);
        let w = if opts.window == 0 {
            pts.len()
        } else {
            opts.window.min(pts.len())
        };
        let first = best.saturating_sub(w / 2).min(pts.len() - w);
        let last = first + w - 1;
        let ln_n: Vec<f64> = pts[first..=last].iter().map(|p| p.0.ln()).collect();
        let y: Vec<f64> = pts[first..=last].iter().map(|p| p.1).collect();
        let budget = Budget {
            compute,
            n: pts.iter().map(|p| p.0).collect(),
            loss: pts.iter().map(|p| p.1).collect(),
            window: [first, last],
            parabola: fit_shape(&ln_n, &y, 2),
            cubic: fit_shape(&ln_n, &y, 3),
        };
        if let Some(r) = budget.parabola.as_ref().and_then(|p| p.reason.as_ref()) {
            warnings.push(format!(
                "budget C = {compute:.3e}: no parabola optimum: {r}"
            ));
        }
        budgets.push(budget);
    }
    if budgets.is_empty() {
        return Err(Error::input(
            "no compute budget has 3 or more distinct model sizes; IsoFLOP analysis needs sweeps \
             over N at fixed C (check the compute column, --where and --budget-tol)",
        ));
    }
    let parabola = scaling(&budgets, |b| b.parabola.as_ref());
    let cubic = scaling(&budgets, |b| b.cubic.as_ref());
    if parabola.is_none() {
        warnings.push("fewer than 2 budgets have a parabola optimum: no exponent".into());
    }
    Ok(IsoflopResult {
        options: *opts,
        budgets,
        parabola,
        cubic,
        warnings,
    })
}

/// Where an analysis's points came from, for the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsoflopData {
    pub path: String,
    pub sha256: String,
    pub columns: TableColumns,
    pub filters: TableFilters,
    pub points_used: usize,
    pub notes: Vec<String>,
}

/// An analysis with its provenance: what `losscast isoflop --out` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsoflopRecord {
    pub losscast_version: String,
    pub data: IsoflopData,
    #[serde(flatten)]
    pub result: IsoflopResult,
}

impl IsoflopRecord {
    /// The record as the pretty JSON `--out` writes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::failed(format!("cannot serialise the analysis: {e}")))?;
        Ok(format!("{json}\n").into_bytes())
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        crate::output::write_atomic(path, &self.to_bytes()?)
    }
}

/// Read a table and analyse it.
pub fn analyse_file(
    path: &Path,
    columns: &TableColumns,
    filters: &TableFilters,
    opts: &IsoflopOptions,
) -> Result<IsoflopRecord> {
    opts.validate()?;
    let table = read_table(path, columns)?;
    let (kept, filter_notes) = table.filtered(filters)?;
    let result = analyse(&kept.c, &kept.n, &kept.loss, opts).map_err(|e| match e {
        Error::BadInput(m) => Error::file(path, m),
        other => other,
    })?;
    Ok(IsoflopRecord {
        losscast_version: env!("CARGO_PKG_VERSION").to_string(),
        data: IsoflopData {
            path: path.display().to_string(),
            sha256: table.sha256.clone(),
            columns: columns.clone(),
            filters: filters.clone(),
            points_used: kept.loss.len(),
            notes: table.notes.iter().cloned().chain(filter_notes).collect(),
        },
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parabola_and_cubic_find_known_minima() {
        // loss = 3 + 0.2 (ln N − ln 1e8)²: minimum at 1e8, both shapes must find it exactly.
        let n: Vec<f64> = (0..7).map(|k| 1e7 * 10f64.powf(k as f64 / 3.0)).collect();
        let loss: Vec<f64> = n
            .iter()
            .map(|&v| 3.0 + 0.2 * (v / 1e8).ln().powi(2))
            .collect();
        let p = fit_shape(&n.iter().map(|v| v.ln()).collect::<Vec<_>>(), &loss, 2).unwrap();
        assert!((p.n_opt.unwrap() / 1e8 - 1.0).abs() < 1e-9);
        assert!((p.loss_opt.unwrap() - 3.0).abs() < 1e-12);
        // An asymmetric cubic: u³/3 − u has its minimum at u = 1.
        let x: Vec<f64> = (0..9).map(|k| -2.0 + 0.5 * k as f64).collect();
        let y: Vec<f64> = x.iter().map(|u| u * u * u / 3.0 - u + 5.0).collect();
        let c = fit_shape(&x, &y, 3).unwrap();
        assert!((c.n_opt.unwrap().ln() - 1.0).abs() < 1e-9);
        // A parabola that opens downward has no minimum.
        let y: Vec<f64> = x.iter().map(|u| -u * u).collect();
        assert!(fit_shape(&x, &y, 2).unwrap().n_opt.is_none());
    }

    #[test]
    fn recovers_the_allocation_exponent_of_a_chinchilla_surface() {
        // L = E + A/N^α + B/D^β has N_opt ∝ C^(β/(α+β)) exactly; dense sweeps around the optimum
        // should give that exponent to a few thousandths.
        let (e, a, b, alpha, beta) = (1.69, 406.4, 410.7, 0.34, 0.28);
        let (mut c, mut n, mut l) = (vec![], vec![], vec![]);
        for k in 0..6 {
            let budget = 1e18 * 10f64.powi(k);
            for j in 0..15 {
                let nn = 1e6 * 10f64.powf(k as f64 * 0.45 + j as f64 / 4.0);
                let d = budget / (6.0 * nn);
                c.push(budget);
                n.push(nn);
                l.push(e + a / nn.powf(alpha) + b / d.powf(beta));
            }
        }
        let r = analyse(&c, &n, &l, &IsoflopOptions::default()).unwrap();
        let want = beta / (alpha + beta);
        let got = r.parabola.as_ref().unwrap().n_opt.exponent;
        assert!((got - want).abs() < 0.01, "{got} vs {want}");
        let got = r.cubic.as_ref().unwrap().n_opt.exponent;
        assert!((got - want).abs() < 0.005, "{got} vs {want}");
        let s = r.parabola.unwrap();
        assert!((s.n_opt.exponent + s.d_opt.exponent - 1.0).abs() < 1e-12);
    }

    #[test]
    fn unbracketed_minimum_and_thin_budgets_are_reported() {
        // Loss falling monotonically in N: the minimum is not bracketed.
        let n = [1e7, 2e7, 4e7, 8e7];
        let l = [4.0, 3.5, 3.2, 3.0];
        let r = analyse(&[1e18; 4], &n, &l, &IsoflopOptions::default()).unwrap();
        assert!(r.parabola.is_none());
        assert!(r.budgets[0].parabola.as_ref().unwrap().reason.is_some());
        let e = analyse(
            &[1e18, 1e18],
            &[1e7, 2e7],
            &[3.0, 3.1],
            &IsoflopOptions::default(),
        );
        assert!(e.is_err());
    }

    /// A flat sweep used to report an optimum per budget and an exponent with R² 1.0.
    #[test]
    fn flat_losses_have_no_optimum() {
        let n = [1e7, 2e7, 4e7, 8e7, 1.6e8];
        let mut c = Vec::new();
        let mut nn = Vec::new();
        for budget in [1e18, 1e19, 1e20] {
            c.extend([budget; 5]);
            nn.extend(n);
        }
        let l = vec![3.0; 15];
        let r = analyse(&c, &nn, &l, &IsoflopOptions::default()).unwrap();
        assert!(r.parabola.is_none() && r.cubic.is_none(), "{r:?}");
        for b in &r.budgets {
            let reason = b.parabola.as_ref().unwrap().reason.as_deref().unwrap();
            assert!(reason.contains("no real curvature"), "{reason}");
        }
    }
}
