//! A phone for the end-to-end tests: the real `Phone`, without a radio, on a clock the test sets.

use std::path::Path;
use std::sync::Arc;

use openzone_core::phone::{DataKey, Phone, PhoneConfig};
use openzone_core::platform::NoRadio;
use openzone_core::time::Clock;

use crate::clock::ManualClock;

/// The data key the tests' phones use.
pub fn data_key() -> DataKey {
    DataKey::from_bytes([3; 32])
}

/// Opens the phone storing in `dir`, set up by `configure`, on `clock`.
///
/// # Panics
/// If the phone cannot be opened (a test's mistake or a broken machine).
pub fn open_phone(
    dir: &Path,
    clock: &Arc<ManualClock>,
    configure: impl FnOnce(&mut PhoneConfig),
) -> Phone {
    let mut config = PhoneConfig::new(dir, data_key());
    configure(&mut config);
    Phone::open(
        config,
        Arc::new(NoRadio),
        None,
        Arc::clone(clock) as Arc<dyn Clock>,
    )
    .unwrap_or_else(|e| panic!("cannot open the test phone in {}: {e}", dir.display()))
}

/// Gives the phone that will store in `dir` these own keys, as if it had broadcast them.
///
/// # Panics
/// If the store cannot be written (a test's mistake or a broken machine).
pub fn seed_own_keys(dir: &Path, keys: &[openzone_core::protocol::en_v1::ExposureKey]) {
    use openzone_core::store::{Store, StoreConfig};
    let now = openzone_core::time::SystemClock.now_ms();
    let store = Store::open(dir, &data_key(), StoreConfig::default(), now)
        .unwrap_or_else(|e| panic!("cannot open the test store in {}: {e}", dir.display()));
    for key in keys {
        store
            .put_own_en_key(key)
            .unwrap_or_else(|e| panic!("cannot store a test key: {e}"));
    }
}

/// Opens the phone storing in `dir` on the system clock, as an app would.
pub fn open_real_phone(dir: &Path) -> Result<Phone, openzone_core::Error> {
    Phone::open(
        PhoneConfig::new(dir, data_key()),
        Arc::new(NoRadio),
        None,
        Arc::new(openzone_core::time::SystemClock),
    )
}
