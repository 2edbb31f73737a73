//! [`BluezPlatform`]: a BlueZ adapter behind the engine's [`BlePlatform`] boundary.
//!
//! The engine calls its platform from its own task while it holds its lock, so every call here returns at
//! once: advertising and scanning become commands for one task that carries them out in order (a stop
//! never overtakes the start before it), GATT reads run in tasks of their own, and what they produce
//! reaches the engine through its [`EngineInput`] from those tasks, never from inside a call.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bluer::{AdapterEvent, AdapterProperty};
use futures::StreamExt as _;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{BluezAdapter, BluezError};
use crate::platform::{
    Advertising, BlePlatform, EngineInput, PeerId, PlatformError, Reception, ScanFilter,
    SeenAdvertisement,
};

/// What the platform does for the engine: `openzone advertise` runs an engine that only advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformOptions {
    /// Advertise the engine's payload and serve the GATT characteristic.
    pub advertise: bool,
    /// Scan, and read peers over GATT.
    pub scan: bool,
    /// How long a GATT read may take, connection included (keep it at the engine's
    /// [`GattPolicy::timeout_secs`](crate::engine::GattPolicy::timeout_secs)).
    pub gatt_timeout: std::time::Duration,
}

impl Default for PlatformOptions {
    fn default() -> Self {
        Self {
            advertise: true,
            scan: true,
            gatt_timeout: super::GATT_READ_TIMEOUT,
        }
    }
}

/// What the radio is doing, for a status line. BlueZ's failures happen in the background, after the
/// engine's call returned; they land in `last_error`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RadioState {
    /// Whether the adapter is on (`None` until known).
    pub powered: Option<bool>,
    /// Whether an advertisement is registered with BlueZ.
    pub advertising: bool,
    /// Whether the GATT service is registered with BlueZ.
    pub serving_gatt: bool,
    /// Whether discovery runs.
    pub scanning: bool,
    /// The latest failure of one of these background operations.
    pub last_error: Option<String>,
    /// Advertisements handed to the engine (OpenZone's or not).
    pub reported: u64,
}

enum Command {
    Advertise(Advertising),
    StopAdvertising,
    Scan,
    StopScanning,
    Shutdown(oneshot::Sender<()>),
}

struct Shared {
    input: Mutex<Option<Arc<dyn EngineInput>>>,
    state: Mutex<RadioState>,
}

impl Shared {
    fn input(&self) -> Option<Arc<dyn EngineInput>> {
        self.input
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn state(&self) -> MutexGuard<'_, RadioState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn failed(&self, error: &BluezError) {
        self.state().last_error = Some(error.to_string());
    }
}

/// The engine's platform on a BlueZ adapter.
pub struct BluezPlatform {
    adapter: BluezAdapter,
    runtime: tokio::runtime::Handle,
    options: PlatformOptions,
    /// Why this adapter cannot advertise, if it cannot: refused at once rather than in the background.
    cannot_advertise: Option<BluezError>,
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    power_watch: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for BluezPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BluezPlatform")
            .field("adapter", &self.adapter.name())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl BluezPlatform {
    /// The platform on `adapter`, its tasks on the current tokio runtime. Nothing goes on air until the
    /// engine asks; give it the engine's handle with [`attach`](Self::attach).
    pub async fn new(adapter: BluezAdapter, options: PlatformOptions) -> Arc<Self> {
        let cannot_advertise = match options.advertise {
            true => adapter.check_advertising().await.err(),
            false => None,
        };
        let shared = Arc::new(Shared {
            input: Mutex::new(None),
            state: Mutex::new(RadioState::default()),
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Handle::current();
        runtime.spawn(run_commands(adapter.clone(), Arc::clone(&shared), receiver));
        Arc::new(Self {
            adapter,
            runtime,
            options,
            cannot_advertise,
            commands,
            shared,
            power_watch: Mutex::new(None),
        })
    }

    /// Sends what the radio hears, GATT results and the adapter's power changes to `input` (the engine's
    /// [`EngineHandle`](crate::engine::EngineHandle), which is weak: holding it does not keep the engine
    /// alive). The adapter's current power state is reported at once, from a task.
    pub fn attach(&self, input: Arc<dyn EngineInput>) {
        *self
            .shared
            .input
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(input);
        let watch = self.runtime.spawn(watch_power(
            self.adapter.bluer().clone(),
            Arc::clone(&self.shared),
        ));
        if let Some(previous) = self
            .power_watch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(watch)
        {
            previous.abort();
        }
    }

    /// The adapter.
    pub fn adapter(&self) -> &BluezAdapter {
        &self.adapter
    }

    /// What the radio is doing now.
    pub fn state(&self) -> RadioState {
        self.shared.state().clone()
    }

    /// Stops scanning and advertising and waits until BlueZ has been told (call it after the engine
    /// stopped, before the process exits).
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).is_ok() {
            let _ = finished.await;
        }
    }

    fn send(&self, command: Command) -> Result<(), PlatformError> {
        self.commands
            .send(command)
            .map_err(|_| PlatformError("the BlueZ platform was shut down".into()))
    }
}

impl Drop for BluezPlatform {
    fn drop(&mut self) {
        if let Some(watch) = self
            .power_watch
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            watch.abort();
        }
    }
}

impl BlePlatform for BluezPlatform {
    fn start_advertising(&self, advertising: &Advertising) -> Result<(), PlatformError> {
        if !self.options.advertise {
            return Ok(());
        }
        if let Some(e) = &self.cannot_advertise {
            return Err(PlatformError(e.to_string()));
        }
        self.send(Command::Advertise(advertising.clone()))
    }

    fn stop_advertising(&self) {
        if self.options.advertise {
            let _ = self.send(Command::StopAdvertising);
        }
    }

    /// Scans for everything: the filter's service UUIDs would hide backgrounded iPhones, which
    /// advertise none (the engine decodes what it is given anyway).
    fn start_scanning(&self, _filter: &ScanFilter) -> Result<(), PlatformError> {
        if !self.options.scan {
            return Ok(());
        }
        self.send(Command::Scan)
    }

    fn stop_scanning(&self) {
        if self.options.scan {
            let _ = self.send(Command::StopScanning);
        }
    }

    fn read_gatt(&self, peer: &PeerId) -> Result<(), PlatformError> {
        if !self.options.scan {
            return Err(PlatformError(
                "this platform does not scan, so it reads no peers".into(),
            ));
        }
        let adapter = self.adapter.clone();
        let shared = Arc::clone(&self.shared);
        let peer = peer.clone();
        let timeout = self.options.gatt_timeout;
        self.runtime.spawn(async move {
            let result = adapter.read_gatt_within(&peer, timeout).await.map_err(|e| {
                shared.failed(&e);
                PlatformError(e.to_string())
            });
            if let Some(input) = shared.input() {
                input.gatt_read_done(peer, result);
            }
        });
        Ok(())
    }
}

/// Carries out advertising and scanning commands in the order the engine gave them.
async fn run_commands(
    adapter: BluezAdapter,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut advertiser = adapter.advertiser();
    let mut scan: Option<JoinHandle<()>> = None;
    while let Some(command) = commands.recv().await {
        match command {
            Command::Advertise(advertising) => {
                let result = advertiser.start(&advertising).await;
                let mut state = shared.state();
                state.advertising = advertiser.is_advertising();
                state.serving_gatt = advertiser.is_serving_gatt();
                if let Err(e) = result {
                    state.last_error = Some(e.to_string());
                } else if let Some(e) = advertiser.gatt_error() {
                    state.last_error = Some(e.to_string());
                }
            }
            Command::StopAdvertising => {
                advertiser.stop().await;
                shared.state().advertising = false;
            }
            Command::Scan => {
                if scan.as_ref().is_none_or(JoinHandle::is_finished) {
                    scan = Some(tokio::spawn(scan_into_engine(
                        adapter.clone(),
                        Arc::clone(&shared),
                    )));
                }
            }
            Command::StopScanning => stop_scanning(&adapter, &shared, &mut scan).await,
            Command::Shutdown(done) => {
                stop_scanning(&adapter, &shared, &mut scan).await;
                advertiser.stop().await;
                shared.state().advertising = false;
                drop(advertiser);
                let _ = done.send(());
                return;
            }
        }
    }
    // The platform is gone without a shutdown: the scan task must not outlive it.
    if let Some(task) = scan {
        task.abort();
    }
}

async fn stop_scanning(adapter: &BluezAdapter, shared: &Shared, scan: &mut Option<JoinHandle<()>>) {
    if let Some(task) = scan.take() {
        task.abort();
        if let Err(e) = adapter.stop_scan().await {
            shared.failed(&e);
        }
    }
    shared.state().scanning = false;
}

/// Scans, handing every report to the engine, until stopped or the adapter fails.
async fn scan_into_engine(adapter: BluezAdapter, shared: Arc<Shared>) {
    shared.state().scanning = true;
    let result = adapter
        .scan(|heard| {
            shared.state().reported += 1;
            if let Some(input) = shared.input() {
                input.advertisement_seen(Reception {
                    peer: heard.peer,
                    advertisement: SeenAdvertisement::Structured(heard.data),
                    rssi: heard.rssi,
                    tx_power: heard.tx_power,
                });
            }
        })
        .await;
    let mut state = shared.state();
    state.scanning = false;
    if let Err(e) = result {
        state.last_error = Some(e.to_string());
    }
}

/// Tells the engine the adapter's power state now and whenever it changes; an adapter that disappears
/// (unplugged, BlueZ restarted) counts as off.
async fn watch_power(adapter: bluer::Adapter, shared: Arc<Shared>) {
    let tell = |on: bool| {
        shared.state().powered = Some(on);
        if let Some(input) = shared.input() {
            input.bluetooth_changed(on);
        }
    };
    let events = match adapter.events().await {
        Ok(events) => events,
        Err(e) => {
            shared.failed(&BluezError::classify("watching the adapter", e));
            return;
        }
    };
    let mut events = std::pin::pin!(events);
    match adapter.is_powered().await {
        Ok(on) => tell(on),
        Err(e) => shared.failed(&BluezError::classify(
            "reading the adapter's power state",
            e,
        )),
    }
    while let Some(event) = events.next().await {
        if let AdapterEvent::PropertyChanged(AdapterProperty::Powered(on)) = event {
            tell(on);
        }
    }
    shared.state().last_error = Some(format!(
        "Bluetooth adapter {} disappeared (unplugged, or BlueZ restarted)",
        adapter.name()
    ));
    tell(false);
}
