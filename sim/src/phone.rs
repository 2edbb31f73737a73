//! One simulated phone: the real [`Phone`] (engine and sled store) on a platform that records what the
//! engine asks of the radio, so that the simulation can act on it in virtual time.

use std::sync::{Arc, Mutex, MutexGuard};

use openzone_core::phone::Phone;
use openzone_core::platform::{Advertising, BlePlatform, PeerId, PlatformError, ScanFilter};
use openzone_core::seeded::SplitMix64;

use crate::radio::PhoneRadio;

/// What the engine asked of its radio.
#[derive(Debug, Default)]
pub(crate) struct RadioState {
    /// What it advertises, under which address, and that address as peers name it.
    pub(crate) advertising: Option<(Advertising, u64, PeerId)>,
    /// Whether it scans.
    pub(crate) scanning: bool,
    /// A scan started since the simulation last looked.
    pub(crate) scan_started: bool,
    /// GATT reads asked for since the simulation last looked.
    pub(crate) gatt_requests: Vec<PeerId>,
}

/// The platform a simulated phone's engine talks to.
pub(crate) struct SimPlatform {
    state: Arc<Mutex<RadioState>>,
    addresses: Mutex<SplitMix64>,
}

impl SimPlatform {
    pub(crate) fn new(seed: u64) -> (Arc<Self>, Arc<Mutex<RadioState>>) {
        let state = Arc::new(Mutex::new(RadioState::default()));
        (
            Arc::new(Self {
                state: Arc::clone(&state),
                addresses: Mutex::new(SplitMix64::new(seed)),
            }),
            state,
        )
    }

    fn state(&self) -> MutexGuard<'_, RadioState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl BlePlatform for SimPlatform {
    fn start_advertising(&self, advertising: &Advertising) -> Result<(), PlatformError> {
        // A fresh random address with every advertising start, as phones do.
        let address = self
            .addresses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_u64()
            & 0xFFFF_FFFF_FFFF;
        self.state().advertising = Some((
            advertising.clone(),
            address,
            PeerId(format!("{address:012X}")),
        ));
        Ok(())
    }

    fn stop_advertising(&self) {
        self.state().advertising = None;
    }

    fn start_scanning(&self, _filter: &ScanFilter) -> Result<(), PlatformError> {
        let mut s = self.state();
        s.scanning = true;
        s.scan_started = true;
        Ok(())
    }

    fn stop_scanning(&self) {
        self.state().scanning = false;
    }

    fn read_gatt(&self, peer: &PeerId) -> Result<(), PlatformError> {
        self.state().gatt_requests.push(peer.clone());
        Ok(())
    }
}

/// A person's phone in the simulation: the core's phone and what the simulation knows of its radio.
pub(crate) struct Device {
    pub(crate) phone: Phone,
    pub(crate) radio: PhoneRadio,
    pub(crate) state: Arc<Mutex<RadioState>>,
    pub(crate) iphone: bool,
    pub(crate) bluetooth_on: bool,
    /// The deadline of the engine's pending poll (older queued polls are stale).
    pub(crate) next_poll: Option<u64>,
    /// Virtual time of the first sync that showed an at-risk day.
    pub(crate) notified_at_ms: Option<u64>,
    /// Bytes downloaded from the key server.
    pub(crate) bytes_downloaded: u64,
}

impl Device {
    pub(crate) fn radio_state(&self) -> MutexGuard<'_, RadioState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
