//! Bringing a store of schema 1 up to date. Schema 1 keyed its records by what they held in clear (a
//! window's start, a key's first interval, a day, an export's digest); schema 2 names each record by a
//! keyed hash and keeps the logical key inside the sealed value (`records.rs`).
//!
//! Each record is rewritten under its new name before the old one is removed, so a migration cut short
//! (the app killed) leaves both or the new one, and simply runs again at the next opening: a name is 16
//! bytes, no legacy key is, so what was done already is recognised and skipped.

use super::instances::WindowRecord;
use super::seal::NAME_LEN;
use super::{Store, TreeId};
use crate::error::Error;

/// The schema version whose records are keyed in clear.
pub(super) const LEGACY_SCHEMA_VERSION: u32 = 1;

impl Store {
    /// Rewrites every legacy record of every tree under its hidden name.
    pub(super) fn migrate_from_legacy(&self) -> Result<(), Error> {
        self.migrate_tree(&self.sled.windows, TreeId::Windows, |key, plain| {
            let start = <[u8; 8]>::try_from(key).map_err(|_| legacy("a scan window"))?;
            let record = WindowRecord::decode(plain, Some(u64::from_be_bytes(start)))?;
            Ok(record.encode())
        })?;
        // Own keys and batch marks keep their plaintext; exposures gain their day.
        self.migrate_tree(&self.sled.keys, TreeId::Keys, |_, plain| Ok(plain.to_vec()))?;
        self.migrate_tree(&self.sled.batches, TreeId::Batches, |_, plain| {
            Ok(plain.to_vec())
        })?;
        self.migrate_tree(&self.sled.exposures, TreeId::Exposures, |key, plain| {
            let day = <[u8; 4]>::try_from(key).map_err(|_| legacy("an exposure"))?;
            Ok([&day[..], plain].concat())
        })?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Rewrites the legacy records of one tree: `convert` turns a legacy key and plaintext into the new
    /// plaintext; the legacy key becomes the logical key.
    fn migrate_tree(
        &self,
        tree: &sled::Tree,
        tree_id: TreeId,
        convert: impl Fn(&[u8], &[u8]) -> Result<Vec<u8>, Error>,
    ) -> Result<(), Error> {
        let legacy_records = tree
            .iter()
            .filter(|entry| {
                entry
                    .as_ref()
                    .map_or(true, |(key, _)| key.len() != NAME_LEN)
            })
            .collect::<sled::Result<Vec<_>>>()
            .map_err(|e| self.io(e))?;
        for (key, sealed) in legacy_records {
            let plain = self
                .sealer()
                .open(tree_id, &key, &sealed)
                .ok_or_else(|| Error::StoreCorrupt("a record of the older layout does not authenticate; nothing was changed by bringing it up to date".into()))?;
            self.put_record(tree, tree_id, &key, &convert(&key, &plain)?)?;
            tree.remove(&key).map_err(|e| self.io(e))?;
        }
        Ok(())
    }
}

fn legacy(what: &str) -> Error {
    Error::StoreCorrupt(format!(
        "{what} record of the older layout has a damaged key"
    ))
}
