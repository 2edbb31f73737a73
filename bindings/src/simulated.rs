//! The core's simulated radio over the FFI, so that tests in Kotlin and Python can run two engines side by
//! side on this machine.

use std::sync::Arc;

use openzone_core::platform::simulated::{LogDistance, SimulatedPlatform, SimulatedRadio};
use openzone_core::platform::BlePlatform as _;

use crate::platform::{BlePlatform, RadioError};
use crate::records::{AdvertisementPlan, ScanFilterSpec};
use crate::OpenZonePhone;

/// A shared air with a log-distance path-loss model.
#[derive(uniffi::Object)]
pub struct SimulatedAir {
    radio: Arc<SimulatedRadio>,
}

/// A phone's radio on the air: pass it to `OpenZonePhone` as its platform.
#[derive(uniffi::Object)]
pub struct SimulatedPhone {
    platform: Arc<SimulatedPlatform>,
}

#[uniffi::export]
impl SimulatedAir {
    /// An empty air; `seed` makes its noise reproducible.
    #[uniffi::constructor]
    pub fn new(seed: u64) -> Arc<Self> {
        Arc::new(Self {
            radio: SimulatedRadio::new(LogDistance::default(), seed),
        })
    }

    /// Puts a phone at (x, y) metres; `ios_background` makes it an iPhone whose app is in the background.
    pub fn add_phone(&self, x: f64, y: f64, ios_background: bool) -> Arc<SimulatedPhone> {
        Arc::new(SimulatedPhone {
            platform: self.radio.add_node((x, y), ios_background),
        })
    }

    /// Sends a simulated radio's events to `phone`.
    pub fn connect(&self, radio: &SimulatedPhone, phone: &OpenZonePhone) {
        self.radio
            .attach(radio.platform.index(), Arc::new(phone.phone().input()));
    }

    /// Runs `rounds` advertising rounds: every scanning phone hears every phone in range, and pending
    /// GATT reads are answered.
    pub fn step(&self, rounds: u32) {
        for _ in 0..rounds {
            let events = self.radio.events();
            self.radio.dispatch(events);
        }
    }
}

#[uniffi::export]
impl SimulatedPhone {
    /// This phone as a platform for an engine.
    pub fn platform(self: Arc<Self>) -> Arc<dyn BlePlatform> {
        self
    }
}

impl BlePlatform for SimulatedPhone {
    fn start_advertising(&self, plan: AdvertisementPlan) -> Result<(), RadioError> {
        let payload = openzone_core::protocol::payload::decode_gatt_value(&plan.gatt_value)
            .map_err(|e| refused(e.to_string()))?;
        let advertising = openzone_core::platform::Advertising {
            data: openzone_core::protocol::payload::AdvertisementData::for_payload(&payload),
            raw: plan.raw,
            gatt_value: plan.gatt_value,
        };
        self.platform
            .start_advertising(&advertising)
            .map_err(|e| refused(e.0))
    }

    fn stop_advertising(&self) {
        self.platform.stop_advertising();
    }

    fn start_scanning(&self, _filter: ScanFilterSpec) -> Result<(), RadioError> {
        self.platform
            .start_scanning(&Default::default())
            .map_err(|e| refused(e.0))
    }

    fn stop_scanning(&self) {
        self.platform.stop_scanning();
    }

    fn read_gatt(&self, peer: String) -> Result<(), RadioError> {
        self.platform
            .read_gatt(&openzone_core::platform::PeerId(peer))
            .map_err(|e| refused(e.0))
    }
}

fn refused(reason: String) -> RadioError {
    RadioError::Refused { reason }
}
