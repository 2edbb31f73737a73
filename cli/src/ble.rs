//! `openzone scan`, `openzone advertise` and `openzone run`: real Bluetooth LE on Linux through BlueZ
//! (feature `desktop-ble`; how to set a machine up: docs/ble-linux.md).
//!
//! Glue only: the radio is `openzone_core::platform::bluez`, the rest is the engine. These commands open
//! the adapter first, so a machine without D-Bus, BlueZ or an adapter gets one line naming what is
//! missing.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::{Args, ValueEnum};
use openzone_core::engine::{EngineStats, EngineStatus};
use openzone_core::phone::{
    CalibrationTable, DataKey, DayRisk, Phone, PhoneConfig, PhoneListener, SyncProgress,
};
use openzone_core::platform::bluez::{
    BluezAdapter, BluezError, BluezPlatform, Heard, PlatformOptions,
};
use openzone_core::platform::{BlePlatform, EngineInput};
use openzone_core::protocol::payload::{gatt_value, Decoded};
use openzone_core::protocol::{Payload, SchemeId};
use openzone_core::time::SystemClock;
use openzone_core::units::RSSI_UNKNOWN;
use serde::Serialize;

use crate::error::CliError;
use crate::output::Table;
use crate::store::StoreArgs;

/// The adapter every Bluetooth command works on.
#[derive(Debug, Args)]
pub struct AdapterArgs {
    /// The Bluetooth adapter to use, e.g. hci1 (default: the first adapter BlueZ lists).
    #[arg(long, value_name = "NAME")]
    adapter: Option<String>,
}

/// Arguments of `openzone scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    adapter: AdapterArgs,
    /// Stop after this many seconds (default: at Ctrl-C).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
    /// Print one JSON object per advertisement heard instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone advertise`.
#[derive(Debug, Args)]
pub struct AdvertiseArgs {
    #[command(flatten)]
    adapter: AdapterArgs,
    /// The identifier scheme to advertise.
    #[arg(long, value_enum, default_value_t = SchemeArg::EnV1)]
    scheme: SchemeArg,
    /// Stop after this many seconds (default: at Ctrl-C).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
}

/// Arguments of `openzone run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    adapter: AdapterArgs,
    #[command(flatten)]
    store: StoreArgs,
    /// The identifier scheme to speak.
    #[arg(long, value_enum, default_value_t = SchemeArg::EnV1)]
    scheme: SchemeArg,
    /// How often to scan: background (4 s every 4-5 min, as phones), foreground (8 s a minute) or qa
    /// (all the time).
    #[arg(long, value_enum, default_value_t = Mode::Background)]
    mode: Mode,
    /// Stop after this many seconds (default: at Ctrl-C).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
}

/// An identifier scheme as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemeArg {
    /// Exposure Notification cryptography v1.2.
    #[value(name = "en-v1")]
    EnV1,
    /// Bluezone 3.x legacy identifiers.
    #[value(name = "bluezone-v3")]
    BluezoneV3,
}

impl From<SchemeArg> for SchemeId {
    fn from(scheme: SchemeArg) -> Self {
        match scheme {
            SchemeArg::EnV1 => SchemeId::EnV1,
            SchemeArg::BluezoneV3 => SchemeId::BluezoneV3,
        }
    }
}

/// The engine's scan mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// As a phone with the app in the background.
    Background,
    /// As a phone with the app open.
    Foreground,
    /// Continuous scanning.
    Qa,
}

impl From<BluezError> for CliError {
    fn from(e: BluezError) -> Self {
        CliError::Bluetooth(e.to_string())
    }
}

/// A tokio runtime for one command: two workers are plenty for one adapter.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Output)
}

/// Resolves at Ctrl-C, at SIGTERM (a service manager stopping `openzone run`), or after `duration`.
async fn until_stopped(duration: Option<u64>) {
    let timer = async {
        match duration {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
        () = timer => {}
    }
}

// ---------------------------------------------------------------------------------------------------
// scan

/// One line of `openzone scan --json`.
#[derive(Debug, Serialize)]
struct HeardLine {
    time_ms: u64,
    address: String,
    /// `en-v1`, `bluezone-v3`, or `ios` for an iPhone whose payload needs a GATT read.
    scheme: &'static str,
    /// The RPI or Bluezone ID in hex (absent for an iPhone).
    identifier: Option<String>,
    /// The whole payload in hex: RPI || AEM, or the Bluezone ID.
    payload: Option<String>,
    /// dBm; absent when the controller did not measure it.
    rssi: Option<i8>,
    tx_power: Option<i8>,
    /// Estimated with the calibration table's fleet values (see `openzone scan --help`).
    attenuation_db: Option<i16>,
}

/// What one advertisement was, for OpenZone; `None` for other devices.
fn describe(heard: &Heard, now_ms: u64) -> Option<HeardLine> {
    let (scheme, payload) = match heard.data.decode() {
        Ok(Decoded::Payload(payload)) => (payload.scheme().name(), Some(payload)),
        Ok(Decoded::NeedsGattRead) => ("ios", None),
        Err(_) => return None,
    };
    let rssi = (heard.rssi != RSSI_UNKNOWN).then_some(heard.rssi);
    Some(HeardLine {
        time_ms: now_ms,
        address: heard.peer.0.clone(),
        scheme,
        identifier: payload.map(|p| p.identifier().to_string()),
        payload: payload.map(|p| hex::encode(gatt_value(&p))),
        rssi,
        tx_power: heard.tx_power,
        attenuation_db: rssi.map(attenuation),
    })
}

/// `attenuation = TX power - (RSSI + RSSI correction)`, with the fleet average for both phones: the
/// sender's real TX power is in en-v1's metadata, which only its key decrypts, and Bluezone announces
/// none; this machine is in no calibration table.
fn attenuation(rssi: i8) -> i16 {
    let fleet = CalibrationTable::builtin().fleet();
    i16::from(fleet.tx_power_dbm) - (i16::from(rssi) + i16::from(fleet.rssi_correction_db))
}

/// The live table: one row per identifier (per address for iPhones).
#[derive(Default)]
struct ScanTable {
    rows: BTreeMap<(String, String), Row>,
}

struct Row {
    line: Option<HeardLine>,
    count: u64,
}

impl ScanTable {
    /// Counts one more sighting of the line's identifier and keeps the latest signal.
    fn update(&mut self, line: HeardLine) {
        let key = (
            line.scheme.to_owned(),
            line.identifier
                .clone()
                .unwrap_or_else(|| line.address.clone()),
        );
        let row = self.rows.entry(key).or_insert(Row {
            line: None,
            count: 0,
        });
        row.count += 1;
        row.line = Some(line);
    }

    fn print(&self) -> Result<(), CliError> {
        let mut table = Table::new([
            "SCHEME",
            "IDENTIFIER",
            "ADDRESS",
            "RSSI",
            "ATTENUATION",
            "HEARD",
        ]);
        for row in self.rows.values() {
            let Some(line) = &row.line else { continue };
            table.row(vec![
                line.scheme.to_owned(),
                line.identifier
                    .clone()
                    .unwrap_or_else(|| "(needs a GATT read)".into()),
                line.address.clone(),
                line.rssi.map_or("?".into(), |r| format!("{r} dBm")),
                line.attenuation_db
                    .map_or("?".into(), |a| format!("{a} dB")),
                row.count.to_string(),
            ]);
        }
        table.print()
    }
}

/// Runs `openzone scan`.
pub fn scan(args: ScanArgs) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let adapter = BluezAdapter::open(args.adapter.adapter.as_deref()).await?;
        adapter.require_powered().await?;
        let (sender, mut heard) = tokio::sync::mpsc::unbounded_channel();
        let scanning = adapter.scan(move |h| {
            let _ = sender.send(h);
        });
        let mut scanning = std::pin::pin!(scanning);
        let stopped = until_stopped(args.duration);
        let mut stopped = std::pin::pin!(stopped);
        let live = !args.json && std::io::stdout().is_terminal();
        let mut redraw = tokio::time::interval(Duration::from_secs(1));
        let mut table = ScanTable::default();
        if !args.json {
            eprintln!(
                "scanning on {}; attenuation uses the fleet-average calibration{}",
                adapter.name(),
                if args.duration.is_none() {
                    " (Ctrl-C to stop)"
                } else {
                    ""
                }
            );
        }
        let result = loop {
            tokio::select! {
                result = &mut scanning => break result.map_err(CliError::from),
                Some(h) = heard.recv() => {
                    let Some(line) = describe(&h, crate::now_ms()) else { continue };
                    if args.json {
                        let mut out = std::io::stdout().lock();
                        serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from)?;
                        writeln!(out)?;
                    } else {
                        table.update(line);
                    }
                }
                _ = redraw.tick(), if live => {
                    // Home the cursor and clear the screen, then draw the table afresh.
                    print!("\x1b[H\x1b[2J");
                    table.print()?;
                }
                () = &mut stopped => break Ok(()),
            }
        };
        // Discovery outlives the scan future; stop it before going (failing to is harmless: BlueZ stops
        // it when this process leaves the bus).
        let _ = adapter.stop_scan().await;
        result?;
        if !args.json {
            if live {
                print!("\x1b[H\x1b[2J");
            }
            table.print()?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------------
// advertise and run

/// Keeps the phone's latest error for the status line.
#[derive(Default)]
struct Listener {
    last_error: Mutex<Option<String>>,
}

impl PhoneListener for Listener {
    fn radio_status_changed(&self, _status: &EngineStatus) {}
    fn sightings_recorded(&self, _today: u64) {}
    fn day_at_risk(&self, _day: &DayRisk) {}
    fn sync_progress(&self, _progress: SyncProgress) {}
    fn error(&self, error: &openzone_core::Error) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error.to_string());
    }
}

impl Listener {
    fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A phone on a BlueZ platform, started.
struct Running {
    phone: Phone,
    platform: Arc<BluezPlatform>,
    listener: Arc<Listener>,
}

async fn start_phone(
    adapter: BluezAdapter,
    options: PlatformOptions,
    mut config: PhoneConfig,
    scheme: SchemeId,
) -> Result<Running, CliError> {
    let platform = BluezPlatform::new(adapter, options).await;
    let listener = Arc::new(Listener::default());
    config.scheme = scheme;
    let phone = Phone::open(
        config,
        Arc::clone(&platform) as Arc<dyn BlePlatform>,
        Some(Arc::clone(&listener) as Arc<dyn PhoneListener>),
        Arc::new(SystemClock),
    )?;
    platform.attach(Arc::new(phone.input()));
    phone.start(&tokio::runtime::Handle::current());
    Ok(Running {
        phone,
        platform,
        listener,
    })
}

impl Running {
    fn payload(&self) -> Option<Payload> {
        self.phone.payload_on_air()
    }

    /// Stops the phone's radio (which writes what it recorded) and takes the adapter off air.
    async fn stop(self) {
        self.phone.stop();
        self.platform.shutdown().await;
    }

    /// Why the radio is not doing its job, if it is not.
    fn failure(&self) -> Option<String> {
        match self.phone.radio_status() {
            EngineStatus::Failing(reason) => Some(reason),
            _ => self.platform.state().last_error,
        }
    }
}

/// Runs `openzone advertise`: an engine that only advertises, with throwaway keys.
pub fn advertise(args: AdvertiseArgs) -> Result<(), CliError> {
    let scheme = SchemeId::from(args.scheme);
    // The keys live in a store of their own, removed at exit: what is advertised here is for testing
    // receivers, and nobody will ever need to match it.
    let dir = tempfile::tempdir().map_err(|source| CliError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let config = PhoneConfig::new(dir.path(), DataKey::generate()?);
    runtime()?.block_on(async {
        let adapter = BluezAdapter::open(args.adapter.adapter.as_deref()).await?;
        adapter.require_powered().await?;
        adapter.check_advertising().await?;
        let name = adapter.name().to_owned();
        let options = PlatformOptions {
            advertise: true,
            scan: false,
            ..PlatformOptions::default()
        };
        let running = start_phone(adapter, options, config, scheme).await?;
        let result = report_advertising(&running, &name, args.duration).await;
        running.stop().await;
        result
    })
}

/// Prints each payload as it goes on air, until stopped; fails if BlueZ does not take the
/// advertisement.
async fn report_advertising(
    running: &Running,
    adapter: &str,
    duration: Option<u64>,
) -> Result<(), CliError> {
    let stopped = until_stopped(duration);
    let mut stopped = std::pin::pin!(stopped);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut shown: Option<Payload> = None;
    loop {
        tokio::select! {
            () = &mut stopped => return Ok(()),
            _ = tick.tick() => {}
        }
        if let Some(reason) = running.failure() {
            return Err(CliError::Bluetooth(reason));
        }
        let state = running.platform.state();
        let payload = running.payload();
        if !state.advertising || payload == shown {
            continue;
        }
        let Some(on_air) = payload else { continue };
        println!(
            "advertising {} {} on {adapter} (GATT characteristic: {})",
            on_air.scheme(),
            hex::encode(gatt_value(&on_air)),
            if state.serving_gatt {
                "served"
            } else {
                "not served"
            }
        );
        shown = payload;
    }
}

/// Runs `openzone run`.
pub fn run(args: RunArgs) -> Result<(), CliError> {
    let report = runtime()?.block_on(async {
        // The adapter first: a machine without Bluetooth should not get a store it cannot fill.
        let adapter = BluezAdapter::open(args.adapter.adapter.as_deref()).await?;
        let config = PhoneConfig::new(&args.store.dir, args.store.data_key()?);
        let name = adapter.name().to_owned();
        let running = start_phone(
            adapter,
            PlatformOptions::default(),
            config,
            args.scheme.into(),
        )
        .await?;
        match args.mode {
            Mode::Background => {}
            Mode::Foreground => running.phone.input().foreground_changed(true),
            Mode::Qa => running.phone.set_qa_mode(true),
        }
        let result = show_status(&running, &name, args.duration).await;
        let stats = running.phone.radio_stats();
        running.stop().await;
        result.map(|()| stats)
    })?;
    println!(
        "stopped: {} sightings recorded ({} scan windows, {} rotations, {} GATT reads); the store is written",
        report.sightings, report.scans, report.rotations, report.gatt_reads_ok
    );
    Ok(())
}

/// The one-line status, refreshed in place on a terminal and every ten seconds otherwise, until stopped.
async fn show_status(
    running: &Running,
    adapter: &str,
    duration: Option<u64>,
) -> Result<(), CliError> {
    let live = std::io::stdout().is_terminal();
    let stopped = until_stopped(duration);
    let mut stopped = std::pin::pin!(stopped);
    let mut tick = tokio::time::interval(Duration::from_secs(if live { 1 } else { 10 }));
    loop {
        tokio::select! {
            () = &mut stopped => break,
            _ = tick.tick() => {}
        }
        let line = status_line(running, adapter);
        let mut out = std::io::stdout().lock();
        if live {
            // Carriage return and clear to the end of the line: the line is rewritten in place.
            write!(out, "\r{line}\x1b[K")?;
            out.flush()?;
        } else {
            writeln!(out, "{line}")?;
        }
    }
    if live {
        println!();
    }
    Ok(())
}

fn status_line(running: &Running, adapter: &str) -> String {
    let stats: EngineStats = running.phone.radio_stats();
    let radio = running.platform.state();
    let status = match running.phone.radio_status() {
        EngineStatus::Running(mode) => format!("running ({mode:?})").to_lowercase(),
        EngineStatus::BluetoothOff => "Bluetooth is off".into(),
        EngineStatus::PermissionMissing(p) => format!("permission missing: {p:?}"),
        EngineStatus::Failing(reason) => format!("failing: {reason}"),
        EngineStatus::Stopped => "stopped".into(),
    };
    let on_air = match (radio.advertising, running.payload()) {
        (true, Some(p)) => format!("{} {}", p.scheme(), p.identifier()),
        _ => "nothing".into(),
    };
    let mut line = format!(
        "{adapter}: {status} | on air: {on_air} | scanning: {} | recorded {} ({} today) | GATT reads {} ok, {} failed | rotations {}",
        if radio.scanning { "yes" } else { "no" },
        stats.sightings,
        stats.sightings_today,
        stats.gatt_reads_ok,
        stats.gatt_reads_failed,
        stats.rotations,
    );
    if let Some(error) = running.listener.last_error().or(radio.last_error) {
        line.push_str(" | last error: ");
        line.push_str(&error);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use openzone_core::platform::PeerId;
    use openzone_core::protocol::payload::{AdvertisementData, BLUEZONE_COMPANY_ID};

    fn heard(data: AdvertisementData, rssi: i8) -> Heard {
        Heard {
            peer: PeerId("AA:BB:CC:DD:EE:FF".into()),
            data,
            rssi,
            tx_power: None,
        }
    }

    #[test]
    fn bluezone_ids_are_described_with_an_estimated_attenuation() {
        let data = AdvertisementData {
            manufacturer_data: vec![(BLUEZONE_COMPANY_ID, vec![0xAB; 12])],
            ..Default::default()
        };
        let line = describe(&heard(data, -70), 5).unwrap();
        assert_eq!(line.scheme, "bluezone-v3");
        assert_eq!(line.identifier.as_deref(), Some("ABABABABABABABABABABABAB"));
        let fleet = CalibrationTable::builtin().fleet();
        let expected = i16::from(fleet.tx_power_dbm) - (-70 + i16::from(fleet.rssi_correction_db));
        assert_eq!(line.attenuation_db, Some(expected));
    }

    #[test]
    fn unknown_rssi_has_no_attenuation_and_foreign_devices_are_skipped() {
        let data = AdvertisementData {
            manufacturer_data: vec![(BLUEZONE_COMPANY_ID, vec![1; 12])],
            ..Default::default()
        };
        let line = describe(&heard(data, RSSI_UNKNOWN), 5).unwrap();
        assert_eq!((line.rssi, line.attenuation_db), (None, None));
        let foreign = AdvertisementData {
            manufacturer_data: vec![(0x0006, vec![1, 2, 3])],
            ..Default::default()
        };
        assert!(describe(&heard(foreign, -50), 5).is_none());
    }
}
