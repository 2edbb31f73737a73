//! Real Bluetooth LE on Linux through BlueZ (feature `desktop-ble`): what QA laptops and Raspberry Pis
//! run, and what `openzone scan`, `openzone advertise` and `openzone run` use.
//!
//! Two clients of BlueZ's D-Bus API, each for what it does well:
//! - **btleplug** scans ([`BluezAdapter::scan`]) and reads peers' GATT characteristic
//!   ([`BluezAdapter::read_gatt`]). It also serves macOS and Windows, so this half of the code is the one
//!   that would move there.
//! - **bluer** advertises and serves the GATT characteristic ([`Advertiser`]): btleplug cannot act as a
//!   peripheral.
//!
//! [`BluezAdapter::open`] connects both to one adapter and turns what can go wrong (no system bus, no
//! BlueZ, no adapter, an unknown adapter name) into a [`BluezError`] that names the missing piece.
//! [`BluezPlatform`] puts the adapter behind the engine's [`BlePlatform`](super::BlePlatform) boundary.
//!
//! # Scanning
//!
//! Discovery runs without a service filter: an iPhone in the background advertises only Apple's overflow
//! area, with no service UUID, and a filter would hide it. BlueZ is asked for duplicate reports
//! (`DuplicateData`, which btleplug sets), so it signals every advertisement, not only changed ones. It
//! signals each changed property separately (RSSI, service data, manufacturer data), so the scanner
//! collects the peers it heard from and reports each at most once per [`REPORT_EVERY`], with the
//! advertisement's current fields and RSSI. A device BlueZ still lists from an earlier discovery but has
//! not heard in this one carries no RSSI (BlueZ drops it when discovery stops) and is not reported.
//!
//! # Random addresses and rotation
//!
//! The engine wants a new address with each new payload. BlueZ's D-Bus API has no way to set the address
//! of an advertisement; the kernel picks it when the advertising instance is set up:
//! - with the adapter's privacy on (`Privacy = device` in `/etc/bluetooth/main.conf`, or `btmgmt privacy
//!   on` while the adapter is off), a connectable advertisement uses a resolvable private address; a new
//!   advertising instance starts with an expired one, so it gets a fresh address;
//! - with privacy off, a connectable advertisement goes out from the adapter's public address, which never
//!   changes and links every payload of the device.
//!
//! So at every rotation the [`Advertiser`] unregisters the advertisement, waits until BlueZ has removed
//! it, and registers a new one: with privacy on, payload and address change together (see
//! `docs/ble-linux.md` for how to turn privacy on, and why it is not done from here).

mod advertise;
mod gatt;
mod platform;
mod scan;

use std::fmt;

use btleplug::api::{Central as _, Manager as _};

pub use advertise::Advertiser;
pub use platform::{BluezPlatform, PlatformOptions, RadioState};
pub use scan::{Heard, REPORT_EVERY, RSSI_UNKNOWN};

use crate::platform::PeerId;

/// How long a GATT read may take by default, connection included, before it counts as failed (the
/// engine's own default timeout is the same 10 seconds).
pub const GATT_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What stops OpenZone from using Bluetooth through BlueZ, each with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BluezError {
    /// The D-Bus system bus cannot be reached, so BlueZ cannot be either.
    #[error(
        "cannot reach the D-Bus system bus ({reason}); is dbus running? (`systemctl status dbus`)"
    )]
    SystemBusUnreachable {
        /// What D-Bus said.
        reason: String,
    },

    /// Nothing answers as `org.bluez` on the system bus.
    #[error("BlueZ is not running: nothing answers as org.bluez on the system bus; start it with `systemctl start bluetooth`")]
    BluezNotRunning,

    /// BlueZ runs but lists no adapter.
    #[error("no Bluetooth adapter found (is BlueZ running? `systemctl status bluetooth`; is the adapter plugged in and unblocked? `rfkill list`)")]
    NoAdapter,

    /// `--adapter NAME` names an adapter BlueZ does not have.
    #[error("no Bluetooth adapter named {name:?}; BlueZ has: {}", available.join(", "))]
    UnknownAdapter {
        /// The name asked for.
        name: String,
        /// The adapters there are.
        available: Vec<String>,
    },

    /// The adapter is switched off.
    #[error("Bluetooth adapter {adapter} is off; turn it on with `bluetoothctl power on` (and `rfkill unblock bluetooth` if it is blocked)")]
    PoweredOff {
        /// The adapter.
        adapter: String,
    },

    /// The D-Bus policy does not let this user talk to BlueZ.
    #[error("BlueZ refused {operation}: permission denied; run as root or as a member of the `bluetooth` group (see docs/ble-linux.md)")]
    PermissionDenied {
        /// What was being done.
        operation: &'static str,
    },

    /// The adapter offers no LE advertising (BlueZ shows no `LEAdvertisingManager1` on it).
    #[error("Bluetooth adapter {adapter} cannot advertise: BlueZ offers no LE advertising on it ({reason}); use a Bluetooth 4.0+ adapter and BlueZ 5.43 or newer")]
    AdvertisingUnsupported {
        /// The adapter.
        adapter: String,
        /// What BlueZ said.
        reason: String,
    },

    /// A BlueZ operation failed for another reason.
    #[error("{operation} failed: {reason}")]
    Failed {
        /// What was being done.
        operation: &'static str,
        /// What BlueZ or D-Bus said.
        reason: String,
    },
}

/// A btleplug or bluer result whose failure [`BluezError::classify`] sorts: `.during("listing adapters")`.
pub(crate) trait During<T> {
    /// The failure of `operation`, classified.
    fn during(self, operation: &'static str) -> Result<T, BluezError>;
}

impl<T, E: fmt::Display> During<T> for Result<T, E> {
    fn during(self, operation: &'static str) -> Result<T, BluezError> {
        self.map_err(|e| BluezError::classify(operation, e))
    }
}

impl BluezError {
    /// Sorts a failure of `operation` by the D-Bus error inside `message`: the error names are stable,
    /// the texts around them vary between libdbus, btleplug and bluer.
    pub(crate) fn classify(operation: &'static str, message: impl fmt::Display) -> Self {
        let reason = message.to_string();
        if reason.contains("org.freedesktop.DBus.Error.ServiceUnknown")
            || reason.contains("was not provided by any .service files")
        {
            return BluezError::BluezNotRunning;
        }
        if reason.contains("org.freedesktop.DBus.Error.AccessDenied")
            || reason.contains("org.bluez.Error.NotAuthorized")
            || reason.contains("org.bluez.Error.NotPermitted")
        {
            return BluezError::PermissionDenied { operation };
        }
        if reason.contains("org.freedesktop.DBus.Error.NoServer")
            || reason.contains("org.freedesktop.DBus.Error.FileNotFound")
            || reason.contains("org.freedesktop.DBus.Error.Disconnected")
            || reason.contains("Failed to connect to socket")
        {
            return BluezError::SystemBusUnreachable { reason };
        }
        BluezError::Failed { operation, reason }
    }
}

/// One adapter, opened through both btleplug (scanning, GATT client) and bluer (advertising, GATT
/// server).
#[derive(Clone)]
pub struct BluezAdapter {
    name: String,
    central: btleplug::platform::Adapter,
    /// bluer's adapter; it holds the session's D-Bus connection, which closes when the last one goes.
    adapter: bluer::Adapter,
}

impl fmt::Debug for BluezAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BluezAdapter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl BluezAdapter {
    /// Opens the adapter called `name` (`hci0`), or the first one (by name) when `name` is `None`.
    ///
    /// Must run inside a tokio runtime: both clients start tasks on it.
    pub async fn open(name: Option<&str>) -> Result<Self, BluezError> {
        let manager = btleplug::platform::Manager::new()
            .await
            .during("connecting to the D-Bus system bus")?;
        let centrals = manager
            .adapters()
            .await
            .during("listing Bluetooth adapters")?;
        let mut found = Vec::new();
        for central in centrals {
            // btleplug describes a BlueZ adapter as "hci0 (usb:v1D6Bp0246d0540)".
            let adapter_name = central
                .adapter_info()
                .await
                .during("reading adapter information")?
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            found.push((adapter_name, central));
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let (name, central) = match name {
            Some(wanted) => {
                let available: Vec<String> = found.iter().map(|(n, _)| n.clone()).collect();
                found
                    .into_iter()
                    .find(|(n, _)| n == wanted)
                    .ok_or_else(|| match available.is_empty() {
                        true => BluezError::NoAdapter,
                        false => BluezError::UnknownAdapter {
                            name: wanted.to_owned(),
                            available,
                        },
                    })?
            }
            None => found.into_iter().next().ok_or(BluezError::NoAdapter)?,
        };
        let session = bluer::Session::new()
            .await
            .during("opening a BlueZ session")?;
        let adapter = session.adapter(&name).during("opening the adapter")?;
        Ok(Self {
            name,
            central,
            adapter,
        })
    }

    /// The adapter's name, e.g. `hci0`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The adapter's own address as BlueZ reports it (the public or static address, not the private
    /// addresses it advertises with when privacy is on).
    pub async fn address(&self) -> Result<String, BluezError> {
        self.adapter
            .address()
            .await
            .map(|a| a.to_string())
            .during("reading the adapter's address")
    }

    /// Whether the adapter is switched on.
    pub async fn powered(&self) -> Result<bool, BluezError> {
        self.adapter
            .is_powered()
            .await
            .during("reading the adapter's power state")
    }

    /// Fails with [`BluezError::PoweredOff`] when the adapter is off: for commands that cannot wait.
    pub async fn require_powered(&self) -> Result<(), BluezError> {
        match self.powered().await? {
            true => Ok(()),
            false => Err(BluezError::PoweredOff {
                adapter: self.name.clone(),
            }),
        }
    }

    /// Whether BlueZ offers LE advertising on this adapter; the error says why not.
    pub async fn check_advertising(&self) -> Result<(), BluezError> {
        self.adapter
            .supported_advertising_instances()
            .await
            .map(|_| ())
            .map_err(|e| BluezError::AdvertisingUnsupported {
                adapter: self.name.clone(),
                reason: e.to_string(),
            })
    }

    /// An advertiser on this adapter (nothing goes on air until [`Advertiser::start`]).
    pub fn advertiser(&self) -> Advertiser {
        Advertiser::new(self.adapter.clone())
    }

    /// Stops the discovery [`scan`](Self::scan) started (BlueZ also stops it when this process leaves
    /// the bus).
    pub async fn stop_scan(&self) -> Result<(), BluezError> {
        self.central.stop_scan().await.during("stopping discovery")
    }

    /// Reads `peer`'s OpenZone GATT characteristic as an iPhone's peers must: connect, discover the
    /// services, read, disconnect. Gives up after [`GATT_READ_TIMEOUT`].
    pub async fn read_gatt(&self, peer: &PeerId) -> Result<Vec<u8>, BluezError> {
        gatt::read(&self.central, peer, GATT_READ_TIMEOUT).await
    }

    /// [`read_gatt`](Self::read_gatt) with another time limit (a slow machine, a test VM).
    pub async fn read_gatt_within(
        &self,
        peer: &PeerId,
        timeout: std::time::Duration,
    ) -> Result<Vec<u8>, BluezError> {
        gatt::read(&self.central, peer, timeout).await
    }

    /// bluer's view of the adapter (its power state and events).
    pub(crate) fn bluer(&self) -> &bluer::Adapter {
        &self.adapter
    }

    /// btleplug's view of the adapter (discovery and GATT client).
    pub(crate) fn central(&self) -> &btleplug::platform::Adapter {
        &self.central
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbus_errors_are_sorted_by_name() {
        assert_eq!(
            BluezError::classify(
                "listing Bluetooth adapters",
                "D-Bus error: The name org.bluez was not provided by any .service files \
                 (org.freedesktop.DBus.Error.ServiceUnknown)"
            ),
            BluezError::BluezNotRunning
        );
        assert!(matches!(
            BluezError::classify(
                "connecting to the D-Bus system bus",
                "Failed to connect to socket /run/dbus/system_bus_socket: No such file or directory"
            ),
            BluezError::SystemBusUnreachable { .. }
        ));
        assert_eq!(
            BluezError::classify(
                "registering the advertisement",
                "org.freedesktop.DBus.Error.AccessDenied: Rejected send message"
            ),
            BluezError::PermissionDenied {
                operation: "registering the advertisement"
            }
        );
        assert_eq!(
            BluezError::classify("starting discovery", "org.bluez.Error.InProgress"),
            BluezError::Failed {
                operation: "starting discovery",
                reason: "org.bluez.Error.InProgress".into()
            }
        );
    }

    #[test]
    fn messages_say_what_to_do() {
        let no_adapter = BluezError::NoAdapter.to_string();
        assert!(
            no_adapter.contains("systemctl status bluetooth"),
            "{no_adapter}"
        );
        let unknown = BluezError::UnknownAdapter {
            name: "hci7".into(),
            available: vec!["hci0".into(), "hci1".into()],
        }
        .to_string();
        assert!(
            unknown.contains("hci7") && unknown.contains("hci0, hci1"),
            "{unknown}"
        );
        let off = BluezError::PoweredOff {
            adapter: "hci0".into(),
        }
        .to_string();
        assert!(off.contains("bluetoothctl power on"), "{off}");
    }
}
