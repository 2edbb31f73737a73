//! Scan windows: sightings accepted into memory, written as one sealed record per scan window, made
//! durable by checkpoints, read back for matching, purged after the retention period.

use std::path::Path;

use super::instances::{Change, WindowRecord};
use super::{keys, META_CHECKPOINT, TREE_WINDOWS};
use super::{write_marker, DayCount, PurgeReport, ScanInstance, State, Store, StoreStats};
use crate::error::Error;
use crate::protocol::bluezone_v3;
use crate::protocol::en_v1::EN_INTERVAL_SECS;
use crate::sighting::Sighting;

impl Store {
    /// Accepts sightings into memory; they are durable after the next [`checkpoint`](Self::checkpoint).
    ///
    /// Once enough changes wait, they are written here already; if that write fails (a full disk), they
    /// stay in memory and the error comes from the next checkpoint, so a caller never records twice.
    pub fn record(&self, sightings: &[Sighting]) -> Result<(), Error> {
        let mut state = self.lock();
        for s in sightings {
            state.aggregator.add(s);
        }
        if state.aggregator.pending() >= self.config.write_batch {
            // Nothing is lost on failure: write_changes puts the changes back.
            let _ = self.write_changes(&mut state);
        }
        Ok(())
    }

    /// Writes every accepted sighting and flushes sled to disk, then purges what expired by `now_ms`.
    /// When it returns `Ok`, everything accepted so far survives a crash.
    pub fn checkpoint(&self, now_ms: u64) -> Result<(), Error> {
        {
            let mut state = self.lock();
            self.write_changes(&mut state)?;
        }
        self.purge(now_ms, None)?;
        let mut state = self.lock();
        let next = state.checkpoints + 1;
        self.sled
            .meta
            .insert(META_CHECKPOINT, &next.to_be_bytes())
            .map_err(|e| self.io(e))?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        write_marker(&self.dir, next)?;
        state.checkpoints = next;
        Ok(())
    }

    /// Writes the aggregator's changed windows; on failure the unwritten ones go back to the aggregator.
    fn write_changes(&self, state: &mut State) -> Result<(), Error> {
        if state.aggregator.pending() == 0 {
            return Ok(());
        }
        self.check_space()?;
        let mut changes = state.aggregator.take_changes().into_iter();
        while let Some(change) = changes.next() {
            if let Err(e) = self.write_window(state, &change) {
                state
                    .aggregator
                    .restore(std::iter::once(change).chain(changes).collect());
                return Err(e);
            }
        }
        Ok(())
    }

    fn write_window(&self, state: &mut State, change: &Change) -> Result<(), Error> {
        let key = change.record.start_ms.to_be_bytes();
        let mut record = change.record.clone();
        // Only a window no later than the newest one found at opening can already have a record (the
        // store reopened within a window, or the clock went back): merge rather than overwrite.
        let may_exist = change.new
            && state
                .persisted_until_ms
                .is_some_and(|until| record.start_ms <= until);
        if may_exist {
            if let Some(sealed) = self.sled.windows.get(key).map_err(|e| self.io(e))? {
                let older = self.open_window(&key, &sealed)?;
                state.aggregator.absorb(&older);
                record.merge(older);
            }
        }
        let sealed = self.sealer().seal(TREE_WINDOWS, &key, &record.encode())?;
        let new_len = (key.len() + sealed.len()) as u64;
        let previous = self
            .sled
            .windows
            .insert(key, sealed)
            .map_err(|e| self.io(e))?;
        let old_len = previous.map_or(0, |v| (key.len() + v.len()) as u64);
        state.record_bytes = (state.record_bytes + new_len).saturating_sub(old_len);
        // A window starting no later than one written now may collide with its record (sightings out of
        // order, the clock set back): such a window merges instead of overwriting.
        state.persisted_until_ms = Some(
            state
                .persisted_until_ms
                .map_or(record.start_ms, |until| until.max(record.start_ms)),
        );
        Ok(())
    }

    fn open_window(&self, key: &[u8], sealed: &[u8]) -> Result<WindowRecord, Error> {
        let corrupt = || Error::StoreCorrupt("a scan window record does not authenticate".into());
        let start_ms = <[u8; 8]>::try_from(key)
            .map(u64::from_be_bytes)
            .map_err(|_| corrupt())?;
        let plain = self
            .sealer()
            .open(TREE_WINDOWS, key, sealed)
            .ok_or_else(corrupt)?;
        WindowRecord::decode(start_ms, &plain)
    }

    /// Every scan instance whose window started in `[from_ms, to_ms)`, oldest first, including those not
    /// yet written. Records that fail to open are reported, not skipped.
    pub fn scan_instances(&self, from_ms: u64, to_ms: u64) -> Result<Vec<ScanInstance>, Error> {
        let mut out = Vec::new();
        self.for_each_instance(from_ms, to_ms, |instance| out.push(instance))?;
        Ok(out)
    }

    /// Calls `f` for every scan instance whose window started in `[from_ms, to_ms)`, in key order, after
    /// writing pending changes (without flushing) so that readers see everything recorded.
    pub fn for_each_instance(
        &self,
        from_ms: u64,
        to_ms: u64,
        mut f: impl FnMut(ScanInstance),
    ) -> Result<(), Error> {
        {
            let mut state = self.lock();
            self.write_changes(&mut state)?;
        }
        for entry in self
            .sled
            .windows
            .range(from_ms.to_be_bytes()..to_ms.to_be_bytes())
        {
            let (key, sealed) = entry.map_err(|e| self.io(e))?;
            self.open_window(&key, &sealed)?
                .instances
                .into_iter()
                .for_each(&mut f);
        }
        Ok(())
    }

    /// Removes records older than `older_than_days` (default: the retention period) before `now_ms`, then
    /// the oldest scan instances beyond the size cap. A clock set backwards only makes it remove less.
    pub fn purge(&self, now_ms: u64, older_than_days: Option<u32>) -> Result<PurgeReport, Error> {
        let days = older_than_days.unwrap_or(self.config.retention_days);
        let cutoff_ms = self.config.cutoff_ms(now_ms, days);
        let mut report = PurgeReport::default();
        let mut state = self.lock();
        self.write_changes(&mut state)?;

        let expired: Vec<sled::IVec> = self
            .sled
            .windows
            .range(..cutoff_ms.to_be_bytes())
            .keys()
            .collect::<sled::Result<_>>()
            .map_err(|e| self.io(e))?;
        report.expired_instances = self.remove_windows(&mut state, expired)?;
        if state.record_bytes > self.config.max_bytes {
            let mut excess = state.record_bytes - self.config.max_bytes;
            let mut oldest = Vec::new();
            for entry in self.sled.windows.iter() {
                let (key, value) = entry.map_err(|e| self.io(e))?;
                let len = (key.len() + value.len()) as u64;
                oldest.push(key);
                if len >= excess {
                    break;
                }
                excess -= len;
            }
            report.evicted_instances = self.remove_windows(&mut state, oldest)?;
        }
        drop(state);

        let cutoff_interval =
            u32::try_from(cutoff_ms / 1000 / EN_INTERVAL_SECS).unwrap_or(u32::MAX);
        let old_keys = self
            .own_en_keys()?
            .into_iter()
            .filter(|k| k.end_interval() <= cutoff_interval)
            .map(|k| {
                Ok(sled::IVec::from(
                    &keys::en_record_key(k.rolling_start_interval)[..],
                ))
            });
        report.other_records += self.remove_keys(&self.sled.keys, old_keys)?;
        let cutoff_day = bluezone_v3::utc_day(cutoff_ms / 1000);
        report.other_records += self.remove_keys(
            &self.sled.exposures,
            self.sled.exposures.range(..cutoff_day.to_be_bytes()).keys(),
        )?;
        Ok(report)
    }

    /// Removes whole scan window records; returns how many instances they held.
    fn remove_windows(&self, state: &mut State, keys: Vec<sled::IVec>) -> Result<u64, Error> {
        let mut instances = 0;
        for key in keys {
            if let Some(sealed) = self.sled.windows.remove(&key).map_err(|e| self.io(e))? {
                state.record_bytes = state
                    .record_bytes
                    .saturating_sub((key.len() + sealed.len()) as u64);
                // A record that no longer opens is removed all the same; it counts as no instances.
                instances += self
                    .open_window(&key, &sealed)
                    .map_or(0, |w| w.instances.len() as u64);
            }
        }
        Ok(instances)
    }

    fn remove_keys(
        &self,
        tree: &sled::Tree,
        keys: impl Iterator<Item = sled::Result<sled::IVec>>,
    ) -> Result<u64, Error> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for key in keys {
            batch.remove(key.map_err(|e| self.io(e))?);
            n += 1;
        }
        if n > 0 {
            tree.apply_batch(batch).map_err(|e| self.io(e))?;
        }
        Ok(n)
    }

    /// Counts per day and scheme, and sizes.
    pub fn stats(&self) -> Result<StoreStats, Error> {
        let mut days: Vec<DayCount> = Vec::new();
        self.for_each_instance(0, u64::MAX, |instance| {
            let day = bluezone_v3::utc_day(instance.window_start_ms / 1000);
            let scheme = instance.payload.scheme();
            match days.iter_mut().find(|d| d.day == day && d.scheme == scheme) {
                Some(d) => {
                    d.instances += 1;
                    d.sightings += u64::from(instance.count);
                }
                None => days.push(DayCount {
                    day,
                    scheme,
                    instances: 1,
                    sightings: u64::from(instance.count),
                }),
            }
        })?;
        days.sort_by_key(|d| (d.day, d.scheme));
        let record_bytes = self.lock().record_bytes;
        Ok(StoreStats {
            days,
            own_en_keys: self.own_en_keys()?.len() as u64,
            has_bluezone_root: self.bluezone_root()?.is_some(),
            bytes_on_disk: dir_size(&self.dir),
            record_bytes,
        })
    }
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}
