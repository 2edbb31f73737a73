//! The phone's local store on sled: scan instances of what it heard, its own keys, and the bookkeeping of
//! matching. Small, private and crash-safe.
//!
//! - **Aggregated**: sightings become [`ScanInstance`]s in memory (module `instances`), and each scan
//!   window's instances are written as one record; one row per sighting is never stored.
//! - **Encrypted at rest**: every value is sealed with AES-256-GCM under a key derived from the platform's
//!   [`DataKey`]; record keys hold times and day numbers, never identifiers (module `seal`).
//! - **Bounded**: records older than the retention period (14 days by default) are purged whenever the
//!   store opens or checkpoints, and the scan instances are also capped in total size, oldest first.
//! - **Durable at checkpoints**: [`Store::record`] accepts sightings into memory; [`Store::checkpoint`]
//!   writes them and flushes sled. Everything accepted before the last completed checkpoint survives a crash.
//! - **Versioned**: a marker file names the schema version, checked before sled opens anything, so a store
//!   written by a newer version is refused without being touched.
//!
//! Records are named by a keyed hash of their logical key (module `records`): per tree, `windows` — the scan
//! window's start (u64 BE ms); `keys` — module `keys`; `batches` — the batch's digest; `exposures` — the
//! UTC day (u32 BE); `checkins` — the check-in's random id (u64 BE); `presence` — the warning package's
//! digest and the report's place in it; `family` — profiles, settings and declarations (module `family`).
//! The database's keys show no time, day or digest; `meta` holds only fixed names.

mod bookkeeping;
mod checkins;
mod family;
mod instances;
mod keys;
mod migrate;
mod own_keys;
mod records;
mod seal;
mod windows;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

pub use bookkeeping::BatchFindings;
pub use checkins::StoredCheckIn;
pub use family::{Profile, Settings, StoredDeclaration};
pub use instances::ScanInstance;
pub use keys::{ReportKeys, UserConsent};
pub use seal::DataKey;
pub use windows::dir_size;

use crate::error::Error;
use crate::wire::Error as WireError;
use instances::Aggregator;
use seal::Sealer;

/// The schema version this build writes and reads: 2 names records by keyed hashes (version 1 used times
/// and days as record keys, and is brought up to date when it opens).
pub const SCHEMA_VERSION: u32 = 2;

/// The file that marks a directory as an OpenZone store and names its schema version.
pub const MARKER_FILE: &str = "OPENZONE-STORE";

use crate::units::{MS_PER_DAY, RETENTION_DAYS};

/// The smallest size cap accepted: room for a day of a busy phone's scan windows.
const MIN_MAX_BYTES: u64 = 1 << 20;

/// Files sled creates in a store directory; a directory holding only these and no marker is a store
/// whose creation was interrupted.
const SLED_FILES: [&str; 3] = ["conf", "db", "blobs"];

/// The store's trees, by the number each record's name and seal bind (part of the stored format: a
/// tree is never renumbered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum TreeId {
    Meta = 0,
    Windows = 1,
    Keys = 2,
    Batches = 3,
    Exposures = 4,
    CheckIns = 5,
    Presence = 6,
    Family = 7,
}

impl TreeId {
    /// Every tree, in number order.
    const ALL: [TreeId; 8] = [
        TreeId::Meta,
        TreeId::Windows,
        TreeId::Keys,
        TreeId::Batches,
        TreeId::Exposures,
        TreeId::CheckIns,
        TreeId::Presence,
        TreeId::Family,
    ];
}

const META_SCHEMA: &[u8] = b"schema";
const META_KEY_CHECK: &[u8] = b"key-check";
const META_CHECKPOINT: &[u8] = b"checkpoint";
const META_NOTIFIED: &[u8] = b"notified";
const META_PRESENCE_TOLD: &[u8] = b"presence-told";
const KEY_CHECK_PLAINTEXT: &[u8] = b"openzone data key check";

/// How a store is sized and how it aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Days of data kept, 1 to 30; older records are purged. Default 14.
    pub retention_days: u32,
    /// Cap on the scan window records, in bytes of keys and values; the oldest go first. Default 12 MiB.
    pub max_bytes: u64,
    /// sled's page cache in bytes. Default 2 MiB (sled's own default, 1 GiB, is far too big for a phone).
    pub cache_bytes: u64,
    /// Sightings closer together than this belong to one scan window. Default 5 s.
    pub merge_gap_ms: u64,
    /// A scan window never lasts longer than this, so continuous scanning is cut into windows. Default 60 s.
    pub max_window_ms: u64,
    /// Changed instances held in memory before they are written without waiting for a checkpoint.
    pub write_batch: usize,
    /// Free disk space the store never writes into; below it, writes fail with [`Error::DiskFull`] and
    /// the data stays in memory. Default 4 MiB; 0 turns the check off.
    pub reserve_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            retention_days: RETENTION_DAYS,
            max_bytes: 12 << 20,
            cache_bytes: 2 << 20,
            merge_gap_ms: 5_000,
            max_window_ms: 60_000,
            write_batch: 4_096,
            reserve_bytes: 4 << 20,
        }
    }
}

impl StoreConfig {
    fn check(&self) -> Result<(), Error> {
        if !(1..=30).contains(&self.retention_days) {
            return Err(WireError::InvalidConfig(format!(
                "retention of {} days is outside 1 to 30",
                self.retention_days
            ))
            .into());
        }
        if self.max_bytes < MIN_MAX_BYTES {
            return Err(WireError::InvalidConfig(format!(
                "a store cap of {} bytes is too small to hold a day; allow at least {MIN_MAX_BYTES}",
                self.max_bytes
            )).into());
        }
        if self.merge_gap_ms == 0 || self.max_window_ms < self.merge_gap_ms {
            return Err(WireError::InvalidConfig(
                "the scan window must be at least as long as the merge gap, which must be positive"
                    .into(),
            )
            .into());
        }
        Ok(())
    }

    fn cutoff_ms(&self, now_ms: u64, days: u32) -> u64 {
        now_ms.saturating_sub(u64::from(days) * MS_PER_DAY)
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Scan instances older than the retention period.
    pub expired_instances: u64,
    /// Scan instances removed, oldest first, to keep under the size cap.
    pub evicted_instances: u64,
    /// Own keys, batch records, exposure days, check-ins, published check-ins and declarations older
    /// than the retention period.
    pub other_records: u64,
}

/// Scan instance counts for one UTC day and scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    /// UTC day number (days since 1970-01-01).
    pub day: u32,
    /// The scheme.
    pub scheme: crate::protocol::SchemeId,
    /// Scan instances.
    pub instances: u64,
    /// Sightings aggregated into them.
    pub sightings: u64,
}

/// What a store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStats {
    /// Scan instances per UTC day and scheme, oldest day first.
    pub days: Vec<DayCount>,
    /// Own en-v1 keys kept.
    pub own_en_keys: u64,
    /// Whether a bluezone-v3 root key exists.
    pub has_bluezone_root: bool,
    /// Bytes the store's files take on disk.
    pub bytes_on_disk: u64,
    /// Bytes of scan window records (keys and values), what the size cap counts.
    pub record_bytes: u64,
}

struct State {
    aggregator: Aggregator,
    /// Bytes of the scan window records: keys and sealed values.
    record_bytes: u64,
    /// The newest window start already in the store (found at opening or written since); a window
    /// starting later cannot collide with an older record.
    persisted_until_ms: Option<u64>,
    /// Completed checkpoints over the store's life.
    checkpoints: u64,
}

/// sled's handles, shared so that a store whose disk failed can be left open rather than closed.
struct Sled {
    db: sled::Db,
    meta: sled::Tree,
    windows: sled::Tree,
    keys: sled::Tree,
    batches: sled::Tree,
    exposures: sled::Tree,
    checkins: sled::Tree,
    presence: sled::Tree,
    family: sled::Tree,
}

/// An open store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Store {
    dir: PathBuf,
    sled: Arc<Sled>,
    /// Replaced only by [`clear`](Store::clear), under a new data key.
    sealer: RwLock<Sealer>,
    config: StoreConfig,
    state: Mutex<State>,
    /// sled reported an I/O error; it then hangs for ever in the flush its handles make when they
    /// close (sled 0.34), so this store's handles are left open instead.
    io_failed: AtomicBool,
}

impl Drop for Store {
    fn drop(&mut self) {
        if self.io_failed.load(Ordering::Relaxed) {
            // Keeps sled's handles (and its file lock) until the process exits; the app must restart to
            // use the store again, which is what the error told the user.
            std::mem::forget(Arc::clone(&self.sled));
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store in `dir`, creating it if the directory is missing or empty, and purges what has
    /// expired by `now_ms`.
    ///
    /// Refuses, without changing anything: a directory holding something other than a store, a store of
    /// a newer schema, a store sealed under another data key, a store another process has open.
    pub fn open(
        dir: &Path,
        data_key: &DataKey,
        config: StoreConfig,
        now_ms: u64,
    ) -> Result<Self, Error> {
        config.check()?;
        let marker = check_directory(dir)?;
        let db = open_sled(dir, &config)?;
        let tree = |name: &str| db.open_tree(name).map_err(|e| sled_error(dir, e));
        let sled = Sled {
            meta: tree("meta")?,
            windows: tree("windows")?,
            keys: tree("keys")?,
            batches: tree("batches")?,
            exposures: tree("exposures")?,
            checkins: tree("checkins")?,
            presence: tree("presence")?,
            family: tree("family")?,
            db,
        };
        let store = Store {
            sled: Arc::new(sled),
            io_failed: AtomicBool::new(false),
            dir: dir.to_path_buf(),
            sealer: RwLock::new(Sealer::new(data_key)),
            state: Mutex::new(State {
                aggregator: Aggregator::new(config.merge_gap_ms, config.max_window_ms, None),
                record_bytes: 0,
                persisted_until_ms: None,
                checkpoints: 0,
            }),
            config,
        };
        let checkpoint = store.check_meta(marker)?;
        let windows = store.windows()?;
        let last_window = windows.last().map(|(w, _)| w.start_ms);
        {
            let mut state = store.lock();
            state.record_bytes = windows.iter().map(|(_, r)| r.stored_len).sum();
            state.persisted_until_ms = last_window;
            state.checkpoints = checkpoint;
            state.aggregator = Aggregator::new(
                store.config.merge_gap_ms,
                store.config.max_window_ms,
                last_window,
            );
        }
        store.purge(now_ms, None)?;
        Ok(store)
    }

    /// Checks the schema and the data key; creates both on a fresh store.
    fn check_meta(&self, marker: Option<Marker>) -> Result<u64, Error> {
        let schema = self.sled.meta.get(META_SCHEMA).map_err(|e| self.io(e))?;
        match schema {
            None if marker.is_none() => {
                // A fresh store (or one whose creation was interrupted before anything was recorded).
                let check = self.sealer().seal(TreeId::Meta, META_KEY_CHECK, KEY_CHECK_PLAINTEXT)?;
                self.sled.meta
                    .insert(META_SCHEMA, &SCHEMA_VERSION.to_be_bytes())
                    .map_err(|e| self.io(e))?;
                self.sled.meta.insert(META_KEY_CHECK, check).map_err(|e| self.io(e))?;
                self.sled.db.flush().map_err(|e| self.io(e))?;
                write_marker(&self.dir, 0)?;
                Ok(0)
            }
            None => Err(Error::StoreCorrupt(format!(
                "{} is marked as a store but its database is empty or damaged; nothing was changed. \
                 Restore it from a backup or delete the directory to start afresh",
                self.dir.display()
            ))),
            Some(version) => {
                let version = <[u8; 4]>::try_from(version.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| Error::StoreCorrupt("the schema version record is damaged".into()))?;
                if version != SCHEMA_VERSION && version != migrate::LEGACY_SCHEMA_VERSION {
                    return Err(Error::UnsupportedStoreVersion {
                        found: version,
                        supported: SCHEMA_VERSION,
                    });
                }
                let check = self
                    .sled.meta
                    .get(META_KEY_CHECK)
                    .map_err(|e| self.io(e))?
                    .ok_or_else(|| Error::StoreCorrupt("the data key check record is missing".into()))?;
                if self.sealer().open(TreeId::Meta, META_KEY_CHECK, &check).as_deref()
                    != Some(KEY_CHECK_PLAINTEXT)
                {
                    return Err(Error::WrongDataKey);
                }
                let checkpoint = self
                    .sled
                    .meta
                    .get(META_CHECKPOINT)
                    .map_err(|e| self.io(e))?
                    .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
                    .map_or(0, u64::from_be_bytes);
                match marker {
                    Some(marker) if marker.checkpoint > checkpoint => {
                        return Err(Error::StoreCorrupt(format!(
                            "the database in {} went back to checkpoint {checkpoint}, but checkpoint {} had \
                             completed: its files were damaged or replaced. Nothing was changed; restore \
                             them from a backup or delete the directory to start afresh",
                            self.dir.display(),
                            marker.checkpoint
                        )));
                    }
                    Some(_) => {}
                    None => write_marker(&self.dir, checkpoint)?,
                }
                if version == migrate::LEGACY_SCHEMA_VERSION {
                    self.migrate_from_legacy()?;
                    self.put_meta_flushed(META_SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
                    write_marker(&self.dir, checkpoint)?;
                }
                Ok(checkpoint)
            }
        }
    }

    fn sealer(&self) -> RwLockReadGuard<'_, Sealer> {
        // Sealing cannot leave the sealer half-changed; a panic elsewhere does not poison its use.
        self.sealer
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the aggregator half-updated in a way that matters
        // more than losing the store, so keep going with the data as it is.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes the `meta` record `name` as is and flushes the database.
    fn put_meta_flushed(&self, name: &[u8], value: &[u8]) -> Result<(), Error> {
        self.sled.meta.insert(name, value).map_err(|e| self.io(e))?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    fn io(&self, e: sled::Error) -> Error {
        if matches!(e, sled::Error::Io(_)) {
            self.io_failed.store(true, Ordering::Relaxed);
        }
        sled_error(&self.dir, e)
    }

    /// Refuses to write when the disk is nearly full: sled 0.34 cannot recover from running out of
    /// space, so the store stops short of it and keeps what it was given in memory until there is room.
    fn check_space(&self) -> Result<(), Error> {
        if self.config.reserve_bytes == 0 {
            return Ok(());
        }
        let available = fs2::available_space(&self.dir).map_err(|source| Error::StoreIo {
            path: self.dir.clone(),
            source,
        })?;
        if available < self.config.reserve_bytes {
            return Err(Error::DiskFull {
                path: self.dir.clone(),
                available,
                reserve: self.config.reserve_bytes,
            });
        }
        Ok(())
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Deletes everything the store holds (the user's "delete my data") and seals from now on under
    /// `new_key`, keeping the store usable: the old data key opens nothing that is written afterwards.
    pub fn clear(&self, new_key: &DataKey) -> Result<(), Error> {
        let mut state = self.lock();
        let _ = state.aggregator.take_changes();
        state.aggregator =
            Aggregator::new(self.config.merge_gap_ms, self.config.max_window_ms, None);
        for tree in [
            &self.sled.windows,
            &self.sled.keys,
            &self.sled.batches,
            &self.sled.exposures,
            &self.sled.checkins,
            &self.sled.presence,
            &self.sled.family,
        ] {
            tree.clear().map_err(|e| self.io(e))?;
        }
        state.record_bytes = 0;
        state.persisted_until_ms = None;
        let sealer = Sealer::new(new_key);
        let check = sealer.seal(TreeId::Meta, META_KEY_CHECK, KEY_CHECK_PLAINTEXT)?;
        for name in [META_NOTIFIED, META_PRESENCE_TOLD] {
            self.sled.meta.remove(name).map_err(|e| self.io(e))?;
        }
        self.sled
            .meta
            .insert(META_KEY_CHECK, check)
            .map_err(|e| self.io(e))?;
        *self.sealer.write().unwrap_or_else(|p| p.into_inner()) = sealer;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }
}

/// What the marker file says.
#[derive(Debug, Clone, Copy)]
struct Marker {
    /// The number of the last completed checkpoint.
    checkpoint: u64,
}

/// Reads the marker, if any, and refuses directories that hold something other than a store.
fn check_directory(dir: &Path) -> Result<Option<Marker>, Error> {
    let marker_path = dir.join(MARKER_FILE);
    match std::fs::read(&marker_path) {
        Ok(bytes) => {
            let damaged = || Error::NotAStore {
                path: dir.to_path_buf(),
                reason: format!("{MARKER_FILE} is damaged"),
            };
            let text = std::str::from_utf8(&bytes).map_err(|_| damaged())?;
            let mut lines = text.lines();
            let version = lines
                .next()
                .and_then(|l| l.strip_prefix("openzone-store "))
                .and_then(|v| v.trim().parse::<u32>().ok())
                .ok_or_else(damaged)?;
            if version != SCHEMA_VERSION && version != migrate::LEGACY_SCHEMA_VERSION {
                return Err(Error::UnsupportedStoreVersion {
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            let checkpoint = match lines.next() {
                None => 0,
                Some(line) => line
                    .strip_prefix("checkpoint ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .ok_or_else(damaged)?,
            };
            Ok(Some(Marker { checkpoint }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    return Err(Error::StoreIo {
                        path: dir.to_path_buf(),
                        source: e,
                    })
                }
            };
            for entry in entries {
                let entry = entry.map_err(|e| Error::StoreIo {
                    path: dir.to_path_buf(),
                    source: e,
                })?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if !SLED_FILES.contains(&name.as_ref()) && !name.starts_with("snap.") {
                    return Err(Error::NotAStore {
                        path: dir.to_path_buf(),
                        reason: format!(
                            "it holds {name:?} and no {MARKER_FILE}; choose an empty directory"
                        ),
                    });
                }
            }
            Ok(None)
        }
        Err(e) => Err(Error::StoreIo {
            path: marker_path,
            source: e,
        }),
    }
}

/// Writes the marker atomically (a temporary file renamed over it), with the number of the last completed
/// checkpoint: kept outside sled, it tells when sled's files went back to an earlier state.
fn write_marker(dir: &Path, checkpoint: u64) -> Result<(), Error> {
    let tmp = dir.join(format!("{MARKER_FILE}.tmp"));
    let io = |source| Error::StoreIo {
        path: tmp.clone(),
        source,
    };
    std::fs::write(
        &tmp,
        format!("openzone-store {SCHEMA_VERSION}\ncheckpoint {checkpoint}\n"),
    )
    .map_err(io)?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, dir.join(MARKER_FILE)).map_err(io)?;
    Ok(())
}

fn open_sled(dir: &Path, config: &StoreConfig) -> Result<sled::Db, Error> {
    let sled_config = sled::Config::new()
        .path(dir)
        .cache_capacity(config.cache_bytes)
        .mode(sled::Mode::LowSpace)
        // Durability comes from explicit checkpoints; no background flusher thread on a phone.
        .flush_every_ms(None);
    // sled releases its file lock from a background thread shortly after a store closes, so a store
    // closed and reopened at once finds its own lock for a moment; another process holds it for longer.
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        // sled 0.34 panics on some damaged files instead of returning an error; a damaged store must be a
        // clear error for the user, never a crash of the app.
        let result =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sled_config.open())) {
                Ok(result) => result.map_err(|e| sled_error(dir, e)),
                Err(_) => Err(Error::StoreCorrupt(format!(
                "the database files in {} are damaged and could not be read; nothing was changed",
                dir.display()
            ))),
            };
        match result {
            Err(Error::StoreLocked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// How long opening waits for a lock that a just-closed store of this process may still hold.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

fn sled_error(dir: &Path, e: sled::Error) -> Error {
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            Error::StoreLocked {
                path: dir.to_path_buf(),
            }
        }
        sled::Error::Io(source) => Error::StoreIo {
            path: dir.to_path_buf(),
            source,
        },
        sled::Error::Corruption { .. } => Error::StoreCorrupt(format!(
            "the database files in {} are damaged: {e}",
            dir.display()
        )),
        other => Error::StoreCorrupt(format!("the database in {} failed: {other}", dir.display())),
    }
}

/// Entry point for the store-record fuzz target in `fuzz/` (docs/fuzzing.md): every decoder of a record's
/// plaintext, and the unsealing of a stored value, on bytes a damaged disk or a hostile backup could hold.
/// Not an API: nothing else should call it. Panics only if a round trip breaks.
#[doc(hidden)]
pub fn fuzz_record(bytes: &[u8]) {
    let sealer = seal::Sealer::new(&DataKey::from_bytes([7; 32]));
    let (tree, rest) = bytes.split_first().unwrap_or((&0, &[]));
    // A stored value that does not authenticate is refused, whatever its length.
    let tree_id = TreeId::ALL[usize::from(*tree) % TreeId::ALL.len()];
    let _ = sealer.open(tree_id, b"name", rest);
    if let Ok(record) = instances::WindowRecord::decode(rest, None) {
        let again = instances::WindowRecord::decode(&record.encode(), None);
        assert_eq!(again.ok(), Some(record), "a window record reads back");
    }
    let _ = instances::WindowRecord::decode(rest, Some(u64::from(*tree) << 40));
    if let Ok(key) = keys::decode_en(rest) {
        assert_eq!(
            keys::decode_en(&keys::encode_en(&key)).ok(),
            Some(key),
            "an own key reads back"
        );
    }
    if let Ok(root) = keys::decode_root(rest) {
        assert_eq!(
            keys::decode_root(&keys::encode_root(&root))
                .ok()
                .map(|r| r.day()),
            Some(root.day())
        );
    }
    let _ = bookkeeping::split_day(rest.to_vec());
}

#[cfg(test)]
pub(crate) mod tests;
