//! IsoFLOP curves: loss against model size at each compute budget, the fitted parabola (solid)
//! and cubic (dashed) over the sizes each was fitted to, and their minima marked, so a reader
//! can see whether each minimum was bracketed and how much the two shapes disagree.

use super::{draw_legend, err, range, Drawn, Figure, HouseStyle, PALETTE};
use crate::base::numbers;
use crate::sizes::isoflop::{IsoflopResult, ShapeFit};
use plotters::coord::Shift;
use plotters::prelude::*;

pub struct IsoflopPlot<'a> {
    pub title: String,
    pub result: &'a IsoflopResult,
}

impl Figure for IsoflopPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let budgets = &self.result.budgets;
        // The y range covers the fitted windows: far-off sizes (loss 10 at a budget whose
        // optimum is 4.6) would flatten every parabola into a line.
        let window_loss = budgets
            .iter()
            .flat_map(|b| b.loss[b.window[0]..=b.window[1]].iter().copied());
        let (ylo, yhi) = range(window_loss);
        let pad = 0.15 * (yhi - ylo);
        let (ylo, yhi) = (ylo - pad, yhi + pad);
        let all_n = budgets.iter().flat_map(|b| b.n.iter().copied());
        let (nlo, nhi) = all_n.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let mut chart = ChartBuilder::on(root)
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((nlo / 1.3..nhi * 1.3).log_scale(), ylo..yhi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("model size N (parameters)")
            .y_desc("loss")
            .x_label_formatter(&numbers::sci_label)
            .house_style()
            .draw()
            .map_err(err)?;
        let curve = |fit: &ShapeFit, lo: f64, hi: f64| -> Vec<(f64, f64)> {
            (0..=100)
                .map(|k| lo + (hi - lo) * k as f64 / 100.0)
                .map(|x| (x.exp(), fit.poly.eval_ln_n(x)))
                .filter(|(_, y)| *y >= ylo && *y <= yhi)
                .collect()
        };
        for (k, b) in budgets.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let pts: Vec<(f64, f64)> =
                b.n.iter()
                    .zip(&b.loss)
                    .map(|(&n, &l)| (n, l))
                    .filter(|(_, l)| *l <= yhi)
                    .collect();
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(err)?
                .label(format!("C = {:.2e}", b.compute))
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            let (lo, hi) = (b.n[b.window[0]].ln(), b.n[b.window[1]].ln());
            if let Some(p) = &b.parabola {
                chart
                    .draw_series(LineSeries::new(curve(p, lo, hi), color.stroke_width(2)))
                    .map_err(err)?;
            }
            if let Some(c) = &b.cubic {
                chart
                    .draw_series(DashedLineSeries::new(
                        curve(c, lo, hi),
                        6,
                        4,
                        color.stroke_width(1),
                    ))
                    .map_err(err)?;
            }
            for fit in [&b.parabola, &b.cubic].into_iter().flatten() {
                if let (Some(n), Some(l)) = (fit.n_opt, fit.loss_opt) {
                    chart
                        .draw_series([Cross::new((n, l), 7, BLACK.stroke_width(2))])
                        .map_err(err)?;
                }
            }
        }
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(err)?
            .label("x: minimum (parabola solid, cubic dashed)")
            .legend(|(x, y)| Cross::new((x + 10, y), 6, BLACK.stroke_width(2)));
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft, 13)?;
        Ok(())
    }

    fn title(&self) -> &str {
        &self.title
    }
}
