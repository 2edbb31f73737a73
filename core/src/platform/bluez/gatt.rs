//! The GATT client: reading a peer's payload from its characteristic, as peers of a backgrounded iPhone
//! must.

use btleplug::api::{Central as _, Peripheral as _};

use std::time::Duration;

use super::{BluezError, During};
use crate::platform::PeerId;
use crate::protocol::payload::{GATT_CHARACTERISTIC_UUID, GATT_SERVICE_UUID};

/// Connects to `peer`, reads the OpenZone characteristic and disconnects, within `timeout`.
pub(crate) async fn read(
    central: &btleplug::platform::Adapter,
    peer: &PeerId,
    timeout: Duration,
) -> Result<Vec<u8>, BluezError> {
    let peripheral = central
        .peripherals()
        .await
        .during("listing the devices BlueZ knows")?
        .into_iter()
        .find(|p| p.address().to_string() == peer.0)
        .ok_or_else(|| BluezError::Failed {
            operation: "reading a peer's GATT characteristic",
            reason: "BlueZ no longer knows the peer (it changed its address or went out of range)"
                .into(),
        })?;
    let result = tokio::time::timeout(timeout, async {
        peripheral
            .connect()
            .await
            .during("connecting to the peer")?;
        peripheral
            .discover_services()
            .await
            .during("discovering the peer's services")?;
        let characteristic = peripheral
            .characteristics()
            .into_iter()
            .find(|c| c.uuid == GATT_CHARACTERISTIC_UUID && c.service_uuid == GATT_SERVICE_UUID)
            .ok_or_else(|| BluezError::Failed {
                operation: "reading a peer's GATT characteristic",
                reason: "the peer serves no OpenZone characteristic".into(),
            })?;
        peripheral
            .read(&characteristic)
            .await
            .during("reading the peer's characteristic")
    })
    .await
    .unwrap_or_else(|_| {
        Err(BluezError::Failed {
            operation: "reading a peer's GATT characteristic",
            reason: format!("no answer within {} s", timeout.as_secs()),
        })
    });
    // Always hang up, also after a failure or timeout: a connection left open keeps the peer's radio
    // busy and its battery draining. A peer that is already gone makes this fail, which changes nothing.
    let _ = tokio::time::timeout(timeout, peripheral.disconnect()).await;
    result
}
