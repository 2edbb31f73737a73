//! `openzone match`: check a store against published keys and print the per-day result.

use std::path::PathBuf;

use clap::Args;
use openzone_core::export::signing::{SignedConfig, VerificationKey};
use openzone_core::export::ExportFile;
use openzone_core::phone::{CalibrationTable, CheckReport, DayRisk, RiskConfig};
use serde::Serialize;

use crate::error::CliError;
use crate::export::{read, read_pem, trusted_keys};
use crate::output::{print_json, Table};
use crate::store::StoreArgs;

/// Arguments of `openzone match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The published keys: an export zip, or Bluezone's JSON list (with its signature in FILE.sig).
    #[arg(long, value_name = "FILE")]
    export: PathBuf,
    /// The publisher's PEM public key.
    #[arg(long, value_name = "PEM")]
    public_key: PathBuf,
    /// The detached signature of a Bluezone JSON list (default: the list's path with ".sig" added).
    #[arg(long, value_name = "FILE")]
    signature: Option<PathBuf>,
    /// This phone, as MANUFACTURER/DEVICE/MODEL (android.os.Build), for its calibration.
    #[arg(long, value_name = "M/D/M")]
    device: Option<String>,
    /// A named risk configuration (see `docs/radio.md`; default: the core's default) or a JSON file.
    #[arg(long, value_name = "NAME|FILE", default_value_t = RiskConfig::default().name)]
    risk_config: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One day's exposure as the commands print it.
#[derive(Debug, Serialize)]
pub(crate) struct DayJson {
    date: String,
    at_risk: bool,
    weighted_minutes: f64,
    minutes: f64,
    closest: openzone_core::phone::ProximityBand,
    min_attenuation_db: f64,
    windows: u32,
    tx_power_estimated: bool,
}

impl From<&DayRisk> for DayJson {
    fn from(d: &DayRisk) -> Self {
        Self {
            date: crate::date_of_day(d.day),
            at_risk: d.at_risk,
            weighted_minutes: (d.weighted_minutes * 100.0).round() / 100.0,
            minutes: (d.minutes * 100.0).round() / 100.0,
            closest: d.closest,
            min_attenuation_db: (d.min_attenuation_db * 10.0).round() / 10.0,
            windows: d.windows,
            tx_power_estimated: d.tx_power_estimated,
        }
    }
}

#[derive(Debug, Serialize)]
struct MatchJson {
    days: Vec<DayJson>,
    keys_processed: u64,
    keys_matched: u64,
    already_processed: bool,
    skipped: std::collections::BTreeMap<&'static str, u64>,
}

/// The risk configuration named or stored in `spec`.
pub fn risk_config(spec: &str) -> Result<RiskConfig, CliError> {
    if spec.ends_with(".json") {
        return Ok(RiskConfig::from_json(&read(std::path::Path::new(spec))?)?);
    }
    Ok(RiskConfig::named(spec)?)
}

/// Runs `openzone match`.
pub fn run(args: MatchArgs) -> Result<(), CliError> {
    let table = CalibrationTable::builtin();
    let receiver = match &args.device {
        None => table.fleet(),
        Some(spec) => {
            let parts: Vec<&str> = spec.splitn(3, '/').collect();
            let [m, d, model] = parts[..] else {
                return Err(CliError::Usage(
                    "--device is MANUFACTURER/DEVICE/MODEL".into(),
                ));
            };
            table.lookup(m, d, model)
        }
    };
    let risk = risk_config(&args.risk_config)?;
    let is_json = args
        .export
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let phone_with = |export_keys: Vec<VerificationKey>| {
        args.store.phone(|c| {
            c.calibration = receiver;
            c.risk = risk;
            c.export_keys = export_keys;
        })
    };
    let (phone, report): (_, CheckReport) = if is_json {
        let json = read(&args.export)?;
        let sig_path = args
            .signature
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.sig", args.export.display())));
        let sig = read(&sig_path)?;
        let pem = read_pem(&args.public_key)?;
        let phone = phone_with(vec![VerificationKey::from_pem("bluezone", "v1", &pem)?])?;
        let report = phone.process_bluezone_list(&json, &sig)?;
        (phone, report)
    } else {
        // Streamed out of the zip, never held whole; the key file is trusted for the key the export
        // names, known once it is read.
        let export = ExportFile::open(&args.export)?;
        let pem = read_pem(&args.public_key)?;
        let phone = phone_with(Vec::new())?;
        let report = phone.process_export_trusting(export, |header| trusted_keys(header, &pem))?;
        (phone, report)
    };
    // Every day with a match so far, this batch's and earlier ones'.
    let days = phone.exposure_days()?;
    let out = MatchJson {
        days: days.iter().map(DayJson::from).collect(),
        keys_processed: report.keys_processed,
        keys_matched: report.keys_matched,
        already_processed: report.already_processed,
        skipped: report
            .skipped
            .iter()
            .map(|(k, n)| (k.describe(), *n))
            .collect(),
    };
    if args.json {
        return print_json(&out);
    }
    if out.already_processed {
        println!("this batch was processed before; nothing changed");
        return print_days(&out.days);
    }
    println!(
        "{} keys checked, {} matched",
        out.keys_processed, out.keys_matched
    );
    for (reason, n) in &out.skipped {
        println!("  {n} skipped: {reason}");
    }
    print_days(&out.days)
}

/// The per-day exposure table (or "no exposure found").
pub(crate) fn print_days(days: &[DayJson]) -> Result<(), CliError> {
    if days.is_empty() {
        println!("no exposure found");
        return Ok(());
    }
    let mut t = Table::new([
        "DATE (UTC)",
        "AT RISK",
        "WEIGHTED MIN",
        "CLOSEST",
        "MIN ATTEN (dB)",
    ]);
    for d in days {
        t.row(vec![
            d.date.clone(),
            if d.at_risk { "yes" } else { "no" }.into(),
            format!("{:.1}", d.weighted_minutes),
            format!("{:?}", d.closest).to_lowercase(),
            format!(
                "{:.0}{}",
                d.min_attenuation_db,
                if d.tx_power_estimated { " (est.)" } else { "" }
            ),
        ]);
    }
    t.print()
}
