//! The simulation's report: one HTML page with the evaluation table and three SVG plots (plotters):
//! attenuation against true distance, precision and recall against the risk threshold, and who was
//! notified in each class.

use askama::Template;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::{Outcome, SimError, SimReport};

const WIDTH: u32 = 720;
const HEIGHT: u32 = 420;

fn plot_error(e: impl std::fmt::Display) -> SimError {
    SimError::Setup(format!("cannot draw a plot: {e}"))
}

/// Writes `report.html` (with its SVGs inline) into `dir`, creating it.
pub fn write(report: &SimReport, dir: &Path) -> Result<std::path::PathBuf, SimError> {
    std::fs::create_dir_all(dir).map_err(|e| SimError::Setup(format!("{}: {e}", dir.display())))?;
    let html = html(report)?;
    let path = dir.join("report.html");
    std::fs::write(&path, html).map_err(|e| SimError::Setup(format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// The page around the plots; askama escapes every value that is not marked `safe` (the SVGs, drawn
/// by plotters from numbers and fixed labels).
#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    r: &'a SimReport,
    scan_duty_percent: f64,
    advertising_percent: f64,
    forget_percent: f64,
    attenuation_svg: String,
    sweep_svg: String,
    class_svg: String,
}

fn html(r: &SimReport) -> Result<String, SimError> {
    ReportPage {
        r,
        scan_duty_percent: r.scan_duty.median * 100.0,
        advertising_percent: r.advertising_duty * 100.0,
        forget_percent: r.scenario.checkin_forget_share * 100.0,
        attenuation_svg: attenuation_plot(&r.attenuation_samples)?,
        sweep_svg: sweep_plot(&r.threshold_sweep)?,
        class_svg: class_grid(&r.per_class)?,
    }
    .render()
    .map_err(|e| SimError::Setup(format!("cannot render the report page: {e}")))
}

/// The plots' drawing area.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// An SVG chart over `x` and `y` with its axes named `x_desc` and `y_desc`; `draw` adds the series,
/// explained in a legend if `legend`.
fn chart_svg(
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    (x_desc, y_desc): (&str, &str),
    legend: bool,
    draw: impl FnOnce(&mut Chart<'_, '_>) -> Result<(), SimError>,
) -> Result<String, SimError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(x, y)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()
            .map_err(plot_error)?;
        draw(&mut chart)?;
        if legend {
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE.mix(0.8))
                .draw()
                .map_err(plot_error)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

fn attenuation_plot(samples: &[(f32, f32)]) -> Result<String, SimError> {
    chart_svg(
        0.0..15.0,
        20.0..110.0,
        ("true distance (m)", "attenuation (dB)"),
        false,
        |chart| {
            chart
                .draw_series(samples.iter().filter(|(d, _)| *d < 15.0).map(|&(d, a)| {
                    Circle::new((f64::from(d), f64::from(a)), 1, BLUE.mix(0.3).filled())
                }))
                .map_err(plot_error)?;
            Ok(())
        },
    )
}

/// Picks one line's point from a sweep row (threshold, precision, recall).
type SweepPoint = fn(&(f64, f64, f64)) -> (f64, f64);

fn sweep_plot(sweep: &[(f64, f64, f64)]) -> Result<String, SimError> {
    chart_svg(
        0.0..60.0,
        0.0..1.05,
        ("threshold (weighted minutes per day)", "share"),
        true,
        |chart| {
            let lines: [(&str, RGBColor, SweepPoint); 2] = [
                ("precision", BLUE, |&(t, p, _)| (t, p)),
                ("recall", RED, |&(t, _, r)| (t, r)),
            ];
            for (label, color, point) in lines {
                chart
                    .draw_series(LineSeries::new(sweep.iter().map(point), &color))
                    .map_err(plot_error)?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            }
            Ok(())
        },
    )
}

fn class_grid(rows: &[Vec<Outcome>]) -> Result<String, SimError> {
    let cell = 12i32;
    let cols = rows.iter().map(Vec::len).max().unwrap_or(1).max(1) as u32;
    let (w, h) = (
        cols * cell as u32 + 60,
        rows.len() as u32 * cell as u32 + 10,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w.min(2000), h.max(20))).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        for (r, row) in rows.iter().enumerate() {
            let y = r as i32 * cell + 5;
            root.draw(&Text::new(
                if r + 1 == rows.len() {
                    "staff".to_owned()
                } else {
                    format!("{}", r + 1)
                },
                (2, y),
                ("sans-serif", 10),
            ))
            .map_err(plot_error)?;
            for (c, outcome) in row.iter().enumerate() {
                let color = match outcome {
                    Outcome::TruePositive => RGBColor(46, 160, 67),
                    Outcome::FalsePositive => RGBColor(240, 150, 40),
                    Outcome::FalseNegative => RGBColor(210, 40, 40),
                    Outcome::Clear => RGBColor(200, 200, 200),
                    Outcome::Case => BLACK,
                };
                let x = 50 + c as i32 * cell;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell - 2, y + cell - 2)],
                    color.filled(),
                ))
                .map_err(plot_error)?;
            }
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}
