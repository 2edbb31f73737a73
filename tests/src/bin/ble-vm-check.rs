//! The engine on a real Linux Bluetooth stack: run inside `scripts/ble-vm run -- ...`, whose
//! guest has two virtual controllers that hear each other (hci0, hci1) and BlueZ.
//!
//! Engine B scans on hci0 through btleplug, in QA mode, for the whole check. Engines A advertise on hci1
//! through bluer, one after the other:
//! 1. en-v1, as an Android phone: B must store A's RPI and AEM from the service data;
//! 2. bluezone-v3: B must store A's ID from the manufacturer data;
//! 3. en-v1 as a backgrounded iPhone (only Apple's overflow area on air): B must read A's GATT
//!    characteristic, served by bluer on hci1, and store the payload it returns as a GATT read.
//!
//! Exits 0 only if all three are stored. The virtual controllers report no RSSI (127, "unknown"): the
//! sightings are stored with it as reported.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openzone_core::engine::{Engine, EngineConfig, EngineCore, GattPolicy};
use openzone_core::platform::bluez::{BluezAdapter, BluezPlatform, PlatformOptions};
use openzone_core::platform::{Advertising, BlePlatform, PeerId, PlatformError, ScanFilter};
use openzone_core::protocol::payload::{AdvertisementData, APPLE_COMPANY_ID, APPLE_OVERFLOW_TYPE};
use openzone_core::protocol::{Payload, SchemeId};
use openzone_core::sighting::Source;
use openzone_core::store::{DataKey, ScanInstance, Store, StoreConfig};
use openzone_core::time::{Clock, SystemClock};
use openzone_tests::child;

/// How long each step may take in the guest (it runs several times slower than the host).
const STEP: Duration = Duration::from_secs(20);

/// How long a GATT read may take in the guest: connecting and discovering services take seconds there.
const GATT_TIMEOUT: Duration = Duration::from_secs(30);

/// A platform that advertises as an iPhone app in the background: Apple's overflow area only, the
/// payload left to the GATT characteristic.
struct IphoneInBackground(Arc<BluezPlatform>);

impl BlePlatform for IphoneInBackground {
    fn start_advertising(&self, advertising: &Advertising) -> Result<(), PlatformError> {
        let overflow = [&[APPLE_OVERFLOW_TYPE][..], &[0; 16]].concat();
        self.0.start_advertising(&Advertising {
            data: AdvertisementData {
                manufacturer_data: vec![(APPLE_COMPANY_ID, overflow)],
                ..Default::default()
            },
            raw: Vec::new(),
            gatt_value: advertising.gatt_value.clone(),
        })
    }
    fn stop_advertising(&self) {
        self.0.stop_advertising();
    }
    fn start_scanning(&self, filter: &ScanFilter) -> Result<(), PlatformError> {
        self.0.start_scanning(filter)
    }
    fn stop_scanning(&self) {
        self.0.stop_scanning();
    }
    fn read_gatt(&self, peer: &PeerId) -> Result<(), PlatformError> {
        self.0.read_gatt(peer)
    }
}

struct Node {
    engine: Engine,
    platform: Arc<BluezPlatform>,
    store: Arc<Store>,
    _dir: tempfile::TempDir,
}

async fn node(
    adapter: &str,
    scheme: SchemeId,
    options: PlatformOptions,
    iphone: bool,
) -> Result<Node, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let store = Arc::new(
        Store::open(
            dir.path(),
            &DataKey::generate().map_err(|e| e.to_string())?,
            StoreConfig::default(),
            SystemClock.now_ms(),
        )
        .map_err(|e| e.to_string())?,
    );
    let bluez = BluezAdapter::open(Some(adapter))
        .await
        .map_err(|e| e.to_string())?;
    let platform = BluezPlatform::new(bluez, options).await;
    let as_platform: Arc<dyn BlePlatform> = match iphone {
        true => Arc::new(IphoneInBackground(Arc::clone(&platform))),
        false => Arc::clone(&platform) as Arc<dyn BlePlatform>,
    };
    let config = EngineConfig {
        scheme,
        gatt: GattPolicy {
            timeout_secs: GATT_TIMEOUT.as_secs() as u32,
            ..GattPolicy::default()
        },
        ..EngineConfig::default()
    };
    let core = EngineCore::new(config, Arc::clone(&store), as_platform, None)
        .map_err(|e| e.to_string())?;
    let node = Node {
        engine: Engine::new(core, Arc::new(SystemClock)),
        platform,
        store,
        _dir: dir,
    };
    // On air: the radio's events go to the engine, which starts advertising and scanning.
    node.platform.attach(Arc::new(node.engine.handle()));
    node.engine.start(&tokio::runtime::Handle::current());
    Ok(node)
}

impl Node {
    fn payload(&self) -> Option<Payload> {
        self.engine.with_core(|core, _| core.payload())
    }

    async fn stop(self) {
        self.engine.stop();
        self.platform.shutdown().await;
    }
}

async fn wait_for<T>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "timed out after {} s waiting for {what}",
                STEP.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// B's stored scan instance of `payload`, once B has checkpointed it.
fn stored(store: &Store, payload: Payload) -> Option<ScanInstance> {
    store.checkpoint(SystemClock.now_ms()).ok()?;
    store
        .scan_instances(0, u64::MAX)
        .ok()?
        .into_iter()
        .find(|i| i.payload == payload)
}

/// One engine A on hci1; returns how B stored it.
async fn heard_from(
    scanner: &Node,
    scheme: SchemeId,
    iphone: bool,
) -> Result<(Payload, ScanInstance), String> {
    let options = PlatformOptions {
        advertise: true,
        scan: false,
        gatt_timeout: GATT_TIMEOUT,
    };
    let sender = node("hci1", scheme, options, iphone).await?;
    let on_air = wait_for("hci1 to advertise", STEP, || {
        let state = sender.platform.state();
        if let Some(error) = &state.last_error {
            return Some(Err(format!("hci1: {error}")));
        }
        state
            .advertising
            .then(|| sender.payload())
            .flatten()
            .map(Ok)
    })
    .await??;
    let within = if iphone { STEP + GATT_TIMEOUT } else { STEP };
    let instance = wait_for("hci0 to store it", within, || {
        stored(&scanner.store, on_air)
    })
    .await;
    sender.stop().await;
    Ok((on_air, instance?))
}

async fn check() -> Result<(), String> {
    let scan_only = PlatformOptions {
        advertise: false,
        scan: true,
        gatt_timeout: GATT_TIMEOUT,
    };
    let scanner = node("hci0", SchemeId::EnV1, scan_only, false).await?;
    scanner.engine.set_qa(true);
    let mut failures = Vec::new();
    for (name, scheme, iphone, source) in [
        (
            "en-v1 service data",
            SchemeId::EnV1,
            false,
            Source::Advertisement,
        ),
        (
            "bluezone-v3 manufacturer data",
            SchemeId::BluezoneV3,
            false,
            Source::Advertisement,
        ),
        (
            "iPhone-style GATT read",
            SchemeId::EnV1,
            true,
            Source::GattRead,
        ),
    ] {
        match heard_from(&scanner, scheme, iphone).await {
            Ok((payload, instance)) => {
                let via_ok = match source {
                    Source::Advertisement => instance.via_advertisement,
                    Source::GattRead => instance.via_gatt && !instance.via_advertisement,
                };
                let verdict = if via_ok { "ok" } else { "FAILED" };
                println!(
                    "{verdict}: {name}: {} {} stored ({} sightings, RSSI {}..{}, advertisement {}, GATT {})",
                    payload.scheme(),
                    payload.identifier(),
                    instance.count,
                    instance.min_rssi,
                    instance.max_rssi,
                    instance.via_advertisement,
                    instance.via_gatt
                );
                if !via_ok {
                    failures.push(format!("{name}: stored, but not as {source:?}"));
                }
            }
            Err(e) => {
                println!("FAILED: {name}: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    if let Some(error) = scanner.platform.state().last_error {
        println!("hci0's last error: {error}");
    }
    let stats = scanner.engine.stats();
    println!(
        "hci0 engine: {} sightings, {} GATT reads ok, {} failed, {} undecodable advertisements",
        stats.sightings, stats.gatt_reads_ok, stats.gatt_reads_failed, stats.undecodable
    );
    scanner.stop().await;
    match failures.is_empty() {
        true => Ok(()),
        false => Err(failures.join("; ")),
    }
}

fn main() -> ExitCode {
    let result = child::runtime()
        .map_err(|e| format!("cannot start tokio: {e}"))
        .and_then(|runtime| runtime.block_on(check()));
    if result.is_ok() {
        println!("ble-vm-check: all passed");
    }
    child::exit_code("ble-vm-check", result)
}
