//! Publication: uploaded keys become signed export files listed in `index.txt` (and encrypted check-ins
//! warning packages, see `warnings.rs`, through the same steps).
//!
//! On every cadence tick, keys whose validity ended at least the publication delay ago go into a batch,
//! padded with fake keys (`padding.rs`), sorted by key bytes (so the order says nothing about who uploaded
//! together), signed (ECDSA P-256), and written as an export zip.
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
//! is deleted (the crash came between 1 and 3).
//!
//! Nothing is deleted that the database cannot account for. Before anything else, startup checks that
//! the index and the database agree: a missing index (once something was published), an index that
//! lists an export the database does not know or a file that is missing, or one that leaves out a
//! published export, stops the server with [`ServerError::Publication`] saying what to restore. A file
//! is deleted only as the step of a batch the database records (rolled back, or expiring); files nobody
//! accounts for are left alone and reported; staging files of interrupted local writes are removed.
//!
//! Retention: exports older than 14 days are marked `expiring`, leave the index, then their files and
//! records go; keys that ended more than 14 days ago and codes issued more than 14 days ago are deleted.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use openzone_core::export::signing::SigningKey;
use openzone_core::export::ExportBuilder;
use openzone_core::keyserver::wire::WARNING_PACKAGE_MARK;
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use crate::error::{Result, ServerError};
use crate::padding::{padded_export_keys, KeyShape};
use crate::storage::{
    add_to_counter, decode, encode, transaction_result, BatchRecord, BatchState, Storage,
    StoredKey, KEYS_PUBLISHED, NEXT_BATCH,
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
    /// Exports are padded with fake keys to at least this many. Default 1000.
    pub min_batch: usize,
    /// Padding adds a random 0 to this many fake keys more. Default 200.
    pub padding_jitter: usize,
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
            padding_jitter: 200,
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

    /// Where the exports are, for messages.
    fn location(&self) -> String {
        match &self.local_dir {
            Some(dir) => dir.display().to_string(),
            None => format!("{}/{}", self.store, self.prefix),
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

    /// The names `index.txt` lists, in order; `None` if there is no index.
    pub async fn read_index(&self) -> Result<Option<Vec<String>>> {
        let Some(bytes) = self.get(INDEX_NAME).await? else {
            return Ok(None);
        };
        parse_index(&bytes)
            .map(Some)
            .map_err(|e| ServerError::Publication(format!("{} in {}", e, self.location())))
    }

    /// The index, which must exist: publication has run before whenever this is called.
    async fn existing_index(&self) -> Result<Vec<String>> {
        self.read_index().await?.ok_or_else(|| {
            ServerError::Publication(format!(
                "{INDEX_NAME} disappeared from {}; restore it from a backup of the export storage. \
                 Nothing was deleted.",
                self.location()
            ))
        })
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
    /// Warning packages written: name, check-ins uploaded or warned (phones' fakes included), all
    /// reports.
    pub warning_packages: Vec<(String, u64, u64)>,
    /// Exports (and warning packages) deleted by retention.
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
    /// Files of rolled-back or expiring batches, deleted.
    pub orphans_deleted: u64,
    /// Files in the export storage that neither the index nor the database accounts for: left alone.
    pub unknown_files: u64,
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

    /// Startup: checks that the index and the database agree (or stops), writes an empty index on the very
    /// first start, reconciles interrupted batches and retention, and removes staging files of
    /// interrupted writes.
    pub async fn startup(&self) -> Result<ReconcileReport> {
        let _guard = self.lock.lock().await;
        let batches = self.storage.batches()?;
        let index = match self.exports.read_index().await? {
            Some(index) => index,
            None if batches.is_empty() && self.storage.counter(NEXT_BATCH)? == 0 => {
                self.exports.write_index(&[]).await?;
                Vec::new()
            }
            None => {
                return Err(ServerError::Publication(format!(
                    "{INDEX_NAME} is missing from {}, but the database records {} exports (the newest {}); \
                     restore {INDEX_NAME} and the export files from a backup of the export storage, or \
                     point --exports at where they are. Nothing was deleted.",
                    self.exports.location(),
                    batches.len(),
                    batches.last().map_or("", |b| b.name.as_str())
                )))
            }
        };
        let files: HashSet<String> = self.exports.list().await?.into_iter().collect();
        check_agreement(&index, &batches, &files, &self.exports.location())?;
        let mut report = self.reconcile().await?;
        report.orphans_deleted += self.finish_expiring().await?;
        if let Some(dir) = &self.exports.local_dir {
            remove_staging_files(dir);
        }
        let known: HashSet<String> = self
            .storage
            .batches()?
            .into_iter()
            .map(|b| b.name)
            .collect();
        let unknown: Vec<String> = self
            .exports
            .list()
            .await?
            .into_iter()
            .filter(|name| name != INDEX_NAME && !known.contains(name))
            .collect();
        if !unknown.is_empty() {
            tracing::warn!(
                files = unknown.len(),
                "the export storage holds files this server did not write; they were left alone"
            );
        }
        report.unknown_files = unknown.len() as u64;
        self.storage.flush().await?;
        Ok(report)
    }

    /// Finishes or rolls back every batch left `writing`: published if the index lists it, else its
    /// file (which only this batch can have written) is deleted and its keys wait again.
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
        let index = self.exports.existing_index().await?;
        for batch in writing {
            if index.contains(&batch.name) {
                self.mark_published(&batch)?;
                report.completed += 1;
            } else {
                self.exports.delete(&batch.name).await?;
                self.roll_back(&batch)?;
                report.rolled_back += 1;
                report.orphans_deleted += 1;
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

    /// Finishes retention of the batches marked `expiring`: the index without them, then their files,
    /// then their records. Returns how many files went.
    async fn finish_expiring(&self) -> Result<u64> {
        let batches = self.storage.batches()?;
        let expiring: Vec<&BatchRecord> = batches
            .iter()
            .filter(|b| b.state == BatchState::Expiring)
            .collect();
        if expiring.is_empty() {
            return Ok(0);
        }
        let index = self.exports.existing_index().await?;
        let leaving: HashSet<&str> = expiring.iter().map(|b| b.name.as_str()).collect();
        if index.iter().any(|name| leaving.contains(name.as_str())) {
            let kept: Vec<String> = index
                .into_iter()
                .filter(|name| !leaving.contains(name.as_str()))
                .collect();
            self.exports.write_index(&kept).await?;
        }
        for batch in &expiring {
            self.exports.delete(&batch.name).await?;
            self.storage.batches.remove(batch.seq.to_be_bytes())?;
        }
        self.storage.flush().await?;
        Ok(expiring.len() as u64)
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
        // A retention that failed half-way (the export storage was unreachable) is finished first.
        report.exports_expired += self.finish_expiring().await?;
        loop {
            let due = self.due_keys(now_ms)?;
            if due.is_empty() {
                break;
            }
            report.exports.push(self.publish_batch(due, now_ms).await?);
        }
        if let Some(package) = self.publish_warnings(now_ms).await? {
            report.warning_packages.push(package);
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

    /// The shapes fake keys are drawn from: every stored key that could be published at `now_ms`
    /// (ended at least the delay ago, within retention), published or not.
    fn padding_pool(&self, now_ms: u64) -> Result<Vec<KeyShape>> {
        let delay_ms = self.settings.delay.as_millis() as u64;
        let oldest_ms = self.retention_cutoff_ms(now_ms);
        let mut pool = Vec::new();
        for value in self.storage.keys.iter().values() {
            let key: StoredKey = decode(&value?)?;
            if key.end_ms() + delay_ms <= now_ms && key.end_ms() > oldest_ms {
                pool.push(KeyShape::from(&key));
            }
        }
        Ok(pool)
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
        let pool = self.padding_pool(now_ms)?;
        let keys = padded_export_keys(
            &due,
            &pool,
            self.settings.min_batch,
            self.settings.padding_jitter,
        )?;
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
                for (tek, key) in &due {
                    let assigned = StoredKey {
                        batch: Some(seq),
                        ..key.clone()
                    };
                    keys.insert(tek, encode(&assigned))?;
                }
                record_writing(batches, meta, &batch)
            });
        transaction_result(result)?;
        self.storage.flush().await?;
        failpoint("publication-assigned");
        self.list_batch(&batch, zip).await?;
        tracing::info!(
            batch = seq,
            real_keys = real,
            total_keys = total,
            "export published"
        );
        Ok((name, real, total))
    }

    /// Steps 2 to 4 of a batch recorded as `writing` (an export or a warning package): its file under
    /// its unique name, the index rewritten whole with it, then published.
    pub(crate) async fn list_batch(&self, batch: &BatchRecord, zip: Vec<u8>) -> Result<()> {
        // 2. The file, under its unique name.
        self.exports.put(&batch.name, zip).await?;
        failpoint("publication-written");

        // 3. The index, rewritten whole.
        let mut names: Vec<String> = self
            .storage
            .batches()?
            .into_iter()
            .filter(|b| b.state == BatchState::Published)
            .map(|b| b.name)
            .collect();
        names.push(batch.name.clone());
        self.exports.write_index(&names).await?;
        failpoint("publication-listed");

        // 4. Published.
        self.mark_published(batch)?;
        self.storage.flush().await
    }

    async fn retention(&self, now_ms: u64, report: &mut PublicationReport) -> Result<()> {
        let cutoff = self.retention_cutoff_ms(now_ms);
        let old: Vec<BatchRecord> = self
            .storage
            .batches()?
            .into_iter()
            .filter(|b| b.state == BatchState::Published && b.created_ms < cutoff)
            .collect();
        if !old.is_empty() {
            // Recorded first, so that a crash in what follows leaves batches startup knows to remove.
            let result = self.storage.batches.transaction(|batches| {
                for batch in &old {
                    let expiring = BatchRecord {
                        state: BatchState::Expiring,
                        ..batch.clone()
                    };
                    batches.insert(&batch.seq.to_be_bytes(), encode(&expiring))?;
                }
                Ok::<_, ConflictableTransactionError<ServerError>>(())
            });
            transaction_result(result)?;
            self.storage.flush().await?;
            report.exports_expired += self.finish_expiring().await?;
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

/// A crash test hook: built with the `failpoints` feature, the process aborts here (as abruptly as a
/// SIGKILL: no destructor, no flush) when `OPENZONE_FAILPOINT` names this point. Without the feature it is
/// nothing.
pub(crate) fn failpoint(name: &str) {
    #[cfg(feature = "failpoints")]
    if std::env::var("OPENZONE_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}

/// Inside the transaction that assigns a batch's members: numbers the batch (refused if another
/// publication took the number) and records it as `writing`.
pub(crate) fn record_writing(
    batches: &sled::transaction::TransactionalTree,
    meta: &sled::transaction::TransactionalTree,
    batch: &BatchRecord,
) -> sled::transaction::ConflictableTransactionResult<(), ServerError> {
    let last = meta
        .get(NEXT_BATCH)?
        .map_or(0, |v| crate::storage::decode_u64(&v));
    if last + 1 != batch.seq {
        return Err(ConflictableTransactionError::Abort(ServerError::Database(
            "another publication numbered a batch at the same time".into(),
        )));
    }
    batches.insert(&batch.seq.to_be_bytes(), encode(batch))?;
    meta.insert(NEXT_BATCH, &batch.seq.to_be_bytes())?;
    Ok(())
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

/// Checks that the index and the database tell the same story before anything is changed: every name
/// the index lists is a batch the database knows and a file that exists; every batch the database
/// records as published is listed. Anything else means one of them was replaced or lost, which only a
/// person can sort out.
fn check_agreement(
    index: &[String],
    batches: &[BatchRecord],
    files: &HashSet<String>,
    location: &str,
) -> Result<()> {
    let known: std::collections::HashMap<&str, BatchState> =
        batches.iter().map(|b| (b.name.as_str(), b.state)).collect();
    let listed: HashSet<&str> = index.iter().map(String::as_str).collect();
    let nothing = "Nothing was deleted.";
    for name in index {
        if !known.contains_key(name.as_str()) {
            return Err(ServerError::Publication(format!(
                "{INDEX_NAME} in {location} lists {name}, which this server's database does not know: the \
                 export storage belongs to another database, or the database was restored from an older \
                 backup. Point --exports at this server's exports or restore the matching database. {nothing}"
            )));
        }
        if !files.contains(name) {
            return Err(ServerError::Publication(format!(
                "{INDEX_NAME} in {location} lists {name}, but that file is missing; restore it from a \
                 backup of the export storage. {nothing}"
            )));
        }
    }
    if let Some(unlisted) = batches
        .iter()
        .find(|b| b.state == BatchState::Published && !listed.contains(b.name.as_str()))
    {
        return Err(ServerError::Publication(format!(
            "{INDEX_NAME} in {location} does not list {}, which the database records as published: the \
             index was replaced by an older copy. Restore the latest {INDEX_NAME} from a backup. {nothing}",
            unlisted.name
        )));
    }
    Ok(())
}

/// Parses an export index: one export name per line (`<10 digits>-<16 hex>.zip`), blank lines ignored.
/// Anything else is an error: an index this server did not write.
pub fn parse_index(bytes: &[u8]) -> Result<Vec<String>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ServerError::Publication(format!("{INDEX_NAME} is not UTF-8 text")))?;
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            if is_export_name(line) {
                Ok(line.to_owned())
            } else {
                Err(ServerError::Publication(format!(
                    "{INDEX_NAME} lists {:?}, which is not an export name",
                    line.chars().take(80).collect::<String>()
                )))
            }
        })
        .collect()
}

/// Export names: `<10 digits>-<16 lowercase hex>.zip`; warning packages' have `warnings-` before the
/// hex.
pub(crate) fn is_export_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".zip") else {
        return false;
    };
    let Some((seq, hash)) = stem.split_once('-') else {
        return false;
    };
    let hash = hash
        .strip_prefix(&WARNING_PACKAGE_MARK[1..])
        .unwrap_or(hash);
    seq.len() == 10
        && seq.bytes().all(|b| b.is_ascii_digit())
        && hash.len() == 16
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_parsed_strictly() {
        assert_eq!(parse_index(b"").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_index(b"0000000001-0123456789abcdef.zip\n\n0000000002-0123456789abcdef.zip\n")
                .unwrap(),
            [
                "0000000001-0123456789abcdef.zip",
                "0000000002-0123456789abcdef.zip"
            ]
        );
        for bad in [
            &b"../db\n"[..],
            b"index.txt\n",
            b"0000000001-0123456789abcdeg.zip",
            b"000000001-0123456789abcdef.zip",
            b"0000000001-0123456789ABCDEF.zip",
            b"\xff\xfe",
            b"0000000001-0123456789abcdef.zip.tmp",
        ] {
            assert!(
                parse_index(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    fn batch(seq: u64, state: BatchState) -> BatchRecord {
        BatchRecord {
            seq,
            name: format!("{seq:010}-0123456789abcdef.zip"),
            state,
            created_ms: 0,
            real_keys: 1,
            total_keys: 10,
        }
    }

    #[test]
    fn the_index_and_the_database_must_agree() {
        let batches = [
            batch(1, BatchState::Published),
            batch(2, BatchState::Writing),
        ];
        let names: Vec<String> = batches.iter().map(|b| b.name.clone()).collect();
        let files: HashSet<String> = names.iter().cloned().collect();
        check_agreement(&names[..1], &batches, &files, "x").unwrap();
        check_agreement(&names, &batches, &files, "x").unwrap();
        // A published batch left out, a name nobody knows, a listed file that is gone.
        assert!(check_agreement(&[], &batches, &files, "x").is_err());
        let stranger = vec![
            names[0].clone(),
            "0000000009-0123456789abcdef.zip".to_owned(),
        ];
        assert!(check_agreement(&stranger, &batches, &files, "x").is_err());
        assert!(check_agreement(&names[..1], &batches, &HashSet::new(), "x").is_err());
    }
}
