//! The simulation's report: one HTML page with the evaluation table and three SVG plots (plotters):
//! attenuation against true distance, precision and recall against the risk threshold, and who was
//! notified in each class.

use std::fmt::Write as _;
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

fn html(r: &SimReport) -> Result<String, SimError> {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>OpenZone school simulation</title><style>body{font-family:sans-serif;max-width:760px;margin:2em auto;padding:0 1em}\
         table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:right}th{background:#eee}\
         td:first-child,td:nth-child(2){text-align:left}</style></head><body>",
    );
    let s = &r.scenario;
    let _ = write!(
        out,
        "<h1>School simulation</h1><p>{} students in {} classes and {} teachers, {} days, seed {}; {} case(s) reporting on day {} \
         (onset day {}); risk configuration <code>{}</code>. Run time {:.1} s ({:.0} phone-days/s).</p>",
        s.students, s.classes(), s.teachers, s.days, s.seed, s.cases, s.report_day, s.onset_day, s.risk,
        r.elapsed_secs, r.phone_days_per_second
    );
    out.push_str("<h2>Who was notified</h2><p>Unit: a person-day on an infectious day. True contact: within 2 m of a case for at least 15 minutes that day.</p><table><tr><th>scheme</th><th>rule</th><th>true contacts</th><th>notified</th><th>TP</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th></tr>");
    for e in &r.evaluations {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            e.scheme, e.rule, e.true_contacts, e.notified, e.true_positives, e.false_positives, e.false_negatives,
            e.precision, e.recall, e.f1
        );
    }
    let _ = write!(
        out,
        "</table><p>Notified after the upload: {:.0} to {:.0} minutes (median {:.0}) for {} phones. Scanning duty per phone {:.2}% \
         (median), advertising {:.2}%. Downloaded per phone: median {:.0} bytes.</p>\
         <p>Presence tracing (<code>qr-check-in</code>): a QR poster in every classroom, {} check-ins before the report \
         ({:.0}% of people forget to scan on a day); {} phones told of a presence warning at risk.</p>",
        r.notification_minutes.min, r.notification_minutes.max, r.notification_minutes.median, r.phones_notified,
        r.scan_duty.median * 100.0, r.advertising_duty * 100.0, r.bytes_downloaded.median,
        r.checkins, s.checkin_forget_share * 100.0, r.presence_phones_warned
    );
    out.push_str("<h2>Attenuation against true distance</h2>");
    out.push_str(&attenuation_plot(&r.attenuation_samples)?);
    out.push_str("<h2>Precision and recall against the threshold</h2>");
    out.push_str(&sweep_plot(&r.threshold_sweep)?);
    out.push_str("<h2>Per class</h2><p>Each square a person, worst day: green notified and close, orange notified not close, red close not notified, grey neither, black the case. The last row is the teachers.</p>");
    out.push_str(&class_grid(&r.per_class)?);
    out.push_str("</body></html>");
    Ok(out)
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
