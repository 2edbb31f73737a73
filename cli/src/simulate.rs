//! `openzone simulate`: the school-day simulation (see `docs/simulation.md`).

use std::path::PathBuf;

use clap::Args;
use openzone_sim::{report, Progress, Scenario, SimReport};

use crate::error::CliError;
use crate::output::{cells, print_json, Table};

/// Arguments of `openzone simulate`; every flag overrides the scenario file, which overrides the defaults.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A JSON scenario file (any field may be left out; see docs/simulation.md).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Students.
    #[arg(long)]
    students: Option<u32>,
    /// Students per class.
    #[arg(long)]
    class_size: Option<u32>,
    /// Teachers.
    #[arg(long)]
    teachers: Option<u32>,
    /// School days.
    #[arg(long)]
    days: Option<u32>,
    /// Seed: the same seed gives the same result.
    #[arg(long)]
    seed: Option<u64>,
    /// Confirmed cases.
    #[arg(long)]
    cases: Option<u32>,
    /// Day (from 1) the cases test positive and report.
    #[arg(long)]
    report_day: Option<u32>,
    /// Day (from 1) of the onset of symptoms.
    #[arg(long)]
    onset_day: Option<u32>,
    /// Share of iPhones with the app in the background.
    #[arg(long)]
    iphone_share: Option<f64>,
    /// Share of phones with Bluetooth off.
    #[arg(long)]
    bluetooth_off_share: Option<f64>,
    /// Risk configuration: corona-warn-app-2021, google-sample, or a JSON file.
    #[arg(long)]
    risk: Option<String>,
    /// Hours between a phone's syncs.
    #[arg(long)]
    sync_every_hours: Option<f64>,
    /// Share of people who forget to scan the classroom's QR poster on a day.
    #[arg(long)]
    checkin_forget_share: Option<f64>,
    /// Write report.html with plots into this directory.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Print a JSON summary instead of tables.
    #[arg(long)]
    json: bool,
}

impl SimulateArgs {
    fn scenario(&self) -> Result<Scenario, CliError> {
        let mut s = match &self.scenario {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
                    path: path.clone(),
                    source,
                })?;
                Scenario::from_json(&text)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?
            }
            None => Scenario::default(),
        };
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field.clone() { s.$field = v; } )* };
        }
        set!(
            students,
            class_size,
            teachers,
            days,
            seed,
            cases,
            report_day,
            onset_day,
            iphone_share,
            bluetooth_off_share,
            risk,
            sync_every_hours,
            checkin_forget_share
        );
        s.check().map_err(|e| CliError::Usage(e.to_string()))?;
        Ok(s)
    }
}

/// Runs `openzone simulate`.
pub fn run(args: SimulateArgs) -> Result<(), CliError> {
    let scenario = args.scenario()?;
    let bar = (!args.json).then(|| {
        let bar = indicatif::ProgressBar::new(2_000);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:12} [{bar:40}] {percent:>3}% {elapsed_precise}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    });
    let progress = |p: Progress| {
        if let Some(bar) = &bar {
            let offset = if p.run == "en-v1" { 0 } else { 1_000 };
            bar.set_message(p.run);
            bar.set_position(offset + u64::from(p.permille));
        }
    };
    let result =
        openzone_sim::run(&scenario, &progress).map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(dir) = &args.report {
        let path = report::write(&result, dir).map_err(|e| CliError::Usage(e.to_string()))?;
        if !args.json {
            println!("report: {}", path.display());
        }
    }
    if args.json {
        return print_json(&json_evaluations(&result));
    }
    print_tables(&result)
}

/// One element of `--json`'s list: an evaluation, with the run it came from. The radio, notification
/// and download figures were measured on the en-v1 run and go with its entry only; the check-in figures
/// go with the presence-tracing entry.
#[derive(serde::Serialize)]
struct JsonEvaluation<'a> {
    #[serde(flatten)]
    evaluation: &'a openzone_sim::Evaluation,
    #[serde(flatten)]
    en_v1_run: Option<EnV1Run>,
    #[serde(flatten)]
    presence: Option<PresenceRun>,
    elapsed_secs: f64,
    phone_days_per_second: f64,
    scenario: &'a Scenario,
}

#[derive(serde::Serialize)]
struct EnV1Run {
    phones_notified: u64,
    notification_minutes: openzone_sim::Spread,
    scan_duty: openzone_sim::Spread,
    advertising_duty: f64,
    bytes_downloaded: openzone_sim::Spread,
    /// The risk rule's precision and recall at each threshold (weighted minutes a day), for tuning.
    threshold_sweep: Vec<SweepPoint>,
}

#[derive(serde::Serialize)]
struct PresenceRun {
    /// QR check-ins made before the report.
    checkins: u64,
    /// Phones told of a presence warning at risk.
    phones_warned: u64,
}

#[derive(serde::Serialize)]
struct SweepPoint {
    threshold_minutes: f64,
    precision: f64,
    recall: f64,
}

fn json_evaluations(r: &SimReport) -> Vec<JsonEvaluation<'_>> {
    r.evaluations
        .iter()
        .map(|evaluation| JsonEvaluation {
            evaluation,
            en_v1_run: (evaluation.scheme == "en-v1").then_some(EnV1Run {
                phones_notified: r.phones_notified,
                notification_minutes: r.notification_minutes,
                scan_duty: r.scan_duty,
                advertising_duty: r.advertising_duty,
                bytes_downloaded: r.bytes_downloaded,
                threshold_sweep: r
                    .threshold_sweep
                    .iter()
                    .map(|&(threshold_minutes, precision, recall)| SweepPoint {
                        threshold_minutes,
                        precision,
                        recall,
                    })
                    .collect(),
            }),
            presence: (evaluation.rule == "presence-tracing").then_some(PresenceRun {
                checkins: r.checkins,
                phones_warned: r.presence_phones_warned,
            }),
            elapsed_secs: r.elapsed_secs,
            phone_days_per_second: r.phone_days_per_second,
            scenario: &r.scenario,
        })
        .collect()
}

fn print_tables(r: &SimReport) -> Result<(), CliError> {
    let s = &r.scenario;
    println!(
        "{} students in {} classes, {} teachers, {} days; {} case(s) confirmed on day {} (onset day {}); seed {}",
        s.students,
        s.classes(),
        s.teachers,
        s.days,
        s.cases,
        s.report_day,
        s.onset_day,
        s.seed
    );
    println!(
        "true close contact: within 2 m of a case for 15 minutes or more on a day (person-days)\n"
    );
    let mut t = Table::new([
        "SCHEME",
        "RULE",
        "TRUE",
        "NOTIFIED",
        "TP",
        "FP",
        "FN",
        "PRECISION",
        "RECALL",
        "F1",
    ]);
    for e in &r.evaluations {
        t.row(cells![
            e.scheme,
            e.rule,
            e.true_contacts,
            e.notified,
            e.true_positives,
            e.false_positives,
            e.false_negatives,
            format!("{:.2}", e.precision),
            format!("{:.2}", e.recall),
            format!("{:.2}", e.f1),
        ]);
    }
    t.print()?;
    println!();
    println!(
        "notified after the upload: {} phones, {:.0} / {:.0} / {:.0} minutes (min / median / max)",
        r.phones_notified,
        r.notification_minutes.min,
        r.notification_minutes.median,
        r.notification_minutes.max
    );
    println!(
        "radio duty per phone: scanning {:.2}% / {:.2}% / {:.2}%, advertising {:.2}%",
        r.scan_duty.min * 100.0,
        r.scan_duty.median * 100.0,
        r.scan_duty.max * 100.0,
        r.advertising_duty * 100.0
    );
    println!(
        "downloaded per phone: {:.0} / {:.0} / {:.0} bytes",
        r.bytes_downloaded.min, r.bytes_downloaded.median, r.bytes_downloaded.max
    );
    println!(
        "presence tracing: {} QR check-ins before the report ({:.0}% forget a day), {} phones warned",
        r.checkins,
        s.checkin_forget_share * 100.0,
        r.presence_phones_warned
    );
    println!(
        "run time {:.1} s, {:.0} simulated phone-days per second ({} sightings)",
        r.elapsed_secs, r.phone_days_per_second, r.sightings
    );
    Ok(())
}
