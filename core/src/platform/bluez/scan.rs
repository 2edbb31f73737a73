//! Scanning through btleplug: BlueZ's device objects and their property changes, turned into one report
//! per peer and advertising round.

use std::collections::HashSet;
use std::time::Duration;

use btleplug::api::{Central as _, CentralEvent, Peripheral as _, PeripheralProperties};
use btleplug::platform::PeripheralId;
use futures::StreamExt as _;

use super::{BluezAdapter, BluezError};
use crate::platform::PeerId;
use crate::protocol::payload::AdvertisementData;

/// The RSSI value that means "not measured" (HCI's convention, which BlueZ passes on). Virtual
/// controllers report it; a sighting carrying it has no usable distance estimate.
pub const RSSI_UNKNOWN: i8 = 127;

/// How often a peer is reported at most: about one advertising interval (the exposure-notification
/// specification asks for 200 to 270 ms). BlueZ signals RSSI, service data and manufacturer data of one
/// advertisement as separate changes; collecting them for this long reports the advertisement once.
pub const REPORT_EVERY: Duration = Duration::from_millis(250);

/// One advertisement as BlueZ reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// The sender's address as BlueZ shows it (`AA:BB:CC:DD:EE:FF`).
    pub peer: PeerId,
    /// Its service UUIDs, service data, manufacturer data and TX power level.
    pub data: AdvertisementData,
    /// The received signal in dBm, or [`RSSI_UNKNOWN`].
    pub rssi: i8,
    /// The TX power level the advertisement carried, if any.
    pub tx_power: Option<i8>,
}

impl BluezAdapter {
    /// Scans until the adapter goes away or the future is dropped, calling `on_heard` for what is heard
    /// (everything, OpenZone's or not: the caller decodes).
    ///
    /// Discovery keeps running after the future is dropped, until [`stop_scan`](Self::stop_scan) or the
    /// end of the process.
    pub async fn scan(&self, mut on_heard: impl FnMut(Heard) + Send) -> Result<(), BluezError> {
        let central = self.central();
        // Subscribe before starting discovery so that nothing heard in between is lost.
        let mut events = central
            .events()
            .await
            .map_err(|e| BluezError::classify("subscribing to BlueZ's events", e))?;
        // No service filter: an iPhone in the background advertises no service UUID.
        central
            .start_scan(btleplug::api::ScanFilter::default())
            .await
            .map_err(|e| BluezError::classify("starting discovery", e))?;
        let mut pending: Vec<PeripheralId> = Vec::new();
        let mut pending_set: HashSet<PeripheralId> = HashSet::new();
        let mut tick = tokio::time::interval(REPORT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = events.next() => {
                    let Some(event) = event else {
                        return Err(BluezError::Failed {
                            operation: "scanning",
                            reason: format!("BlueZ stopped sending events for {}; was the adapter removed?", self.name()),
                        });
                    };
                    if let Some(id) = advertised(event) {
                        if pending_set.insert(id.clone()) {
                            pending.push(id);
                        }
                    }
                }
                _ = tick.tick() => {
                    pending_set.clear();
                    for id in pending.drain(..) {
                        // A device BlueZ removed in the meantime is simply not reported.
                        let Ok(peripheral) = central.peripheral(&id).await else { continue };
                        let Ok(Some(properties)) = peripheral.properties().await else { continue };
                        if let Some(heard) = heard_from(&properties) {
                            on_heard(heard);
                        }
                    }
                }
            }
        }
    }
}

/// The peer an event says was heard, for the events that come with an advertisement.
fn advertised(event: CentralEvent) -> Option<PeripheralId> {
    match event {
        CentralEvent::DeviceDiscovered(id)
        | CentralEvent::DeviceUpdated(id)
        | CentralEvent::ManufacturerDataAdvertisement { id, .. }
        | CentralEvent::ServiceDataAdvertisement { id, .. }
        | CentralEvent::ServicesAdvertisement { id, .. }
        | CentralEvent::RssiUpdate { id, .. } => Some(id),
        _ => None,
    }
}

/// What BlueZ knows of a device, as one sighting; `None` for a device it has not heard in this discovery
/// (BlueZ clears the RSSI of every device when discovery stops).
pub(crate) fn heard_from(properties: &PeripheralProperties) -> Option<Heard> {
    let rssi = properties.rssi?;
    let mut service_data: Vec<_> = properties
        .service_data
        .iter()
        .map(|(uuid, value)| (*uuid, value.clone()))
        .collect();
    service_data.sort();
    let mut manufacturer_data: Vec<_> = properties
        .manufacturer_data
        .iter()
        .map(|(company, value)| (*company, value.clone()))
        .collect();
    manufacturer_data.sort();
    // BlueZ reports 127 for a TX power level the advertisement did not carry.
    let tx_power = properties
        .tx_power_level
        .filter(|&t| t != i16::from(RSSI_UNKNOWN))
        .map(clamp_i8);
    Some(Heard {
        peer: PeerId(properties.address.to_string()),
        data: AdvertisementData {
            service_uuids: properties.services.clone(),
            service_data,
            manufacturer_data,
            tx_power,
        },
        rssi: clamp_i8(rssi),
        tx_power,
    })
}

fn clamp_i8(value: i16) -> i8 {
    value.clamp(i16::from(i8::MIN), i16::from(i8::MAX)) as i8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::payload::{Decoded, BLUEZONE_COMPANY_ID, SERVICE_UUID};

    fn properties() -> PeripheralProperties {
        PeripheralProperties {
            address: "AA:BB:CC:DD:EE:01".parse().unwrap(),
            rssi: Some(-61),
            tx_power_level: Some(127),
            ..Default::default()
        }
    }

    #[test]
    fn service_data_becomes_a_structured_advertisement() {
        let mut p = properties();
        p.service_data.insert(SERVICE_UUID, vec![7; 20]);
        p.manufacturer_data.insert(0x0006, vec![1, 2]);
        let heard = heard_from(&p).unwrap();
        assert_eq!(heard.peer, PeerId("AA:BB:CC:DD:EE:01".into()));
        assert_eq!(heard.rssi, -61);
        assert_eq!(heard.tx_power, None, "127 means no TX power level");
        assert_eq!(heard.data.service_data, vec![(SERVICE_UUID, vec![7; 20])]);
        assert!(matches!(heard.data.decode(), Ok(Decoded::Payload(_))));
    }

    #[test]
    fn devices_without_rssi_were_not_heard_in_this_discovery() {
        let mut p = properties();
        p.rssi = None;
        p.manufacturer_data.insert(BLUEZONE_COMPANY_ID, vec![1; 12]);
        assert_eq!(heard_from(&p), None);
    }

    #[test]
    fn out_of_range_values_are_clamped_and_unknown_rssi_kept() {
        let mut p = properties();
        p.rssi = Some(127);
        p.tx_power_level = Some(-300);
        let heard = heard_from(&p).unwrap();
        assert_eq!(heard.rssi, RSSI_UNKNOWN);
        assert_eq!(heard.tx_power, Some(-128));
    }
}
