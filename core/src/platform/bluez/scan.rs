//! Scanning through btleplug: BlueZ's device objects and their property changes, turned into one report
//! per peer and advertising round.

use std::collections::HashMap;
use std::time::Duration;

use btleplug::api::{Central as _, CentralEvent, Peripheral as _, PeripheralProperties};
use btleplug::platform::PeripheralId;
use futures::StreamExt as _;
use uuid::Uuid;

use super::{BluezAdapter, BluezError, During};
use crate::platform::PeerId;
use crate::protocol::payload::AdvertisementData;

// BlueZ passes on HCI's "not measured"; virtual controllers report nothing else.
pub use crate::units::RSSI_UNKNOWN;

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
            .during("subscribing to BlueZ's events")?;
        // No service filter: an iPhone in the background advertises no service UUID.
        central
            .start_scan(btleplug::api::ScanFilter::default())
            .await
            .during("starting discovery")?;
        // Peers heard since the last report, in the order first heard, with what their advertisements
        // signalled.
        let mut pending: Vec<(PeripheralId, Signalled)> = Vec::new();
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
                    let Some(id) = advertised(&event) else { continue };
                    let at = match pending.iter().position(|(p, _)| *p == id) {
                        Some(at) => at,
                        None => {
                            pending.push((id, Signalled::default()));
                            pending.len() - 1
                        }
                    };
                    pending[at].1.add(event);
                }
                _ = tick.tick() => {
                    for (id, signalled) in pending.drain(..) {
                        // A device BlueZ removed in the meantime is simply not reported.
                        let Ok(peripheral) = central.peripheral(&id).await else { continue };
                        let Ok(Some(properties)) = peripheral.properties().await else { continue };
                        if let Some(heard) = heard_from(&properties, &signalled) {
                            on_heard(heard);
                        }
                    }
                }
            }
        }
    }
}

/// What a peer's advertisements signalled since its last report.
///
/// BlueZ keeps a device's service data and manufacturer data from earlier advertisements when a later
/// one leaves them out (a phone that switched schemes, an iPhone going to the background), so the
/// device's properties can mix two advertisements. With duplicate reports on, BlueZ signals the fields of
/// every advertisement that carries them: those signals, not the properties, say what is on air now.
#[derive(Debug, Default)]
pub(crate) struct Signalled {
    /// BlueZ added the device: its properties all come from the advertisement just heard.
    discovered: bool,
    service_data: Option<HashMap<Uuid, Vec<u8>>>,
    manufacturer_data: Option<HashMap<u16, Vec<u8>>>,
}

impl Signalled {
    fn add(&mut self, event: CentralEvent) {
        match event {
            CentralEvent::DeviceDiscovered(_) => self.discovered = true,
            CentralEvent::ServiceDataAdvertisement { service_data, .. } => {
                self.service_data = Some(service_data)
            }
            CentralEvent::ManufacturerDataAdvertisement {
                manufacturer_data, ..
            } => self.manufacturer_data = Some(manufacturer_data),
            _ => {}
        }
    }
}

/// The peer an event says was heard, for the events that come with an advertisement.
fn advertised(event: &CentralEvent) -> Option<PeripheralId> {
    match event {
        CentralEvent::DeviceDiscovered(id)
        | CentralEvent::DeviceUpdated(id)
        | CentralEvent::ManufacturerDataAdvertisement { id, .. }
        | CentralEvent::ServiceDataAdvertisement { id, .. }
        | CentralEvent::ServicesAdvertisement { id, .. }
        | CentralEvent::RssiUpdate { id, .. } => Some(id.clone()),
        _ => None,
    }
}

/// One sighting from what BlueZ knows of a device and what its advertisements signalled; `None` for a
/// device it has not heard in this discovery (BlueZ clears the RSSI of every device when discovery stops).
///
/// Service UUIDs come from the properties: BlueZ signals them only when they change, and a stale UUID
/// decides nothing (the payload fields come first when decoding).
pub(crate) fn heard_from(
    properties: &PeripheralProperties,
    signalled: &Signalled,
) -> Option<Heard> {
    let rssi = properties.rssi?;
    let (none_signalled, no_company_signalled) = (HashMap::new(), HashMap::new());
    let (service_data, manufacturer_data) = match signalled.discovered {
        true => (&properties.service_data, &properties.manufacturer_data),
        false => (
            signalled.service_data.as_ref().unwrap_or(&none_signalled),
            signalled
                .manufacturer_data
                .as_ref()
                .unwrap_or(&no_company_signalled),
        ),
    };
    let mut service_data: Vec<_> = service_data
        .iter()
        .map(|(uuid, value)| (*uuid, value.clone()))
        .collect();
    service_data.sort();
    let mut manufacturer_data: Vec<_> = manufacturer_data
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

    fn discovered() -> Signalled {
        Signalled {
            discovered: true,
            ..Default::default()
        }
    }

    #[test]
    fn service_data_becomes_a_structured_advertisement() {
        let mut p = properties();
        p.service_data.insert(SERVICE_UUID, vec![7; 20]);
        p.manufacturer_data.insert(0x0006, vec![1, 2]);
        let heard = heard_from(&p, &discovered()).unwrap();
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
        assert_eq!(heard_from(&p, &discovered()), None);
    }

    #[test]
    fn only_the_fields_signalled_since_the_last_report_count() {
        // The device advertised en-v1 service data before; now it sends Bluezone manufacturer data and
        // BlueZ still lists the old service data.
        let mut p = properties();
        p.service_data.insert(SERVICE_UUID, vec![7; 20]);
        p.manufacturer_data.insert(BLUEZONE_COMPANY_ID, vec![1; 12]);
        let signalled = Signalled {
            manufacturer_data: Some(p.manufacturer_data.clone()),
            ..Default::default()
        };
        let heard = heard_from(&p, &signalled).unwrap();
        assert!(heard.data.service_data.is_empty());
        let expected = crate::protocol::Payload::BluezoneV3 {
            id: crate::protocol::bluezone_v3::BluezoneId([1; 12]),
        };
        assert_eq!(heard.data.decode().unwrap(), Decoded::Payload(expected));
        // An RSSI change alone carries no payload.
        let heard = heard_from(&p, &Signalled::default()).unwrap();
        assert!(heard.data.service_data.is_empty() && heard.data.manufacturer_data.is_empty());
    }

    #[test]
    fn out_of_range_values_are_clamped_and_unknown_rssi_kept() {
        let mut p = properties();
        p.rssi = Some(127);
        p.tx_power_level = Some(-300);
        let heard = heard_from(&p, &discovered()).unwrap();
        assert_eq!(heard.rssi, RSSI_UNKNOWN);
        assert_eq!(heard.tx_power, Some(-128));
    }
}
