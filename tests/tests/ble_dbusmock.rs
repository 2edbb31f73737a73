//! The engine on BlueZ without a radio: python-dbusmock's `bluez5` template plays BlueZ on a private bus
//! (tests/ble/mock.rs), devices "advertise" by changing their properties as BlueZ does when it hears an
//! advertisement, and the engine must store what btleplug reports, advertise through bluer, and follow
//! the adapter's power.
//!
//! One test only in this binary: it points this process's `DBUS_SYSTEM_BUS_ADDRESS` at its own bus.

#![cfg(all(feature = "desktop-ble", target_os = "linux"))]

#[path = "../ble/mock.rs"]
mod mock;

use std::sync::Arc;

use mock::{wait_until, BluezMock};
use openzone_core::engine::{Engine, EngineConfig, EngineCore, EngineStatus, ScanMode};
use openzone_core::platform::bluez::{BluezAdapter, BluezPlatform, PlatformOptions};
use openzone_core::platform::BlePlatform;
use openzone_core::protocol::bluezone_v3::BluezoneId;
use openzone_core::protocol::en_v1::{Aem, Rpi};
use openzone_core::protocol::payload::gatt_value;
use openzone_core::protocol::Payload;
use openzone_core::store::{DataKey, Store, StoreConfig};
use openzone_core::time::{Clock, SystemClock};

const SERVICE_UUID: &str = "00004e56-0000-1000-8000-00805f9b34fb";
const PHONE: &str = "AA:BB:CC:DD:EE:01";
const BLUEZONE_PHONE: &str = "AA:BB:CC:DD:EE:02";

#[test]
fn engine_stores_what_btleplug_hears_and_advertises_through_bluer() {
    let bluez = BluezMock::start();
    bluez.call(&["add-adapter", "hci0"]);
    // This binary holds this one test, so nothing else reads the variable while it is set.
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", &bluez.address);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _entered = runtime.enter();
    let store = Arc::new(
        Store::open(
            &bluez.dir().join("store"),
            &DataKey::from_bytes([7; 32]),
            StoreConfig::default(),
            SystemClock.now_ms(),
        )
        .unwrap(),
    );
    let adapter = runtime.block_on(BluezAdapter::open(None)).unwrap();
    assert_eq!(adapter.name(), "hci0");
    let platform = runtime.block_on(BluezPlatform::new(adapter, PlatformOptions::default()));
    let config = EngineConfig {
        jitter_seed: Some(1),
        ..EngineConfig::default()
    };
    let core = EngineCore::new(
        config,
        Arc::clone(&store),
        Arc::clone(&platform) as Arc<dyn BlePlatform>,
        None,
    )
    .unwrap();
    let engine = Engine::new(core, Arc::new(SystemClock));
    platform.attach(Arc::new(engine.handle()));
    engine.start(runtime.handle());
    engine.set_qa(true);

    // Discovery started without a service filter (iPhones in the background advertise no UUID), with
    // duplicate reports.
    wait_until(10, "discovery to start", || {
        platform.state().scanning && bluez.calls("hci0", "StartDiscovery") >= 1
    });
    let filter = &bluez.call(&["calls", "hci0", "SetDiscoveryFilter"])["args"][0][0];
    assert_eq!(filter["DuplicateData"], true, "{filter}");
    assert!(filter.get("UUIDs").is_none(), "{filter}");

    // Bluetooth off: the engine stops and the advertisement goes; back on, a new one is registered and
    // discovery starts again (before any device exists: the mock, unlike BlueZ, keeps a device's RSSI
    // after discovery stops, and would report it again).
    bluez.call(&["set-powered", "hci0", "false"]);
    wait_until(10, "the engine to see Bluetooth off", || {
        engine.status() == EngineStatus::BluetoothOff
    });
    wait_until(10, "the advertisement to be withdrawn", || {
        bluez.calls("hci0", "UnregisterAdvertisement") >= 1
    });
    bluez.call(&["set-powered", "hci0", "true"]);
    wait_until(10, "the engine to run again", || {
        engine.status() == EngineStatus::Running(ScanMode::Qa)
    });
    wait_until(10, "a new advertisement and discovery again", || {
        bluez.calls("hci0", "RegisterAdvertisement") >= 2
            && bluez.calls("hci0", "StartDiscovery") >= 2
    });

    // An Android phone speaking en-v1: BlueZ adds the device, then its service data arrives. Each step
    // waits for the engine to have taken the previous one, so that reports are not merged.
    let rpi = Rpi([0x5A; 16]);
    let aem = Aem([1, 2, 3, 4]);
    let en = Payload::EnV1 { rpi, aem };
    let stats = || engine.stats();
    bluez.call(&["add-device", "hci0", PHONE]);
    wait_until(10, "the bare device to be reported", || {
        stats().undecodable >= 1
    });
    let service_data = format!("{SERVICE_UUID}={}", hex::encode(gatt_value(&en)));
    bluez.call(&[
        "update",
        "hci0",
        PHONE,
        "--rssi",
        "-60",
        "--tx-power",
        "-7",
        "--service-data",
        &service_data,
    ]);
    wait_until(10, "the en-v1 sighting", || stats().sightings >= 1);
    // The next advertisement: BlueZ, asked for duplicates, signals its service data again.
    bluez.call(&[
        "update",
        "hci0",
        PHONE,
        "--rssi",
        "-58",
        "--service-data",
        &service_data,
    ]);
    wait_until(10, "the second en-v1 sighting", || stats().sightings >= 2);

    // A Bluezone 3.x phone: its ID under company 0x22B5.
    let id = BluezoneId([0xB2; 12]);
    bluez.call(&["add-device", "hci0", BLUEZONE_PHONE]);
    wait_until(10, "the second bare device", || stats().undecodable >= 2);
    let manufacturer_data = format!("0x22B5={}", hex::encode(id.as_bytes()));
    bluez.call(&[
        "update",
        "hci0",
        BLUEZONE_PHONE,
        "--rssi",
        "-72",
        "--manufacturer-data",
        &manufacturer_data,
    ]);
    wait_until(10, "the bluezone-v3 sighting", || stats().sightings >= 3);

    // The engine advertises its own payload through bluer: read the registered advertisement back.
    let own = engine.with_core(|core, _| core.payload()).unwrap();
    let pid = std::process::id().to_string();
    let registered = bluez.call(&["advertisement", "hci0", &pid]);
    // Two registrations (before and after the power cycle), of which only the second is still served.
    assert_eq!(registered["registrations"], 2, "{registered}");
    assert_eq!(
        registered["live"].as_array().map(Vec::len),
        Some(1),
        "{registered}"
    );
    let live = &registered["live"][0];
    assert_eq!(live["Type"], "peripheral", "{registered}");
    assert_eq!(live["ServiceUUIDs"][0], SERVICE_UUID, "{registered}");
    assert_eq!(
        live["ServiceData"][SERVICE_UUID],
        hex::encode(gatt_value(&own)),
        "{registered}"
    );
    assert_eq!(bluez.calls("hci0", "RegisterApplication"), 1);

    engine.stop();
    runtime.block_on(platform.shutdown());
    assert!(!platform.state().advertising);

    // The store holds one scan instance per identifier, with the signal as set on the mock.
    let mut instances = store.scan_instances(0, u64::MAX).unwrap();
    instances.sort_by_key(|i| i.payload.scheme());
    assert_eq!(instances.len(), 2, "{instances:?}");
    let (en_seen, bz_seen) = (&instances[0], &instances[1]);
    assert_eq!(en_seen.payload, en);
    assert_eq!(
        (en_seen.count, en_seen.max_rssi, en_seen.min_rssi),
        (2, -58, -60)
    );
    assert_eq!(en_seen.tx_power, Some(-7));
    assert!(en_seen.via_advertisement && !en_seen.via_gatt);
    assert_eq!(bz_seen.payload, Payload::BluezoneV3 { id });
    assert_eq!((bz_seen.count, bz_seen.max_rssi), (1, -72));
    // The template's devices announce TX power 0 until told otherwise.
    assert_eq!(bz_seen.tx_power, Some(0));
}
