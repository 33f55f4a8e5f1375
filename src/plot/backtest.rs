//! A backtest task's figure: each method's forecast error on every fold, so a reader sees
//! whether a method wins everywhere or on average only. Fold numbers match the table's order.

use super::{draw_legend, err, Drawn, Figure, HouseStyle, PALETTE};
use crate::backtest::{Backtest, Task};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One method's errors, `None` where its fit failed.
pub struct MethodErrors {
    pub method: String,
    /// (PredE, final-loss error) per fold, as fractions.
    pub errors: Vec<Option<(f64, f64)>>,
}

pub struct BacktestPlot {
    pub title: String,
    pub folds: Vec<String>,
    pub methods: Vec<MethodErrors>,
}

impl BacktestPlot {
    /// The figure of one task, `None` when the task has no fold.
    pub fn of(b: &Backtest, task: Task) -> Option<BacktestPlot> {
        let folds: Vec<_> = b.folds.iter().filter(|f| f.task == task).collect();
        if folds.is_empty() {
            return None;
        }
        let labels: Vec<String> = b.fold_labels(task).into_iter().map(String::from).collect();
        let methods = b
            .methods
            .iter()
            .filter(|m| folds.iter().any(|f| &f.method == *m))
            .map(|m| MethodErrors {
                method: m.clone(),
                errors: labels
                    .iter()
                    .map(|l| {
                        folds
                            .iter()
                            .find(|f| &f.fold == l && &f.method == m)
                            .and_then(|f| Some((f.pred_e?, f.final_err?)))
                    })
                    .collect(),
            })
            .collect();
        Some(BacktestPlot {
            title: format!("backtest: {task} ({} folds)", labels.len()),
            folds: labels,
            methods,
        })
    }
}

impl Figure for BacktestPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let (top, bottom) = root.split_vertically(470);
        let n = self.folds.len().max(1) as f64;
        let panels = [
            (
                &top,
                "mean relative error over the forecast (PredE, %)",
                0usize,
            ),
            (&bottom, "relative error of the last point (%)", 1),
        ];
        for (area, desc, which) in panels {
            let value = |e: &(f64, f64)| 100.0 * if which == 0 { e.0 } else { e.1 };
            let y_hi = self
                .methods
                .iter()
                .flat_map(|m| m.errors.iter().flatten().map(value))
                .filter(|v| v.is_finite())
                .fold(0.0f64, f64::max)
                .max(1e-3)
                * 1.1;
            let mut chart = ChartBuilder::on(area)
                .margin(10)
                .x_label_area_size(34)
                .y_label_area_size(70)
                .build_cartesian_2d(0.5..n + 0.5, 0.0..y_hi)
                .map_err(err)?;
            let folds = self.folds.len();
            chart
                .configure_mesh()
                .y_desc(desc)
                .x_desc("fold (numbered as in the table)")
                .x_labels(folds.clamp(1, 40))
                .x_label_formatter(&|x: &f64| {
                    let k = x.round();
                    if (x - k).abs() < 1e-9 && k >= 1.0 {
                        format!("{k:.0}")
                    } else {
                        String::new()
                    }
                })
                .house_style()
                .draw()
                .map_err(err)?;
            for (i, m) in self.methods.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let pts: Vec<(f64, f64)> = m
                    .errors
                    .iter()
                    .enumerate()
                    .filter_map(|(k, e)| e.as_ref().map(|e| ((k + 1) as f64, value(e))))
                    .filter(|p| p.1.is_finite())
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts.clone(), color.mix(0.5).stroke_width(1)))
                    .map_err(err)?;
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))
                    .map_err(err)?
                    .label(m.method.clone())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 5, color.filled()));
            }
            draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 14)?;
        }
        Ok(())
    }

    fn title(&self) -> &str {
        &self.title
    }
}
