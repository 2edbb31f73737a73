//! `openzone scan`, `advertise` and `run` against python-dbusmock's BlueZ (tests/ble/mock.rs), and what
//! they say on machines without a system bus, BlueZ, an adapter, or power.

#![cfg(all(feature = "desktop-ble", target_os = "linux"))]

#[path = "../ble/mock.rs"]
mod mock;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use mock::{wait_until, BluezMock};
use openzone_core::protocol::bluezone_v3::BluezoneId;
use openzone_core::protocol::en_v1::{Aem, Rpi};
use openzone_core::protocol::payload::gatt_value;
use openzone_core::protocol::Payload;
use openzone_core::risk::calibration::CalibrationTable;
use openzone_core::store::{DataKey, Store, StoreConfig};
use openzone_core::time::{Clock, SystemClock};

const SERVICE_UUID: &str = "00004e56-0000-1000-8000-00805f9b34fb";
const DATA_KEY: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

fn mock_with_adapter() -> BluezMock {
    let bluez = BluezMock::start();
    bluez.call(&["add-adapter", "hci0"]);
    bluez
}

/// A phone advertising `payload` heard at `rssi`: BlueZ adds it, then its advertisement's fields change.
fn advertise_on_mock(bluez: &BluezMock, address: &str, payload: &Payload, rssi: i8) {
    bluez.call(&["add-device", "hci0", address]);
    let value = hex::encode(gatt_value(payload));
    let field = match payload {
        Payload::EnV1 { .. } => [
            "--service-data".to_owned(),
            format!("{SERVICE_UUID}={value}"),
        ],
        Payload::BluezoneV3 { .. } => ["--manufacturer-data".to_owned(), format!("0x22B5={value}")],
    };
    let rssi = rssi.to_string();
    bluez.call(&[
        "update", "hci0", address, "--rssi", &rssi, &field[0], &field[1],
    ]);
}

/// Starts `command` with its output piped and waits until it has started discovery on hci0.
fn start_discovering(bluez: &BluezMock, command: &mut Command) -> Child {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openzone starts");
    wait_until(10, "discovery to start", || {
        bluez.calls("hci0", "StartDiscovery") >= 1
    });
    child
}

fn stderr_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "expected a failure, got {output:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line, no trace: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn scan_prints_each_identifier_heard_as_json_lines() {
    let bluez = mock_with_adapter();
    let child = start_discovering(
        &bluez,
        bluez
            .openzone()
            .args(["scan", "--adapter", "hci0", "--duration", "5", "--json"]),
    );
    let en = Payload::EnV1 {
        rpi: Rpi([0x3C; 16]),
        aem: Aem([9, 8, 7, 6]),
    };
    let bz = Payload::BluezoneV3 {
        id: BluezoneId([0x4D; 12]),
    };
    advertise_on_mock(&bluez, "AA:BB:CC:DD:EE:01", &en, -60);
    advertise_on_mock(&bluez, "AA:BB:CC:DD:EE:02", &bz, -72);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fleet = CalibrationTable::builtin().fleet();
    for (payload, address, rssi) in [
        (en, "AA:BB:CC:DD:EE:01", -60),
        (bz, "AA:BB:CC:DD:EE:02", -72),
    ] {
        let heard: Vec<_> = lines
            .iter()
            .filter(|l| l["identifier"] == payload.identifier().to_string())
            .collect();
        assert!(!heard.is_empty(), "{payload:?} not in {lines:?}");
        for line in heard {
            assert_eq!(line["scheme"], payload.scheme().name());
            assert_eq!(line["address"], address);
            assert_eq!(line["payload"], hex::encode(gatt_value(&payload)));
            assert_eq!(line["rssi"], rssi);
            let attenuation = i64::from(fleet.tx_power_dbm)
                - (i64::from(rssi) + i64::from(fleet.rssi_correction_db));
            assert_eq!(line["attenuation_db"], attenuation);
        }
    }
    // Only OpenZone's and Bluezone's advertisements are printed: the bare devices BlueZ added first are not.
    assert!(
        lines.iter().all(|l| l["identifier"].is_string()),
        "{lines:?}"
    );
}

#[test]
fn advertise_registers_the_payload_and_serves_gatt_until_stopped() {
    let bluez = mock_with_adapter();
    let mut child = bluez
        .openzone()
        .args([
            "advertise",
            "--adapter",
            "hci0",
            "--scheme",
            "bluezone-v3",
            "--duration",
            "4",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // "advertising bluezone-v3 <24 hex digits> on hci0 (GATT characteristic: served)"
    let words: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(words[..2], ["advertising", "bluezone-v3"], "{first}");
    assert!(
        first.contains("on hci0 (GATT characteristic: served)"),
        "{first}"
    );
    let payload = words[2];
    assert_eq!(payload.len(), 24, "{first}");

    let registered = bluez.call(&["advertisement", "hci0", &child.id().to_string()]);
    let live = &registered["live"][0];
    assert_eq!(live["Type"], "peripheral", "{registered}");
    assert_eq!(live["ServiceUUIDs"][0], SERVICE_UUID, "{registered}");
    // 8885 is 0x22B5, Bluezone's company identifier.
    assert_eq!(live["ManufacturerData"]["8885"], payload, "{registered}");
    assert_eq!(live["ServiceData"], serde_json::json!({}), "{registered}");
    assert_eq!(bluez.calls("hci0", "RegisterApplication"), 1);

    let status = child.wait().unwrap();
    assert!(status.success());
    // Stopping took the advertisement off air before the process went.
    assert_eq!(bluez.calls("hci0", "UnregisterAdvertisement"), 1);
}

#[test]
fn run_records_what_it_hears_into_the_store() {
    let bluez = mock_with_adapter();
    let store_dir = bluez.dir().join("store");
    let child = start_discovering(
        &bluez,
        bluez
            .openzone()
            .args([
                "run",
                "--adapter",
                "hci0",
                "--mode",
                "qa",
                "--duration",
                "5",
                "--store",
            ])
            .arg(&store_dir)
            .env("OPENZONE_DATA_KEY", DATA_KEY),
    );
    let bz = Payload::BluezoneV3 {
        id: BluezoneId([0x61; 12]),
    };
    advertise_on_mock(&bluez, "AA:BB:CC:DD:EE:03", &bz, -55);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("hci0: running (qa)"), "{stdout}");
    // How many reports one property change makes depends on when BlueZ's signals fall against the
    // scanner's 250 ms report window (one or two): the store must hold the sighting either way.
    assert!(stdout.contains("stopped: "), "{stdout}");
    assert!(!stdout.contains("stopped: 0 sightings"), "{stdout}");
    // It advertised, too.
    assert!(bluez.calls("hci0", "RegisterAdvertisement") >= 1);

    let store = Store::open(
        &store_dir,
        &DataKey::from_hex(DATA_KEY).unwrap(),
        StoreConfig::default(),
        SystemClock.now_ms(),
    )
    .unwrap();
    let instances = store.scan_instances(0, u64::MAX).unwrap();
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert_eq!(instances[0].payload, bz);
    assert_eq!((instances[0].max_rssi, instances[0].min_rssi), (-55, -55));
}

#[test]
fn missing_pieces_are_named_in_one_line() {
    // No system bus at all.
    let nothing = BluezMock::bus_only();
    let output = nothing
        .openzone()
        .args(["scan", "--duration", "1"])
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            format!("unix:path={}", nothing.dir().join("no-bus").display()),
        )
        .output()
        .unwrap();
    assert!(stderr_line(&output).contains("cannot reach the D-Bus system bus"));

    // A bus, but no BlueZ on it.
    let output = nothing
        .openzone()
        .args(["scan", "--duration", "1"])
        .output()
        .unwrap();
    assert!(stderr_line(&output).contains("BlueZ is not running"));

    // BlueZ without an adapter.
    let bluez = BluezMock::start();
    let output = bluez
        .openzone()
        .args(["run", "--store", "unused"])
        .env("OPENZONE_DATA_KEY", DATA_KEY)
        .current_dir(bluez.dir())
        .output()
        .unwrap();
    assert!(stderr_line(&output).contains("no Bluetooth adapter found"));

    // An adapter name that does not exist.
    bluez.call(&["add-adapter", "hci0"]);
    let output = bluez
        .openzone()
        .args(["advertise", "--adapter", "hci9"])
        .output()
        .unwrap();
    assert!(
        stderr_line(&output).contains("no Bluetooth adapter named \"hci9\"; BlueZ has: hci0"),
        "{output:?}"
    );

    // An adapter switched off.
    bluez.call(&["set-powered", "hci0", "false"]);
    let output = bluez
        .openzone()
        .args(["scan", "--adapter", "hci0", "--duration", "1"])
        .output()
        .unwrap();
    assert!(stderr_line(&output).contains("Bluetooth adapter hci0 is off"));
}
