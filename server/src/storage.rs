//! The server's database on sled: codes, uploaded keys, export batches, counters, officers, their
//! sessions and the audit log. The modules that own each kind of record (`codes`, `publish`,
//! `publication`, `officers`, `audit`) read and write it only through these trees, in transactions,
//! so that a shared database could take sled's place without touching the rules.
//!
//! Trees and their record keys:
//! - `codes`: HMAC-SHA256 of the code under the server's code key (32 bytes) → [`CodeRecord`] (JSON).
//!   The code itself is never stored.
//! - `keys`: the 16-byte TEK → [`StoredKey`] (JSON). Keying by the TEK makes a key stored twice impossible.
//! - `batches`: the batch number (u64 BE) → [`BatchRecord`] (JSON).
//! - `meta`: counter name → u64 BE.
//! - `officers`: the officer's name → `officers::OfficerRecord` (JSON).
//! - `sessions`: SHA-256 of the session token → `officers::SessionRecord` (JSON).
//! - `audit`: a growing id (u64 BE) → `audit::AuditEntry` (JSON).
//! - `checkins`: SHA-256 of an encrypted check-in → `warnings::StoredCheckIn` (JSON), while it waits
//!   for its warning package. A warning package is a batch like an export, with no keys.
//!
//! Invariants the publication keeps (see `publication.rs`): a key is pending (`batch: None`) or belongs to
//! exactly one batch; a batch is `writing` until the index lists its export, then `published`, then
//! `expiring` once retention has decided to remove it.

use std::path::Path;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::{Result, ServerError};

/// Counter of codes issued.
pub(crate) const CODES_ISSUED: &str = "codes_issued";
/// Counter of codes used.
pub(crate) const CODES_USED: &str = "codes_used";
/// Counter of real keys published.
pub(crate) const KEYS_PUBLISHED: &str = "keys_published";
/// The number of the next batch.
pub(crate) const NEXT_BATCH: &str = "next_batch";

/// What an officer confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestType {
    /// A positive test.
    Confirmed,
    /// A likely case: symptoms and contact, diagnosed clinically without a test.
    Likely,
}

/// A one-time code. Once used, it keeps no time of use and nothing derived from the keys it uploaded:
/// knowing who got which code must not tell which keys are theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodeRecord {
    pub test_type: TestType,
    /// UTC day of the onset of symptoms, if the officer gave it.
    pub onset_day: Option<u32>,
    pub issued_ms: u64,
    pub expires_ms: u64,
    /// Whether an upload used it.
    pub used: bool,
    /// SHA-256 (hex) of the sealed body's header (version, ephemeral public key, nonce) that used it: a
    /// retry re-sends the same body and is answered as a repeat. The header is random and says nothing
    /// about the keys inside.
    pub retry_tag: Option<String>,
}

/// An uploaded key. No time of receipt: that would tie the key to the moment its code was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredKey {
    pub rolling_start_interval: u32,
    pub rolling_period: u32,
    /// `ReportType` as its protobuf number.
    pub report_type: i32,
    pub days_since_onset: Option<i32>,
    pub transmission_risk_level: u8,
    /// The batch the key went into; `None` while it waits.
    pub batch: Option<u64>,
}

impl StoredKey {
    /// When the key stopped being used, UTC unix milliseconds.
    pub fn end_ms(&self) -> u64 {
        (u64::from(self.rolling_start_interval) + u64::from(self.rolling_period)) * 600_000
    }
}

/// The state of a batch's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BatchState {
    /// Keys are assigned; the export may or may not be written, the index does not list it yet.
    Writing,
    /// The index lists the export.
    Published,
    /// Retention removes it: first from the index, then its file, then this record.
    Expiring,
}

/// One export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BatchRecord {
    pub seq: u64,
    /// The object name, e.g. `0000000007-1a2b3c4d5e6f7a8b.zip`.
    pub name: String,
    pub state: BatchState,
    pub created_ms: u64,
    /// Real keys in the export (the rest are padding).
    pub real_keys: u64,
    /// All keys in the export.
    pub total_keys: u64,
}

/// The open database.
#[derive(Clone)]
pub(crate) struct Storage {
    pub db: sled::Db,
    pub codes: sled::Tree,
    pub keys: sled::Tree,
    pub batches: sled::Tree,
    pub meta: sled::Tree,
    pub officers: sled::Tree,
    pub sessions: sled::Tree,
    pub audit: sled::Tree,
    pub checkins: sled::Tree,
}

impl Storage {
    pub fn open(dir: &Path) -> Result<Self> {
        let config = sled::Config::new().path(dir).cache_capacity(64 << 20);
        // sled 0.34 panics instead of failing on some damaged files (seen with damaged segment
        // headers); a damaged database must be a clear error, as in the phone's store.
        let db = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open())) {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => {
                return Err(ServerError::Database(format!(
                    "cannot open the database in {} ({e}); is another server using it?",
                    dir.display()
                )))
            }
            Err(_) => {
                return Err(ServerError::Database(format!(
                    "the database files in {} are damaged and could not be read; restore them from a backup",
                    dir.display()
                )))
            }
        };
        let storage = Self {
            codes: db.open_tree("codes")?,
            keys: db.open_tree("keys")?,
            batches: db.open_tree("batches")?,
            meta: db.open_tree("meta")?,
            officers: db.open_tree("officers")?,
            sessions: db.open_tree("sessions")?,
            audit: db.open_tree("audit")?,
            checkins: db.open_tree("checkins")?,
            db,
        };
        storage.forget_clear_codes()?;
        Ok(storage)
    }

    /// Servers before codes were stored as HMACs keyed them by their 8 digits; those records (valid 24
    /// hours at most) are deleted rather than kept in clear.
    fn forget_clear_codes(&self) -> Result<()> {
        let mut n = 0;
        for key in self.codes.iter().keys() {
            let key = key?;
            if key.len() != 32 {
                self.codes.remove(key)?;
                n += 1;
            }
        }
        if n > 0 {
            tracing::info!(
                codes = n,
                "deleted codes stored in clear by an earlier version"
            );
        }
        Ok(())
    }

    /// Makes everything written so far durable.
    pub async fn flush(&self) -> Result<()> {
        // sled's own flush_async can hang when many transactions run at once (seen under load); a
        // blocking flush on tokio's blocking pool does not, and concurrent flushes share sled's work.
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| ServerError::Database(format!("the flush task failed: {e}")))??;
        Ok(())
    }

    pub fn counter(&self, name: &str) -> Result<u64> {
        Ok(self.meta.get(name)?.map_or(0, |v| decode_u64(&v)))
    }

    pub fn batches(&self) -> Result<Vec<BatchRecord>> {
        self.batches.iter().values().map(|v| decode(&v?)).collect()
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| ServerError::Database(format!("a record has an unknown layout: {e}")))
}

pub(crate) fn decode_u64(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes).map_or(0, u64::from_be_bytes)
}

/// Adds `n` to a counter inside a transaction.
pub(crate) fn add_to_counter<E>(
    meta: &sled::transaction::TransactionalTree,
    name: &str,
    n: u64,
) -> sled::transaction::ConflictableTransactionResult<(), E> {
    let old = meta.get(name)?.map_or(0, |v| decode_u64(&v));
    meta.insert(name, &(old + n).to_be_bytes())?;
    Ok(())
}

/// The result of a sled transaction whose aborts carry a [`ServerError`].
pub(crate) fn transaction_result<T>(
    result: Result<T, sled::transaction::TransactionError<ServerError>>,
) -> Result<T> {
    match result {
        Ok(v) => Ok(v),
        Err(sled::transaction::TransactionError::Abort(e)) => Err(e),
        Err(sled::transaction::TransactionError::Storage(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sled 0.34 panics while recovering from some damaged segment headers; opening must turn that into
    /// an error.
    #[test]
    fn damaged_segment_headers_are_an_error_never_a_panic() {
        let base = tempfile::tempdir().unwrap();
        {
            let storage = Storage::open(base.path()).unwrap();
            for i in 0..3_000u64 {
                storage
                    .meta
                    .insert(i.to_be_bytes(), vec![(i % 250) as u8; 1_000])
                    .unwrap();
                if i % 500 == 0 {
                    storage.db.flush().unwrap();
                }
            }
            for i in 0..1_500u64 {
                storage.meta.remove(i.to_be_bytes()).unwrap();
            }
            storage.db.flush().unwrap();
        }
        let bytes = std::fs::read(base.path().join("db")).unwrap();
        let conf = std::fs::read(base.path().join("conf")).unwrap();
        // sled's default segment size.
        let segment = 512 * 1024;
        let segments = bytes.len().div_ceil(segment);
        let mut rng = openzone_core::seeded::SplitMix64::new(3);
        let mut errors = 0;
        for _ in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("conf"), &conf).unwrap();
            let mut damaged = bytes.clone();
            let at = rng.between(0, segments as u64 - 1) as usize * segment
                + rng.between(0, 39) as usize;
            if at < damaged.len() {
                damaged[at] ^= rng.between(1, 255) as u8;
            }
            std::fs::write(dir.path().join("db"), &damaged).unwrap();
            let opened = std::panic::catch_unwind(|| Storage::open(dir.path()).map(|_| ()));
            match opened {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    assert!(matches!(e, ServerError::Database(_)), "{e}");
                    errors += 1;
                }
                Err(_) => panic!("opening a damaged database panicked"),
            }
        }
        assert!(errors > 0, "no damage was detected at all");
    }
}
