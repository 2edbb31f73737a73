//! This phone's own keys in the store: en-v1 Temporary Exposure Keys and the bluezone-v3 root key
//! (their record layout is in `keys.rs`), and the keys a positive report may publish.

use super::{keys, ReportKeys, Store, TreeId, UserConsent};
use crate::error::Error;
use crate::protocol::bluezone_v3::RootKey;
use crate::protocol::en_v1::ExposureKey;
use crate::units::day_first_interval;
use crate::wire::Error as WireError;

/// What an own-key record is called in errors.
const OWN_KEY: &str = "an own-key";

impl Store {
    /// Every own en-v1 key, oldest first.
    pub fn own_en_keys(&self) -> Result<Vec<ExposureKey>, Error> {
        let mut keys = self
            .records(&self.sled.keys, TreeId::Keys, OWN_KEY)?
            .iter()
            .filter(|r| r.plain.len() == keys::EN_RECORD_LEN)
            .map(|r| keys::decode_en(&r.plain))
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by_key(|k| k.rolling_start_interval);
        Ok(keys)
    }

    /// Stores an own en-v1 key, or replaces the one with the same start (to end it early).
    pub fn put_own_en_key(&self, key: &ExposureKey) -> Result<(), Error> {
        self.check_space()?;
        self.put_record(
            &self.sled.keys,
            TreeId::Keys,
            &keys::en_record_key(key.rolling_start_interval),
            &keys::encode_en(key),
        )?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// The bluezone-v3 root key, if this phone has one.
    pub fn bluezone_root(&self) -> Result<Option<RootKey>, Error> {
        self.get_record(
            &self.sled.keys,
            TreeId::Keys,
            &keys::ROOT_RECORD_KEY,
            OWN_KEY,
        )?
        .map(|plain| keys::decode_root(&plain))
        .transpose()
    }

    /// Keeps `root` as the bluezone-v3 root key unless one exists; returns the root key in force.
    pub fn ensure_bluezone_root(&self, root: RootKey) -> Result<RootKey, Error> {
        if let Some(existing) = self.bluezone_root()? {
            return Ok(existing);
        }
        self.check_space()?;
        self.put_record(
            &self.sled.keys,
            TreeId::Keys,
            &keys::ROOT_RECORD_KEY,
            &keys::encode_root(&root),
        )?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(root)
    }

    /// Removes the own en-v1 keys that ended by `cutoff_interval`; returns how many.
    pub(super) fn remove_own_keys_ending_by(&self, cutoff_interval: u32) -> Result<u64, Error> {
        let mut expired = Vec::new();
        for record in self.records(&self.sled.keys, TreeId::Keys, OWN_KEY)? {
            if record.plain.len() == keys::EN_RECORD_LEN
                && keys::decode_en(&record.plain)?.end_interval() <= cutoff_interval
            {
                expired.push(record.name);
            }
        }
        self.remove_records(&self.sled.keys, expired)
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
            return Err(WireError::InvalidConfig(format!(
                "the infectious window starts (day {first_day}) after it ends (day {last_day})"
            ))
            .into());
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
