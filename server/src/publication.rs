//! Publication: uploaded keys become signed export files listed in `index.txt` (and encrypted check-ins
//! warning packages, see `warnings.rs`, through the same steps).
//!
//! On every cadence tick, keys whose validity ended at least the publication delay ago go into a batch,
//! padded with fake keys (`padding.rs`), sorted by key bytes (so the order says nothing about who uploaded
//! together), signed (ECDSA P-256), and written as an export zip.
//!
//! One publisher at a time: replicas sharing a database publish only while they hold the publication
//! lease, a record with a holder and an expiry that a publisher takes or renews by compare-and-set
//! before each step. The database, not the export storage, decides the index (object stores have no
//! conditional write): the `index` record holds the list of names and a version, changed only by
//! compare-and-set, and `index.txt` is a copy of it. A publisher that lost its lease while paused
//! cannot overwrite another's decisions: each of its steps expects the records it read, and fails.
//!
//! Crash safety, step by step; a crash (even SIGKILL) at any point leaves a state that the next
//! publisher (at startup, or at its next run) completes:
//!
//! 1. One transaction gives the batch its number, records it as `writing` with its file name, and
//!    assigns the keys (a warning package: the check-ins) to it, expecting them still pending.
//! 2. The zip is written under its unique name (`<batch number>-<hash>.zip`), once. Locally
//!    object_store writes a staging file and renames it into place; on S3 a PUT is atomic. Either way a
//!    reader never sees a partial file.
//! 3. One transaction adds the name to the `index` record (expecting its version) and marks the batch
//!    `listed`.
//! 4. `index.txt` is rewritten whole from the `index` record.
//! 5. The batch becomes `published` and the counter of published keys grows; a warning package's
//!    check-ins are deleted in the same transaction.
//!
//! Reconciliation: a `listed` batch gets steps 4 and 5 (the crash came between 3 and 5); a `writing`
//! batch, which the index record cannot list, gives its keys (or check-ins) back to the pending pool and
//! its file, if any, is deleted (the crash came between 1 and 3). A key or a check-in is thus published
//! once, or pending again.
//!
//! Nothing is deleted that the database cannot account for. Before anything else, startup checks that
//! `index.txt` and the database agree: a missing index (once something was published), an index that
//! lists an export the database does not know or a file that is missing, or one that leaves out a
//! published export, stops the server with [`ServerError::Publication`] saying what to restore. A file
//! is deleted only as the step of a batch the database records (rolled back, or delisted); files nobody
//! accounts for are left alone and reported; staging files of interrupted local writes are removed.
//!
//! Retention: exports older than 14 days leave the index record and `index.txt` and become `expiring`;
//! their files are deleted only [`PublicationSettings::delist_grace`] later, longer than a CDN keeps the
//! index ([`INDEX_MAX_AGE_SECS`]), so that no phone is sent to a file that is gone. Keys that ended more
//! than 14 days ago and codes issued more than 14 days ago are deleted.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use openzone_wire::export::signing::SigningKey;
use openzone_wire::export::ExportBuilder;
use openzone_wire::keyserver::wire::{check_region, NATIONAL_PARTITION, WARNING_PACKAGE_MARK};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServerError};
use crate::padding::padded_export_keys;
use crate::storage::{
    decode, decode_u64, encode, BatchRecord, BatchState, Change, Committed, KeyShape, Storage,
    StoredKey, BATCHES, KEYS, KEYS_PUBLISHED, META, NEXT_BATCH,
};

/// The index's object name.
pub const INDEX_NAME: &str = "index.txt";

/// Most keys in one export; more eligible keys make several exports in one run.
pub const MAX_EXPORT_KEYS: usize = 100_000;

/// How long caches (a CDN, phones) may keep `index.txt`: its `Cache-Control: max-age`.
pub const INDEX_MAX_AGE_SECS: u64 = 60;

/// The `meta` record that decides the index.
const INDEX_RECORD: &str = "index";

/// The `meta` record of the publication lease.
const LEASE_RECORD: &str = "publication_lease";

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
    /// Region written into exports. Default "VN". A regional export says `<region>-<code>`, e.g.
    /// `VN-79`.
    pub region: String,
    /// The regions (province codes) exports are partitioned by, each checked with
    /// [`check_region`]: keys of a case an officer tied to one are published in that region's exports,
    /// listed in `index-<code>.txt`; the others in the national ones, `index-national.txt`.
    /// `index.txt` lists them all. Default none: no partitions, no partition indexes.
    pub regions: Vec<String>,
    /// How long a delisted export's file stays before it is deleted: longer than any cache keeps the
    /// index that listed it. Default 1 hour; at least `INDEX_MAX_AGE_SECS`.
    pub delist_grace: Duration,
    /// How long the publication lease lasts unless renewed: a replica that dies holding it is replaced
    /// this long after. Default 60 seconds.
    pub lease: Duration,
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
            regions: Vec::new(),
            delist_grace: Duration::from_secs(3_600),
            lease: Duration::from_secs(60),
        }
    }
}

impl PublicationSettings {
    /// The partition a case's code ties its keys to: `None` (national, also for no region given) or
    /// one of [`regions`](Self::regions).
    pub(crate) fn partition_of(&self, region: Option<&str>) -> Result<Option<String>> {
        let Some(region) = region.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let code = check_region(region).map_err(|e| ServerError::UnknownRegion(e.to_string()))?;
        if self.regions.contains(&code) {
            return Ok(Some(code));
        }
        Err(ServerError::UnknownRegion(if self.regions.is_empty() {
            format!(
                "this key server does not partition its exports by region, so region {code} cannot be \
                 given; leave it out (the operator turns regions on with openzone serve --regions)"
            )
        } else {
            format!(
                "this key server publishes no exports for region {code}; it publishes for {}",
                self.regions.join(", ")
            )
        }))
    }

    /// The index files of the partitions besides `index.txt`, with the partition each lists: none
    /// without regions.
    pub fn partition_indexes(&self) -> Vec<(String, String)> {
        if self.regions.is_empty() {
            return Vec::new();
        }
        std::iter::once(NATIONAL_PARTITION.to_owned())
            .chain(self.regions.iter().cloned())
            .map(|p| (partition_index_name(&p), p))
            .collect()
    }
}

/// The object name of a partition's index.
pub fn partition_index_name(partition: &str) -> String {
    format!("index-{partition}.txt")
}

/// Whether `name` is `index.txt` or a partition's index.
pub(crate) fn is_index_name(name: &str) -> bool {
    name == INDEX_NAME
        || name
            .strip_prefix("index-")
            .and_then(|rest| rest.strip_suffix(".txt"))
            .is_some_and(|p| p == NATIONAL_PARTITION || check_region(p).is_ok_and(|code| code == p))
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

    async fn write_named_index(&self, file: &str, names: &[String]) -> Result<()> {
        let mut text = String::new();
        for name in names {
            text.push_str(name);
            text.push('\n');
        }
        self.put(file, text.into_bytes()).await
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
    /// Exports (and warning packages) retention took out of the index (their files go after the grace
    /// period).
    pub exports_expired: u64,
    /// Keys deleted by retention.
    pub keys_expired: u64,
    /// Codes deleted by retention.
    pub codes_expired: u64,
    /// Whether this replica held the publication lease (another replica published if not).
    pub held_lease: bool,
}

/// What reconciliation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Interrupted batches the index record listed: now in `index.txt` and published.
    pub completed: u64,
    /// Interrupted batches the index record did not list: their keys are pending again.
    pub rolled_back: u64,
    /// Files of rolled-back or expired batches, deleted.
    pub orphans_deleted: u64,
    /// Files in the export storage that neither the index nor the database accounts for: left alone.
    pub unknown_files: u64,
}

/// The list of published exports, as the database decides it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct IndexRecord {
    /// Grows by one with every change.
    version: u64,
    names: Vec<String>,
}

/// Who publishes, until when (UTC unix milliseconds of the system clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LeaseRecord {
    holder: String,
    expires_ms: u64,
}

/// Makes exports; one run at a time in a process, one publisher among replicas.
pub(crate) struct Publisher {
    pub storage: Storage,
    pub exports: Exports,
    pub signer: SigningKey,
    pub settings: PublicationSettings,
    /// This publisher's name in the lease record.
    holder: String,
    /// Whether the last run (or the startup) held the lease: a run that takes it over cleans up after
    /// the previous holder.
    had_lease: AtomicBool,
    lock: tokio::sync::Mutex<()>,
}

/// The system clock (not the server's configured clock, which tests move by days): leases are about
/// real time passing between processes.
fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub(crate) fn lost(what: &str) -> ServerError {
    ServerError::Publication(format!(
        "{what} changed under this publisher: another replica took the publication lease; it completes \
         this batch or rolls it back"
    ))
}

impl Publisher {
    pub fn new(
        storage: Storage,
        exports: Exports,
        signer: SigningKey,
        settings: PublicationSettings,
    ) -> Result<Self> {
        Ok(Self {
            storage,
            exports,
            signer,
            settings,
            holder: hex::encode(&crate::keys::random_32()?[..16]),
            had_lease: AtomicBool::new(false),
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Takes or renews the publication lease; `false` if another replica holds it. With the embedded
    /// database the process is alone and needs none.
    async fn hold_lease(&self) -> Result<bool> {
        if !self.storage.shared() {
            return Ok(true);
        }
        let now = wall_ms();
        let raw = self.storage.get(META, LEASE_RECORD.as_bytes()).await?;
        if let Some(lease) = raw.as_deref().map(decode::<LeaseRecord>).transpose()? {
            if lease.holder != self.holder && lease.expires_ms > now {
                return Ok(false);
            }
        }
        let mut change = Change::default();
        change.expect(META, LEASE_RECORD, raw);
        let lease = LeaseRecord {
            holder: self.holder.clone(),
            expires_ms: now + self.settings.lease.as_millis() as u64,
        };
        change.put(META, LEASE_RECORD, encode(&lease));
        Ok(self.storage.commit(change).await? == Committed::Yes)
    }

    /// Renews the lease before a step, or stops the run.
    pub(crate) async fn keep_lease(&self) -> Result<()> {
        if self.hold_lease().await? {
            Ok(())
        } else {
            Err(lost("the publication lease"))
        }
    }

    /// Gives the lease up (at shutdown), so that another replica need not wait for it to expire.
    pub async fn release_lease(&self) -> Result<()> {
        if !self.storage.shared() {
            return Ok(());
        }
        let raw = self.storage.get(META, LEASE_RECORD.as_bytes()).await?;
        if let Some(lease) = raw.as_deref().map(decode::<LeaseRecord>).transpose()? {
            if lease.holder == self.holder {
                let mut change = Change::default();
                change.expect(META, LEASE_RECORD, raw);
                change.remove(META, LEASE_RECORD);
                self.storage.commit(change).await?;
            }
        }
        Ok(())
    }

    /// Writes `index.txt` listing `names`, and each partition's index listing those of its names:
    /// every file a copy of what the index record decides (a name's partition is its batch's region;
    /// a name no batch records, national).
    async fn write_indexes(&self, names: &[String]) -> Result<()> {
        let partitions = self.settings.partition_indexes();
        if !partitions.is_empty() {
            let regions: std::collections::HashMap<String, Option<String>> = self
                .storage
                .batches()
                .await?
                .into_iter()
                .map(|b| (b.name, b.region))
                .collect();
            for (file, partition) in &partitions {
                let listed: Vec<String> = names
                    .iter()
                    .filter(|name| {
                        regions
                            .get(name.as_str())
                            .and_then(Option::as_deref)
                            .unwrap_or(NATIONAL_PARTITION)
                            == partition
                    })
                    .cloned()
                    .collect();
                self.exports.write_named_index(file, &listed).await?;
            }
        }
        self.exports.write_named_index(INDEX_NAME, names).await
    }

    /// The index record and its raw bytes (for compare-and-set).
    async fn index_record(&self) -> Result<(Option<Vec<u8>>, Option<IndexRecord>)> {
        let raw = self.storage.get(META, INDEX_RECORD.as_bytes()).await?;
        let record = raw.as_deref().map(decode).transpose()?;
        Ok((raw, record))
    }

    /// Startup: if this replica holds the lease, checks that `index.txt` and the database agree (or
    /// stops), writes an empty index on the very first start, completes or rolls back interrupted
    /// batches, deletes files past their grace period, and removes staging files of interrupted writes.
    /// Another replica holding the lease does all this itself.
    pub async fn startup(&self, now_ms: u64) -> Result<ReconcileReport> {
        let _guard = self.lock.lock().await;
        if !self.hold_lease().await? {
            return Ok(ReconcileReport::default());
        }
        let batches = self.storage.batches().await?;
        let (raw, record) = self.index_record().await?;
        let files: HashSet<String> = self.exports.list().await?.into_iter().collect();
        let decided = record.as_ref().map_or(&[][..], |r| r.names.as_slice());
        let index = match self.exports.read_index().await? {
            Some(index) => index,
            None if batches.is_empty()
                && decided.is_empty()
                && self.storage.get(META, NEXT_BATCH.as_bytes()).await?.is_none() =>
            {
                self.write_indexes(&[]).await?;
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
        check_agreement(&index, &batches, &files, &self.exports.location())?;
        if let Some(missing) = decided.iter().find(|name| !files.contains(*name)) {
            return Err(ServerError::Publication(format!(
                "the database lists {missing} as published, but the file is missing from {}; restore it \
                 from a backup of the export storage. Nothing was deleted.",
                self.exports.location()
            )));
        }
        if record.is_none() {
            // The first start on this database, or with a database of a version that kept the index
            // only in index.txt: the index record starts as what index.txt lists.
            let expiring: HashSet<&str> = batches
                .iter()
                .filter(|b| b.state == BatchState::Expiring)
                .map(|b| b.name.as_str())
                .collect();
            let names = index
                .iter()
                .filter(|name| !expiring.contains(name.as_str()))
                .cloned()
                .collect();
            let mut change = Change::default();
            change.expect(META, INDEX_RECORD, raw);
            change.put(
                META,
                INDEX_RECORD,
                encode(&IndexRecord { version: 1, names }),
            );
            if self.storage.commit(change).await? == Committed::Conflict {
                return Err(lost("the index record"));
            }
        }
        let mut report = self.reconcile().await?;
        let (_, record) = self.index_record().await?;
        let names = record.map(|r| r.names).unwrap_or_default();
        if names != index {
            self.write_indexes(&names).await?;
        }
        report.orphans_deleted += self.finish_delisting(now_ms).await?;
        if let Some(dir) = &self.exports.local_dir {
            remove_staging_files(dir);
        }
        self.had_lease.store(true, Ordering::SeqCst);
        let known: HashSet<String> = self
            .storage
            .batches()
            .await?
            .into_iter()
            .map(|b| b.name)
            .collect();
        let unknown: Vec<String> = self
            .exports
            .list()
            .await?
            .into_iter()
            .filter(|name| !is_index_name(name) && !known.contains(name))
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

    /// Completes every `listed` batch (and a `writing` batch that an older version's index lists) and
    /// rolls back every other `writing` batch: its file, which only this batch can have written, is
    /// deleted and its keys wait again.
    async fn reconcile(&self) -> Result<ReconcileReport> {
        let mut report = ReconcileReport::default();
        let unfinished: Vec<BatchRecord> = self
            .storage
            .batches()
            .await?
            .into_iter()
            .filter(|b| matches!(b.state, BatchState::Writing | BatchState::Listed))
            .collect();
        if unfinished.is_empty() {
            return Ok(report);
        }
        let (_, record) = self.index_record().await?;
        let names = record.map(|r| r.names).unwrap_or_default();
        for batch in unfinished {
            if names.contains(&batch.name) {
                self.keep_lease().await?;
                self.write_indexes(&names).await?;
                self.mark_published(&batch).await?;
                report.completed += 1;
            } else {
                self.keep_lease().await?;
                self.exports.delete(&batch.name).await?;
                self.roll_back(&batch).await?;
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

    /// Rewrites `index.txt` from the index record if they differ. A publisher that lost the lease while
    /// paused between renewing it and writing `index.txt` may write an older copy after its successor
    /// wrote a newer one (object stores have no conditional write); the next run puts it right, and no
    /// file an older copy lists is gone (delisted files stay for the grace period).
    async fn repair_index(&self) -> Result<()> {
        let (_, Some(record)) = self.index_record().await? else {
            // No publisher has started on this database yet: `startup` makes the record.
            return Ok(());
        };
        if self.exports.read_index().await?.as_ref() != Some(&record.names) {
            self.keep_lease().await?;
            self.write_indexes(&record.names).await?;
        }
        Ok(())
    }

    /// Deletes the files and records of `expiring` batches delisted at least the grace period before
    /// `now_ms`. Returns how many files went.
    async fn finish_delisting(&self, now_ms: u64) -> Result<u64> {
        let grace_ms = self.settings.delist_grace.as_millis() as u64;
        let due: Vec<BatchRecord> = self
            .storage
            .batches()
            .await?
            .into_iter()
            .filter(|b| {
                b.state == BatchState::Expiring
                    && b.delisted_ms.unwrap_or(0).saturating_add(grace_ms) <= now_ms
            })
            .collect();
        for batch in &due {
            self.keep_lease().await?;
            self.exports.delete(&batch.name).await?;
            let mut change = Change::default();
            change.remove(BATCHES, batch.seq.to_be_bytes());
            self.storage.write(change).await?;
        }
        self.storage.flush().await?;
        Ok(due.len() as u64)
    }

    /// Step 5: the batch is published (expecting it as the caller read it).
    async fn mark_published(&self, batch: &BatchRecord) -> Result<()> {
        let published = BatchRecord {
            state: BatchState::Published,
            ..batch.clone()
        };
        let mut change = Change::default();
        change.expect(BATCHES, batch.seq.to_be_bytes(), Some(encode(batch)));
        change.put(BATCHES, batch.seq.to_be_bytes(), encode(&published));
        change.add(KEYS_PUBLISHED, batch.real_keys);
        crate::warnings::settle_checkins(&self.storage, &mut change, batch.seq, true).await?;
        match self.storage.commit(change).await? {
            Committed::Yes => Ok(()),
            Committed::Conflict => Err(lost("a batch")),
        }
    }

    async fn roll_back(&self, batch: &BatchRecord) -> Result<()> {
        let mut change = Change::default();
        for (tek, value) in self.storage.scan(KEYS).await? {
            let mut key: StoredKey = decode(&value)?;
            if key.batch == Some(batch.seq) {
                key.batch = None;
                change.expect(KEYS, tek.clone(), Some(value));
                change.put(KEYS, tek, encode(&key));
            }
        }
        crate::warnings::settle_checkins(&self.storage, &mut change, batch.seq, false).await?;
        change.expect(BATCHES, batch.seq.to_be_bytes(), Some(encode(batch)));
        change.remove(BATCHES, batch.seq.to_be_bytes());
        match self.storage.commit(change).await? {
            Committed::Yes => Ok(()),
            Committed::Conflict => Err(lost("a batch")),
        }
    }

    /// One publication run at `now_ms`, if this replica holds the lease: reconcile, publish every due
    /// key, apply retention.
    pub async fn run(&self, now_ms: u64) -> Result<PublicationReport> {
        let _guard = self.lock.lock().await;
        let mut report = PublicationReport::default();
        if !self.hold_lease().await? {
            self.had_lease.store(false, Ordering::SeqCst);
            return Ok(report);
        }
        report.held_lease = true;
        if !self.had_lease.swap(true, Ordering::SeqCst) {
            // Taken over from a replica that died or stalled holding it (or that held it when this one
            // started): its interrupted local writes left staging files.
            if let Some(dir) = &self.exports.local_dir {
                remove_staging_files(dir);
            }
        }
        self.reconcile().await?;
        self.repair_index().await?;
        self.finish_delisting(now_ms).await?;
        // The keys are read once per batch (once per run but for more than MAX_EXPORT_KEYS due keys):
        // the table holds every key of the retention period, and reading it is most of a run's work.
        let stored = loop {
            let stored = self.stored_keys().await?;
            let due = self.due_keys(&stored, now_ms)?;
            let more = due.values().any(|keys| keys.len() == MAX_EXPORT_KEYS);
            // Fakes look like any key of the last days, whatever the partition.
            let pool = if due.is_empty() {
                Vec::new()
            } else {
                self.padding_pool(&stored, now_ms)
            };
            for keys in due.into_values() {
                report
                    .exports
                    .push(self.publish_batch(keys, &pool, now_ms).await?);
            }
            if !more {
                break stored;
            }
        };
        if let Some(package) = self.publish_warnings(now_ms).await? {
            report.warning_packages.push(package);
        }
        self.retention(now_ms, &stored, &mut report).await?;
        Ok(report)
    }

    /// Every stored key: its TEK, its stored bytes, the record.
    async fn stored_keys(&self) -> Result<Vec<StoredRow>> {
        self.storage
            .scan(KEYS)
            .await?
            .into_iter()
            .map(|(tek, raw)| {
                let key = decode(&raw)?;
                Ok((tek, raw, key))
            })
            .collect()
    }

    /// Pending keys whose validity ended at least the delay ago (and not beyond retention), with their
    /// stored bytes, by partition (region, or `None`: national; an export holds one partition's keys),
    /// at most [`MAX_EXPORT_KEYS`] of each.
    fn due_keys(
        &self,
        stored: &[StoredRow],
        now_ms: u64,
    ) -> Result<BTreeMap<Option<String>, Vec<DueKey>>> {
        let delay_ms = self.settings.delay.as_millis() as u64;
        let oldest_ms = self.retention_cutoff_ms(now_ms);
        let mut due: BTreeMap<Option<String>, Vec<DueKey>> = BTreeMap::new();
        for (tek, raw, key) in stored {
            if key.batch.is_none()
                && key.shape.end_ms() + delay_ms <= now_ms
                && key.shape.end_ms() > oldest_ms
            {
                let partition = due.entry(key.region.clone()).or_default();
                if partition.len() == MAX_EXPORT_KEYS {
                    continue;
                }
                let tek: [u8; 16] = tek
                    .as_slice()
                    .try_into()
                    .map_err(|_| ServerError::Database("a stored key is not 16 bytes".into()))?;
                partition.push(DueKey {
                    tek,
                    key: key.clone(),
                    raw: raw.clone(),
                });
            }
        }
        Ok(due)
    }

    /// The shapes fake keys are drawn from: every stored key that could be published at `now_ms`
    /// (ended at least the delay ago, within retention), published or not.
    fn padding_pool(&self, stored: &[StoredRow], now_ms: u64) -> Vec<KeyShape> {
        let delay_ms = self.settings.delay.as_millis() as u64;
        let oldest_ms = self.retention_cutoff_ms(now_ms);
        stored
            .iter()
            .filter(|(_, _, key)| {
                key.shape.end_ms() + delay_ms <= now_ms && key.shape.end_ms() > oldest_ms
            })
            .map(|(_, _, key)| key.shape)
            .collect()
    }

    fn retention_cutoff_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(u64::from(self.settings.retention_days) * 86_400_000)
    }

    async fn publish_batch(
        &self,
        due: Vec<DueKey>,
        pool: &[KeyShape],
        now_ms: u64,
    ) -> Result<(String, u64, u64)> {
        let next_raw = self.storage.get(META, NEXT_BATCH.as_bytes()).await?;
        let seq = next_raw.as_deref().map_or(0, decode_u64) + 1;
        let pairs: Vec<([u8; 16], StoredKey)> =
            due.iter().map(|d| (d.tek, d.key.clone())).collect();
        let keys = padded_export_keys(
            &pairs,
            pool,
            self.settings.min_batch,
            self.settings.padding_jitter,
        )?;
        let real = due.len() as u64;
        let total = keys.len() as u64;
        let start_s = due
            .iter()
            .map(|d| {
                openzone_wire::units::interval_start_ms(d.key.shape.rolling_start_interval) / 1000
            })
            .min()
            .unwrap_or(now_ms / 1000);
        let region = due.first().and_then(|d| d.key.region.clone());
        let zip = ExportBuilder {
            start_timestamp: start_s,
            end_timestamp: now_ms / 1000,
            region: match &region {
                Some(code) => format!("{}-{code}", self.settings.region),
                None => self.settings.region.clone(),
            },
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
            delisted_ms: None,
            region,
        };

        // 1. Number the batch, record it as writing, assign its keys (still pending).
        self.keep_lease().await?;
        let mut change = record_writing(next_raw, &batch);
        for d in &due {
            let assigned = StoredKey {
                batch: Some(seq),
                ..d.key.clone()
            };
            change.expect(KEYS, d.tek, Some(d.raw.clone()));
            change.put(KEYS, d.tek, encode(&assigned));
        }
        if self.storage.commit(change).await? == Committed::Conflict {
            return Err(lost("the batch numbering or a pending key"));
        }
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

    /// Steps 2 to 5 of a batch recorded as `writing` (an export or a warning package): its file under
    /// its unique name, the index record with it, `index.txt`, then published.
    pub(crate) async fn list_batch(&self, batch: &BatchRecord, zip: Vec<u8>) -> Result<()> {
        // 2. The file, under its unique name.
        self.keep_lease().await?;
        self.exports.put(&batch.name, zip).await?;
        failpoint("publication-written");

        // 3. The index decided: compare-and-set on its version, the batch still as step 1 left it.
        self.keep_lease().await?;
        let (raw, record) = self.index_record().await?;
        let mut index = record.unwrap_or_default();
        index.version += 1;
        index.names.push(batch.name.clone());
        let listed = BatchRecord {
            state: BatchState::Listed,
            ..batch.clone()
        };
        let mut change = Change::default();
        change.expect(META, INDEX_RECORD, raw);
        change.put(META, INDEX_RECORD, encode(&index));
        change.expect(BATCHES, batch.seq.to_be_bytes(), Some(encode(batch)));
        change.put(BATCHES, batch.seq.to_be_bytes(), encode(&listed));
        if self.storage.commit(change).await? == Committed::Conflict {
            return Err(lost("the index record"));
        }
        self.storage.flush().await?;
        failpoint("publication-listed");

        // 4. index.txt, a copy of the record.
        self.keep_lease().await?;
        self.write_indexes(&index.names).await?;

        // 5. Published.
        self.mark_published(&listed).await?;
        self.storage.flush().await
    }

    /// Retention at `now_ms`, with the keys as the run read them: a key it deletes ended before the
    /// cutoff, so no upload or batch of this run has changed it since.
    async fn retention(
        &self,
        now_ms: u64,
        stored: &[StoredRow],
        report: &mut PublicationReport,
    ) -> Result<()> {
        let cutoff = self.retention_cutoff_ms(now_ms);
        let batches = self.storage.batches().await?;
        let old: Vec<&BatchRecord> = batches
            .iter()
            .filter(|b| b.state == BatchState::Published && b.created_ms < cutoff)
            .collect();
        if !old.is_empty() {
            // Out of the index record and marked expiring in one step; the files go after the grace.
            self.keep_lease().await?;
            let leaving: HashSet<&str> = old.iter().map(|b| b.name.as_str()).collect();
            let (raw, record) = self.index_record().await?;
            let mut index = record.unwrap_or_default();
            index.version += 1;
            index.names.retain(|name| !leaving.contains(name.as_str()));
            let mut change = Change::default();
            change.expect(META, INDEX_RECORD, raw);
            change.put(META, INDEX_RECORD, encode(&index));
            for batch in &old {
                let expiring = BatchRecord {
                    state: BatchState::Expiring,
                    delisted_ms: Some(now_ms),
                    ..(*batch).clone()
                };
                change.expect(BATCHES, batch.seq.to_be_bytes(), Some(encode(*batch)));
                change.put(BATCHES, batch.seq.to_be_bytes(), encode(&expiring));
            }
            if self.storage.commit(change).await? == Committed::Conflict {
                return Err(lost("the index record"));
            }
            self.storage.flush().await?;
            self.write_indexes(&index.names).await?;
            report.exports_expired += old.len() as u64;
        }
        let unfinished: HashSet<u64> = batches
            .iter()
            .filter(|b| matches!(b.state, BatchState::Writing | BatchState::Listed))
            .map(|b| b.seq)
            .collect();
        let mut change = Change::default();
        for (tek, _, key) in stored {
            let in_unfinished_batch = key.batch.is_some_and(|b| unfinished.contains(&b));
            if key.shape.end_ms() <= cutoff && !in_unfinished_batch {
                change.remove(KEYS, tek.as_slice());
                report.keys_expired += 1;
            }
        }
        self.storage.write(change).await?;
        report.codes_expired += crate::codes::delete_issued_before(&self.storage, cutoff).await?;
        self.storage.flush().await?;
        Ok(())
    }
}

/// A stored key as a run reads it: TEK, stored bytes, record.
type StoredRow = (Vec<u8>, Vec<u8>, StoredKey);

/// A pending key due for publication, with its stored bytes (what assigning it expects).
struct DueKey {
    tek: [u8; 16],
    key: StoredKey,
    raw: Vec<u8>,
}

/// Keys waiting for publication, for the officer page.
pub(crate) async fn pending_keys(storage: &Storage) -> Result<u64> {
    Ok(storage
        .records::<StoredKey>(KEYS)
        .await?
        .iter()
        .filter(|key| key.batch.is_none())
        .count() as u64)
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

/// The start of step 1 of a batch (an export or a warning package): the change that numbers it
/// (expecting the number `next_raw` read, so that a publisher that lost the lease cannot take it) and
/// records it as `writing`; the caller adds the assignment of its members.
pub(crate) fn record_writing(next_raw: Option<Vec<u8>>, batch: &BatchRecord) -> Change {
    let mut change = Change::default();
    change.expect(META, NEXT_BATCH, next_raw);
    change.put(META, NEXT_BATCH, batch.seq.to_be_bytes().to_vec());
    change.expect(BATCHES, batch.seq.to_be_bytes(), None);
    change.put(BATCHES, batch.seq.to_be_bytes(), encode(batch));
    change
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
    fn a_code_is_tied_to_a_configured_region_or_to_none() {
        let settings = PublicationSettings {
            regions: vec!["01".into(), "79".into()],
            ..PublicationSettings::default()
        };
        assert_eq!(settings.partition_of(None).unwrap(), None);
        assert_eq!(settings.partition_of(Some(" ")).unwrap(), None);
        assert_eq!(
            settings.partition_of(Some("79")).unwrap().as_deref(),
            Some("79")
        );
        for bad in ["48", "national", "7/9", "0123456789"] {
            assert!(
                matches!(
                    settings.partition_of(Some(bad)),
                    Err(ServerError::UnknownRegion(_))
                ),
                "{bad}"
            );
        }
        let whole = PublicationSettings::default();
        assert!(whole.partition_indexes().is_empty());
        assert!(matches!(
            whole.partition_of(Some("79")),
            Err(ServerError::UnknownRegion(_))
        ));
        let files: Vec<String> = settings
            .partition_indexes()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            files,
            ["index-national.txt", "index-01.txt", "index-79.txt"]
        );
        for file in &files {
            assert!(is_index_name(file));
        }
        for name in [
            "index-79.TXT",
            "index-.txt",
            "index-hn.txt",
            "index-../x.txt",
            "index.zip",
        ] {
            assert!(!is_index_name(name), "{name}");
        }
    }

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
        for (bad, why) in [
            (&b"../db\n"[..], "a path"),
            (b"index.txt\n", "the index itself"),
            (b"0000000001-0123456789abcdeg.zip", "a hash that is not hex"),
            (b"000000001-0123456789abcdef.zip", "nine digits of batch"),
            (b"0000000001-0123456789ABCDEF.zip", "upper-case hex"),
            (b"\xff\xfe", "not UTF-8"),
            (b"0000000001-0123456789abcdef.zip.tmp", "a temporary file"),
        ] {
            assert!(parse_index(bad).is_err(), "{why}");
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
            delisted_ms: None,
            region: None,
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
