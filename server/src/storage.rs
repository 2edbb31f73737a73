//! The server's database: codes, uploaded keys, export batches, counters, officers, their sessions, the
//! audit log, the publication's index and lease, and the secrets replicas share. Two backends keep it
//! behind one trait, [`Backend`]: sled in the data directory (`embedded`, one process) and PostgreSQL
//! (`postgres`, any number of replicas). The modules that own each kind of record (`codes`, `publish`,
//! `publication`, `officers`, `audit`, `keys`) read it with [`Storage::get`] and [`Storage::scan`] and
//! change it with [`Storage::commit`]: a [`Change`] lists the values it read (compare-and-set) and what it
//! writes, and commits whole or not at all. A conflict (another writer changed a value read) sends the
//! caller back to read again ([`Storage::retry`]). A new kind of record is a new [`Table`] name; neither
//! backend needs to know it.
//!
//! Tables (sled trees; rows of one `records` table in PostgreSQL) and their record keys:
//! - `codes`: HMAC-SHA256 of the code under the server's code key (32 bytes) → [`CodeRecord`] (JSON).
//!   The code itself is never stored.
//! - `keys`: the 16-byte TEK → [`StoredKey`] (JSON). Keying by the TEK makes a key stored twice impossible.
//! - `batches`: the batch number (u64 BE) → [`BatchRecord`] (JSON).
//! - `meta`: `next_batch` (u64 BE), the publication's `index` and `lease` (`publication.rs`). Counters
//!   (codes issued and used, keys published) grow with [`Change::add`]: in sled they live in `meta` too,
//!   in PostgreSQL in a `counters` table, so that concurrent uploads add without conflicting.
//! - `secrets`: the secrets replicas share (`keys.rs`), PostgreSQL only.
//! - `officers`: the officer's name → `officers::OfficerRecord` (JSON).
//! - `sessions`: SHA-256 of the session token → `officers::SessionRecord` (JSON).
//! - `audit`: a growing id (u64 BE) → `audit::AuditEntry` (JSON).
//! - `checkins`: SHA-256 of an encrypted check-in → `warnings::StoredCheckIn` (JSON), while it waits
//!   for its warning package. A warning package is a batch like an export, with no keys.
//! - `inbox`, `inbox_digests`, `inbox_counts`: venues' visitor-log inboxes (`inbox.rs`), read by key
//!   range ([`Storage::range`]).
//!
//! Invariants the publication keeps (see `publication.rs`): a key is pending (`batch: None`) or belongs to
//! exactly one batch; a batch is `writing` until the index record lists its export, `listed` until
//! `index.txt` does, then `published`, then `expiring` once retention has taken it out of the index.

mod embedded;
mod postgres;

pub(crate) use postgres::redacted;

use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::{Result, ServerError};
use crate::metrics::{DbLatency, DbOp};

/// The name of a kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Table(pub &'static str);

/// Declares a constant for each table and [`TABLES`], the list of them all, from one list.
macro_rules! tables {
    ($($name:ident: $table:literal,)*) => {
        $(pub(crate) const $name: Table = Table($table);)*

        /// Every table the server knows, opened up front by the embedded backend.
        pub(crate) const TABLES: &[Table] = &[$($name),*];
    };
}

tables! {
    CODES: "codes",
    KEYS: "keys",
    BATCHES: "batches",
    META: "meta",
    OFFICERS: "officers",
    SESSIONS: "sessions",
    AUDIT: "audit",
    SECRETS: "secrets",
    CHECKINS: "checkins",
    INBOX: "inbox",
    INBOX_DIGESTS: "inbox_digests",
    INBOX_COUNTS: "inbox_counts",
}

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
    /// The region (province code) the officer tied the case to; `None`: national.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// What an export says about a key besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyShape {
    pub rolling_start_interval: u32,
    pub rolling_period: u32,
    /// `ReportType` as its protobuf number.
    pub report_type: i32,
    pub days_since_onset: Option<i32>,
    pub transmission_risk_level: u8,
}

impl KeyShape {
    /// When the key stopped being used, UTC unix milliseconds.
    pub fn end_ms(&self) -> u64 {
        openzone_wire::units::interval_start_ms(
            self.rolling_start_interval
                .saturating_add(self.rolling_period),
        )
    }
}

/// An uploaded key. No time of receipt: that would tie the key to the moment its code was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredKey {
    /// Stored as fields of the key's record, as before the shape was a type of its own.
    #[serde(flatten)]
    pub shape: KeyShape,
    /// The batch the key went into; `None` while it waits.
    pub batch: Option<u64>,
    /// The region of the case's code: the export partition the key is published in (`None`: national).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The state of a batch's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BatchState {
    /// Keys are assigned; the export may or may not be written, the index does not list it yet.
    Writing,
    /// The index record lists the export; `index.txt` may not yet.
    Listed,
    /// The index lists the export.
    Published,
    /// Retention took it out of the index; its file and this record go after the grace period.
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
    /// When retention took it out of the index (records of earlier versions have none: due at once).
    #[serde(default)]
    pub delisted_ms: Option<u64>,
    /// The region partition the export belongs to (`None`: national).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A record's key and value.
pub(crate) type Row = (Vec<u8>, Vec<u8>);

/// The keys a scan reads: from the range's start (included) to its end (excluded), or every key (`None`).
pub(crate) type Keys<'a> = Option<std::ops::Range<&'a [u8]>>;

/// One write of a [`Change`].
#[derive(Debug, Clone)]
pub(crate) enum Write {
    Put(Table, Vec<u8>, Vec<u8>),
    Remove(Table, Vec<u8>),
    /// Adds to a counter (created at 0).
    Add(&'static str, u64),
}

/// What a transaction read and what it writes: committed only if every value read is still the same.
#[derive(Debug, Clone, Default)]
pub(crate) struct Change {
    /// Table, key, the value read (`None`: absent).
    pub expected: Vec<(Table, Vec<u8>, Option<Vec<u8>>)>,
    pub writes: Vec<Write>,
}

impl Change {
    /// Commits only if `key` still holds `value` (`None`: is still absent).
    pub fn expect(&mut self, table: Table, key: impl Into<Vec<u8>>, value: Option<Vec<u8>>) {
        self.expected.push((table, key.into(), value));
    }

    pub fn put(&mut self, table: Table, key: impl Into<Vec<u8>>, value: Vec<u8>) {
        self.writes.push(Write::Put(table, key.into(), value));
    }

    pub fn remove(&mut self, table: Table, key: impl Into<Vec<u8>>) {
        self.writes.push(Write::Remove(table, key.into()));
    }

    pub fn add(&mut self, counter: &'static str, n: u64) {
        self.writes.push(Write::Add(counter, n));
    }

    pub fn is_empty(&self) -> bool {
        self.expected.is_empty() && self.writes.is_empty()
    }
}

/// Whether a [`Change`] was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Committed {
    Yes,
    /// A value it read had changed (or a deadlock was broken): nothing was written; read again.
    Conflict,
}

/// A database the server can run on. Reads see committed data; [`Backend::commit`] is atomic and
/// durable once it returns, except that the embedded backend makes it durable at [`Backend::flush`].
pub(crate) trait Backend: Send + Sync {
    /// One record.
    fn get<'a>(&'a self, table: Table, key: &'a [u8]) -> BoxFuture<'a, Result<Option<Vec<u8>>>>;
    /// The records of a table with keys in `keys` (`None`: every record), in key order.
    fn scan<'a>(&'a self, table: Table, keys: Keys<'a>) -> BoxFuture<'a, Result<Vec<Row>>>;
    /// How many records a table holds.
    fn count(&self, table: Table) -> BoxFuture<'_, Result<u64>>;
    /// A counter's value (0 if it was never added to).
    fn counter<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<u64>>;
    /// Applies a change whole, if what it read is unchanged.
    fn commit(&self, change: Change) -> BoxFuture<'_, Result<Committed>>;
    /// A number no earlier call returned, larger than all of them in one process (audit ids).
    fn next_id(&self) -> BoxFuture<'_, Result<u64>>;
    /// Makes every commit so far durable.
    fn flush(&self) -> BoxFuture<'_, Result<()>>;
    /// Whether several processes may share this database (then secrets and leases live in it).
    fn shared(&self) -> bool;
}

/// How many times [`Storage::retry`] reads again before it gives up.
const MAX_ATTEMPTS: usize = 1_000;

/// The open database: a cheap handle to its backend.
#[derive(Clone)]
pub(crate) struct Storage {
    backend: Arc<dyn Backend>,
    /// Where a server's operations report their latency (`/metrics`); none for `openzone officer`.
    latency: Option<DbLatency>,
}

impl Storage {
    /// The embedded database in `dir` (sled).
    pub fn open(dir: &Path) -> Result<Self> {
        Ok(Self {
            backend: Arc::new(embedded::Embedded::open(dir)?),
            latency: None,
        })
    }

    /// A PostgreSQL database at `url` (`postgres://...`), brought up to date by the migrations in
    /// `server/migrations` under an advisory lock.
    pub async fn connect(url: &str) -> Result<Self> {
        Ok(Self {
            backend: Arc::new(postgres::Postgres::connect(url).await?),
            latency: None,
        })
    }

    /// This handle, with every get, scan, commit and next_id timed into `latency`, whichever the backend.
    pub fn measured(mut self, latency: DbLatency) -> Self {
        self.latency = Some(latency);
        self
    }

    /// Runs one backend operation, timing it if this handle is measured.
    async fn timed<T>(&self, op: DbOp, operation: BoxFuture<'_, Result<T>>) -> Result<T> {
        let Some(latency) = &self.latency else {
            return operation.await;
        };
        let started = std::time::Instant::now();
        let result = operation.await;
        latency.observe(op, started.elapsed());
        result
    }

    pub fn shared(&self) -> bool {
        self.backend.shared()
    }

    pub async fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.timed(DbOp::Get, self.backend.get(table, key)).await
    }

    /// A record decoded from JSON.
    pub async fn get_record<T: DeserializeOwned>(
        &self,
        table: Table,
        key: &[u8],
    ) -> Result<Option<T>> {
        self.get(table, key).await?.map(|v| decode(&v)).transpose()
    }

    pub async fn scan(&self, table: Table) -> Result<Vec<Row>> {
        self.timed(DbOp::Scan, self.backend.scan(table, None)).await
    }

    /// The records with keys from `from` (included) to `to` (excluded), in key order.
    pub async fn range(&self, table: Table, from: &[u8], to: &[u8]) -> Result<Vec<Row>> {
        self.backend.scan(table, Some(from..to)).await
    }

    /// Every record of a table decoded from JSON, with its key, in key order.
    pub async fn scan_records<T: DeserializeOwned>(
        &self,
        table: Table,
    ) -> Result<Vec<(Vec<u8>, T)>> {
        self.scan(table)
            .await?
            .into_iter()
            .map(|(k, v)| Ok((k, decode(&v)?)))
            .collect()
    }

    /// Every record of a table, decoded, in key order, without their keys.
    pub async fn records<T: DeserializeOwned>(&self, table: Table) -> Result<Vec<T>> {
        self.scan(table)
            .await?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    pub async fn count(&self, table: Table) -> Result<u64> {
        self.backend.count(table).await
    }

    pub async fn counter(&self, name: &str) -> Result<u64> {
        self.backend.counter(name).await
    }

    pub async fn commit(&self, change: Change) -> Result<Committed> {
        if change.is_empty() {
            return Ok(Committed::Yes);
        }
        self.timed(DbOp::Commit, self.backend.commit(change)).await
    }

    /// Commits a change that reads nothing (it cannot conflict).
    pub async fn write(&self, change: Change) -> Result<()> {
        match self.commit(change).await? {
            Committed::Yes => Ok(()),
            Committed::Conflict => Err(ServerError::Database(
                "a write that reads nothing met a conflict; try again".into(),
            )),
        }
    }

    /// Runs `attempt` (read, decide, commit) until it commits without a conflict: it returns
    /// `Ok(Some(value))` when done, `Ok(None)` after a conflict.
    pub async fn retry<T, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        for _ in 0..MAX_ATTEMPTS {
            if let Some(done) = attempt().await? {
                return Ok(done);
            }
            tokio::task::yield_now().await;
        }
        Err(ServerError::Database(format!(
            "a transaction met {MAX_ATTEMPTS} conflicts in a row; the database is overloaded, try again"
        )))
    }

    pub async fn next_id(&self) -> Result<u64> {
        self.timed(DbOp::NextId, self.backend.next_id()).await
    }

    /// Makes everything written so far durable.
    pub async fn flush(&self) -> Result<()> {
        self.backend.flush().await
    }

    pub async fn batches(&self) -> Result<Vec<BatchRecord>> {
        self.records(BATCHES).await
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys stored before the shape was a type of its own read back the same, and are written the same.
    #[test]
    fn a_stored_keys_record_keeps_its_layout() {
        let record = br#"{"rolling_start_interval":2991888,"rolling_period":144,"report_type":1,"days_since_onset":null,"transmission_risk_level":5,"batch":7,"region":"hn"}"#;
        let key: StoredKey = decode(record).unwrap();
        assert_eq!(
            key,
            StoredKey {
                shape: KeyShape {
                    rolling_start_interval: 2_991_888,
                    rolling_period: 144,
                    report_type: 1,
                    days_since_onset: None,
                    transmission_risk_level: 5,
                },
                batch: Some(7),
                region: Some("hn".into()),
            }
        );
        assert_eq!(encode(&key), record);
        let national: StoredKey = decode(br#"{"rolling_start_interval":1,"rolling_period":2,"report_type":3,"days_since_onset":-4,"transmission_risk_level":5,"batch":null}"#).unwrap();
        assert_eq!(national.shape.days_since_onset, Some(-4));
        assert_eq!((national.batch, national.region), (None, None));
    }
}
