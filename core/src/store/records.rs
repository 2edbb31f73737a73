//! Sealed records under hidden names: what every tree of data is made of.
//!
//! A record is found by its logical key (a window's start, a key's first interval, a day, a digest), but
//! the database only ever sees the keyed hash of that key ([`Sealer::name`](super::seal::Sealer)), and the
//! logical key itself sits inside the sealed value. So the files show how many records there are and how
//! large, never when anything happened. Reading by time therefore means opening every record of a tree:
//! a few thousand small AES-GCM openings for a heavy user's 14 days, a few milliseconds.

use super::seal::NAME_LEN;
use super::{Store, TreeId};
use crate::error::Error;

/// A record read back: its name in the tree and its plaintext.
pub(crate) struct Opened {
    pub(crate) name: sled::IVec,
    /// Bytes the record takes (name and sealed value): what the size cap counts.
    pub(crate) stored_len: u64,
    pub(crate) plain: Vec<u8>,
}

impl Store {
    /// The name of `logical` in tree `tree_id`.
    pub(crate) fn record_name(&self, tree_id: TreeId, logical: &[u8]) -> [u8; NAME_LEN] {
        self.sealer().name(tree_id, logical)
    }

    /// Seals `plain` under `logical`'s name; returns the bytes the new record takes and those of the
    /// record it replaced, if any.
    pub(crate) fn put_record(
        &self,
        tree: &sled::Tree,
        tree_id: TreeId,
        logical: &[u8],
        plain: &[u8],
    ) -> Result<(u64, Option<u64>), Error> {
        let name = self.record_name(tree_id, logical);
        let sealed = self.sealer().seal(tree_id, &name, plain)?;
        let new_len = (name.len() + sealed.len()) as u64;
        let old = tree.insert(name, sealed).map_err(|e| self.io(e))?;
        Ok((new_len, old.map(|v| (name.len() + v.len()) as u64)))
    }

    /// The plaintext of `logical`'s record, if there is one.
    pub(crate) fn get_record(
        &self,
        tree: &sled::Tree,
        tree_id: TreeId,
        logical: &[u8],
        what: &str,
    ) -> Result<Option<Vec<u8>>, Error> {
        let name = self.record_name(tree_id, logical);
        let Some(sealed) = tree.get(name).map_err(|e| self.io(e))? else {
            return Ok(None);
        };
        self.open_record(tree_id, &name, &sealed, what).map(Some)
    }

    /// Whether `logical` has a record.
    pub(crate) fn has_record(
        &self,
        tree: &sled::Tree,
        tree_id: TreeId,
        logical: &[u8],
    ) -> Result<bool, Error> {
        tree.contains_key(self.record_name(tree_id, logical))
            .map_err(|e| self.io(e))
    }

    /// Every record of a tree, opened. Records that fail to open are reported, not skipped.
    pub(crate) fn records(
        &self,
        tree: &sled::Tree,
        tree_id: TreeId,
        what: &str,
    ) -> Result<Vec<Opened>, Error> {
        tree.iter()
            .map(|entry| {
                let (name, sealed) = entry.map_err(|e| self.io(e))?;
                let plain = self.open_record(tree_id, &name, &sealed, what)?;
                Ok(Opened {
                    stored_len: (name.len() + sealed.len()) as u64,
                    name,
                    plain,
                })
            })
            .collect()
    }

    fn open_record(
        &self,
        tree_id: TreeId,
        name: &[u8],
        sealed: &[u8],
        what: &str,
    ) -> Result<Vec<u8>, Error> {
        self.sealer()
            .open(tree_id, name, sealed)
            .ok_or_else(|| Error::StoreCorrupt(format!("{what} record does not authenticate")))
    }

    /// Removes records by name; returns how many there were.
    pub(crate) fn remove_records(
        &self,
        tree: &sled::Tree,
        names: impl IntoIterator<Item = sled::IVec>,
    ) -> Result<u64, Error> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for name in names {
            batch.remove(name);
            n += 1;
        }
        if n > 0 {
            tree.apply_batch(batch).map_err(|e| self.io(e))?;
        }
        Ok(n)
    }
}
