//! Report plots of observed against predicted loss curves, as PNG or SVG.
//!
//! One figure, three panels sharing the step axis: loss (observed points, predicted curve), the
//! residuals, and the LR schedule, because a misfit is most often explained by the schedule just
//! below it. Fit runs are drawn with filled circles and solid lines, test runs with open
//! triangles and dashed lines, so a reader sees at once which curves were forecasts.
//!
//! The font is compiled into the binary (DejaVu Sans, its licence in `assets/fonts/`): report
//! machines and CI containers often have no system fonts, and a plot without text is useless.

use crate::base::numbers;
use crate::error::{Error, Result};
use crate::law::{Curve, Law};
use crate::output;
use crate::runs::manifest::Role;
use crate::runs::Run;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

pub mod backtest;
pub mod isoflop;
pub mod parity;
pub mod plan;
pub mod size;

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

/// A fitted law to draw: a label for the legend, the law and its parameters.
pub struct Model<'a> {
    pub label: String,
    pub law: &'a dyn Law,
    pub params: Vec<f64>,
}

impl<'a> Model<'a> {
    /// Models labelled by their law's name.
    pub fn from_laws(fitted: &'a [(Box<dyn Law>, Vec<f64>)]) -> Vec<Self> {
        fitted
            .iter()
            .map(|(law, params)| Model {
                label: law.name().to_string(),
                law: law.as_ref(),
                params: params.clone(),
            })
            .collect()
    }
}

/// One run's observations, as drawn.
struct RunData {
    name: String,
    role: Role,
    observed: Vec<(f64, f64)>,
    lr: Vec<(f64, f64)>,
}

/// One model's forecast of one run.
struct Forecast {
    model: usize,
    run: usize,
    predicted: Vec<(f64, f64)>,
    residuals: Vec<(f64, f64)>,
    /// (step, lo, hi) of the forecast interval, for forecasts of test runs.
    band: Option<Vec<(f64, f64, f64)>>,
}

/// What a plot shows; built from models and runs.
///
/// With one model every run has its own colour (points, curve, residuals, LR). With several,
/// each law has a colour and the observed points are shared in grey, so laws are compared on
/// the same data at a glance.
pub struct FitPlot {
    title: String,
    models: Vec<String>,
    runs: Vec<RunData>,
    forecasts: Vec<Forecast>,
}

/// A short, readable title: the law and its parameters.
pub fn title_for(law: &dyn Law, params: &[f64]) -> String {
    let parts: Vec<String> = law
        .param_names()
        .iter()
        .zip(params)
        .map(|(n, v)| format!("{n}={}", numbers::short(*v)))
        .collect();
    format!("{} law: {}", law.name(), parts.join(", "))
}

impl FitPlot {
    pub fn new(law: &dyn Law, params: &[f64], runs: &[Run]) -> Result<Self> {
        let model = Model {
            label: law.name().to_string(),
            law,
            params: params.to_vec(),
        };
        let mut plot = Self::compare(&[model], runs)?;
        plot.title = title_for(law, params);
        Ok(plot)
    }

    /// Several models over the same runs.
    pub fn compare(models: &[Model], runs: &[Run]) -> Result<Self> {
        if runs.is_empty() {
            return Err(Error::input("nothing to plot: no runs"));
        }
        let mut data = Vec::new();
        let mut forecasts = Vec::new();
        for (r, run) in runs.iter().enumerate() {
            let first = *run.steps.first().unwrap_or(&1);
            let last = *run.steps.last().unwrap_or(&1);
            let n = 400.min((last - first + 1) as usize).max(2);
            let mut dense: Vec<i64> = (0..n)
                .map(|i| first + ((last - first) as f64 * i as f64 / (n - 1) as f64).round() as i64)
                .collect();
            dense.dedup();
            for (m, model) in models.iter().enumerate() {
                let at = |steps: &[i64]| -> Result<Vec<f64>> {
                    let f = model
                        .law
                        .features(&Curve {
                            lr: &run.lr,
                            steps,
                            params: run.params,
                            end: run.end,
                        })
                        .map_err(|e| Error::input(format!("run '{}': {e}", run.name)))?;
                    let mut out = vec![0.0; steps.len()];
                    model.law.predict(&model.params, &f, &mut out);
                    Ok(out)
                };
                let pred_obs = at(&run.steps)?;
                let pred_dense = at(&dense)?;
                forecasts.push(Forecast {
                    model: m,
                    run: r,
                    residuals: run
                        .steps
                        .iter()
                        .zip(run.loss.iter().zip(&pred_obs))
                        .map(|(&s, (&y, &p))| (s as f64, y - p))
                        .collect(),
                    predicted: dense.iter().map(|&s| s as f64).zip(pred_dense).collect(),
                    band: None,
                });
            }
            let stride = (run.lr.len() / 600).max(1);
            data.push(RunData {
                name: run.name.clone(),
                role: run.role,
                observed: run
                    .steps
                    .iter()
                    .map(|&s| s as f64)
                    .zip(run.loss.iter().copied())
                    .collect(),
                lr: run
                    .lr
                    .iter()
                    .enumerate()
                    .step_by(stride)
                    .map(|(i, &v)| (i as f64, v))
                    .collect(),
            });
        }
        let labels: Vec<String> = models.iter().map(|m| m.label.clone()).collect();
        Ok(FitPlot {
            title: format!("{} on the same runs", labels.join(" vs ")),
            models: labels,
            runs: data,
            forecasts,
        })
    }

    fn single(&self) -> bool {
        self.models.len() == 1
    }

    /// Colour of a run's observations.
    fn run_color(&self, run: usize) -> RGBColor {
        if self.single() {
            PALETTE[run % PALETTE.len()]
        } else {
            RGBColor(110, 110, 110)
        }
    }

    /// Colour of a forecast.
    fn forecast_color(&self, f: &Forecast) -> RGBColor {
        if self.single() {
            PALETTE[f.run % PALETTE.len()]
        } else {
            PALETTE[f.model % PALETTE.len()]
        }
    }

    /// Bands around the forecasts of the test runs (a single model's plot), from the fit's
    /// calibrated intervals, at the forecast curve's own steps.
    pub fn add_bands(
        &mut self,
        law: &dyn Law,
        params: &[f64],
        runs: &[Run],
        intervals: &crate::forecast::interval::Source,
    ) -> Result<()> {
        for f in &mut self.forecasts {
            let run = &runs[f.run];
            if run.role != Role::Test {
                continue;
            }
            let steps: Vec<i64> = f.predicted.iter().map(|p| p.0 as i64).collect();
            let feats = law
                .features(&Curve {
                    lr: &run.lr,
                    steps: &steps,
                    params: run.params,
                    end: run.end,
                })
                .map_err(|e| Error::input(format!("run '{}': {e}", run.name)))?;
            let at = intervals.distances(law, &run.lr, &steps, run.params);
            let b = intervals.bands(law, params, &feats, &at);
            f.band = Some(
                steps
                    .iter()
                    .zip(b)
                    .map(|(&s, b)| (s as f64, b.lo, b.hi))
                    .collect(),
            );
        }
        self.title.push_str(&format!(
            " (bands: {:.0} % intervals)",
            100.0 * intervals.level
        ));
        Ok(())
    }

    /// Keep at most `n` evenly spaced markers per run (observed points and residuals): a page
    /// that inlines the figure as SVG pays for every marker, and a few hundred show the curve.
    pub fn thin_markers(&mut self, n: usize) {
        fn keep(v: &mut Vec<(f64, f64)>, n: usize) {
            *v = evenly_spaced(v.len(), n)
                .into_iter()
                .map(|i| v[i])
                .collect();
        }
        for r in &mut self.runs {
            keep(&mut r.observed, n);
        }
        for f in &mut self.forecasts {
            keep(&mut f.residuals, n);
        }
    }

    /// Draw to `path`; the extension (`.png` or `.svg`) picks the format.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_figure(self, path)
    }
}

impl Figure for FitPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let (top, rest) = root.split_vertically(560);
        let (middle, bottom) = rest.split_vertically(200);

        let observed = || self.runs.iter().flat_map(|r| r.observed.iter());
        let predicted = || self.forecasts.iter().flat_map(|f| f.predicted.iter());
        let x_max = observed()
            .chain(predicted())
            .map(|p| p.0)
            .fold(1.0f64, f64::max);
        let x_min = observed()
            .map(|p| p.0)
            .fold(f64::INFINITY, f64::min)
            .min(x_max - 1.0);
        let (y_lo, y_hi) = range(observed().chain(predicted()).map(|p| p.1));
        // Loss panel.
        let mut chart = step_panel(&top, (x_min, x_max), (y_lo, y_hi), "loss")?;
        // Observed points first, then every predicted curve on top, so no curve is hidden
        // under another run's markers. With several models, one legend entry per role and law.
        let mut labelled = [false; 2];
        for (i, r) in self.runs.iter().enumerate() {
            let color = self.run_color(i);
            let role_idx = usize::from(r.role == Role::Test);
            let label = if self.single() {
                Some(format!("{} ({})", r.name, r.role))
            } else if !labelled[role_idx] {
                labelled[role_idx] = true;
                Some(format!("observed, {} runs", r.role))
            } else {
                None
            };
            match r.role {
                Role::Fit => {
                    let a = chart
                        .draw_series(
                            r.observed
                                .iter()
                                .map(|&p| Circle::new(p, 2, color.filled())),
                        )
                        .map_err(err)?;
                    if let Some(label) = label {
                        a.label(label)
                            .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
                    }
                }
                Role::Test => {
                    let a = chart
                        .draw_series(
                            r.observed
                                .iter()
                                .map(|&p| TriangleMarker::new(p, 3, color.stroke_width(1))),
                        )
                        .map_err(err)?;
                    if let Some(label) = label {
                        a.label(label).legend(move |(x, y)| {
                            TriangleMarker::new((x + 10, y), 5, color.stroke_width(1))
                        });
                    }
                }
            }
        }
        // Bands under the curves, clipped to the axis so a wide early band does not flatten it.
        for f in &self.forecasts {
            if let Some(band) = &f.band {
                let clip = |v: f64| v.clamp(y_lo, y_hi);
                let mut outline: Vec<(f64, f64)> =
                    band.iter().map(|&(x, _, hi)| (x, clip(hi))).collect();
                outline.extend(band.iter().rev().map(|&(x, lo, _)| (x, clip(lo))));
                let color = self.forecast_color(f);
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(0.15).filled(),
                    )))
                    .map_err(err)?;
            }
        }
        let mut law_labelled = vec![false; self.models.len()];
        for f in &self.forecasts {
            let color = self.forecast_color(f);
            let style = color.mix(0.9).stroke_width(2);
            let a = match self.runs[f.run].role {
                Role::Fit => chart
                    .draw_series(LineSeries::new(f.predicted.clone(), style))
                    .map_err(err)?,
                Role::Test => chart
                    .draw_series(DashedLineSeries::new(f.predicted.clone(), 8, 5, style))
                    .map_err(err)?,
            };
            if !self.single() && !law_labelled[f.model] {
                law_labelled[f.model] = true;
                a.label(format!(
                    "{} (solid: fit runs, dashed: test)",
                    self.models[f.model]
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 14)?;

        // Residual panel.
        let (r_lo, r_hi) = range(
            self.forecasts
                .iter()
                .flat_map(|f| f.residuals.iter().map(|p| p.1))
                .chain([0.0]),
        );
        let mut res = step_panel(
            &middle,
            (x_min, x_max),
            (r_lo, r_hi),
            "observed − predicted",
        )?;
        res.draw_series(LineSeries::new(
            [(x_min, 0.0), (x_max, 0.0)],
            BLACK.mix(0.5),
        ))
        .map_err(err)?;
        for f in &self.forecasts {
            let color = self.forecast_color(f);
            match self.runs[f.run].role {
                Role::Fit => res
                    .draw_series(
                        f.residuals
                            .iter()
                            .map(|&p| Circle::new(p, 2, color.filled())),
                    )
                    .map(|_| ()),
                Role::Test => res
                    .draw_series(
                        f.residuals
                            .iter()
                            .map(|&p| TriangleMarker::new(p, 3, color.stroke_width(1))),
                    )
                    .map(|_| ()),
            }
            .map_err(err)?;
        }

        // LR panel.
        let lines: Vec<(RGBColor, Vec<(f64, f64)>)> = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let pts = r.lr.iter().copied().filter(|p| p.0 <= x_max).collect();
                (self.run_color(i), pts)
            })
            .collect();
        draw_lr_panel(&bottom, x_min, x_max, &lines, 1)?;
        Ok(())
    }

    fn title(&self) -> &str {
        &self.title
    }
}

/// A panel with steps on the x axis (loss, residuals), styled as every curve figure is.
pub(crate) fn step_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    (x_min, x_max): (f64, f64),
    (y_lo, y_hi): (f64, f64),
    y_desc: &str,
) -> std::result::Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    String,
> {
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(x_min..x_max, y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .y_desc(y_desc)
        .x_label_formatter(&numbers::step_label)
        .y_label_formatter(&numbers::tick_label)
        .house_style()
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// The LR panel under a loss panel: one line per schedule, steps on the x axis.
pub(crate) fn draw_lr_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x_min: f64,
    x_max: f64,
    lines: &[(RGBColor, Vec<(f64, f64)>)],
    width: u32,
) -> std::result::Result<(), String> {
    let lr_hi = lines
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.08;
    let mut lrc = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x_min..x_max, 0.0..lr_hi)
        .map_err(err)?;
    lrc.configure_mesh()
        .x_desc("step")
        .x_label_formatter(&numbers::step_label)
        .y_desc("learning rate")
        .y_label_formatter(&|v| format!("{v:.1e}"))
        .y_labels(4)
        .house_style()
        .draw()
        .map_err(err)?;
    for (color, pts) in lines {
        lrc.draw_series(LineSeries::new(pts.clone(), color.stroke_width(width)))
            .map_err(err)?;
    }
    Ok(())
}

/// A figure that can be drawn on any plotters backend.
pub trait Figure {
    /// The title drawn above the figure.
    fn title(&self) -> &str;

    /// Draw the figure on `root`, the white canvas under its title.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn;
}

/// What drawing a figure returns: plotters' errors as text.
pub type Drawn = std::result::Result<(), String>;

/// A plotters error as text: every figure's `map_err`.
pub(crate) fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// Draw `fig` under its title on `root` and finish the drawing: every way of rendering a
/// figure goes through here.
fn draw_titled<F: Figure, DB: DrawingBackend>(fig: &F, root: &DrawingArea<DB, Shift>) -> Drawn {
    fig.draw(&titled_canvas(root, fig.title())?)?;
    root.present().map_err(|e| e.to_string())
}

/// The legend every figure uses: a framed, slightly transparent box at `position`.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font_size: u32,
) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, font_size).into_font())
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| e.to_string())
}

/// A white canvas with the figure's title, the start of every figure.
pub(crate) fn titled_canvas<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    root.titled(title, (FAMILY, 22).into_font())
        .map_err(|e| e.to_string())
}

/// Pixel size of every figure.
const SIZE: (u32, u32) = (1400, 1000);

/// Draw a figure in memory as PNG or SVG bytes, with the embedded font (in an SVG as an
/// `@font-face`, so the text renders the same on a machine without DejaVu Sans).
pub fn render_figure<F: Figure>(fig: &F, format: output::ImageFormat) -> Result<Vec<u8>> {
    register_font();
    let failed = |e: String| Error::failed(format!("cannot draw plot: {e}"));
    match format {
        output::ImageFormat::Png => {
            let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
                draw_titled(fig, &root).map_err(failed)?;
            }
            encode_png(&rgb, SIZE).map_err(failed)
        }
        output::ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                draw_titled(fig, &root).map_err(failed)?;
            }
            Ok(embed_font(&svg).into_bytes())
        }
    }
}

/// A figure as SVG text without the embedded font, for a page (`report`) that carries several
/// figures and is read in a browser, which has fonts of its own: the font would add a megabyte
/// to each. The text falls back to the page's sans-serif.
pub fn render_figure_plain_svg<F: Figure>(fig: &F) -> Result<String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw_titled(fig, &root).map_err(|e| Error::failed(format!("cannot draw plot: {e}")))?;
    }
    // Scale with the page, keeping the aspect ratio; inline SVG in HTML needs no namespace.
    let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    // plotters writes a viewBox beside the fixed size; without the size the figure scales.
    Ok(svg.replacen(
        &format!("width=\"{}\" height=\"{}\" ", SIZE.0, SIZE.1),
        "",
        1,
    ))
}

/// Draw a figure to `path`; the extension (`.png` or `.svg`) picks the format. Written through a
/// temp file, so a failure leaves nothing behind.
pub fn save_figure<F: Figure>(fig: &F, path: &Path) -> Result<()> {
    let bytes = render_figure(fig, output::image_format(path)?)
        .map_err(|e| Error::failed(format!("{}: {e}", path.display())))?;
    output::write_atomic(path, &bytes)
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The SVG with DejaVu Sans inside it as a base64 `@font-face` named like the family the
/// figures ask for.
fn embed_font(svg: &str) -> String {
    let face = format!(
        "<defs><style>@font-face{{font-family:\"{FAMILY}\";src:url(data:font/ttf;base64,{})}}\
         </style></defs>",
        base64(FONT)
    );
    // After the opening <svg ...> tag.
    match svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1))
    {
        Some(at) => format!("{}{face}{}", &svg[..at], &svg[at..]),
        None => svg.to_string(),
    }
}

/// RFC 4648 base64, for fonts in SVG and script hashes in report pages.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The axes of every figure: the embedded font at 16 px for axis descriptions and 14 px for
/// tick labels, and no minor grid lines.
pub(crate) trait HouseStyle {
    fn house_style(&mut self) -> &mut Self;
}

impl<X: Ranged, Y: Ranged, DB: DrawingBackend> HouseStyle for MeshStyle<'_, '_, X, Y, DB> {
    fn house_style(&mut self) -> &mut Self {
        self.axis_desc_style((FAMILY, 16).into_font())
            .label_style((FAMILY, 14).into_font())
            .light_line_style(WHITE.mix(0.0))
    }
}

/// A padded range over finite values.
pub(crate) fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
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

/// Indices of at most `n` evenly spaced items of `len`, first and last included (all of them
/// when there are no more than `n`): what a figure or a page shows of a long series.
pub fn evenly_spaced(len: usize, n: usize) -> Vec<usize> {
    if len <= n || n < 2 {
        return (0..len).collect();
    }
    (0..n).map(|i| i * (len - 1) / (n - 1)).collect()
}

/// Convenience: build and save in one call.
pub fn plot_fit(law: &dyn Law, params: &[f64], runs: &[Run], path: &Path) -> Result<()> {
    FitPlot::new(law, params, runs)?.save(path)
}

/// [`plot_fit`] with the test runs' forecasts banded by the fit's intervals.
pub fn plot_fit_with_bands(
    law: &dyn Law,
    params: &[f64],
    runs: &[Run],
    intervals: &crate::forecast::interval::Source,
    path: &Path,
) -> Result<()> {
    let mut p = FitPlot::new(law, params, runs)?;
    p.add_bands(law, params, runs, intervals)?;
    p.save(path)
}

/// Several fitted laws over the same runs, one colour per law.
pub fn plot_models(models: &[Model], runs: &[Run], path: &Path) -> Result<()> {
    match models {
        [] => Err(Error::input("nothing to plot: no model")),
        [one] => plot_fit(one.law, &one.params, runs, path),
        _ => FitPlot::compare(models, runs)?.save(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }
}
