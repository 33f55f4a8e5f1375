//! Figures for size laws fitted to a table of runs: loss against compute with iso-N curves, the
//! compute-optimal frontier with its bootstrap band, and bootstrap histograms of the exponents.
//!
//! Bands come from the fit file's bootstrap parameter samples (percentiles at each x), so they
//! show how far the answer moves when the data move; without a bootstrap no band is drawn, and
//! the title says so rather than implying certainty.

use super::{draw_legend, err, Drawn, Figure, HouseStyle, FAMILY, PALETTE};
use crate::base::numbers::sci_label;
use crate::fit::bootstrap::interval;
use crate::law::chinchilla::optimal_allocation;
use crate::law::{Law, TablePoints};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Lower and upper bound at each grid point.
type Band = Vec<[f64; 2]>;

/// Bootstrap samples of a fit with their interval level.
pub struct Samples<'a> {
    pub params: &'a [Vec<f64>],
    pub level: f64,
}

/// Evenly spaced points in log space.
pub fn geomspace(lo: f64, hi: f64, k: usize) -> Vec<f64> {
    (0..k)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (k - 1) as f64).exp())
        .collect()
}

fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (1.0, 10.0);
    }
    (lo / pad, hi * pad)
}

/// Representative sizes for iso-N curves: every size when there are few, else quantiles.
/// Up to `k` model sizes spread over the table's size groups, for iso-N curves.
pub fn representative_sizes(n: &[f64], k: usize) -> Vec<f64> {
    let s: Vec<f64> = crate::base::groups::size_groups(n)
        .iter()
        .map(|g| n[g[0]])
        .collect();
    if s.len() <= k {
        return s;
    }
    (0..k).map(|i| s[(i * (s.len() - 1)) / (k - 1)]).collect()
}

/// Loss against compute C = 6ND: observed runs coloured by size, the law's iso-N curves, and
/// (for chinchilla fits) the compute-optimal frontier L(N_opt(C), D_opt(C)) with its band.
pub struct ComputePlot<'a> {
    pub title: String,
    pub law: &'a dyn Law,
    pub params: &'a [f64],
    pub n: &'a [f64],
    pub d: &'a [f64],
    pub loss: &'a [f64],
    pub samples: Option<Samples<'a>>,
}

impl ComputePlot<'_> {
    fn loss_at(&self, params: &[f64], n: &[f64], d: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; n.len()];
        if let Ok(f) = self.law.table_features(&TablePoints { n, d }) {
            self.law.predict(params, &f, &mut out);
        }
        out
    }
}

impl Figure for ComputePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let c: Vec<f64> = self
            .n
            .iter()
            .zip(self.d)
            .map(|(n, d)| 6.0 * n * d)
            .collect();
        let (clo, chi) = log_range(c.iter().copied(), 2.0);
        let (llo, lhi) = log_range(self.loss.iter().copied(), 1.0);
        let pad = 0.08 * (lhi - llo);
        let (ylo, yhi) = (llo - pad, lhi + pad);
        let mut chart = ChartBuilder::on(root)
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((clo..chi).log_scale(), ylo..yhi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("compute C = 6ND (FLOP)")
            .y_desc("loss")
            .x_label_formatter(&sci_label)
            .house_style()
            .draw()
            .map_err(err)?;
        let grid = geomspace(clo, chi, 120);
        let sizes = representative_sizes(self.n, 8);
        // Colour a point by its nearest representative size (in log distance).
        let nearest = |n: f64| {
            (0..sizes.len())
                .min_by(|&a, &b| {
                    (sizes[a].ln() - n.ln())
                        .abs()
                        .total_cmp(&(sizes[b].ln() - n.ln()).abs())
                })
                .unwrap_or(0)
        };
        for (k, &size) in sizes.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let pts: Vec<(f64, f64)> = (0..self.n.len())
                .filter(|&i| nearest(self.n[i]) == k)
                .map(|i| (c[i], self.loss[i]))
                .collect();
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(err)?
                .label(format!("N ≈ {size:.2e}"))
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            let n = vec![size; grid.len()];
            let d: Vec<f64> = grid.iter().map(|c| c / (6.0 * size)).collect();
            let l = self.loss_at(self.params, &n, &d);
            let line: Vec<(f64, f64)> = grid
                .iter()
                .zip(&l)
                .map(|(&c, &l)| (c, l))
                .filter(|(_, l)| *l >= ylo && *l <= yhi)
                .collect();
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(1)))
                .map_err(err)?;
        }
        if self.law.name() == "chinchilla" {
            let front = |p: &[f64]| -> Vec<f64> {
                grid.iter()
                    .map(|&c| optimal_allocation(p, c).map_or(f64::NAN, |a| a.loss_pred))
                    .collect()
            };
            if let Some(s) = &self.samples {
                let per: Vec<Vec<f64>> = s.params.iter().map(|p| front(p)).collect();
                let band: Vec<[f64; 2]> = (0..grid.len())
                    .map(|i| interval(per.iter().map(|v| v[i]), s.level))
                    .collect();
                let poly = band_polygon(&grid, &band, ylo, yhi);
                chart
                    .draw_series([Polygon::new(poly, BLACK.mix(0.15).filled())])
                    .map_err(err)?
                    .label(format!("{:.0} % bootstrap band", s.level * 100.0))
                    .legend(|(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLACK.mix(0.15).filled())
                    });
            }
            let line: Vec<(f64, f64)> = grid
                .iter()
                .zip(front(self.params))
                .map(|(&c, l)| (c, l))
                .filter(|(_, l)| *l >= ylo && *l <= yhi)
                .collect();
            chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(3)))
                .map_err(err)?
                .label("compute-optimal frontier")
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(3))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;
        Ok(())
    }

    fn title(&self) -> &str {
        &self.title
    }
}

/// The closed outline of a band, clipped to the y range.
fn band_polygon(x: &[f64], band: &[[f64; 2]], ylo: f64, yhi: f64) -> Vec<(f64, f64)> {
    let clip = |v: f64| v.clamp(ylo, yhi);
    let ok: Vec<usize> = (0..x.len())
        .filter(|&i| band[i][0].is_finite() && band[i][1].is_finite())
        .collect();
    let mut poly: Vec<(f64, f64)> = ok.iter().map(|&i| (x[i], clip(band[i][0]))).collect();
    poly.extend(ok.iter().rev().map(|&i| (x[i], clip(band[i][1]))));
    poly
}

/// N_opt(C) and D_opt(C) on log axes, with bootstrap bands, and the observed runs' (C, N) and
/// (C, D) as faint points so that the reader sees where the frontier is extrapolated.
pub struct FrontierPlot<'a> {
    pub title: String,
    pub params: &'a [f64],
    pub samples: Option<Samples<'a>>,
    pub c_range: (f64, f64),
    pub observed: Vec<(f64, f64, f64)>,
}

impl Figure for FrontierPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let grid = geomspace(self.c_range.0, self.c_range.1, 100);
        let alloc = |p: &[f64]| -> Vec<(f64, f64)> {
            grid.iter()
                .map(|&c| {
                    optimal_allocation(p, c).map_or((f64::NAN, f64::NAN), |a| (a.n_opt, a.d_opt))
                })
                .collect()
        };
        let best = alloc(self.params);
        let bands: Option<(Band, Band)> = self.samples.as_ref().map(|s| {
            let per: Vec<Vec<(f64, f64)>> = s.params.iter().map(|p| alloc(p)).collect();
            let n = (0..grid.len())
                .map(|i| interval(per.iter().map(|v| v[i].0), s.level))
                .collect();
            let d = (0..grid.len())
                .map(|i| interval(per.iter().map(|v| v[i].1), s.level))
                .collect();
            (n, d)
        });
        let ys = best
            .iter()
            .flat_map(|(n, d)| [*n, *d])
            .chain(self.observed.iter().flat_map(|o| [o.1, o.2]))
            .chain(
                bands
                    .iter()
                    .flat_map(|(n, d)| n.iter().chain(d).flat_map(|b| *b)),
            );
        let (ylo, yhi) = log_range(ys, 1.5);
        let mut chart = ChartBuilder::on(root)
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (self.c_range.0..self.c_range.1).log_scale(),
                (ylo..yhi).log_scale(),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("compute C (FLOP)")
            .y_desc("parameters N / tokens D")
            .x_label_formatter(&sci_label)
            .y_label_formatter(&sci_label)
            .house_style()
            .draw()
            .map_err(err)?;
        let (cn, cd) = (PALETTE[0], PALETTE[1]);
        if let Some((nb, db)) = &bands {
            for (b, color) in [(nb, cn), (db, cd)] {
                chart
                    .draw_series([Polygon::new(
                        band_polygon(&grid, b, ylo, yhi),
                        color.mix(0.2).filled(),
                    )])
                    .map_err(err)?;
            }
        }
        chart
            .draw_series(
                self.observed
                    .iter()
                    .map(|o| Circle::new((o.0, o.1), 2, cn.mix(0.35).filled())),
            )
            .map_err(err)?
            .label("runs: N")
            .legend(move |(x, y)| Circle::new((x + 10, y), 3, cn.mix(0.35).filled()));
        chart
            .draw_series(
                self.observed
                    .iter()
                    .map(|o| Circle::new((o.0, o.2), 2, cd.mix(0.35).filled())),
            )
            .map_err(err)?
            .label("runs: D")
            .legend(move |(x, y)| Circle::new((x + 10, y), 3, cd.mix(0.35).filled()));
        let band_note = self.samples.as_ref().map_or(String::new(), |s| {
            format!(" ({:.0} % band)", s.level * 100.0)
        });
        for (k, color, name) in [(0, cn, "N_opt"), (1, cd, "D_opt")] {
            let line: Vec<(f64, f64)> = grid
                .iter()
                .zip(&best)
                .map(|(&c, p)| (c, if k == 0 { p.0 } else { p.1 }))
                .filter(|(_, v)| v.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(3)))
                .map_err(err)?
                .label(format!("{name}(C){band_note}"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, 14)?;
        Ok(())
    }

    fn title(&self) -> &str {
        &self.title
    }
}

/// One histogram per quantity (the exponents and derived allocation exponents), with the fitted
/// value and the interval marked.
pub struct BootstrapHistograms {
    pub title: String,
    /// (name, fitted value, samples, interval).
    pub quantities: Vec<(String, f64, Vec<f64>, [f64; 2])>,
}

impl Figure for BootstrapHistograms {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let k = self.quantities.len().max(1);
        let cols = k.min(2);
        let rows = k.div_ceil(cols);
        let panels = root.split_evenly((rows, cols));
        for ((name, best, samples, iv), area) in self.quantities.iter().zip(panels.iter()) {
            let (lo, hi) = samples
                .iter()
                .chain([best, &iv[0], &iv[1]])
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            let width = (hi - lo).max(1e-12);
            let (lo, hi) = (lo - 0.05 * width, hi + 0.05 * width);
            let bins = 30usize;
            let mut counts = vec![0usize; bins];
            for &v in samples.iter().filter(|v| v.is_finite()) {
                let b = (((v - lo) / (hi - lo)) * bins as f64).floor() as usize;
                counts[b.min(bins - 1)] += 1;
            }
            let top = *counts.iter().max().unwrap_or(&1) as f64 * 1.1;
            let mut chart = ChartBuilder::on(area)
                .margin(15)
                .caption(
                    format!("{name}: {best:.4}  [{:.4}, {:.4}]", iv[0], iv[1]),
                    (FAMILY, 16).into_font(),
                )
                .x_label_area_size(35)
                .y_label_area_size(50)
                .build_cartesian_2d(lo..hi, 0.0..top)
                .map_err(err)?;
            chart
                .configure_mesh()
                .y_desc("resamples")
                .y_label_formatter(&|v| format!("{v:.0}"))
                .axis_desc_style((FAMILY, 14).into_font())
                .label_style((FAMILY, 12).into_font())
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
            let w = (hi - lo) / bins as f64;
            chart
                .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                    let x0 = lo + i as f64 * w;
                    Rectangle::new(
                        [(x0, 0.0), (x0 + w, c as f64)],
                        PALETTE[0].mix(0.6).filled(),
                    )
                }))
                .map_err(err)?;
            for (x, style) in [
                (*best, BLACK.stroke_width(2)),
                (iv[0], PALETTE[3].stroke_width(2)),
                (iv[1], PALETTE[3].stroke_width(2)),
            ] {
                chart
                    .draw_series(LineSeries::new([(x, 0.0), (x, top)], style))
                    .map_err(err)?;
            }
        }
        Ok(())
    }

    fn title(&self) -> &str {
        &self.title
    }
}
