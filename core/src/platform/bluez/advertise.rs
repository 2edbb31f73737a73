//! Advertising and the GATT server through bluer: what this device sends, and what peers read from it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bluer::adv::{Advertisement, AdvertisementHandle, Type};
use bluer::gatt::local::{
    Application, ApplicationHandle, Characteristic, CharacteristicRead, ReqError, Service,
};
use futures::FutureExt as _;

use super::BluezError;
use crate::platform::Advertising;
use crate::protocol::payload::{AdvertisementData, GATT_CHARACTERISTIC_UUID, GATT_SERVICE_UUID};

/// The advertising interval the exposure-notification specification asks for (200 to 270 ms). The
/// kernel's default, 1.28 s, would make this device five times harder to hear.
const INTERVAL: (Duration, Duration) = (Duration::from_millis(200), Duration::from_millis(270));

/// How long to wait for BlueZ to take an advertisement off air before the next one goes on.
const UNREGISTER_WAIT: Duration = Duration::from_secs(1);

/// One adapter's advertisement and GATT server.
///
/// The GATT application (OpenZone's primary service with its read characteristic) is registered with
/// the first advertisement and stays; the characteristic returns the payload on air, and nothing while
/// nothing is. Dropping the advertiser unregisters both.
pub struct Advertiser {
    adapter: bluer::Adapter,
    /// The characteristic's value: the payload on air, empty while not advertising.
    value: Arc<Mutex<Vec<u8>>>,
    application: Option<ApplicationHandle>,
    advertisement: Option<AdvertisementHandle>,
    gatt_error: Option<BluezError>,
    intervals_refused: bool,
}

impl std::fmt::Debug for Advertiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Advertiser")
            .field("adapter", &self.adapter.name())
            .field("advertising", &self.advertisement.is_some())
            .field("serving_gatt", &self.application.is_some())
            .finish_non_exhaustive()
    }
}

impl Advertiser {
    pub(crate) fn new(adapter: bluer::Adapter) -> Self {
        Self {
            adapter,
            value: Arc::default(),
            application: None,
            advertisement: None,
            gatt_error: None,
            intervals_refused: false,
        }
    }

    /// Puts `advertising` on air in place of what was there, as a new advertisement (so that, with the
    /// adapter's privacy on, it goes out from a new address), and makes the characteristic return its
    /// GATT value.
    ///
    /// A GATT server that cannot be registered does not stop advertising (peers that hear the payload
    /// on air need no GATT read); [`gatt_error`](Self::gatt_error) then says why.
    pub async fn start(&mut self, advertising: &Advertising) -> Result<(), BluezError> {
        self.stop().await;
        if self.application.is_none() {
            match self
                .adapter
                .serve_gatt_application(self.application())
                .await
            {
                Ok(handle) => {
                    self.application = Some(handle);
                    self.gatt_error = None;
                }
                Err(e) => {
                    self.gatt_error = Some(BluezError::classify("registering the GATT service", e))
                }
            }
        }
        let mut advertisement = advertisement(&advertising.data);
        if !self.intervals_refused {
            advertisement.min_interval = Some(INTERVAL.0);
            advertisement.max_interval = Some(INTERVAL.1);
        }
        let handle = match self.adapter.advertise(advertisement.clone()).await {
            Ok(handle) => handle,
            // BlueZ before 5.56, and later ones on some controllers, refuse to set the interval: then
            // advertise at the kernel's pace rather than not at all.
            Err(e)
                if !self.intervals_refused
                    && matches!(
                        e.kind,
                        bluer::ErrorKind::InvalidArguments | bluer::ErrorKind::NotSupported
                    ) =>
            {
                self.intervals_refused = true;
                advertisement.min_interval = None;
                advertisement.max_interval = None;
                self.adapter
                    .advertise(advertisement)
                    .await
                    .map_err(|e| advertise_error(&self.adapter, e))?
            }
            Err(e) => return Err(advertise_error(&self.adapter, e)),
        };
        self.advertisement = Some(handle);
        *self.value.lock().unwrap_or_else(PoisonError::into_inner) = advertising.gatt_value.clone();
        Ok(())
    }

    /// Takes the advertisement off air (the GATT server stays, returning nothing) and waits, up to a
    /// second, until BlueZ has removed it, so that two payloads are never on air together.
    pub async fn stop(&mut self) {
        self.value
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let Some(handle) = self.advertisement.take() else {
            return;
        };
        let before = self.adapter.active_advertising_instances().await.ok();
        // bluer unregisters in a task of its own when the handle is dropped; BlueZ's count of active
        // instances shows when it is done.
        drop(handle);
        let Some(before) = before else { return };
        let deadline = tokio::time::Instant::now() + UNREGISTER_WAIT;
        while tokio::time::Instant::now() < deadline {
            match self.adapter.active_advertising_instances().await {
                Ok(now) if now < before => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(_) => return,
            }
        }
    }

    /// Whether an advertisement is registered.
    pub fn is_advertising(&self) -> bool {
        self.advertisement.is_some()
    }

    /// Whether the GATT service is registered.
    pub fn is_serving_gatt(&self) -> bool {
        self.application.is_some()
    }

    /// Why the GATT service could not be registered, if it could not.
    pub fn gatt_error(&self) -> Option<&BluezError> {
        self.gatt_error.as_ref()
    }

    /// Whether BlueZ refused the 200-270 ms advertising interval (the kernel's default is used then).
    pub fn interval_refused(&self) -> bool {
        self.intervals_refused
    }

    /// OpenZone's primary service with one read characteristic whose value is the payload on air.
    fn application(&self) -> Application {
        let value = Arc::clone(&self.value);
        Application {
            services: vec![Service {
                uuid: GATT_SERVICE_UUID,
                primary: true,
                characteristics: vec![Characteristic {
                    uuid: GATT_CHARACTERISTIC_UUID,
                    read: Some(CharacteristicRead {
                        read: true,
                        fun: Box::new(move |request| {
                            let value =
                                value.lock().unwrap_or_else(PoisonError::into_inner).clone();
                            async move { read_value(&value, request.offset) }.boxed()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }
}

/// The answer to a read at `offset` (a long read comes in pieces); an error while nothing is on air.
fn read_value(value: &[u8], offset: u16) -> Result<Vec<u8>, ReqError> {
    if value.is_empty() {
        return Err(ReqError::Failed);
    }
    value
        .get(usize::from(offset)..)
        .map(<[u8]>::to_vec)
        .ok_or(ReqError::InvalidOffset)
}

/// BlueZ's form of an advertisement: connectable (peers read the GATT characteristic), general
/// discoverable (the Flags field the specification shows), and nothing else. An en-v1 advertisement
/// fills the 31 bytes exactly, so no name, appearance or TX power level is added.
pub(crate) fn advertisement(data: &AdvertisementData) -> Advertisement {
    Advertisement {
        advertisement_type: Type::Peripheral,
        service_uuids: data.service_uuids.iter().copied().collect(),
        service_data: data.service_data.iter().cloned().collect(),
        manufacturer_data: data.manufacturer_data.iter().cloned().collect(),
        discoverable: Some(true),
        local_name: None,
        ..Default::default()
    }
}

fn advertise_error(adapter: &bluer::Adapter, e: bluer::Error) -> BluezError {
    match e.kind {
        bluer::ErrorKind::NotFound => BluezError::AdvertisingUnsupported {
            adapter: adapter.name().to_owned(),
            reason: e.to_string(),
        },
        _ => BluezError::classify("registering the advertisement", e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::en_v1::{Aem, Rpi};
    use crate::protocol::payload::{BLUEZONE_COMPANY_ID, SERVICE_UUID};
    use crate::protocol::Payload;

    #[test]
    fn en_v1_goes_out_as_service_data_under_0x4e56() {
        let payload = Payload::EnV1 {
            rpi: Rpi([1; 16]),
            aem: Aem([2; 4]),
        };
        let adv = advertisement(&AdvertisementData::for_payload(&payload));
        assert_eq!(adv.advertisement_type, Type::Peripheral);
        assert_eq!(
            adv.service_uuids.iter().collect::<Vec<_>>(),
            [&SERVICE_UUID]
        );
        let expected = [vec![1; 16], vec![2; 4]].concat();
        assert_eq!(adv.service_data.get(&SERVICE_UUID), Some(&expected));
        assert!(adv.manufacturer_data.is_empty());
        assert_eq!(adv.local_name, None);
        assert!(adv.system_includes.is_empty());
    }

    #[test]
    fn bluezone_goes_out_as_manufacturer_data() {
        let payload = Payload::BluezoneV3 {
            id: crate::protocol::bluezone_v3::BluezoneId([9; 12]),
        };
        let adv = advertisement(&AdvertisementData::for_payload(&payload));
        assert_eq!(
            adv.manufacturer_data.get(&BLUEZONE_COMPANY_ID),
            Some(&vec![9; 12])
        );
        assert!(adv.service_data.is_empty());
    }

    #[test]
    fn reads_honour_the_offset_and_fail_while_off_air() {
        let value = [1, 2, 3, 4];
        assert_eq!(read_value(&value, 0), Ok(vec![1, 2, 3, 4]));
        assert_eq!(read_value(&value, 3), Ok(vec![4]));
        assert_eq!(read_value(&value, 4), Ok(vec![]));
        assert_eq!(read_value(&value, 5), Err(ReqError::InvalidOffset));
        assert_eq!(read_value(&[], 0), Err(ReqError::Failed));
    }
}
