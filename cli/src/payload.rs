//! `openzone payload`: decode and encode advertisements and GATT values.

use clap::{Args, Subcommand};
use openzone_core::protocol::bluezone_v3::BluezoneId;
use openzone_core::protocol::en_v1::{Aem, EnV1, ExposureKey, Rpi, TemporaryExposureKey};
use openzone_core::protocol::payload::{
    decode_gatt_value, encode_advertisement, gatt_value, AdvertisementData, Decoded,
};
use openzone_core::protocol::{Payload, Scheme};
use openzone_core::wire::Error as WireError;
use openzone_core::{Error, PayloadError};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{print_json, Table};

/// `openzone payload <decode|encode>`.
#[derive(Debug, Subcommand)]
pub enum PayloadCommand {
    /// Show what raw advertisement bytes or a GATT value hold.
    Decode(DecodeArgs),
    /// Print the advertisement and GATT value a phone sends for an identifier.
    #[command(subcommand)]
    Encode(EncodeCommand),
}

/// Arguments of `openzone payload decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Raw advertisement bytes (as Android's ScanRecord gives them) or a GATT value, in hex.
    #[arg(value_name = "HEX")]
    hex: String,
    /// Treat the input as a GATT characteristic value (20 or 12 bytes), not an advertisement.
    #[arg(long)]
    gatt: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// `openzone payload encode <scheme>`.
#[derive(Debug, Subcommand)]
pub enum EncodeCommand {
    /// An en-v1 payload, from an RPI and AEM or from a TEK and an interval.
    #[command(name = "en-v1")]
    EnV1(EncodeEnV1Args),
    /// A bluezone-v3 payload from its 12-byte ID.
    #[command(name = "bluezone-v3")]
    BluezoneV3(EncodeBluezoneArgs),
}

/// Arguments of `openzone payload encode en-v1`.
#[derive(Debug, Args)]
pub struct EncodeEnV1Args {
    /// The Rolling Proximity Identifier, 32 hex characters (with --aem).
    #[arg(long, value_name = "HEX", requires = "aem", conflicts_with = "tek")]
    rpi: Option<String>,
    /// The Associated Encrypted Metadata, 8 hex characters (with --rpi).
    #[arg(long, value_name = "HEX", requires = "rpi")]
    aem: Option<String>,
    /// Derive the payload from this Temporary Exposure Key (with --interval).
    #[arg(long, value_name = "HEX", requires = "interval")]
    tek: Option<String>,
    /// The ENIntervalNumber whose RPI to send (with --tek).
    #[arg(long, value_name = "N", requires = "tek")]
    interval: Option<u32>,
    /// TX power in dBm encrypted into the AEM (with --tek).
    #[arg(long, value_name = "DBM", default_value_t = -25, allow_negative_numbers = true)]
    tx_power: i8,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone payload encode bluezone-v3`.
#[derive(Debug, Args)]
pub struct EncodeBluezoneArgs {
    /// The 12-byte Bluezone ID, 24 hex characters.
    #[arg(long, value_name = "HEX")]
    id: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One decoded payload or advertisement, as printed.
#[derive(Debug, Serialize)]
struct Described {
    /// `advertisement` or `gatt`.
    input: &'static str,
    /// `en-v1`, `bluezone-v3`, or absent for a peer that must be read over GATT.
    scheme: Option<&'static str>,
    identifier: Option<String>,
    aem: Option<String>,
    needs_gatt_read: bool,
    tx_power: Option<i8>,
}

/// An encoded payload, as printed.
#[derive(Debug, Serialize)]
struct Encoded {
    scheme: &'static str,
    identifier: String,
    advertisement: String,
    gatt_value: String,
}

/// Runs `openzone payload`.
pub fn run(cmd: PayloadCommand) -> Result<(), CliError> {
    match cmd {
        PayloadCommand::Decode(args) => decode(args),
        PayloadCommand::Encode(EncodeCommand::EnV1(args)) => {
            let payload = en_v1_payload(&args)?;
            print_encoded(&payload, args.json)
        }
        PayloadCommand::Encode(EncodeCommand::BluezoneV3(args)) => {
            let id: BluezoneId = args.id.parse()?;
            print_encoded(&Payload::BluezoneV3 { id }, args.json)
        }
    }
}

fn decode(args: DecodeArgs) -> Result<(), CliError> {
    let bytes = hex::decode(args.hex.trim()).map_err(|e| WireError::InvalidHex {
        what: "payload",
        reason: e.to_string(),
    })?;
    let described = if args.gatt {
        describe("gatt", Decoded::Payload(decode_gatt_value(&bytes)?), None)
    } else {
        match AdvertisementData::parse(&bytes).and_then(|data| Ok((data.decode()?, data.tx_power)))
        {
            Ok((decoded, tx_power)) => describe("advertisement", decoded, tx_power),
            // A bare 20- or 12-byte value that is no advertisement is most likely a GATT value.
            Err(Error::Advertisement { .. } | Error::Payload(PayloadError::NotOpenZone))
                if decode_gatt_value(&bytes).is_ok() =>
            {
                describe("gatt", Decoded::Payload(decode_gatt_value(&bytes)?), None)
            }
            Err(err) => return Err(err.into()),
        }
    };
    if args.json {
        return print_json(&described);
    }
    let mut table = Table::new(["FIELD", "VALUE"]);
    table.row(vec!["input".into(), described.input.into()]);
    if described.needs_gatt_read {
        table.row(vec![
            "payload".into(),
            "iOS background: read over GATT".into(),
        ]);
    }
    for (name, value) in [
        ("scheme", described.scheme.map(str::to_owned)),
        ("identifier", described.identifier),
        ("aem", described.aem),
        ("tx_power", described.tx_power.map(|t| format!("{t} dBm"))),
    ] {
        if let Some(value) = value {
            table.row(vec![name.into(), value]);
        }
    }
    table.print()
}

fn describe(input: &'static str, decoded: Decoded, tx_power: Option<i8>) -> Described {
    let (scheme, identifier, aem) = match decoded {
        Decoded::Payload(Payload::EnV1 { rpi, aem }) => {
            (Some("en-v1"), Some(rpi.to_string()), Some(aem.to_string()))
        }
        Decoded::Payload(Payload::BluezoneV3 { id }) => {
            (Some("bluezone-v3"), Some(id.to_string()), None)
        }
        Decoded::NeedsGattRead => (None, None, None),
    };
    Described {
        input,
        scheme,
        identifier,
        aem,
        needs_gatt_read: decoded == Decoded::NeedsGattRead,
        tx_power,
    }
}

fn en_v1_payload(args: &EncodeEnV1Args) -> Result<Payload, CliError> {
    match (&args.rpi, &args.aem, &args.tek, args.interval) {
        (Some(rpi), Some(aem), None, None) => Ok(Payload::EnV1 {
            rpi: rpi.parse::<Rpi>()?,
            aem: aem.parse::<Aem>()?,
        }),
        (None, None, Some(tek), Some(interval)) => {
            let tek: TemporaryExposureKey = tek.parse()?;
            // A one-interval key starting at the requested interval: its slot 0 is that interval.
            let key = ExposureKey::new(tek, interval, 1)?;
            Ok(EnV1::new(args.tx_power).payload(&key, 0))
        }
        _ => Err(CliError::Usage(
            "give either --rpi and --aem, or --tek and --interval".into(),
        )),
    }
}

fn print_encoded(payload: &Payload, json: bool) -> Result<(), CliError> {
    let identifier = match payload {
        Payload::EnV1 { rpi, .. } => rpi.to_string(),
        Payload::BluezoneV3 { id } => id.to_string(),
    };
    let encoded = Encoded {
        scheme: payload.scheme().name(),
        identifier,
        advertisement: hex::encode(encode_advertisement(payload)),
        gatt_value: hex::encode(gatt_value(payload)),
    };
    if json {
        return print_json(&encoded);
    }
    let mut table = Table::new(["FIELD", "VALUE"]);
    table.row(vec!["scheme".into(), encoded.scheme.into()]);
    table.row(vec!["identifier".into(), encoded.identifier]);
    table.row(vec!["advertisement".into(), encoded.advertisement]);
    table.row(vec!["gatt_value".into(), encoded.gatt_value]);
    table.print()
}
