//! A plan's figure: the predicted loss curves of the top candidates over their LR schedules, so
//! a reader sees where each schedule gains (the decay) and what it costs (the lower S1 before it).
//! Candidates the law extrapolates to are drawn dashed.

use super::{draw_legend, draw_lr_panel, err, range, step_panel, Drawn, Figure, PALETTE};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One schedule to draw.
pub struct PlanCurve {
    pub label: String,
    pub loss: Vec<(f64, f64)>,
    /// LR at every step (drawn thinned).
    pub lr: Vec<f64>,
    pub extrapolation: bool,
    /// (step, lo, hi) of the forecast interval, drawn as a translucent band.
    pub band: Option<Vec<(f64, f64, f64)>>,
}

pub struct PlanPlot {
    pub title: String,
    pub curves: Vec<PlanCurve>,
}

impl Figure for PlanPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let (top, bottom) = root.split_vertically(640);
        let x_max = self
            .curves
            .iter()
            .map(|c| c.lr.len() as f64 - 1.0)
            .fold(1.0, f64::max);
        let x_min = self
            .curves
            .iter()
            .filter_map(|c| c.loss.first().map(|p| p.0))
            .fold(x_max, f64::min);
        // The axis follows the curves; bands are clipped to it rather than squashing the curves
        // when an early, far-from-the-fit band is wide.
        let (y_lo, y_hi) = range(self.curves.iter().flat_map(|c| c.loss.iter().map(|p| p.1)));
        let mut chart = step_panel(&top, (x_min, x_max), (y_lo, y_hi), "predicted loss")?;
        for (i, c) in self.curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            if let Some(band) = &c.band {
                let clip = |v: f64| v.clamp(y_lo, y_hi);
                let mut outline: Vec<(f64, f64)> =
                    band.iter().map(|&(x, _, hi)| (x, clip(hi))).collect();
                outline.extend(band.iter().rev().map(|&(x, lo, _)| (x, clip(lo))));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(0.15).filled(),
                    )))
                    .map_err(err)?;
            }
        }
        for (i, c) in self.curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let style = color.stroke_width(2);
            let a = if c.extrapolation {
                chart
                    .draw_series(DashedLineSeries::new(c.loss.clone(), 8, 5, style))
                    .map_err(err)?
            } else {
                chart
                    .draw_series(LineSeries::new(c.loss.clone(), style))
                    .map_err(err)?
            };
            a.label(c.label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;

        let lines: Vec<(RGBColor, Vec<(f64, f64)>)> = self
            .curves
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let every = (c.lr.len() / 2000).max(1);
                let pts =
                    c.lr.iter()
                        .enumerate()
                        .filter(|(s, _)| s % every == 0 || *s + 1 == c.lr.len())
                        .map(|(s, &v)| (s as f64, v))
                        .filter(|p| p.0 >= x_min)
                        .collect();
                (PALETTE[i % PALETTE.len()], pts)
            })
            .collect();
        draw_lr_panel(&bottom, x_min, x_max, &lines, 2)?;
        Ok(())
    }

    fn title(&self) -> &str {
        &self.title
    }
}
