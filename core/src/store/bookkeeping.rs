//! The bookkeeping of matching: which published batches and exports were checked, and the exposure
//! result of each day.

use super::{Store, META_NOTIFIED, TREE_BATCHES, TREE_EXPOSURES, TREE_META};
use crate::error::Error;

impl Store {
    /// Whether a published batch with this digest was processed already.
    pub fn batch_processed(&self, digest: &[u8; 32]) -> Result<bool, Error> {
        self.sled
            .batches
            .contains_key(digest)
            .map_err(|e| self.io(e))
    }

    /// Remembers that a published batch was processed at `now_ms`.
    pub fn mark_batch_processed(&self, digest: &[u8; 32], now_ms: u64) -> Result<(), Error> {
        self.check_space()?;
        let sealed = self
            .sealer()
            .seal(TREE_BATCHES, digest, &now_ms.to_be_bytes())?;
        self.sled
            .batches
            .insert(digest, sealed)
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Whether the export the key server's index lists as `name` was checked already (see
    /// [`mark_export_fetched`](Self::mark_export_fetched)).
    pub fn export_fetched(&self, name: &str) -> Result<bool, Error> {
        self.sled
            .batches
            .contains_key(export_name_key(name))
            .map_err(|e| self.io(e))
    }

    /// Remembers that the export listed as `name` was checked at `now_ms`, so that a later sync does not
    /// download it again. Kept with the batch digests (a hash of the name, so the 32-byte keys of that
    /// tree stay uniform and names do not appear in clear).
    pub fn mark_export_fetched(&self, name: &str, now_ms: u64) -> Result<(), Error> {
        self.mark_batch_processed(&export_name_key(name), now_ms)
    }

    /// Records what checking the published batch `digest` found, in one transaction: each changed day's
    /// exposure result (an opaque record the risk module encodes) and the batch as processed at
    /// `now_ms`. A crash leaves either both or neither, so a batch is never counted twice.
    pub fn record_check(
        &self,
        days: &[(u32, Vec<u8>)],
        digest: &[u8; 32],
        now_ms: u64,
    ) -> Result<(), Error> {
        use sled::Transactional as _;
        self.check_space()?;
        let mut sealed_days = Vec::with_capacity(days.len());
        for (day, record) in days {
            let key = day.to_be_bytes();
            sealed_days.push((key, self.sealer().seal(TREE_EXPOSURES, &key, record)?));
        }
        let batch = self
            .sealer()
            .seal(TREE_BATCHES, digest, &now_ms.to_be_bytes())?;
        (&self.sled.exposures, &self.sled.batches)
            .transaction(|(exposures, batches)| {
                for (key, sealed) in &sealed_days {
                    exposures.insert(&key[..], sealed.as_slice())?;
                }
                batches.insert(&digest[..], batch.as_slice())?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => self.io(e),
                sled::transaction::TransactionError::Abort(()) => {
                    Error::StoreCorrupt("recording a checked batch was aborted".into())
                }
            })
    }

    /// The UTC days the user was told were at risk, oldest first.
    pub fn notified_days(&self) -> Result<Vec<u32>, Error> {
        let Some(sealed) = self.sled.meta.get(META_NOTIFIED).map_err(|e| self.io(e))? else {
            return Ok(Vec::new());
        };
        let plain = self
            .sealer()
            .open(TREE_META, META_NOTIFIED, &sealed)
            .ok_or_else(|| {
                Error::StoreCorrupt("the record of notified days does not authenticate".into())
            })?;
        if plain.len() % 4 != 0 {
            return Err(Error::StoreCorrupt(
                "the record of notified days has an unknown layout".into(),
            ));
        }
        Ok(plain
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// Replaces the days the user was told were at risk, and flushes: a notification must not repeat
    /// after a crash.
    pub fn set_notified_days(&self, days: &[u32]) -> Result<(), Error> {
        self.check_space()?;
        let plain: Vec<u8> = days.iter().flat_map(|d| d.to_be_bytes()).collect();
        let sealed = self.sealer().seal(TREE_META, META_NOTIFIED, &plain)?;
        self.sled
            .meta
            .insert(META_NOTIFIED, sealed)
            .map_err(|e| self.io(e))?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Every stored exposure record, by UTC day, oldest first.
    pub fn exposures(&self) -> Result<Vec<(u32, Vec<u8>)>, Error> {
        self.sled
            .exposures
            .iter()
            .map(|entry| {
                let (key, sealed) = entry.map_err(|e| self.io(e))?;
                let day = <[u8; 4]>::try_from(key.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| Error::StoreCorrupt("an exposure record key is damaged".into()))?;
                let plain = self
                    .sealer()
                    .open(TREE_EXPOSURES, &key, &sealed)
                    .ok_or_else(|| {
                        Error::StoreCorrupt("an exposure record does not authenticate".into())
                    })?;
                Ok((day, plain))
            })
            .collect()
    }
}

/// The `batches` record key of an export name: SHA-256 over a label and the name, which cannot collide
/// with the digest of an `export.bin` (those start with the export header, not this label).
fn export_name_key(name: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"openzone export name\0");
    ctx.update(name.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}
