//! Publication: uploaded keys become signed export files listed in `index.txt`.
//!
//! On every cadence tick, keys whose validity ended at least the publication delay ago go into a batch,
//! padded with random keys to the minimum batch size (fake keys copy the metadata of real ones, so they
//! cannot be told apart), sorted by key bytes (so the order says nothing about who uploaded together),
//! signed (ECDSA P-256), and written as an export zip.
//!
//! Crash safety, step by step; a crash (even SIGKILL) at any point leaves a state that startup reconciles:
//!
//! 1. One sled transaction gives the batch its number, records it as `writing` with its file name, and
//!    assigns the keys to it; flushed.
//! 2. The zip is written under its unique name (`<batch number>-<hash>.zip`). Locally object_store
//!    writes a staging file and renames it into place; on S3 a PUT is atomic. Either way a reader never
//!    sees a partial file.
//! 3. `index.txt` is rewritten whole, the same way, listing every published export and the new one.
//! 4. The batch becomes `published` and the counter of published keys grows; flushed.
//!
//! Reconciliation: a `writing` batch that the index lists is marked `published` (the crash came between
//! 3 and 4); one the index does not list gives its keys back to the pending pool and its file, if any,
//! is deleted (the crash came between 1 and 3). At startup, files the index does not list are deleted.
//! So the index only ever lists complete files, and every key ends up in exactly one listed export.
//!
//! Retention: exports older than 14 days leave the index first, then their files and records go; keys
//! that ended more than 14 days ago and codes issued more than 14 days ago are deleted.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use openzone_core::export::signing::SigningKey;
use openzone_core::export::{ExportBuilder, ExportKey, ReportType};
use openzone_core::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use ring::rand::{SecureRandom, SystemRandom};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::error::{Result, ServerError};
use crate::storage::{
    add_to_counter, decode, encode, BatchRecord, BatchState, Storage, StoredKey, KEYS_PUBLISHED,
    NEXT_BATCH,
};

/// The index's object name.
pub const INDEX_NAME: &str = "index.txt";

/// Most keys in one export; more eligible keys make several exports in one run.
pub const MAX_EXPORT_KEYS: usize = 100_000;

/// When and how exports are made.
#[derive(Debug, Clone)]
pub struct PublicationSettings {
    /// Time between publication runs. Default 1 hour.
    pub cadence: Duration,
    /// Exports are padded with random keys to at least this many. Default 1000.
    pub min_batch: usize,
    /// A key is published this long after its validity ended. Default 2 hours.
    pub delay: Duration,
    /// Days keys and exports are kept. Default 14.
    pub retention_days: u32,
    /// Region written into exports. Default "VN".
    pub region: String,
}

impl Default for PublicationSettings {
    fn default() -> Self {
        Self {
            cadence: Duration::from_secs(3_600),
            min_batch: 1_000,
            delay: Duration::from_secs(2 * 3_600),
            retention_days: 14,
            region: "VN".into(),
        }
    }
}

/// Where exports are written: any object_store, under a prefix.
#[derive(Debug, Clone)]
pub(crate) struct Exports {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: ObjectPath,
    /// For a local directory, the directory itself: staging files that a crash left behind are removed
    /// from it at startup.
    pub local_dir: Option<PathBuf>,
}

impl Exports {
    fn path(&self, name: &str) -> ObjectPath {
        self.prefix.clone().join(name)
    }

    /// An object's bytes, or `None` if it does not exist.
    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.store.get(&self.path(name)).await {
            Ok(got) => Ok(Some(got.bytes().await?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(&self.path(name), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<()> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The names of every object under the prefix.
    async fn list(&self) -> Result<Vec<String>> {
        let metas: Vec<object_store::ObjectMeta> =
            self.store.list(Some(&self.prefix)).try_collect().await?;
        Ok(metas
            .into_iter()
            .filter_map(|m| m.location.filename().map(str::to_owned))
            .collect())
    }

    /// The names `index.txt` lists, in order.
    pub async fn read_index(&self) -> Result<Vec<String>> {
        let Some(bytes) = self.get(INDEX_NAME).await? else {
            return Ok(Vec::new());
        };
        Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    async fn write_index(&self, names: &[String]) -> Result<()> {
        let mut text = String::new();
        for name in names {
            text.push_str(name);
            text.push('\n');
        }
        self.put(INDEX_NAME, text.into_bytes()).await
    }
}

/// What one publication run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicationReport {
    /// Exports written: name, real keys, all keys.
    pub exports: Vec<(String, u64, u64)>,
    /// Exports deleted by retention.
    pub exports_expired: u64,
    /// Keys deleted by retention.
    pub keys_expired: u64,
    /// Codes deleted by retention.
    pub codes_expired: u64,
}

/// What reconciliation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Interrupted batches the index listed: now published.
    pub completed: u64,
    /// Interrupted batches the index did not list: their keys are pending again.
    pub rolled_back: u64,
    /// Files no index entry pointed to, deleted.
    pub orphans_deleted: u64,
}

/// Makes exports; one run at a time.
pub(crate) struct Publisher {
    pub storage: Storage,
    pub exports: Exports,
    pub signer: SigningKey,
    pub settings: PublicationSettings,
    lock: tokio::sync::Mutex<()>,
}

impl Publisher {
    pub fn new(
        storage: Storage,
        exports: Exports,
        signer: SigningKey,
        settings: PublicationSettings,
    ) -> Self {
        Self {
            storage,
            exports,
            signer,
            settings,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Startup: reconciles interrupted batches, deletes files the index does not list (and staging files
    /// of interrupted writes), and writes an empty index if there is none.
    pub async fn startup(&self) -> Result<ReconcileReport> {
        let _guard = self.lock.lock().await;
        let mut report = self.reconcile().await?;
        let index = self.exports.read_index().await?;
        let listed: HashSet<&String> = index.iter().collect();
        // Published batches the index no longer lists were on their way out (retention): finish that.
        for batch in self.storage.batches()? {
            if batch.state == BatchState::Published && !listed.contains(&batch.name) {
                self.exports.delete(&batch.name).await?;
                self.storage.batches.remove(batch.seq.to_be_bytes())?;
            }
        }
        for name in self.exports.list().await? {
            if name != INDEX_NAME && !listed.contains(&name) {
                self.exports.delete(&name).await?;
                report.orphans_deleted += 1;
            }
        }
        if let Some(dir) = &self.exports.local_dir {
            remove_staging_files(dir);
        }
        if self.exports.get(INDEX_NAME).await?.is_none() {
            self.exports.write_index(&[]).await?;
        }
        self.storage.flush().await?;
        Ok(report)
    }

    /// Finishes or rolls back every batch left `writing`.
    async fn reconcile(&self) -> Result<ReconcileReport> {
        let mut report = ReconcileReport::default();
        let writing: Vec<BatchRecord> = self
            .storage
            .batches()?
            .into_iter()
            .filter(|b| b.state == BatchState::Writing)
            .collect();
        if writing.is_empty() {
            return Ok(report);
        }
        let index = self.exports.read_index().await?;
        for batch in writing {
            if index.contains(&batch.name) {
                self.mark_published(&batch)?;
                report.completed += 1;
            } else {
                self.exports.delete(&batch.name).await?;
                self.roll_back(&batch)?;
                report.rolled_back += 1;
            }
        }
        self.storage.flush().await?;
        tracing::info!(
            completed = report.completed,
            rolled_back = report.rolled_back,
            "reconciled interrupted publications"
        );
        Ok(report)
    }

    fn mark_published(&self, batch: &BatchRecord) -> Result<()> {
        let published = BatchRecord {
            state: BatchState::Published,
            ..batch.clone()
        };
        let result = (&self.storage.batches, &self.storage.meta).transaction(|(batches, meta)| {
            batches.insert(&batch.seq.to_be_bytes(), encode(&published))?;
            add_to_counter::<ServerError>(meta, KEYS_PUBLISHED, batch.real_keys)?;
            Ok(())
        });
        transaction_result(result)
    }

    fn roll_back(&self, batch: &BatchRecord) -> Result<()> {
        let mut members = Vec::new();
        for entry in self.storage.keys.iter() {
            let (tek, value) = entry?;
            let mut key: StoredKey = decode(&value)?;
            if key.batch == Some(batch.seq) {
                key.batch = None;
                members.push((tek, encode(&key)));
            }
        }
        let result = (&self.storage.keys, &self.storage.batches).transaction(|(keys, batches)| {
            for (tek, value) in &members {
                keys.insert(tek, value.as_slice())?;
            }
            batches.remove(&batch.seq.to_be_bytes())?;
            Ok::<_, ConflictableTransactionError<ServerError>>(())
        });
        transaction_result(result)
    }

    /// One publication run at `now_ms`: reconcile, publish every due key, apply retention.
    pub async fn run(&self, now_ms: u64) -> Result<PublicationReport> {
        let _guard = self.lock.lock().await;
        self.reconcile().await?;
        let mut report = PublicationReport::default();
        loop {
            let due = self.due_keys(now_ms)?;
            if due.is_empty() {
                break;
            }
            report.exports.push(self.publish_batch(due, now_ms).await?);
        }
        self.retention(now_ms, &mut report).await?;
        Ok(report)
    }

    /// Pending keys whose validity ended at least the delay ago (and not beyond retention), at most
    /// [`MAX_EXPORT_KEYS`].
    fn due_keys(&self, now_ms: u64) -> Result<Vec<([u8; 16], StoredKey)>> {
        let delay_ms = self.settings.delay.as_millis() as u64;
        let oldest_ms = self.retention_cutoff_ms(now_ms);
        let mut due = Vec::new();
        for entry in self.storage.keys.iter() {
            let (tek, value) = entry?;
            let key: StoredKey = decode(&value)?;
            if key.batch.is_none() && key.end_ms() + delay_ms <= now_ms && key.end_ms() > oldest_ms
            {
                let tek: [u8; 16] = tek
                    .as_ref()
                    .try_into()
                    .map_err(|_| ServerError::Database("a stored key is not 16 bytes".into()))?;
                due.push((tek, key));
                if due.len() == MAX_EXPORT_KEYS {
                    break;
                }
            }
        }
        Ok(due)
    }

    fn retention_cutoff_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(u64::from(self.settings.retention_days) * 86_400_000)
    }

    async fn publish_batch(
        &self,
        due: Vec<([u8; 16], StoredKey)>,
        now_ms: u64,
    ) -> Result<(String, u64, u64)> {
        let seq = self.storage.counter(NEXT_BATCH)? + 1;
        let keys = padded_export_keys(&due, self.settings.min_batch)?;
        let real = due.len() as u64;
        let total = keys.len() as u64;
        let start_s = due
            .iter()
            .map(|(_, k)| u64::from(k.rolling_start_interval) * 600)
            .min()
            .unwrap_or(now_ms / 1000);
        let zip = ExportBuilder {
            start_timestamp: start_s,
            end_timestamp: now_ms / 1000,
            region: self.settings.region.clone(),
            batch_num: 1,
            batch_size: 1,
            keys,
        }
        .build_zip(&self.signer)?;
        let hash = ring::digest::digest(&ring::digest::SHA256, &zip);
        let name = format!("{seq:010}-{}.zip", hex::encode(&hash.as_ref()[..8]));
        let batch = BatchRecord {
            seq,
            name: name.clone(),
            state: BatchState::Writing,
            created_ms: now_ms,
            real_keys: real,
            total_keys: total,
        };

        // 1. Number the batch, record it as writing, assign its keys.
        let result = (
            &self.storage.keys,
            &self.storage.batches,
            &self.storage.meta,
        )
            .transaction(|(keys, batches, meta)| {
                let last = meta
                    .get(NEXT_BATCH)?
                    .map_or(0, |v| crate::storage::decode_u64(&v));
                if last + 1 != seq {
                    return Err(ConflictableTransactionError::Abort(ServerError::Database(
                        "another publication numbered a batch at the same time".into(),
                    )));
                }
                for (tek, key) in &due {
                    let assigned = StoredKey {
                        batch: Some(seq),
                        ..key.clone()
                    };
                    keys.insert(tek, encode(&assigned))?;
                }
                batches.insert(&seq.to_be_bytes(), encode(&batch))?;
                meta.insert(NEXT_BATCH, &seq.to_be_bytes())?;
                Ok(())
            });
        transaction_result(result)?;
        self.storage.flush().await?;
        failpoint("publication-assigned");

        // 2. The file, under its unique name.
        self.exports.put(&name, zip).await?;
        failpoint("publication-written");

        // 3. The index, rewritten whole.
        let mut names: Vec<String> = self
            .storage
            .batches()?
            .into_iter()
            .filter(|b| b.state == BatchState::Published)
            .map(|b| b.name)
            .collect();
        names.push(name.clone());
        self.exports.write_index(&names).await?;
        failpoint("publication-listed");

        // 4. Published.
        self.mark_published(&batch)?;
        self.storage.flush().await?;
        tracing::info!(
            batch = seq,
            real_keys = real,
            total_keys = total,
            "export published"
        );
        Ok((name, real, total))
    }

    async fn retention(&self, now_ms: u64, report: &mut PublicationReport) -> Result<()> {
        let cutoff = self.retention_cutoff_ms(now_ms);
        let batches = self.storage.batches()?;
        let (old, kept): (Vec<BatchRecord>, Vec<BatchRecord>) = batches
            .into_iter()
            .filter(|b| b.state == BatchState::Published)
            .partition(|b| b.created_ms < cutoff);
        if !old.is_empty() {
            let names: Vec<String> = kept.into_iter().map(|b| b.name).collect();
            self.exports.write_index(&names).await?;
            for batch in &old {
                self.exports.delete(&batch.name).await?;
                self.storage.batches.remove(batch.seq.to_be_bytes())?;
            }
            report.exports_expired += old.len() as u64;
        }
        let writing: HashSet<u64> = self
            .storage
            .batches()?
            .into_iter()
            .filter(|b| b.state == BatchState::Writing)
            .map(|b| b.seq)
            .collect();
        for entry in self.storage.keys.iter() {
            let (tek, value) = entry?;
            let key: StoredKey = decode(&value)?;
            let in_writing_batch = key.batch.is_some_and(|b| writing.contains(&b));
            if key.end_ms() <= cutoff && !in_writing_batch {
                self.storage.keys.remove(tek)?;
                report.keys_expired += 1;
            }
        }
        report.codes_expired += crate::codes::delete_issued_before(&self.storage, cutoff)?;
        self.storage.flush().await?;
        Ok(())
    }
}

/// The due keys as export keys plus random ones up to `min_batch`, sorted by key bytes.
fn padded_export_keys(due: &[([u8; 16], StoredKey)], min_batch: usize) -> Result<Vec<ExportKey>> {
    let rng = SystemRandom::new();
    let random = |buf: &mut [u8]| {
        rng.fill(buf)
            .map_err(|_| ServerError::Core(openzone_core::Error::Random))
    };
    let export_key = |tek: [u8; 16], k: &StoredKey| -> Result<ExportKey> {
        Ok(ExportKey {
            key: ExposureKey::new(
                TemporaryExposureKey::from_bytes(tek),
                k.rolling_start_interval,
                k.rolling_period,
            )?,
            transmission_risk_level: Some(k.transmission_risk_level),
            report_type: ReportType::from_i32(k.report_type),
            days_since_onset: k.days_since_onset,
        })
    };
    let mut keys = due
        .iter()
        .map(|(tek, k)| export_key(*tek, k))
        .collect::<Result<Vec<_>>>()?;
    // Fake keys copy the metadata of a random real key: their intervals, levels and report types have
    // the same distribution as the real ones.
    while keys.len() < min_batch && !due.is_empty() {
        let mut tek = [0u8; 16];
        random(&mut tek)?;
        let mut pick = [0u8; 4];
        random(&mut pick)?;
        let (_, model) = &due[u32::from_le_bytes(pick) as usize % due.len()];
        keys.push(export_key(tek, model)?);
    }
    keys.sort_by(|a, b| a.key.tek.as_bytes().cmp(b.key.tek.as_bytes()));
    Ok(keys)
}

/// A crash test hook: built with the `failpoints` feature, the process aborts here (as abruptly as a
/// SIGKILL: no destructor, no flush) when `OPENZONE_FAILPOINT` names this point. Without the feature it is
/// nothing.
fn failpoint(name: &str) {
    #[cfg(feature = "failpoints")]
    if std::env::var("OPENZONE_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}

/// Removes the staging files (`name#N`) that object_store's local store leaves when the process dies in
/// the middle of a write.
fn remove_staging_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().contains('#') {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn transaction_result<T>(result: Result<T, TransactionError<ServerError>>) -> Result<T> {
    match result {
        Ok(v) => Ok(v),
        Err(TransactionError::Abort(e)) => Err(e),
        Err(TransactionError::Storage(e)) => Err(e.into()),
    }
}

/// Keys waiting for publication, for the officer page.
pub(crate) fn pending_keys(storage: &Storage) -> Result<u64> {
    let mut n = 0;
    for value in storage.keys.iter().values() {
        let key: StoredKey = decode(&value?)?;
        if key.batch.is_none() {
            n += 1;
        }
    }
    Ok(n)
}
