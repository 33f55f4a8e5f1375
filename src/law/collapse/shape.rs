//! Scaling collapse (Qiu et al. 2025; Bergsma et al. 2025): the loss curves of a well-tuned
//! ladder, each divided by its own final loss and read against the fraction of the run done,
//! fall onto one shape across model sizes. A larger model's whole curve is then its final loss
//! (an anchor from a final-loss law) times that shape.
//!
//! This module holds the shape half: extracting the normalised curves on a common grid,
//! averaging them (or extrapolating their drift in ln N, which the study in
//! `docs/studies/collapse-feasibility.md` found on every ladder whose shapes drift smoothly:
//! MPL shape-only error 1.26 → 0.11 %), and saying when a ladder does not collapse. It
//! normalises by ratio, `ℓ(x) = L(x)/L(1)`: the study found subtracting an irreducible loss E
//! first spreads the shapes (GPT-3: 41 % against 6 %), and the E that collapses curves best is 0.
//! Shapes are averaged and regressed in ln ℓ; `law::collapse` turns a shape and an anchor into a
//! law.

use crate::error::{Error, Result};

/// One run of the ladder: model size and its loss at fractions `x` ∈ (0, 1] of the run. A run
/// logged only part of the way (a last fraction below 1) is normalised where every curve of the
/// ladder still has points: the shape then ends there.
pub struct LadderCurve<'a> {
    pub name: &'a str,
    pub n: f64,
    /// The run's length (tokens or steps; one unit for the whole ladder). When the ladder ran
    /// several lengths, the shape also moves with tokens per parameter, M = D/N.
    pub d: f64,
    pub x: &'a [f64],
    pub loss: &'a [f64],
}

/// The ladder's normalised shape on a grid of run fractions.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Run fractions, increasing, log-spaced, ending where the curves are normalised (1 unless
    /// a curve stops short of its run's end).
    pub grid: Vec<f64>,
    /// Each curve's loss at the last grid point, the value it was divided by.
    pub finals: Vec<f64>,
    /// ln N of each curve the shape was built from.
    pub ln_n: Vec<f64>,
    /// ℓ of each curve at each grid point (`curves[i][g]`).
    pub curves: Vec<Vec<f64>>,
    /// ln M (tokens per parameter) of each curve, and their mean.
    pub ln_m: Vec<f64>,
    pub centre_m: f64,
    /// Mean of ln ℓ over the curves at each grid point (those logged that early), at the
    /// ladder's mean ln M: with several run lengths, a least-squares line in ln M (slope
    /// `mean_m`, 0 otherwise), so a target between the ladder's tokens per parameter is
    /// interpolated. Shapes are ratios, so they are averaged and regressed in logs: a shape that
    /// steepens as a power of M or N is then followed exactly.
    pub mean: Vec<f64>,
    pub mean_m: Vec<f64>,
    /// The trend of ln ℓ in ln N (and ln M): its value at the mean ln N and ln M of all curves,
    /// moved along the slopes where only some curves reach a grid point.
    pub centred: Vec<f64>,
    /// Least-squares slope d ln ℓ/d ln N at each grid point (0 with one size).
    pub slope: Vec<f64>,
    /// The trend's d ln ℓ/d ln M (0 with one run length).
    pub slope_m: Vec<f64>,
    /// Robust estimate of the point-to-point noise of ℓ (median over curves of MAD of second
    /// differences / √6), the scale the spread is judged against.
    pub noise: f64,
}

/// Grid points of a shape, log-spaced from the earliest curve's first fraction to where the
/// shortest-logged curve ends.
pub const GRID_POINTS: usize = 200;

/// Spread of ℓ around the trend larger than this many noise levels (RMS over the grid) means the
/// curves do not collapse.
pub const SPREAD_NOISE_RATIO: f64 = 3.0;
/// A spread below this (0.1 % of the loss) never counts as a failure to collapse, however smooth
/// the curves: it is below what a forecast can use, and below the interpolation error of curves
/// logged at different fractions.
pub const SPREAD_FLOOR: f64 = 1e-3;

impl Shape {
    /// Build the shape of `curves` (at least two, each with ≥ 3 points and a positive final
    /// loss). Each curve is interpolated linearly in ln x onto a grid from the latest first
    /// fraction among the curves to 1.
    pub fn new(curves: &[LadderCurve]) -> Result<Shape> {
        if curves.len() < 2 {
            return Err(Error::input(format!(
                "a collapse shape needs the curves of at least two runs, got {}",
                curves.len()
            )));
        }
        // The grid starts where the earliest curve starts: a point is averaged over the curves
        // logged that early, so a ladder whose short runs log fewer early fractions still has a
        // shape there, and no fit run has points before it.
        let (mut start, mut end) = (1.0f64, 1.0f64);
        for c in curves {
            check_curve(c)?;
            start = start.min(c.x[0]);
            end = end.min(c.x[c.x.len() - 1]);
        }
        if curves.iter().any(|c| c.x[0] >= end) {
            return Err(Error::input(format!(
                "the curves share no range of run fractions (one ends at {end:.4}, before another \
                 starts); a collapse shape needs overlapping curves"
            )));
        }
        let (lo, hi) = (start.ln(), end.ln());
        let grid: Vec<f64> = (0..GRID_POINTS)
            .map(|g| (lo + (hi - lo) * g as f64 / (GRID_POINTS - 1) as f64).exp())
            .collect();
        let finals: Vec<f64> = curves
            .iter()
            .map(|c| interpolate_ln_x(c.x, c.loss, end))
            .collect();
        let normalised: Vec<Vec<f64>> = curves
            .iter()
            .zip(&finals)
            .map(|(c, last)| {
                grid.iter()
                    .map(|&x| {
                        if x < c.x[0] * (1.0 - 1e-12) {
                            f64::NAN
                        } else {
                            interpolate_ln_x(c.x, c.loss, x) / last
                        }
                    })
                    .collect()
            })
            .collect();
        let ln_n: Vec<f64> = curves.iter().map(|c| c.n.ln()).collect();
        let ln_m: Vec<f64> = curves.iter().map(|c| c.d.ln() - c.n.ln()).collect();
        let centre = ln_n.iter().sum::<f64>() / ln_n.len() as f64;
        let centre_m = ln_m.iter().sum::<f64>() / ln_m.len() as f64;
        // Tokens per parameter move the shape only if the ladder varied the run length: at one
        // length, M changes only with N, and the trend in ln N is the place for that.
        let lengths_vary = curves
            .iter()
            .any(|c| (c.d.ln() - curves[0].d.ln()).abs() > 0.02);
        let n_grid = grid.len();
        let (mut mean, mut mean_m) = (vec![0.0; n_grid], vec![0.0; n_grid]);
        let (mut centred, mut slope, mut slope_m) =
            (vec![0.0; n_grid], vec![0.0; n_grid], vec![0.0; n_grid]);
        // Slopes are estimated where every curve has a point; before that, where only the
        // curves logged early remain, they are held at their first such value (a slope from two
        // or three early, noisy curves is not a drift to extrapolate). A drift with N changes
        // smoothly along the run, so the slopes are then averaged over a window of
        // [`SLOPE_WINDOW`] grid points, which keeps the noise of one stretch of curve from being
        // extrapolated many sizes ahead. Levels come last, from the curves present at each point.
        let full = (0..n_grid)
            .find(|&g| normalised.iter().all(|c| !c[g].is_nan()))
            .unwrap_or(n_grid - 1);
        let here = |g: usize| -> Vec<(f64, f64, f64)> {
            (0..curves.len())
                .filter(|&i| !normalised[i][g].is_nan())
                .map(|i| {
                    (
                        normalised[i][g].ln(),
                        ln_n[i] - centre,
                        if lengths_vary {
                            ln_m[i] - centre_m
                        } else {
                            0.0
                        },
                    )
                })
                .collect()
        };
        for g in full..n_grid {
            let points = here(g);
            mean_m[g] = least_squares(&points, false)[2];
            let t = least_squares(&points, true);
            (slope[g], slope_m[g]) = (t[1], t[2]);
        }
        for g in (0..full).rev() {
            (mean_m[g], slope[g], slope_m[g]) = (mean_m[g + 1], slope[g + 1], slope_m[g + 1]);
        }
        let (mean_m, slope, slope_m) = (smooth(&mean_m), smooth(&slope), smooth(&slope_m));
        for g in 0..n_grid {
            let points = here(g);
            let k = points.len() as f64;
            mean[g] = points.iter().map(|p| p.0 - mean_m[g] * p.2).sum::<f64>() / k;
            centred[g] = points
                .iter()
                .map(|p| p.0 - slope[g] * p.1 - slope_m[g] * p.2)
                .sum::<f64>()
                / k;
        }
        let mut noises: Vec<f64> = curves
            .iter()
            .map(|c| {
                let last = c.loss[c.loss.len() - 1];
                let ell: Vec<f64> = c.loss.iter().map(|l| l / last).collect();
                second_difference_noise(&ell)
            })
            .collect();
        noises.sort_by(f64::total_cmp);
        let noise = noises[noises.len() / 2];
        Ok(Shape {
            grid,
            finals,
            ln_m,
            centre_m,
            mean_m,
            slope_m,
            centred,
            ln_n,
            curves: normalised,
            mean,
            slope,
            noise,
        })
    }

    /// ℓ at run fraction `x` for a model of `n` parameters trained for `d` (the ladder's
    /// length unit): the mean shape, plus its drift in ln N extrapolated to `n` when `trend`
    /// is set. Fractions before the grid are refused by [`Shape::forecast`]; here they take
    /// the first grid value.
    pub fn at(&self, x: f64, n: f64, d: f64, trend: bool) -> f64 {
        let dm = d.ln() - n.ln() - self.centre_m;
        let at = |ys: &[f64]| interpolate_ln_x(&self.grid, ys, x);
        if !trend {
            return (at(&self.mean) + at(&self.mean_m) * dm).exp();
        }
        let centre = self.ln_n.iter().sum::<f64>() / self.ln_n.len() as f64;
        (at(&self.centred) + at(&self.slope) * (n.ln() - centre) + at(&self.slope_m) * dm).exp()
    }

    /// The curve of a model of `n` parameters whose final loss is `final_loss`, at fractions `x`.
    pub fn forecast(
        &self,
        x: &[f64],
        n: f64,
        d: f64,
        final_loss: f64,
        trend: bool,
    ) -> Result<Vec<f64>> {
        let end = self.grid[self.grid.len() - 1];
        if let Some(&bad) = x.iter().find(|&&v| !(v >= self.grid[0] && v <= end)) {
            return Err(Error::input(format!(
                "run fraction {bad} lies outside the ladder's shape, which covers {:.4}..{end:.4}",
                self.grid[0]
            )));
        }
        Ok(x.iter()
            .map(|&v| final_loss * self.at(v, n, d, trend))
            .collect())
    }

    /// RMS over the grid of each curve's distance from the shape (mean, or trend at its own
    /// size), in units of ℓ.
    pub fn spread(&self, trend: bool) -> Vec<f64> {
        self.curves
            .iter()
            .zip(self.ln_n.iter().zip(&self.ln_m))
            .map(|(c, (&ln_n, &ln_m))| {
                let (n, d) = (ln_n.exp(), (ln_n + ln_m).exp());
                let (ss, k) = self
                    .grid
                    .iter()
                    .zip(c)
                    .filter(|(_, v)| !v.is_nan())
                    .fold((0.0, 0usize), |(ss, k), (&x, &v)| {
                        (ss + (v - self.at(x, n, d, trend)).powi(2), k + 1)
                    });
                (ss / k.max(1) as f64).sqrt()
            })
            .collect()
    }

    /// Warnings a user must see before trusting a forecast from this shape. Spread around the
    /// mean shape beyond the noise is either a smooth drift with N (the trend absorbs it, which
    /// only three or more sizes can show) or a failure to collapse.
    pub fn diagnostics(&self, names: &[&str]) -> Vec<String> {
        let floor = self.noise.max(SPREAD_FLOOR / SPREAD_NOISE_RATIO);
        let worst = |spread: Vec<f64>| {
            spread
                .into_iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, 0.0))
        };
        let (i, s) = worst(self.spread(false));
        if s <= SPREAD_NOISE_RATIO * floor {
            return Vec::new();
        }
        let name = names.get(i).copied().unwrap_or("a run");
        let mut sizes = self.ln_n.clone();
        sizes.sort_by(f64::total_cmp);
        sizes.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        if sizes.len() < 3 {
            return vec![format!(
                "the shapes of the fit sizes differ: {name} lies {:.2} % (RMS) from their mean, \
                 {:.0}× the curves' noise; with two sizes a smooth drift with N cannot be told \
                 from a failure to collapse (add a size)",
                100.0 * s,
                s / floor
            )];
        }
        let (j, t) = worst(self.spread(true));
        if t <= SPREAD_NOISE_RATIO * floor {
            vec![format!(
                "the shapes drift smoothly with model size ({name} lies {:.2} % from the mean \
                 shape, but within the noise of a trend in ln N): forecast with the trend",
                100.0 * s
            )]
        } else {
            vec![format!(
                "the ladder's curves do not collapse onto one shape: {} lies {:.2} % (RMS) from \
                 the trend across sizes, {:.0}× the curves' noise; collapse needs hyperparameters \
                 scaled so that every size trains alike",
                names.get(j).copied().unwrap_or("a run"),
                100.0 * t,
                t / floor
            )]
        }
    }
}

/// Grid points a slope is averaged over (centred; a tenth of the grid).
pub const SLOPE_WINDOW: usize = 21;

/// Centred moving average over [`SLOPE_WINDOW`] points, the window shrinking symmetrically at
/// the ends, so a slope that changes linearly along the grid is kept exactly.
fn smooth(ys: &[f64]) -> Vec<f64> {
    let n = ys.len();
    (0..n)
        .map(|g| {
            let h = (SLOPE_WINDOW / 2).min(g).min(n - 1 - g);
            ys[g - h..=g + h].iter().sum::<f64>() / (2 * h + 1) as f64
        })
        .collect()
}

/// Least squares of ℓ on (1, u, v) over `points` (ℓ, u, v), u and v centred on the whole
/// ladder, so the intercept is ℓ at the ladder's centre. Without `with_u` the u column is left
/// out; a column that does not vary among the points (or that v repeats u) gets slope 0.
fn least_squares(points: &[(f64, f64, f64)], with_u: bool) -> [f64; 3] {
    let k = points.len() as f64;
    let mean = |f: &dyn Fn(&(f64, f64, f64)) -> f64| points.iter().map(f).sum::<f64>() / k;
    let (ly, lu, lv) = (mean(&|p| p.0), mean(&|p| p.1), mean(&|p| p.2));
    let cov = |f: &dyn Fn(&(f64, f64, f64)) -> f64, g: &dyn Fn(&(f64, f64, f64)) -> f64| {
        points
            .iter()
            .map(|p| (f(p) - mean(f)) * (g(p) - mean(g)))
            .sum::<f64>()
    };
    let (u, v, y) = (
        |p: &(f64, f64, f64)| p.1,
        |p: &(f64, f64, f64)| p.2,
        |p: &(f64, f64, f64)| p.0,
    );
    let (suu, svv, suv) = (cov(&u, &u), cov(&v, &v), cov(&u, &v));
    let (suy, svy) = (cov(&u, &y), cov(&v, &y));
    let use_u = with_u && suu > 1e-6;
    let use_v = svv > 1e-6 && (!use_u || suv * suv < 0.999 * suu * svv);
    let (bu, bv) = match (use_u, use_v) {
        (true, true) => {
            let det = suu * svv - suv * suv;
            ((svv * suy - suv * svy) / det, (suu * svy - suv * suy) / det)
        }
        (true, false) => (suy / suu, 0.0),
        (false, true) => (0.0, svy / svv),
        (false, false) => (0.0, 0.0),
    };
    [ly - bu * lu - bv * lv, bu, bv]
}

fn check_curve(c: &LadderCurve) -> Result<()> {
    if c.x.len() != c.loss.len() || c.x.len() < 3 {
        return Err(Error::input(format!(
            "run '{}': a collapse shape needs at least 3 points with a fraction and a loss each",
            c.name
        )));
    }
    if !(c.n > 0.0 && c.n.is_finite()) {
        return Err(Error::input(format!(
            "run '{}': model size must be positive",
            c.name
        )));
    }
    let ordered = c.x.windows(2).all(|w| w[1] > w[0]);
    let in_range = c.x[0] > 0.0 && c.x[c.x.len() - 1] <= 1.0 + 1e-9;
    if !ordered || !in_range {
        return Err(Error::input(format!(
            "run '{}': run fractions must increase within (0, 1]",
            c.name
        )));
    }
    if let Some(l) = c.loss.iter().find(|l| !(**l > 0.0 && l.is_finite())) {
        return Err(Error::input(format!(
            "run '{}': loss {l} is not a positive number",
            c.name
        )));
    }
    Ok(())
}

/// `ys` at `x`, linear in ln x between the bracketing points of increasing `xs`; clamped to the
/// end values outside them.
pub(crate) fn interpolate_ln_x(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    if x <= xs[0] {
        return ys[0];
    }
    let last = xs.len() - 1;
    if x >= xs[last] {
        return ys[last];
    }
    let j = xs.partition_point(|&v| v <= x);
    let (x0, x1) = (xs[j - 1].ln(), xs[j].ln());
    let t = (x.ln() - x0) / (x1 - x0);
    ys[j - 1] + t * (ys[j] - ys[j - 1])
}

/// Noise of a smooth series from its second differences: MAD·1.4826/√6 (white noise of σ gives
/// second differences of σ√6).
fn second_difference_noise(y: &[f64]) -> f64 {
    let mut d: Vec<f64> = y
        .windows(3)
        .map(|w| (w[2] - 2.0 * w[1] + w[0]).abs())
        .collect();
    if d.is_empty() {
        return 0.0;
    }
    d.sort_by(f64::total_cmp);
    1.4826 * d[d.len() / 2] / 6f64.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ℓ*(x) = x^(−0.15), steepening by `drift` per unit of ln N: the truth of the synthetic
    /// ladders.
    fn truth(x: f64, n: f64, drift: f64) -> f64 {
        x.powf(-0.15 - drift * (n / 1e8).ln())
    }

    /// A ladder that collapses exactly (`drift` 0: L = L_final(N)·ℓ*(x) for every size) or
    /// whose shape drifts linearly in ln N.
    fn ladder(drift: f64) -> Vec<(String, f64, Vec<f64>, Vec<f64>)> {
        [1e8f64, 3e8, 1e9]
            .iter()
            .map(|&n| {
                let finals = 2.0 + 40.0 * n.powf(-0.2);
                // Log-spaced fractions from 1 % to the end, as checkpoints often are.
                let x: Vec<f64> = (0..100)
                    .map(|i| (0.01f64.ln() * (1.0 - i as f64 / 99.0)).exp())
                    .collect();
                let loss = x.iter().map(|&v| finals * truth(v, n, drift)).collect();
                (format!("{n:e}"), n, x, loss)
            })
            .collect()
    }

    fn curves(l: &[(String, f64, Vec<f64>, Vec<f64>)]) -> Vec<LadderCurve<'_>> {
        l.iter()
            .map(|(name, n, x, loss)| LadderCurve {
                name,
                n: *n,
                d: 1.0,
                x,
                loss,
            })
            .collect()
    }

    #[test]
    fn an_exact_collapse_is_recovered_and_forecasts_a_new_size_exactly() {
        let l = ladder(0.0);
        let shape = Shape::new(&curves(&l)).unwrap();
        for (&x, &m) in shape.grid.iter().zip(&shape.mean) {
            let want = x.powf(-0.15);
            assert!((m.exp() - want).abs() < 1e-4 * want, "x {x}: {m}");
        }
        assert!(shape.slope.iter().all(|s| s.abs() < 1e-12));
        assert!(shape.diagnostics(&[]).is_empty());
        // A 4× larger model with a known final loss: its whole curve follows.
        let n = 4e9f64;
        let finals = 2.0 + 40.0 * f64::powf(n, -0.2);
        let x = [0.05, 0.3, 0.77, 1.0];
        let got = shape.forecast(&x, n, 1.0, finals, true).unwrap();
        for (g, v) in got.iter().zip(x) {
            let want = finals * v.powf(-0.15);
            assert!((g - want).abs() < 1e-4 * want, "x {v}: {g} vs {want}");
        }
        assert!(shape.forecast(&[0.001], n, 1.0, finals, false).is_err());
    }

    /// Shapes that drift smoothly with ln N: the mean misses the next size, the trend does not.
    #[test]
    fn a_drift_in_ln_n_is_extrapolated_by_the_trend() {
        let l = ladder(0.01);
        let shape = Shape::new(&curves(&l)).unwrap();
        let n = 4e9f64;
        for x in [0.02, 0.1, 0.5] {
            let want = truth(x, n, 0.01);
            let (mean, trend) = (shape.at(x, n, 1.0, false), shape.at(x, n, 1.0, true));
            assert!(
                (trend - want).abs() < 1e-4 * want,
                "x {x}: {trend} vs {want}"
            );
            assert!(
                (mean - want).abs() > 1e-2 * (want - 1.0),
                "x {x}: {mean} vs {want}"
            );
        }
    }

    /// Shapes that differ far beyond their noise and not smoothly in ln N (the middle size
    /// decays fastest) get the warning; a smooth drift gets the advice to use the trend.
    #[test]
    fn a_ladder_that_does_not_collapse_is_flagged() {
        let mut l = ladder(0.0);
        let middle = &mut l[1];
        middle.3 = middle.2.iter().map(|v: &f64| 3.0 * v.powf(-0.3)).collect();
        let names: Vec<&str> = l.iter().map(|c| c.0.as_str()).collect();
        let w = Shape::new(&curves(&l)).unwrap().diagnostics(&names);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("do not collapse"), "{}", w[0]);

        let l = ladder(0.05);
        let names: Vec<&str> = l.iter().map(|c| c.0.as_str()).collect();
        let w = Shape::new(&curves(&l)).unwrap().diagnostics(&names);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("drift smoothly"), "{}", w[0]);
        // Two sizes cannot tell a drift from a failure, and say so.
        let w = Shape::new(&curves(&l[..2])).unwrap().diagnostics(&names);
        assert!(w[0].contains("add a size"), "{w:?}");
    }

    /// A ladder of several run lengths whose shape steepens with tokens per parameter
    /// (ℓ = x^(−p), p = 0.1 + 0.02·ln(M/1e-4)): a size and length between the ladder's are
    /// interpolated in ln M, which the plain mean over curves misses.
    #[test]
    fn a_shape_that_moves_with_tokens_per_parameter_is_interpolated() {
        let power = |n: f64, d: f64| 0.1 + 0.02 * (d / n / 1e-4).ln();
        let x: Vec<f64> = (0..100)
            .map(|i| (0.01f64.ln() * (1.0 - i as f64 / 99.0)).exp())
            .collect();
        let runs: Vec<(String, f64, f64, Vec<f64>)> = [1e8f64, 3e8, 1e9]
            .iter()
            .flat_map(|&n| {
                [1e4f64, 4e4, 1.6e5].map(|d| {
                    let loss = x.iter().map(|v| 3.0 * v.powf(-power(n, d))).collect();
                    (format!("{n:e}/{d}"), n, d, loss)
                })
            })
            .collect();
        let curves: Vec<LadderCurve> = runs
            .iter()
            .map(|(name, n, d, loss)| LadderCurve {
                name,
                n: *n,
                d: *d,
                x: &x,
                loss,
            })
            .collect();
        let shape = Shape::new(&curves).unwrap();
        let (n, d) = (5e8, 6e4);
        for v in [0.02f64, 0.1, 0.5] {
            let want = v.powf(-power(n, d));
            let got = shape.at(v, n, d, false);
            let plain = interpolate_ln_x(&shape.grid, &shape.mean, v).exp();
            assert!((got - want).abs() < 1e-4 * want, "x {v}: {got} vs {want}");
            assert!(
                (plain - want).abs() > 5.0 * (got - want).abs(),
                "x {v}: mean {plain}, interpolated {got}, truth {want}"
            );
        }
    }

    #[test]
    fn bad_curves_are_refused() {
        let x = [0.5, 0.7, 1.0];
        let ok = [3.0, 2.5, 2.2];
        let one = [LadderCurve {
            name: "a",
            n: 1e8,
            d: 1.0,
            x: &x,
            loss: &ok,
        }];
        assert!(Shape::new(&one).is_err());
        let bad_x = [0.5, 0.4, 1.0];
        let two = [
            LadderCurve {
                name: "a",
                n: 1e8,
                d: 1.0,
                x: &x,
                loss: &ok,
            },
            LadderCurve {
                name: "b",
                n: 3e8,
                d: 1.0,
                x: &bad_x,
                loss: &ok,
            },
        ];
        let e = Shape::new(&two).unwrap_err().to_string();
        assert!(e.contains("run 'b'"), "{e}");
    }
}
