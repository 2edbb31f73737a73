//! Printing the evaluation: markdown tables for people and for `docs/radio.md`, JSON for scripts, and ROC
//! curves as SVG.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use crate::evaluate::{Evaluation, Replayed};
use crate::metrics::{Estimate, Summary};
use crate::EvalError;

/// The datasets read: files, rows, recordings and calibrations, contacts.
pub fn datasets_markdown(replayed: &[Replayed<'_>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| dataset | source | files | rows used | rows skipped | recordings | contacts near / far | clusters |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|---:|");
    for r in replayed {
        let d = r.dataset;
        let rows: usize = d.files.iter().map(|f| f.rows).sum();
        let skipped: usize = d.files.iter().map(|f| f.skipped).sum();
        let near = r.contacts.iter().filter(|c| c.near).count();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {rows} | {skipped} | {} | {near} / {} | {} |",
            d.name,
            d.source,
            d.files.len(),
            d.recordings.len(),
            r.contacts.len() - near,
            r.cluster_of.iter().map(|c| c + 1).max().unwrap_or(0),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| recording | receiver (TX dBm, correction dB, confidence) | sender (TX dBm) | readings |"
    );
    let _ = writeln!(out, "|---|---|---|---:|");
    for r in replayed {
        for rec in &r.dataset.recordings {
            let _ = writeln!(
                out,
                "| {} | {} ({}, {:+}, {}) | {} ({}) | {} |",
                rec.name,
                rec.receiver.name,
                rec.receiver.tx_power_dbm,
                rec.receiver.rssi_correction_db,
                rec.receiver.confidence,
                rec.sender.name,
                rec.sender.tx_power_dbm,
                rec.readings.len()
            );
        }
    }
    out
}

fn interval(e: &Estimate) -> String {
    format!("{:.2} [{:.2}-{:.2}]", e.value, e.low, e.high)
}

fn row(name: &str, dataset: &str, s: &Summary) -> String {
    format!(
        "| {name} | {dataset} | {} / {} | {} | {} | {} | {} | {} | {} | {} |",
        s.near,
        s.far,
        s.clusters,
        s.auc.as_ref().map_or_else(|| "-".into(), interval),
        interval(&s.precision),
        interval(&s.recall),
        interval(&s.f1),
        interval(&s.false_positive_rate),
        interval(&s.reference_f1)
    )
}

const HEADER: &str = "| candidate | dataset | contacts near / far | clusters | ROC AUC [95 % CI] | precision | recall | F1 | false positive rate | F1 at 1 near in 5 |\n|---|---|---|---:|---|---|---|---|---|---|";

/// Every candidate on every dataset and pooled.
pub fn candidates_markdown(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{HEADER}");
    for c in &evaluation.candidates {
        for (d, s) in evaluation.datasets.iter().zip(&c.datasets) {
            let _ = writeln!(out, "{}", row(&c.name, d, s));
        }
        if evaluation.datasets.len() > 1 {
            let _ = writeln!(out, "{}", row(&c.name, "**pooled, recorded**", &c.pooled));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "| candidate | at risk from (weighted minutes a day) |");
    let _ = writeln!(out, "|---|---:|");
    for c in &evaluation.candidates {
        let _ = writeln!(out, "| {} | {:.2} |", c.name, c.at_risk_minutes_per_day);
    }
    out
}

/// The leave-one-dataset-out folds and the choice.
pub fn lodo_markdown(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    if evaluation.folds.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "| held out | fitted on | fitted path loss: A(1 m) dB, n, σ dB |"
    );
    let _ = writeln!(out, "|---|---|---|");
    for f in &evaluation.folds {
        let fit = f
            .fitted_path_loss
            .map_or_else(|| "-".into(), |(a, n, s)| format!("{a:.1}, {n:.2}, {s:.1}"));
        let _ = writeln!(
            out,
            "| {} | {} | {fit} |",
            f.held_out,
            f.trained_on.join(", ")
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{HEADER}");
    for f in &evaluation.folds {
        for (name, s) in &f.results {
            let _ = writeln!(
                out,
                "{}",
                row(name, &format!("{} (held out)", f.held_out), s)
            );
        }
    }
    if let Some(choice) = &evaluation.choice {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Incumbent default: `{}`. Better F1 at 1 near in 5 on every held-out dataset: {}. Chosen: `{}`.",
            choice.incumbent,
            if choice.better_everywhere.is_empty() {
                "none".to_string()
            } else {
                choice.better_everywhere.join(", ")
            },
            choice.chosen
        );
    }
    out
}

/// Writes `roc-<dataset>.svg` per dataset into `dir`: one curve per candidate.
pub fn write_roc_plots(evaluation: &Evaluation, dir: &Path) -> Result<Vec<String>, EvalError> {
    std::fs::create_dir_all(dir).map_err(|e| EvalError::Output {
        path: dir.into(),
        message: e.to_string(),
    })?;
    let mut written = Vec::new();
    for (d, name) in evaluation.datasets.iter().enumerate() {
        let file = format!("roc-{name}.svg");
        let path = dir.join(&file);
        draw_roc(evaluation, d, name, &path).map_err(|message| EvalError::Output {
            path: path.clone(),
            message,
        })?;
        written.push(file);
    }
    Ok(written)
}

fn draw_roc(evaluation: &Evaluation, d: usize, name: &str, path: &Path) -> Result<(), String> {
    let root = SVGBackend::new(path, (720, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("ROC, 15-minute contacts within 2 m: {name}"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("false positive rate")
        .y_desc("true positive rate")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3)))
        .map_err(|e| e.to_string())?;
    for (i, c) in evaluation.candidates.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let auc = c.datasets[d].auc.map_or(f64::NAN, |a| a.value);
        chart
            .draw_series(LineSeries::new(
                c.roc[d].iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("{} (AUC {auc:.2})", c.name))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
