//! This phone's own keys in the store: en-v1 Temporary Exposure Keys and the bluezone-v3 root key
//! (their record layout is in `keys.rs`), and the keys a positive report may publish.

use super::{keys, ReportKeys, Store, UserConsent, TREE_KEYS};
use crate::error::Error;
use crate::protocol::bluezone_v3::RootKey;
use crate::protocol::en_v1::ExposureKey;
use crate::units::day_first_interval;

impl Store {
    /// Every own en-v1 key, oldest first.
    pub fn own_en_keys(&self) -> Result<Vec<ExposureKey>, Error> {
        self.sled
            .keys
            .scan_prefix(keys::EN_PREFIX)
            .map(|entry| {
                let (key, sealed) = entry.map_err(|e| self.io(e))?;
                let plain = self
                    .sealer()
                    .open(TREE_KEYS, &key, &sealed)
                    .ok_or_else(|| {
                        Error::StoreCorrupt("an own-key record does not authenticate".into())
                    })?;
                keys::decode_en(&plain)
            })
            .collect()
    }

    /// Stores an own en-v1 key, or replaces the one with the same start (to end it early).
    pub fn put_own_en_key(&self, key: &ExposureKey) -> Result<(), Error> {
        self.check_space()?;
        let record = keys::en_record_key(key.rolling_start_interval);
        let sealed = self
            .sealer()
            .seal(TREE_KEYS, &record, &keys::encode_en(key))?;
        self.sled
            .keys
            .insert(record, sealed)
            .map_err(|e| self.io(e))?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// The bluezone-v3 root key, if this phone has one.
    pub fn bluezone_root(&self) -> Result<Option<RootKey>, Error> {
        let Some(sealed) = self
            .sled
            .keys
            .get(keys::ROOT_RECORD_KEY)
            .map_err(|e| self.io(e))?
        else {
            return Ok(None);
        };
        let plain = self
            .sealer()
            .open(TREE_KEYS, &keys::ROOT_RECORD_KEY, &sealed)
            .ok_or_else(|| {
                Error::StoreCorrupt("the root key record does not authenticate".into())
            })?;
        keys::decode_root(&plain).map(Some)
    }

    /// Keeps `root` as the bluezone-v3 root key unless one exists; returns the root key in force.
    pub fn ensure_bluezone_root(&self, root: RootKey) -> Result<RootKey, Error> {
        if let Some(existing) = self.bluezone_root()? {
            return Ok(existing);
        }
        self.check_space()?;
        let sealed =
            self.sealer()
                .seal(TREE_KEYS, &keys::ROOT_RECORD_KEY, &keys::encode_root(&root))?;
        self.sled
            .keys
            .insert(keys::ROOT_RECORD_KEY, sealed)
            .map_err(|e| self.io(e))?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(root)
    }

    /// The keys to publish for a positive report: en-v1 keys overlapping UTC days `first_day..=last_day`
    /// and the bluezone-v3 daily keys of those days. Requires the user's [`UserConsent`].
    pub fn keys_for_report(
        &self,
        first_day: u32,
        last_day: u32,
        _consent: UserConsent,
        slots_per_day: u32,
    ) -> Result<ReportKeys, Error> {
        if first_day > last_day {
            return Err(Error::InvalidConfig(format!(
                "the infectious window starts (day {first_day}) after it ends (day {last_day})"
            )));
        }
        let first_interval = day_first_interval(first_day);
        let end_interval = day_first_interval(last_day.saturating_add(1));
        let en_v1 = self
            .own_en_keys()?
            .into_iter()
            .filter(|k| {
                k.rolling_start_interval < end_interval && k.end_interval() > first_interval
            })
            .collect();
        let mut bluezone_v3 = Vec::new();
        if let Some(root) = self.bluezone_root()? {
            for day in first_day.max(root.day())..=last_day {
                bluezone_v3.push(root.daily_key(day, slots_per_day)?);
            }
        }
        Ok(ReportKeys { en_v1, bluezone_v3 })
    }
}
