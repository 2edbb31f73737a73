//! `openzone store`: import sightings into a store, look at it, purge it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use openzone_core::phone::{DataKey, Phone, PhoneConfig};
use openzone_core::platform::NoRadio;
use openzone_core::protocol::payload::{decode_advertisement, Decoded};
use openzone_core::sighting::{Sighting, Source};
use openzone_core::time::SystemClock;
use serde::{Deserialize, Serialize};

use crate::error::CliError;
use crate::output::{cells, print_json, Table};

/// The environment variable that may hold the data key, as 64 hex characters.
pub const DATA_KEY_ENV: &str = "OPENZONE_DATA_KEY";

/// The longest line `store ingest` reads; longer lines are counted as bad.
const MAX_LINE_BYTES: u64 = 16 * 1024;

/// Sightings handed to the store at once.
const INGEST_BATCH: usize = 10_000;

/// `openzone store <ingest|stats|purge>`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Import sightings from a JSON-lines file (one {"time_ms", "rssi", "adv", "tx_power"?} per line).
    Ingest(IngestArgs),
    /// Counts per day and scheme, and the size on disk.
    Stats(StatsArgs),
    /// Remove data older than the retention period (or --older-than-days).
    Purge(PurgeArgs),
}

/// Where the store is and how to unlock it; shared by every command that opens a store.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store directory (created if missing).
    #[arg(long = "store", value_name = "DIR")]
    pub dir: PathBuf,
    /// A file holding the data key: 32 raw bytes or 64 hex characters. Without it, the key comes from
    /// the OPENZONE_DATA_KEY environment variable.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

impl StoreArgs {
    /// The data key from `--key-file` or the environment.
    pub fn data_key(&self) -> Result<DataKey, CliError> {
        if let Some(path) = &self.key_file {
            let bytes = std::fs::read(path).map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?;
            return Ok(DataKey::from_file_contents(&bytes)?);
        }
        match std::env::var(DATA_KEY_ENV) {
            Ok(hex) => Ok(DataKey::from_hex(&hex)?),
            Err(_) => Err(CliError::Usage(format!(
                "the store is encrypted: give its data key with --key-file FILE or in {DATA_KEY_ENV} \
                 (64 hex characters)"
            ))),
        }
    }

    /// The phone whose store this is, without a radio, set up by `configure`.
    pub fn phone(&self, configure: impl FnOnce(&mut PhoneConfig)) -> Result<Phone, CliError> {
        let mut config = PhoneConfig::new(&self.dir, self.data_key()?);
        configure(&mut config);
        Ok(Phone::open(
            config,
            Arc::new(NoRadio),
            None,
            Arc::new(SystemClock),
        )?)
    }
}

/// Arguments of `openzone store ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The JSON-lines file of sightings.
    #[arg(long, value_name = "FILE.jsonl")]
    sightings: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone store stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone store purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Remove data older than this many days instead of the retention period (14 days).
    #[arg(long, value_name = "N")]
    older_than_days: Option<u32>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// One line of a sightings file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SightingLine {
    time_ms: u64,
    rssi: i8,
    adv: String,
    #[serde(default)]
    tx_power: Option<i8>,
}

/// What `store ingest` did with the file.
#[derive(Debug, Default, Serialize)]
struct IngestReport {
    lines: u64,
    recorded: u64,
    /// Lines that were skipped, by reason.
    skipped: BTreeMap<String, u64>,
    /// Recorded sightings that were already older than the retention period and were purged at once.
    expired: u64,
}

impl IngestReport {
    fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_owned()).or_default() += 1;
    }
}

/// Runs `openzone store`.
pub fn run(cmd: StoreCommand) -> Result<(), CliError> {
    match cmd {
        StoreCommand::Ingest(args) => ingest(args),
        StoreCommand::Stats(args) => stats(args),
        StoreCommand::Purge(args) => purge(args),
    }
}

fn ingest(args: IngestArgs) -> Result<(), CliError> {
    let file = std::fs::File::open(&args.sightings).map_err(|source| CliError::Io {
        path: args.sightings.clone(),
        source,
    })?;
    let phone = args.store.phone(|_| {})?;
    let report = ingest_lines(&phone, BufReader::new(file), &args.sightings)?;
    if args.json {
        return print_json(&report);
    }
    println!(
        "{} lines: {} sightings recorded, {} skipped",
        report.lines,
        report.recorded,
        report.skipped.values().sum::<u64>()
    );
    for (reason, n) in &report.skipped {
        println!("  {n} skipped: {reason}");
    }
    if report.expired > 0 {
        println!(
            "  {} of the recorded sightings were older than the retention period and were purged",
            report.expired
        );
    }
    Ok(())
}

fn ingest_lines(
    phone: &Phone,
    mut reader: impl BufRead,
    path: &Path,
) -> Result<IngestReport, CliError> {
    let mut report = IngestReport::default();
    let mut batch = Vec::with_capacity(INGEST_BATCH);
    let mut line = Vec::new();
    let io = |source| CliError::Io {
        path: path.to_path_buf(),
        source,
    };
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(io)?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') && n as u64 > MAX_LINE_BYTES {
            // Skip the rest of the overlong line.
            report.lines += 1;
            report.skip("line longer than 16 KiB");
            let mut rest = Vec::new();
            reader.read_until(b'\n', &mut rest).map_err(io)?;
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        report.lines += 1;
        match parse_line(&line) {
            Ok(sighting) => batch.push(sighting),
            Err(reason) => report.skip(reason),
        }
        if batch.len() >= INGEST_BATCH {
            report.recorded += phone.record_sightings(&batch)? as u64;
            batch.clear();
        }
    }
    report.recorded += phone.record_sightings(&batch)? as u64;
    let sightings = || -> Result<u64, CliError> {
        Ok(phone
            .storage_stats()?
            .days
            .iter()
            .map(|d| d.sightings)
            .sum())
    };
    let before = sightings()?;
    phone.checkpoint()?;
    let after = sightings()?;
    report.expired = before.saturating_sub(after);
    Ok(report)
}

fn parse_line(line: &[u8]) -> Result<Sighting, &'static str> {
    let parsed: SightingLine =
        serde_json::from_slice(line).map_err(|_| "not a sighting object (time_ms, rssi, adv)")?;
    let bytes = hex::decode(parsed.adv.trim()).map_err(|_| "adv is not hex")?;
    match decode_advertisement(&bytes) {
        Ok(Decoded::Payload(payload)) => Ok(Sighting {
            payload,
            rssi: parsed.rssi,
            tx_power: parsed.tx_power,
            time_ms: parsed.time_ms,
            source: Source::Advertisement,
        }),
        Ok(Decoded::NeedsGattRead) => Err("iPhone in the background: needs a GATT read"),
        Err(openzone_core::Error::Payload(openzone_core::PayloadError::NotOpenZone)) => {
            Err("not an OpenZone or Bluezone advertisement")
        }
        Err(_) => Err("malformed advertisement"),
    }
}

#[derive(Debug, Serialize)]
struct DayRow {
    date: String,
    scheme: &'static str,
    instances: u64,
    sightings: u64,
}

#[derive(Debug, Serialize)]
struct StatsReport {
    days: Vec<DayRow>,
    own_en_keys: u64,
    has_bluezone_root: bool,
    bytes_on_disk: u64,
    record_bytes: u64,
}

fn stats(args: StatsArgs) -> Result<(), CliError> {
    let stats = args.store.phone(|_| {})?.storage_stats()?;
    let report = StatsReport {
        days: stats
            .days
            .iter()
            .map(|d| DayRow {
                date: crate::date_of_day(d.day),
                scheme: d.scheme.name(),
                instances: d.instances,
                sightings: d.sightings,
            })
            .collect(),
        own_en_keys: stats.own_en_keys,
        has_bluezone_root: stats.has_bluezone_root,
        bytes_on_disk: stats.bytes_on_disk,
        record_bytes: stats.record_bytes,
    };
    if args.json {
        return print_json(&report);
    }
    let mut table = Table::new(["DATE (UTC)", "SCHEME", "SCAN INSTANCES", "SIGHTINGS"]);
    for row in &report.days {
        table.row(cells![row.date, row.scheme, row.instances, row.sightings]);
    }
    table.print()?;
    println!(
        "own en-v1 keys: {}; bluezone-v3 root key: {}; size on disk: {} bytes",
        report.own_en_keys,
        if report.has_bluezone_root {
            "yes"
        } else {
            "no"
        },
        report.bytes_on_disk
    );
    Ok(())
}

fn purge(args: PurgeArgs) -> Result<(), CliError> {
    if args.older_than_days == Some(0) {
        return Err(CliError::Usage(
            "--older-than-days must be at least 1".into(),
        ));
    }
    let phone = args.store.phone(|_| {})?;
    let report = phone.purge(args.older_than_days)?;
    phone.checkpoint()?;
    #[derive(Serialize)]
    struct Purged {
        expired_instances: u64,
        evicted_instances: u64,
        other_records: u64,
    }
    let purged = Purged {
        expired_instances: report.expired_instances,
        evicted_instances: report.evicted_instances,
        other_records: report.other_records,
    };
    if args.json {
        return print_json(&purged);
    }
    println!(
        "removed {} expired scan instances, {} over the size cap, {} other records",
        purged.expired_instances, purged.evicted_instances, purged.other_records
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_or_say_why_not() {
        let good = br#"{"time_ms": 1620000000000, "rssi": -62, "adv": "02011a0303564e1716564e8be6cd371c5c891604bfbe49df84509672033874"}"#;
        assert_eq!(parse_line(good).unwrap().rssi, -62);
        let with_tx = br#"{"time_ms": 1, "rssi": -62, "tx_power": -7, "adv": "02011a0303564e1716564e8be6cd371c5c891604bfbe49df84509672033874"}"#;
        assert_eq!(parse_line(with_tx).unwrap().tx_power, Some(-7));
        for (line, reason) in [
            (&b"garbage"[..], "not a sighting"),
            (br#"{"time_ms": 1, "rssi": -300, "adv": "00"}"#, "not a sighting"),
            (br#"{"time_ms": 1, "rssi": -60}"#, "not a sighting"),
            (br#"{"time_ms": 1, "rssi": -60, "adv": "zz"}"#, "not hex"),
            (br#"{"time_ms": 1, "rssi": -60, "adv": "0201"}"#, "malformed"),
            (br#"{"time_ms": 1, "rssi": -60, "adv": "020106"}"#, "not an OpenZone"),
            (br#"{"time_ms": 1, "rssi": -60, "adv": "0201061aff4c00"}"#, "malformed"),
            (br#"{"time_ms": 1, "rssi": -60, "adv": "0201061415ff4c0001"}"#, "malformed"),
            (br#"{"time_ms": 1, "rssi": -60, "adv": "14ff4c000100000000000000000000000000000000"}"#, "GATT"),
            (br#"{"time_ms": 1, "rssi": -60, "adv": "00", "extra": 1}"#, "not a sighting"),
        ] {
            let err = parse_line(line).unwrap_err();
            assert!(err.contains(reason), "{}: {err}", String::from_utf8_lossy(line));
        }
    }

    fn phone(dir: &Path) -> Phone {
        let config = PhoneConfig::new(dir, DataKey::from_bytes([1; 32]));
        Phone::open(config, Arc::new(NoRadio), None, Arc::new(SystemClock)).unwrap()
    }

    #[test]
    fn ingest_counts_bad_lines_and_keeps_going() {
        let dir = tempfile::tempdir().unwrap();
        let now = crate::now_ms();
        let phone = phone(dir.path());
        let adv = "02011a0303564e1716564e8be6cd371c5c891604bfbe49df84509672033874";
        let mut text = String::new();
        text.push_str(&format!(
            "{{\"time_ms\": {now}, \"rssi\": -60, \"adv\": \"{adv}\"}}\n"
        ));
        text.push_str("not json\n\n");
        text.push_str(&"x".repeat(20_000));
        text.push('\n');
        text.push_str(&format!(
            "{{\"time_ms\": {}, \"rssi\": -61, \"adv\": \"{adv}\"}}",
            now + 1000
        ));
        let report = ingest_lines(&phone, text.as_bytes(), Path::new("test.jsonl")).unwrap();
        assert_eq!(report.lines, 4);
        assert_eq!(report.recorded, 2);
        assert_eq!(report.skipped.values().sum::<u64>(), 2);
        assert_eq!(report.skipped["line longer than 16 KiB"], 1);
        assert_eq!(report.expired, 0);
        let instances = phone.heard().unwrap();
        assert_eq!(instances.len(), 1);
        assert_eq!(instances[0].count, 2);
    }

    #[test]
    fn old_sightings_are_reported_as_purged() {
        let dir = tempfile::tempdir().unwrap();
        let phone = phone(dir.path());
        let line = r#"{"time_ms": 1620000000000, "rssi": -62, "adv": "02011a0303564e1716564e8be6cd371c5c891604bfbe49df84509672033874"}"#;
        let report = ingest_lines(&phone, line.as_bytes(), Path::new("old.jsonl")).unwrap();
        assert_eq!((report.recorded, report.expired), (1, 1));
    }

    #[test]
    fn days_print_as_dates() {
        use openzone_core::protocol::bluezone_v3::SECS_PER_DAY;
        assert_eq!(
            crate::date_of_day((1_620_000_000 / SECS_PER_DAY) as u32),
            "2021-05-03"
        );
    }
}
