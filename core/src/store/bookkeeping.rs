//! The bookkeeping of matching: which published batches and exports were checked, and the exposure
//! result of each day.

use super::seal::NAME_LEN;
use super::{Store, TreeId, META_NOTIFIED, META_PRESENCE_TOLD};

/// The entry size of each sealed list in `meta`: a notified day is a UTC day (u32); a presence warning
/// told is a check-in id (u64) and a UTC day (u32).
const META_ENTRY_SIZES: [(&[u8], usize); 2] = [(META_NOTIFIED, 4), (META_PRESENCE_TOLD, 12)];
use crate::error::Error;

/// What an exposure record is called in errors.
const EXPOSURE: &str = "an exposure";

/// An exposure record's plaintext: its UTC day (u32 BE), then the risk module's record.
pub(super) fn split_day(mut plain: Vec<u8>) -> Result<(u32, Vec<u8>), Error> {
    let day = plain
        .first_chunk::<4>()
        .map(|d| u32::from_be_bytes(*d))
        .ok_or_else(|| Error::StoreCorrupt("an exposure record has an unknown layout".into()))?;
    Ok((day, plain.split_off(4)))
}

/// A record as stored: its sealed name and its sealed value.
type SealedRecord = ([u8; NAME_LEN], Vec<u8>);

/// What checking one published batch found, recorded with the batch by [`Store::record_batch`].
#[derive(Debug, Clone, Copy)]
pub enum BatchFindings<'a> {
    /// Each changed UTC day's exposure result (an opaque record the risk module encodes).
    ExposureDays(&'a [(u32, Vec<u8>)]),
    /// The published check-ins a warning package held for this phone's venues: encoded
    /// `CheckInProtectedReport`s, each with the end of the span it covers, UTC unix seconds.
    PresenceReports(&'a [(u64, Vec<u8>)]),
}

impl Store {
    /// Whether a published batch with this digest was processed already.
    pub fn batch_processed(&self, digest: &[u8; 32]) -> Result<bool, Error> {
        self.has_record(&self.sled.batches, TreeId::Batches, digest)
    }

    /// Remembers that a published batch was processed at `now_ms`.
    pub fn mark_batch_processed(&self, digest: &[u8; 32], now_ms: u64) -> Result<(), Error> {
        self.check_space()?;
        self.put_record(
            &self.sled.batches,
            TreeId::Batches,
            digest,
            &now_ms.to_be_bytes(),
        )?;
        Ok(())
    }

    /// Whether the export the key server's index lists as `name` was checked already (see
    /// [`mark_export_fetched`](Self::mark_export_fetched)).
    pub fn export_fetched(&self, name: &str) -> Result<bool, Error> {
        self.batch_processed(&export_name_key(name))
    }

    /// Remembers that the export listed as `name` was checked at `now_ms`, so that a later sync does not
    /// download it again. Kept with the batch digests, under a digest of the name.
    pub fn mark_export_fetched(&self, name: &str, now_ms: u64) -> Result<(), Error> {
        self.mark_batch_processed(&export_name_key(name), now_ms)
    }

    /// Records what checking the published batch `digest` found and the batch as processed at `now_ms`,
    /// in one transaction, and flushes: a crash leaves either both or neither, so a batch is never
    /// counted (nor a warning told) twice.
    pub fn record_batch(
        &self,
        findings: BatchFindings<'_>,
        digest: &[u8; 32],
        now_ms: u64,
    ) -> Result<(), Error> {
        self.check_space()?;
        let (tree, sealed) = match findings {
            BatchFindings::ExposureDays(days) => (
                &self.sled.exposures,
                self.seal_all(
                    TreeId::Exposures,
                    days.iter().map(|(day, record)| {
                        let key = day.to_be_bytes();
                        (key.to_vec(), [&key[..], record].concat())
                    }),
                )?,
            ),
            // Named by package and position: two packages may carry the same report.
            BatchFindings::PresenceReports(reports) => (
                &self.sled.presence,
                self.seal_all(
                    TreeId::Presence,
                    reports.iter().enumerate().map(|(i, (end, report))| {
                        (
                            [&digest[..], &(i as u32).to_be_bytes()].concat(),
                            [&end.to_be_bytes()[..], report].concat(),
                        )
                    }),
                )?,
            ),
        };
        self.put_with_batch(tree, &sealed, digest, now_ms)?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Seals records of tree `tree_id`, each given as (logical name, plaintext), for
    /// [`put_with_batch`](Self::put_with_batch).
    pub(super) fn seal_all(
        &self,
        tree_id: TreeId,
        records: impl ExactSizeIterator<Item = (Vec<u8>, Vec<u8>)>,
    ) -> Result<Vec<SealedRecord>, Error> {
        let sealer = self.sealer();
        let mut sealed = Vec::with_capacity(records.len());
        for (logical, plain) in records {
            let name = sealer.name(tree_id, &logical);
            sealed.push((name, sealer.seal(tree_id, &name, &plain)?));
        }
        Ok(sealed)
    }

    /// Inserts sealed records into `tree` and marks the published batch `digest` processed at `now_ms`,
    /// in one transaction.
    pub(super) fn put_with_batch(
        &self,
        tree: &sled::Tree,
        sealed: &[SealedRecord],
        digest: &[u8; 32],
        now_ms: u64,
    ) -> Result<(), Error> {
        use sled::Transactional as _;
        let sealer = self.sealer();
        let batch_name = sealer.name(TreeId::Batches, digest);
        let batch = sealer.seal(TreeId::Batches, &batch_name, &now_ms.to_be_bytes())?;
        drop(sealer);
        (tree, &self.sled.batches)
            .transaction(|(records, batches)| {
                for (name, value) in sealed {
                    records.insert(&name[..], value.as_slice())?;
                }
                batches.insert(&batch_name[..], batch.as_slice())?;
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
        let plain = self.sealed_meta(META_NOTIFIED, "the record of notified days")?;
        Ok(plain
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// Replaces the days the user was told were at risk, and flushes: a notification must not repeat
    /// after a crash.
    pub fn set_notified_days(&self, days: &[u32]) -> Result<(), Error> {
        let plain: Vec<u8> = days.iter().flat_map(|d| d.to_be_bytes()).collect();
        self.set_sealed_meta(META_NOTIFIED, &plain)
    }

    /// The plaintext of the sealed `meta` record `name`, empty if there is none. A list of fixed-size
    /// entries: [`META_ENTRY_SIZES`] gives the size, checked here.
    pub(super) fn sealed_meta(&self, name: &'static [u8], what: &str) -> Result<Vec<u8>, Error> {
        let Some(sealed) = self.sled.meta.get(name).map_err(|e| self.io(e))? else {
            return Ok(Vec::new());
        };
        let plain = self
            .sealer()
            .open(TreeId::Meta, name, &sealed)
            .ok_or_else(|| Error::StoreCorrupt(format!("{what} does not authenticate")))?;
        let entry = META_ENTRY_SIZES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(1, |(_, size)| *size);
        if plain.len() % entry != 0 {
            return Err(Error::StoreCorrupt(format!("{what} has an unknown layout")));
        }
        Ok(plain)
    }

    /// Replaces the sealed `meta` record `name`, and flushes.
    pub(super) fn set_sealed_meta(&self, name: &'static [u8], plain: &[u8]) -> Result<(), Error> {
        self.check_space()?;
        let sealed = self.sealer().seal(TreeId::Meta, name, plain)?;
        self.put_meta_flushed(name, &sealed)
    }

    /// Every stored exposure record, by UTC day, oldest first.
    pub fn exposures(&self) -> Result<Vec<(u32, Vec<u8>)>, Error> {
        let mut days = self
            .records(&self.sled.exposures, TreeId::Exposures, EXPOSURE)?
            .into_iter()
            .map(|r| split_day(r.plain))
            .collect::<Result<Vec<_>, _>>()?;
        days.sort_by_key(|(day, _)| *day);
        Ok(days)
    }

    /// Removes the exposure records of days before `cutoff_day`; returns how many.
    pub(super) fn remove_exposures_before(&self, cutoff_day: u32) -> Result<u64, Error> {
        let mut expired = Vec::new();
        for record in self.records(&self.sled.exposures, TreeId::Exposures, EXPOSURE)? {
            let name = record.name.clone();
            if split_day(record.plain)?.0 < cutoff_day {
                expired.push(name);
            }
        }
        self.remove_records(&self.sled.exposures, expired)
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
