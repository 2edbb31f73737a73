//! `openzone export`: look inside a published key export, or build and sign one.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use openzone_core::export::signing::{SigningKey, VerificationKey};
use openzone_core::export::{
    Export, ExportBuilder, ExportHeader, ExportKey, KeySkip, ReportType, SignatureStatus,
};
use openzone_core::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use serde::{Deserialize, Serialize};

use crate::error::CliError;
use crate::output::{print_json, Table};

/// `openzone export <inspect|build>`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Show an export's keys, region, time range and signature status.
    Inspect(InspectArgs),
    /// Build and sign an export zip from a JSON list of keys (for QA and tests).
    Build(BuildArgs),
}

/// Arguments of `openzone export inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The export zip (export.bin + export.sig).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// A PEM public key to check the signature with (trusted for the key id the export names).
    #[arg(long, value_name = "PEM")]
    public_key: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone export build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// A JSON list of keys: key_data (hex), rolling_start_interval, rolling_period,
    /// transmission_risk_level, report_type, days_since_onset.
    #[arg(long, value_name = "KEYS.json")]
    keys: PathBuf,
    /// The signing key, a PKCS#8 PEM (P-256).
    #[arg(long, value_name = "PEM")]
    signing_key: PathBuf,
    /// Where to write the zip.
    #[arg(long, value_name = "FILE.zip")]
    out: PathBuf,
    /// The key id written into the signature info.
    #[arg(long, default_value = "openzone")]
    key_id: String,
    /// The key version written into the signature info.
    #[arg(long, default_value = "v1")]
    key_version: String,
    /// The region written into the export.
    #[arg(long, default_value = "VN")]
    region: String,
}

/// A key as KEYS.json spells it: the protobuf's field names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyJson {
    key_data: String,
    rolling_start_interval: u32,
    #[serde(default = "default_rolling_period")]
    rolling_period: u32,
    #[serde(default)]
    transmission_risk_level: Option<u8>,
    #[serde(default)]
    report_type: Option<ReportTypeJson>,
    #[serde(default)]
    days_since_onset: Option<i32>,
}

fn default_rolling_period() -> u32 {
    144
}

/// A report type as a number (1) or as its protobuf name ("CONFIRMED_TEST").
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ReportTypeJson {
    Number(i32),
    Name(String),
}

impl ReportTypeJson {
    fn resolve(&self) -> Result<ReportType, CliError> {
        match self {
            ReportTypeJson::Number(n) if (0..=5).contains(n) => Ok(ReportType::from_i32(*n)),
            ReportTypeJson::Name(name) => match name.to_ascii_uppercase().as_str() {
                "UNKNOWN" => Ok(ReportType::Unknown),
                "CONFIRMED_TEST" => Ok(ReportType::ConfirmedTest),
                "CONFIRMED_CLINICAL_DIAGNOSIS" => Ok(ReportType::ConfirmedClinicalDiagnosis),
                "SELF_REPORT" => Ok(ReportType::SelfReport),
                "RECURSIVE" => Ok(ReportType::Recursive),
                "REVOKED" => Ok(ReportType::Revoked),
                _ => Err(CliError::Usage(format!("unknown report_type {name:?}"))),
            },
            ReportTypeJson::Number(n) => {
                Err(CliError::Usage(format!("report_type {n} is outside 0-5")))
            }
        }
    }
}

#[derive(Debug, Serialize)]
struct KeyRow {
    key_data: Option<String>,
    rolling_start_interval: Option<u32>,
    rolling_period: Option<u32>,
    transmission_risk_level: Option<u8>,
    report_type: Option<i32>,
    days_since_onset: Option<i32>,
    skipped: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct Inspection {
    region: Option<String>,
    start_timestamp: Option<u64>,
    end_timestamp: Option<u64>,
    batch_num: Option<i32>,
    batch_size: Option<i32>,
    signed_by: Vec<String>,
    signature_valid: Option<bool>,
    signature_status: String,
    key_count: usize,
    keys: Vec<KeyRow>,
}

/// Runs `openzone export`.
pub fn run(cmd: ExportCommand) -> Result<(), CliError> {
    match cmd {
        ExportCommand::Inspect(args) => inspect(args),
        ExportCommand::Build(args) => build(args),
    }
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The text of a PEM file.
pub fn read_pem(path: &Path) -> Result<String, CliError> {
    Ok(String::from_utf8_lossy(&read(path)?).into_owned())
}

/// A PEM public key trusted for whatever key id and version an export's `header` names: the command
/// line's user chose the key file, so it stands for the key the export claims.
pub fn trusted_keys(
    header: &ExportHeader,
    pem: &str,
) -> Result<Vec<VerificationKey>, openzone_core::Error> {
    let mut keys = Vec::new();
    for info in &header.signature_infos {
        keys.push(VerificationKey::from_pem(&info.key_id, &info.version, pem)?);
    }
    if keys.is_empty() {
        keys.push(VerificationKey::from_pem("", "", pem)?);
    }
    Ok(keys)
}

fn inspect(args: InspectArgs) -> Result<(), CliError> {
    let export = Export::from_zip_file(&args.file)?;
    let status = match &args.public_key {
        Some(pem) => {
            Some(export.signature_status(&trusted_keys(export.header(), &read_pem(pem)?)?))
        }
        None => None,
    };
    let header = export.header();
    let inspection = Inspection {
        region: header.region.clone(),
        start_timestamp: header.start_timestamp,
        end_timestamp: header.end_timestamp,
        batch_num: header.batch_num,
        batch_size: header.batch_size,
        signed_by: header
            .signature_infos
            .iter()
            .map(|i| format!("{}/{}", i.key_id, i.version))
            .collect(),
        signature_valid: status.as_ref().map(|s| matches!(s, SignatureStatus::Valid(_))),
        signature_status: match &status {
            None => "not checked (give --public-key)".into(),
            Some(SignatureStatus::Valid(i)) => format!("valid, signed by {}/{}", i.key_id, i.version),
            Some(SignatureStatus::Invalid(i)) => format!(
                "INVALID: does not verify as {}/{} (the file was altered, or this is not the key that signed it)",
                i.key_id, i.version
            ),
            Some(SignatureStatus::UnknownKey(_)) => "no signature by the given key".into(),
            Some(SignatureStatus::Missing) => "MISSING: export.sig holds no signature".into(),
        },
        key_count: header.key_count,
        keys: export.keys().map(key_row).collect(),
    };
    if args.json {
        return print_json(&inspection);
    }
    println!(
        "region:     {}",
        inspection.region.as_deref().unwrap_or("-")
    );
    println!(
        "time range: {} to {} (UTC seconds)",
        opt(inspection.start_timestamp),
        opt(inspection.end_timestamp)
    );
    println!(
        "batch:      {} of {}",
        opt(inspection.batch_num),
        opt(inspection.batch_size)
    );
    println!("signed by:  {}", inspection.signed_by.join(", "));
    println!("signature:  {}", inspection.signature_status);
    println!("keys:       {}", inspection.key_count);
    let mut table = Table::new(["KEY", "START", "PERIOD", "TRL", "REPORT", "DSOS", "NOTE"]);
    for k in &inspection.keys {
        table.row(vec![
            k.key_data.clone().unwrap_or_else(|| "-".into()),
            opt(k.rolling_start_interval),
            opt(k.rolling_period),
            opt(k.transmission_risk_level),
            opt(k.report_type),
            opt(k.days_since_onset),
            k.skipped.unwrap_or_default().into(),
        ]);
    }
    table.print()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn key_row(key: Result<ExportKey, KeySkip>) -> KeyRow {
    match key {
        Ok(k) => KeyRow {
            key_data: Some(hex::encode(k.key.tek.as_bytes())),
            rolling_start_interval: Some(k.key.rolling_start_interval),
            rolling_period: Some(k.key.rolling_period),
            transmission_risk_level: k.transmission_risk_level,
            report_type: Some(k.report_type.as_i32()),
            days_since_onset: k.days_since_onset,
            skipped: None,
        },
        Err(skip) => KeyRow {
            key_data: None,
            rolling_start_interval: None,
            rolling_period: None,
            transmission_risk_level: None,
            report_type: None,
            days_since_onset: None,
            skipped: Some(skip.describe()),
        },
    }
}

fn build(args: BuildArgs) -> Result<(), CliError> {
    let text = read(&args.keys)?;
    let parsed: Vec<KeyJson> = serde_json::from_slice(&text).map_err(|e| {
        CliError::Usage(format!(
            "{}: not a JSON list of keys: {e}",
            args.keys.display()
        ))
    })?;
    let mut keys = Vec::with_capacity(parsed.len());
    for (n, k) in parsed.iter().enumerate() {
        let tek: TemporaryExposureKey = k.key_data.parse()?;
        let key = ExposureKey::new(tek, k.rolling_start_interval, k.rolling_period)
            .map_err(|e| CliError::Usage(format!("key {n}: {e}")))?;
        keys.push(ExportKey {
            key,
            transmission_risk_level: k.transmission_risk_level,
            report_type: k
                .report_type
                .as_ref()
                .map_or(Ok(ReportType::ConfirmedTest), ReportTypeJson::resolve)?,
            days_since_onset: k.days_since_onset,
        });
    }
    let pem = read_pem(&args.signing_key)?;
    let signer = SigningKey::from_pem(&args.key_id, &args.key_version, &pem)?;
    let starts = keys
        .iter()
        .map(|k| u64::from(k.key.rolling_start_interval) * 600);
    let ends = keys.iter().map(|k| u64::from(k.key.end_interval()) * 600);
    let builder = ExportBuilder {
        start_timestamp: starts.min().unwrap_or(0),
        end_timestamp: ends.max().unwrap_or(0),
        region: args.region,
        ..ExportBuilder::one_file(keys)
    };
    let zip = builder.build_zip(&signer)?;
    std::fs::write(&args.out, &zip).map_err(|source| CliError::Io {
        path: args.out.clone(),
        source,
    })?;
    println!(
        "wrote {} ({} keys, {} bytes, signed by {}/{})",
        args.out.display(),
        builder.keys.len(),
        zip.len(),
        signer.key_id,
        signer.version
    );
    Ok(())
}
