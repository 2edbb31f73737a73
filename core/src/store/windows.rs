//! Scan windows: sightings accepted into memory, written as one sealed record per scan window, made
//! durable by checkpoints, read back for matching, purged after the retention period.

use std::path::Path;

use super::instances::{Change, WindowRecord};
use super::records::Opened;
use super::{write_marker, DayCount, PurgeReport, ScanInstance, State, Store, StoreStats};
use super::{TreeId, META_CHECKPOINT};
use crate::error::Error;
use crate::protocol::bluezone_v3;
use crate::protocol::en_v1::EN_INTERVAL_SECS;
use crate::sighting::Sighting;

/// What a window record is called in errors.
const WINDOW: &str = "a scan window";

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
        self.put_meta_flushed(META_CHECKPOINT, &next.to_be_bytes())?;
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
        let logical = change.record.start_ms.to_be_bytes();
        let mut record = change.record.clone();
        // Only a window no later than the newest one already written can have a record (the store
        // reopened within a window, sightings out of order, the clock set back): merge, not overwrite.
        let may_exist = change.new
            && state
                .persisted_until_ms
                .is_some_and(|until| record.start_ms <= until);
        if may_exist {
            if let Some(plain) =
                self.get_record(&self.sled.windows, TreeId::Windows, &logical, WINDOW)?
            {
                let older = WindowRecord::decode(&plain, None)?;
                state.aggregator.absorb(&older);
                record.merge(older);
            }
        }
        let (new_len, old_len) = self.put_record(
            &self.sled.windows,
            TreeId::Windows,
            &logical,
            &record.encode(),
        )?;
        state.record_bytes = (state.record_bytes + new_len).saturating_sub(old_len.unwrap_or(0));
        state.persisted_until_ms = Some(
            state
                .persisted_until_ms
                .map_or(record.start_ms, |until| until.max(record.start_ms)),
        );
        Ok(())
    }

    /// Every window record, opened, oldest first, with its name and size.
    pub(super) fn windows(&self) -> Result<Vec<(WindowRecord, Opened)>, Error> {
        let mut windows = self
            .records(&self.sled.windows, TreeId::Windows, WINDOW)?
            .into_iter()
            .map(|opened| Ok((WindowRecord::decode(&opened.plain, None)?, opened)))
            .collect::<Result<Vec<_>, Error>>()?;
        windows.sort_by_key(|(w, _)| w.start_ms);
        Ok(windows)
    }

    /// Every scan instance whose window started in `[from_ms, to_ms)`, oldest first, including those not
    /// yet written. Records that fail to open are reported, not skipped.
    pub fn scan_instances(&self, from_ms: u64, to_ms: u64) -> Result<Vec<ScanInstance>, Error> {
        let mut out = Vec::new();
        self.for_each_instance(from_ms, to_ms, |instance| out.push(instance))?;
        Ok(out)
    }

    /// Calls `f` for every scan instance whose window started in `[from_ms, to_ms)`, oldest window
    /// first, after writing pending changes (without flushing) so that readers see everything recorded.
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
        for (window, _) in self.windows()? {
            if (from_ms..to_ms).contains(&window.start_ms) {
                window.instances.into_iter().for_each(&mut f);
            }
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

        let mut expired = Vec::new();
        let mut kept = Vec::new();
        for (window, opened) in self.windows()? {
            if window.start_ms < cutoff_ms {
                report.expired_instances += window.instances.len() as u64;
                expired.push(opened);
            } else {
                kept.push((window.instances.len() as u64, opened));
            }
        }
        self.remove_windows(&mut state, expired.iter())?;
        if state.record_bytes > self.config.max_bytes {
            // Oldest first, until the records fit the cap.
            let mut excess = state.record_bytes - self.config.max_bytes;
            let mut evicted = Vec::new();
            for (instances, opened) in kept {
                report.evicted_instances += instances;
                let len = opened.stored_len;
                evicted.push(opened);
                if len >= excess {
                    break;
                }
                excess -= len;
            }
            self.remove_windows(&mut state, evicted.iter())?;
        }
        drop(state);

        let cutoff_interval =
            u32::try_from(cutoff_ms / 1000 / EN_INTERVAL_SECS).unwrap_or(u32::MAX);
        report.other_records += self.remove_own_keys_ending_by(cutoff_interval)?;
        report.other_records +=
            self.remove_exposures_before(bluezone_v3::utc_day(cutoff_ms / 1000))?;
        report.other_records +=
            self.remove_declarations_before(bluezone_v3::utc_day(cutoff_ms / 1000))?;
        report.other_records += self.remove_check_ins_before(cutoff_ms / 1000)?;
        Ok(report)
    }

    /// Removes whole scan window records.
    fn remove_windows<'a>(
        &self,
        state: &mut State,
        windows: impl Iterator<Item = &'a Opened> + Clone,
    ) -> Result<(), Error> {
        let bytes: u64 = windows.clone().map(|w| w.stored_len).sum();
        self.remove_records(&self.sled.windows, windows.map(|w| w.name.clone()))?;
        state.record_bytes = state.record_bytes.saturating_sub(bytes);
        Ok(())
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

/// Bytes the files under `dir` take, what [`StoreStats::bytes_on_disk`] reports (and what the heavy-user
/// example measures of a closed store); unreadable entries count 0.
pub fn dir_size(dir: &Path) -> u64 {
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
