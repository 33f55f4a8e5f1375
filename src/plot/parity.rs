//! Predicted against observed loss for a size law fitted to a table of runs: points on the
//! diagonal are forecast exactly, and colour by model size shows which sizes the law misses.

use super::{draw_legend, err, range, Drawn, Figure, HouseStyle, PALETTE};
use plotters::coord::Shift;
use plotters::prelude::*;

pub struct ParityPlot {
    pub title: String,
    pub n: Vec<f64>,
    pub observed: Vec<f64>,
    pub predicted: Vec<f64>,
}

impl Figure for ParityPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let (lo, hi) = range(self.observed.iter().chain(&self.predicted).copied());
        let mut chart = ChartBuilder::on(root)
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("observed loss")
            .y_desc("predicted loss")
            .house_style()
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new([(lo, lo), (hi, hi)], BLACK.mix(0.5)))
            .map_err(err)?
            .label("predicted = observed")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
        // One colour per decade of model size.
        let decade = |n: f64| n.log10().floor() as i64;
        let mut decades: Vec<i64> = self.n.iter().map(|&n| decade(n)).collect();
        decades.sort_unstable();
        decades.dedup();
        for (k, d) in decades.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let pts: Vec<(f64, f64)> = self
                .n
                .iter()
                .zip(self.observed.iter().zip(&self.predicted))
                .filter(|(n, _)| decade(**n) == *d)
                .map(|(_, (&o, &p))| (o, p))
                .collect();
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                .map_err(err)?
                .label(format!("N in [1e{d}, 1e{})", d + 1))
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, 14)?;
        Ok(())
    }

    fn title(&self) -> &str {
        &self.title
    }
}
