//! `openzone ids`: the identifiers a key generates, for comparing with what a real phone broadcasts.

use clap::{Args, Subcommand};
use openzone_core::protocol::bluezone_v3::{self, BluezoneV3, DailyKey};
use openzone_core::protocol::en_v1::{Metadata, TemporaryExposureKey, EK_ROLLING_PERIOD};
use openzone_core::protocol::Scheme;
use serde::Serialize;

use crate::error::CliError;
use crate::output::{print_json, Table};

/// `openzone ids <scheme>`.
#[derive(Debug, Subcommand)]
pub enum IdsCommand {
    /// RPIs and AEMs of an en-v1 Temporary Exposure Key, one row per 10-minute interval.
    #[command(name = "en-v1")]
    EnV1(EnV1Args),
    /// IDs of a Bluezone 3.x daily key, one row per slot.
    #[command(name = "bluezone-v3")]
    BluezoneV3(BluezoneArgs),
}

/// Arguments of `openzone ids en-v1`.
#[derive(Debug, Args)]
pub struct EnV1Args {
    /// The Temporary Exposure Key, 32 hex characters.
    #[arg(long, value_name = "HEX")]
    tek: String,
    /// The first ENIntervalNumber to print (unix seconds / 600).
    #[arg(long, value_name = "N")]
    interval: u32,
    /// How many consecutive intervals to print (144 is one key's day).
    #[arg(long, value_name = "K", default_value_t = EK_ROLLING_PERIOD)]
    count: u32,
    /// The sender's TX power in dBm, as encrypted into the AEM (-25 is the calibration table's fleet
    /// average).
    #[arg(long, value_name = "DBM", default_value_t = -25, allow_negative_numbers = true)]
    tx_power: i8,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone ids bluezone-v3`.
#[derive(Debug, Args)]
pub struct BluezoneArgs {
    /// The daily key D_n, 64 hex characters.
    #[arg(long, value_name = "HEX")]
    daily_key: String,
    /// Slots per day (Bluezone's `max`).
    #[arg(long, value_name = "N", default_value_t = bluezone_v3::DEFAULT_SLOTS_PER_DAY)]
    slots_per_day: u32,
    /// The first slot to print, counted from UTC midnight.
    #[arg(long, value_name = "SLOT", default_value_t = 0)]
    from: u32,
    /// How many slots to print (default: to the end of the day).
    #[arg(long, value_name = "K")]
    count: Option<u32>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct EnV1Row {
    interval: u32,
    rpi: String,
    aem: String,
}

#[derive(Serialize)]
struct BluezoneRow {
    slot: u32,
    id: String,
}

/// Runs `openzone ids`.
pub fn run(cmd: IdsCommand) -> Result<(), CliError> {
    match cmd {
        IdsCommand::EnV1(args) => en_v1(args),
        IdsCommand::BluezoneV3(args) => bluezone(args),
    }
}

fn en_v1(args: EnV1Args) -> Result<(), CliError> {
    let tek: TemporaryExposureKey = args.tek.parse()?;
    if args.interval.checked_add(args.count).is_none() {
        return Err(CliError::Usage(format!(
            "--interval {} plus --count {} runs past the last interval number",
            args.interval, args.count
        )));
    }
    let rpik = tek.rpik();
    let aemk = tek.aemk();
    let metadata = Metadata::new(args.tx_power);
    let mut rpis = Vec::with_capacity(args.count as usize);
    rpik.rpis(args.interval, args.count, &mut rpis);
    let rows: Vec<EnV1Row> = rpis
        .iter()
        .zip(args.interval..)
        .map(|(rpi, interval)| EnV1Row {
            interval,
            rpi: rpi.to_string(),
            aem: aemk.encrypt(rpi, &metadata).to_string(),
        })
        .collect();
    if args.json {
        return print_json(&rows);
    }
    let mut table = Table::new(["INTERVAL", "RPI", "AEM"]);
    for row in rows {
        table.row(vec![row.interval.to_string(), row.rpi, row.aem]);
    }
    table.print()
}

fn bluezone(args: BluezoneArgs) -> Result<(), CliError> {
    let bytes =
        hex::decode(args.daily_key.trim()).map_err(|e| openzone_core::wire::Error::InvalidHex {
            what: "daily key",
            reason: e.to_string(),
        })?;
    let key_bytes = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        openzone_core::wire::Error::WrongLength {
            what: "daily key",
            expected: 32,
            found: bytes.len(),
        }
    })?;
    // Identifiers do not depend on the calendar day, only on the key and the slot.
    let key = DailyKey::new(key_bytes, 0, args.slots_per_day)?;
    if args.from >= args.slots_per_day {
        return Err(CliError::Usage(format!(
            "--from {} is past the day's last slot ({})",
            args.from,
            args.slots_per_day - 1
        )));
    }
    let remaining = args.slots_per_day - args.from;
    let count = args.count.unwrap_or(remaining).min(remaining);
    let mut ids = Vec::new();
    BluezoneV3::identifiers(&key, &mut ids);
    let rows: Vec<BluezoneRow> = (args.from..args.from + count)
        .map(|slot| BluezoneRow {
            slot,
            id: ids[slot as usize].to_string(),
        })
        .collect();
    if args.json {
        return print_json(&rows);
    }
    let mut table = Table::new(["SLOT", "ID"]);
    for row in rows {
        table.row(vec![row.slot.to_string(), row.id]);
    }
    table.print()
}
