//! The server's database on sled: codes, uploaded keys, export batches and counters.
//!
//! Trees and their record keys:
//! - `codes`: the code's 8 ASCII digits → [`CodeRecord`] (JSON).
//! - `keys`: the 16-byte TEK → [`StoredKey`] (JSON). Keying by the TEK makes a key stored twice impossible.
//! - `batches`: the batch number (u64 BE) → [`BatchRecord`] (JSON).
//! - `meta`: counter name → u64 BE.
//!
//! Invariants the publication keeps (see `publication.rs`): a key is pending (`batch: None`) or belongs to
//! exactly one batch; a batch is `writing` until the index lists its export, then `published`.

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

/// A one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodeRecord {
    pub test_type: TestType,
    /// UTC day of the onset of symptoms, if the officer gave it.
    pub onset_day: Option<u32>,
    pub issued_ms: u64,
    pub expires_ms: u64,
    /// When an upload used it.
    pub used_ms: Option<u64>,
    /// SHA-256 (hex) of the sorted TEKs the code was used with, to recognise a retried upload.
    pub upload_digest: Option<String>,
}

/// An uploaded key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredKey {
    pub rolling_start_interval: u32,
    pub rolling_period: u32,
    /// `ReportType` as its protobuf number.
    pub report_type: i32,
    pub days_since_onset: Option<i32>,
    pub transmission_risk_level: u8,
    pub received_ms: u64,
    /// The batch the key went into; `None` while it waits.
    pub batch: Option<u64>,
}

impl StoredKey {
    /// When the key stopped being used, UTC unix milliseconds.
    pub fn end_ms(&self) -> u64 {
        u64::from(self.rolling_start_interval + self.rolling_period) * 600_000
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
}

impl Storage {
    pub fn open(dir: &Path) -> Result<Self> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(64 << 20)
            .open()
            .map_err(|e| {
                ServerError::Database(format!(
                    "cannot open the database in {} ({e}); is another server using it?",
                    dir.display()
                ))
            })?;
        Ok(Self {
            codes: db.open_tree("codes")?,
            keys: db.open_tree("keys")?,
            batches: db.open_tree("batches")?,
            meta: db.open_tree("meta")?,
            db,
        })
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
