//! Report plots of observed against predicted loss curves, as PNG or SVG.
//!
//! One figure, three panels sharing the step axis: loss (observed points, predicted curve), the
//! residuals, and the LR schedule, because a misfit is most often explained by the schedule just
//! below it. Fit runs are drawn with filled circles and solid lines, test runs with open
//! triangles and dashed lines, so a reader sees at once which curves were forecasts.
//!
//! The font is compiled into the binary (DejaVu Sans, its licence in `assets/fonts/`): report
//! machines and CI containers often have no system fonts, and a plot without text is useless.

use crate::error::{Error, Result};
use crate::law::{Curve, Law};
use crate::manifest::Role;
use crate::output;
use crate::runs::Run;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "losscast-sans";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TTF checked by the tests; a failure would only lose text.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One run prepared for drawing.
struct Series {
    name: String,
    role: Role,
    observed: Vec<(f64, f64)>,
    residuals: Vec<(f64, f64)>,
    predicted: Vec<(f64, f64)>,
    lr: Vec<(f64, f64)>,
}

/// What a plot shows; built by [`plot_fit`] from a law and runs.
pub struct FitPlot {
    title: String,
    series: Vec<Series>,
}

/// A short, readable title: the law and its parameters.
pub fn title_for(law: &dyn Law, params: &[f64]) -> String {
    let parts: Vec<String> = law
        .param_names()
        .iter()
        .zip(params)
        .map(|(n, v)| format!("{n}={}", crate::cli_format::short(*v)))
        .collect();
    format!("{} law: {}", law.name(), parts.join(", "))
}

impl FitPlot {
    pub fn new(law: &dyn Law, params: &[f64], runs: &[Run]) -> Result<Self> {
        let mut series = Vec::new();
        for run in runs {
            let first = *run.steps.first().unwrap_or(&1);
            let last = *run.steps.last().unwrap_or(&1);
            let n = 400.min((last - first + 1) as usize).max(2);
            let mut dense: Vec<i64> = (0..n)
                .map(|i| first + ((last - first) as f64 * i as f64 / (n - 1) as f64).round() as i64)
                .collect();
            dense.dedup();
            let at = |steps: &[i64]| -> Result<Vec<f64>> {
                let f = law
                    .features(&Curve { lr: &run.lr, steps })
                    .map_err(|e| Error::input(format!("run '{}': {e}", run.name)))?;
                let mut out = vec![0.0; steps.len()];
                law.predict(params, &f, &mut out);
                Ok(out)
            };
            let pred_obs = at(&run.steps)?;
            let pred_dense = at(&dense)?;
            let stride = (run.lr.len() / 600).max(1);
            series.push(Series {
                name: run.name.clone(),
                role: run.role,
                observed: run
                    .steps
                    .iter()
                    .map(|&s| s as f64)
                    .zip(run.loss.iter().copied())
                    .collect(),
                residuals: run
                    .steps
                    .iter()
                    .zip(run.loss.iter().zip(&pred_obs))
                    .map(|(&s, (&y, &p))| (s as f64, y - p))
                    .collect(),
                predicted: dense.iter().map(|&s| s as f64).zip(pred_dense).collect(),
                lr: run
                    .lr
                    .iter()
                    .enumerate()
                    .step_by(stride)
                    .map(|(i, &v)| (i as f64, v))
                    .collect(),
            });
        }
        if series.is_empty() {
            return Err(Error::input("nothing to plot: no runs"));
        }
        Ok(FitPlot {
            title: title_for(law, params),
            series,
        })
    }

    /// Draw to `path`; the extension (`.png` or `.svg`) picks the format.
    pub fn save(&self, path: &Path) -> Result<()> {
        register_font();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        output::ensure_parent(path)?;
        let tmp = output::temp_path_for(path);
        let size = (1400, 1000);
        let drawn = match ext.as_str() {
            "png" => {
                let root = BitMapBackend::new(&tmp, size).into_drawing_area();
                self.draw(&root)
                    .and_then(|_| root.present().map_err(|e| e.to_string()))
            }
            "svg" => {
                let root = SVGBackend::new(&tmp, size).into_drawing_area();
                self.draw(&root)
                    .and_then(|_| root.present().map_err(|e| e.to_string()))
            }
            _ => {
                return Err(Error::input(format!(
                    "{}: plot output must end in .png or .svg",
                    path.display()
                )))
            }
        };
        if let Err(e) = drawn {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::failed(format!(
                "{}: cannot draw plot: {e}",
                path.display()
            )));
        }
        output::commit_temp(&tmp, path)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(&self.title, (FAMILY, 22).into_font())
            .map_err(err)?;
        let (top, rest) = root.split_vertically(560);
        let (middle, bottom) = rest.split_vertically(200);

        let x_max = self
            .series
            .iter()
            .flat_map(|s| s.observed.iter().chain(&s.predicted).map(|p| p.0))
            .fold(1.0f64, f64::max);
        let x_min = self
            .series
            .iter()
            .flat_map(|s| s.observed.iter().map(|p| p.0))
            .fold(f64::INFINITY, f64::min)
            .min(x_max - 1.0);
        let (y_lo, y_hi) = range(
            self.series
                .iter()
                .flat_map(|s| s.observed.iter().chain(&s.predicted).map(|p| p.1)),
        );
        let label_font = (FAMILY, 16).into_font();
        let axis_font = (FAMILY, 14).into_font();

        // Loss panel.
        let mut chart = ChartBuilder::on(&top)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(x_min..x_max, y_lo..y_hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .y_desc("loss")
            .x_label_formatter(&step_label)
            .axis_desc_style(label_font.clone())
            .label_style(axis_font.clone())
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        // Observed points first, then every predicted curve on top, so no curve is hidden
        // under another run's markers.
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let label = format!("{} ({})", s.name, s.role);
            match s.role {
                Role::Fit => {
                    chart
                        .draw_series(
                            s.observed
                                .iter()
                                .map(|&p| Circle::new(p, 2, color.filled())),
                        )
                        .map_err(err)?
                        .label(label)
                        .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
                }
                Role::Test => {
                    chart
                        .draw_series(
                            s.observed
                                .iter()
                                .map(|&p| TriangleMarker::new(p, 3, color.stroke_width(1))),
                        )
                        .map_err(err)?
                        .label(label)
                        .legend(move |(x, y)| {
                            TriangleMarker::new((x + 10, y), 5, color.stroke_width(1))
                        });
                }
            }
        }
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let darker = color.mix(0.9).stroke_width(2);
            match s.role {
                Role::Fit => chart
                    .draw_series(LineSeries::new(s.predicted.clone(), darker))
                    .map(|_| ()),
                Role::Test => chart
                    .draw_series(DashedLineSeries::new(s.predicted.clone(), 8, 5, darker))
                    .map(|_| ()),
            }
            .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(axis_font.clone())
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(err)?;

        // Residual panel.
        let (r_lo, r_hi) = range(
            self.series
                .iter()
                .flat_map(|s| s.residuals.iter().map(|p| p.1))
                .chain([0.0]),
        );
        let mut res = ChartBuilder::on(&middle)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(x_min..x_max, r_lo..r_hi)
            .map_err(err)?;
        res.configure_mesh()
            .y_desc("observed − predicted")
            .x_label_formatter(&step_label)
            .axis_desc_style(label_font.clone())
            .label_style(axis_font.clone())
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        res.draw_series(LineSeries::new(
            [(x_min, 0.0), (x_max, 0.0)],
            BLACK.mix(0.5),
        ))
        .map_err(err)?;
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            match s.role {
                Role::Fit => res
                    .draw_series(
                        s.residuals
                            .iter()
                            .map(|&p| Circle::new(p, 2, color.filled())),
                    )
                    .map(|_| ()),
                Role::Test => res
                    .draw_series(
                        s.residuals
                            .iter()
                            .map(|&p| TriangleMarker::new(p, 3, color.stroke_width(1))),
                    )
                    .map(|_| ()),
            }
            .map_err(err)?;
        }

        // LR panel.
        let lr_hi = self
            .series
            .iter()
            .flat_map(|s| s.lr.iter().map(|p| p.1))
            .fold(0.0f64, f64::max)
            .max(f64::MIN_POSITIVE)
            * 1.08;
        let mut lrc = ChartBuilder::on(&bottom)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_min..x_max, 0.0..lr_hi)
            .map_err(err)?;
        lrc.configure_mesh()
            .x_desc("step")
            .x_label_formatter(&step_label)
            .y_desc("learning rate")
            .y_label_formatter(&|v| format!("{v:.1e}"))
            .y_labels(4)
            .axis_desc_style(label_font)
            .label_style(axis_font)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let pts: Vec<(f64, f64)> = s.lr.iter().copied().filter(|p| p.0 <= x_max).collect();
            lrc.draw_series(LineSeries::new(pts, color.stroke_width(1)))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// Steps as people write them: 500, 12k, 1.5M.
fn step_label(v: &f64) -> String {
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

/// A padded range over finite values.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

/// Convenience: build and save in one call.
pub fn plot_fit(law: &dyn Law, params: &[f64], runs: &[Run], path: &Path) -> Result<()> {
    FitPlot::new(law, params, runs)?.save(path)
}
