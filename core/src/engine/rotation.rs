//! Which payload is on air, and when it changes.
//!
//! - en-v1: the Temporary Exposure Key in force covers the current interval (one per UTC day, or the rest
//!   of a day after a same-day release). At each rotation the phone broadcasts the RPI of the current
//!   interval; rotations come at a random moment 10 to 20 minutes apart, as the exposure-notification
//!   specification asks, so that address changes do not line up across phones, and always at the end of
//!   the key (UTC midnight).
//! - bluezone-v3: the ID of the current slot, rotating at slot boundaries.
//!
//! A payload is valid from the start of its interval or slot to the end of its key or slot. When the wall
//! clock leaves that range (midnight passed, or the user set the clock back or forward), the engine
//! rotates at once. All of this is UTC.

use ring::rand::SecureRandom;

use crate::error::Error;
use crate::protocol::bluezone_v3::{utc_day, BluezoneV3, RootKey, SECS_PER_DAY};
use crate::protocol::en_v1::{
    en_interval_number, EnV1, ExposureKey, TemporaryExposureKey, EK_ROLLING_PERIOD,
    EN_INTERVAL_SECS,
};
use crate::protocol::{Payload, Scheme, SchemeId};
use crate::store::Store;
use crate::wire::Error as WireError;

/// The payload on air and the wall-clock range it is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OnAir {
    pub(crate) payload: Payload,
    /// Start of its interval or slot, UTC ms.
    pub(crate) valid_from_ms: u64,
    /// End of its key (en-v1) or slot (bluezone-v3), UTC ms.
    pub(crate) valid_until_ms: u64,
}

impl OnAir {
    pub(crate) fn covers(&self, wall_ms: u64) -> bool {
        (self.valid_from_ms..self.valid_until_ms).contains(&wall_ms)
    }
}

/// Picks payloads for a scheme, loading and creating this phone's keys in the store.
pub(crate) struct Rotation {
    pub(crate) scheme: SchemeId,
    pub(crate) tx_power_dbm: i8,
    pub(crate) slots_per_day: u32,
}

impl Rotation {
    /// The payload in force at `wall_ms`.
    pub(crate) fn on_air(
        &self,
        store: &Store,
        rng: &dyn SecureRandom,
        wall_ms: u64,
    ) -> Result<OnAir, Error> {
        match self.scheme {
            SchemeId::EnV1 => self.en_v1(store, rng, wall_ms),
            SchemeId::BluezoneV3 => self.bluezone(store, rng, wall_ms),
        }
    }

    fn en_v1(&self, store: &Store, rng: &dyn SecureRandom, wall_ms: u64) -> Result<OnAir, Error> {
        let key = key_in_force(store, rng, wall_ms)?;
        let interval = en_interval_number(wall_ms / 1000);
        let index = interval - key.rolling_start_interval;
        Ok(OnAir {
            payload: EnV1::new(self.tx_power_dbm).payload(&key, index),
            valid_from_ms: u64::from(interval) * EN_INTERVAL_SECS * 1000,
            valid_until_ms: u64::from(key.end_interval()) * EN_INTERVAL_SECS * 1000,
        })
    }

    fn bluezone(
        &self,
        store: &Store,
        rng: &dyn SecureRandom,
        wall_ms: u64,
    ) -> Result<OnAir, Error> {
        let root = store.ensure_bluezone_root(RootKey::generate(rng, wall_ms / 1000)?)?;
        let day = utc_day(wall_ms / 1000);
        // A clock set before the root key's first day has no daily key; broadcast the first day's slots
        // by time of day rather than nothing.
        let daily = root.daily_key(day.max(root.day()), self.slots_per_day)?;
        let secs_of_day = wall_ms / 1000 % SECS_PER_DAY;
        let slot =
            BluezoneV3::slot_at(&daily, daily.day_start_secs() + secs_of_day).ok_or_else(|| {
                WireError::InvalidKey("no bluezone-v3 slot covers the time of day".into())
            })?;
        // The slot's place in the day the wall clock shows (not the key's day, when they differ).
        let today_ms = u64::from(day) * SECS_PER_DAY * 1000;
        let into_day_ms = (slot.start_secs - daily.day_start_secs()) * 1000;
        Ok(OnAir {
            payload: BluezoneV3.payload(&daily, slot.index),
            valid_from_ms: today_ms + into_day_ms,
            valid_until_ms: today_ms + into_day_ms + slot.duration_secs * 1000,
        })
    }
}

/// The own en-v1 key covering `wall_ms`, created (and stored) if there is none: from the end of the day's
/// latest key (after a same-day release) or midnight, to the end of the UTC day.
pub(crate) fn key_in_force(
    store: &Store,
    rng: &dyn SecureRandom,
    wall_ms: u64,
) -> Result<ExposureKey, Error> {
    let interval = en_interval_number(wall_ms / 1000);
    let keys = store.own_en_keys()?;
    // After a same-day release, the released key and the fresh one both cover the release's interval:
    // the fresh one (the later start) is the one in force.
    if let Some(key) = keys
        .iter()
        .filter(|k| k.rolling_start_interval <= interval && interval < k.end_interval())
        .max_by_key(|k| k.rolling_start_interval)
    {
        return Ok(key.clone());
    }
    let midnight = interval - interval % EK_ROLLING_PERIOD;
    let day_end = midnight + EK_ROLLING_PERIOD;
    let start = keys
        .iter()
        .map(ExposureKey::end_interval)
        .filter(|end| (midnight..=interval).contains(end))
        .max()
        .unwrap_or(midnight);
    let key = ExposureKey::new(TemporaryExposureKey::generate(rng)?, start, day_end - start)?;
    store.put_own_en_key(&key)?;
    Ok(key)
}

/// Same-day release: ends the own en-v1 key in use with the current interval, so it can be published at
/// once, and stores a fresh key from the current interval to the end of the UTC day, which is in force
/// from now on (`key_in_force` prefers the later start). The phone must rotate now so that nothing it
/// broadcasts after the report comes from the published key. Returns the ended key, if one was in use.
pub fn release_key_in_use(
    store: &Store,
    rng: &dyn SecureRandom,
    wall_ms: u64,
) -> Result<Option<ExposureKey>, Error> {
    let interval = en_interval_number(wall_ms / 1000);
    let own = store.own_en_keys()?;
    let Some(in_use) = own
        .iter()
        .filter(|k| k.rolling_start_interval <= interval && interval < k.end_interval())
        .max_by_key(|k| k.rolling_start_interval)
        .cloned()
    else {
        return Ok(None);
    };
    let ended = ExposureKey::new(
        in_use.tek.clone(),
        in_use.rolling_start_interval,
        interval + 1 - in_use.rolling_start_interval,
    )?;
    store.put_own_en_key(&ended)?;
    let day_end = interval - interval % EK_ROLLING_PERIOD + EK_ROLLING_PERIOD;
    if ended.rolling_start_interval == interval {
        // The key in use started this very interval (a release a moment ago): the fresh key would take
        // its record's place, so it starts with the next interval instead.
        if interval + 1 < day_end {
            let fresh = ExposureKey::new(
                TemporaryExposureKey::generate(rng)?,
                interval + 1,
                day_end - interval - 1,
            )?;
            store.put_own_en_key(&fresh)?;
        }
    } else {
        let fresh = ExposureKey::new(
            TemporaryExposureKey::generate(rng)?,
            interval,
            day_end - interval,
        )?;
        store.put_own_en_key(&fresh)?;
    }
    Ok(Some(ended))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DataKey, StoreConfig};
    use ring::rand::SystemRandom;

    const DAY_MS: u64 = 86_400_000;
    const T0: u64 = 20_500 * DAY_MS;

    fn store(dir: &std::path::Path) -> Store {
        Store::open(
            dir,
            &DataKey::from_bytes([1; 32]),
            StoreConfig::default(),
            T0,
        )
        .unwrap()
    }

    /// A fresh store and a rotation of `scheme` over it.
    fn rig(scheme: SchemeId) -> (tempfile::TempDir, Store, SystemRandom, Rotation) {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let rotation = Rotation {
            scheme,
            tx_power_dbm: -20,
            slots_per_day: 96,
        };
        (dir, store, SystemRandom::new(), rotation)
    }

    #[test]
    fn en_v1_keys_are_created_once_per_day_and_reused() {
        let (_dir, store, rng, r) = rig(SchemeId::EnV1);
        let a = r.on_air(&store, &rng, T0 + 3_600_000).unwrap();
        let b = r.on_air(&store, &rng, T0 + 3_600_000 + 100_000).unwrap();
        assert_eq!(a, b, "same interval, same payload");
        assert_eq!(a.valid_until_ms, T0 + DAY_MS);
        assert_eq!(a.valid_from_ms, T0 + 3_600_000);
        let c = r.on_air(&store, &rng, T0 + 3_600_000 + 600_000).unwrap();
        assert_ne!(a.payload, c.payload);
        assert_eq!(store.own_en_keys().unwrap().len(), 1);
        // Next day: a new key. The clock going back to yesterday: yesterday's key again.
        r.on_air(&store, &rng, T0 + DAY_MS + 5).unwrap();
        assert_eq!(store.own_en_keys().unwrap().len(), 2);
        assert_eq!(r.on_air(&store, &rng, T0 + 3_600_000).unwrap(), a);
        assert_eq!(store.own_en_keys().unwrap().len(), 2);
    }

    #[test]
    fn after_a_same_day_release_the_fresh_key_starts_where_the_old_one_ended() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let rng = SystemRandom::new();
        let mut key = key_in_force(&store, &rng, T0 + 1_000).unwrap();
        key.rolling_period = 50;
        store.put_own_en_key(&key).unwrap();
        let fresh = key_in_force(&store, &rng, T0 + 50 * 600_000 + 1).unwrap();
        assert_eq!(
            fresh.rolling_start_interval,
            key.rolling_start_interval + 50
        );
        assert_eq!(fresh.end_interval(), key.rolling_start_interval + 144);
        assert_ne!(fresh.tek, key.tek);
    }

    #[test]
    fn a_release_ends_the_key_in_use_and_a_fresh_one_takes_over_at_once() {
        let (_dir, store, rng, r) = rig(SchemeId::EnV1);
        let at = T0 + 30 * 600_000 + 5_000;
        let before = r.on_air(&store, &rng, at).unwrap();
        let ended = release_key_in_use(&store, &rng, at).unwrap().unwrap();
        assert_eq!(ended.rolling_period, 31);
        assert_eq!(ended.end_interval(), en_interval_number(at / 1000) + 1);
        let after = r.on_air(&store, &rng, at + 1).unwrap();
        assert_ne!(
            after.payload, before.payload,
            "the phone switches keys at the report, not 10 minutes later"
        );
        let keys = store.own_en_keys().unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys[1].rolling_start_interval,
            en_interval_number(at / 1000)
        );
        assert_eq!(keys[1].end_interval() % 144, 0);
        // A second release in the same interval ends the fresh key and starts the next interval's.
        let again = release_key_in_use(&store, &rng, at + 2).unwrap().unwrap();
        assert_eq!(again.rolling_period, 1);
        assert_eq!(store.own_en_keys().unwrap().len(), 3);
        let (_empty_dir, empty, ..) = rig(SchemeId::EnV1);
        assert!(release_key_in_use(&empty, &rng, at).unwrap().is_none());
    }

    #[test]
    fn bluezone_payloads_follow_slots() {
        let (_dir, store, rng, r) = rig(SchemeId::BluezoneV3);
        let a = r.on_air(&store, &rng, T0 + 1_000_000).unwrap();
        assert_eq!(
            (a.valid_from_ms, a.valid_until_ms),
            (T0 + 900_000, T0 + 1_800_000)
        );
        assert!(matches!(a.payload, Payload::BluezoneV3 { .. }));
        let root = store.bluezone_root().unwrap().unwrap();
        let daily = root.daily_key(root.day(), 96).unwrap();
        assert_eq!(a.payload, BluezoneV3.payload(&daily, 1));
        // Before the root key's day (the clock went back): the first day's slots, by time of day.
        let early = r.on_air(&store, &rng, T0 - DAY_MS + 1_000_000).unwrap();
        assert_eq!(early.payload, a.payload);
        assert_eq!(early.valid_from_ms, T0 - DAY_MS + 900_000);
    }
}
