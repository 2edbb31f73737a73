//! Checking published keys: the one rule for a batch (an export streamed out of its zip, or a verified
//! Bluezone key list) against the store: match, score, record the days and the batch in one transaction,
//! then tell the user of days newly at risk, once per day.

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use rayon::prelude::*;

use crate::error::Error;
use crate::export::bluezone::BluezoneKeys;
use crate::export::signing::VerificationKey;
use crate::export::{ExportFile, ExportHeader, KeySkip};
use crate::matching::{match_bluezone, ExportMatching, HeardIndex, MatchContext, MatchOutcome};
use crate::risk::{score, DayRisk, RiskConfig};
use crate::store::{BatchFindings, Store};
use crate::units::{day_of_ms, MS_PER_DAY};

use super::PhoneListener;

/// What checking one batch of published keys did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    /// The batch had been processed before; nothing changed.
    pub already_processed: bool,
    /// Keys read.
    pub keys_processed: u64,
    /// Keys that matched something this phone heard.
    pub keys_matched: u64,
    /// Keys skipped, by reason.
    pub skipped: BTreeMap<KeySkip, u64>,
    /// The days this batch added exposure to, as they stand now (all batches included).
    pub days: Vec<DayRisk>,
    /// The UTC days with any sighting of this batch's identifiers, however far or short (Bluezone's own
    /// rule counted each as a contact; the risk decision is in [`days`](Self::days)).
    pub days_heard: Vec<u32>,
    /// The days that became at risk with this batch; the listener was told of each.
    pub newly_at_risk: Vec<u32>,
}

/// Matches a verified Bluezone key list, identified by `digest` (the SHA-256 of its JSON), against the
/// store, scores and records the result.
pub(crate) fn check_bluezone(
    store: &Store,
    keys: &BluezoneKeys,
    digest: &[u8; 32],
    risk: &RiskConfig,
    ctx: &MatchContext,
    listener: Option<&dyn PhoneListener>,
) -> Result<CheckReport, Error> {
    if store.batch_processed(digest)? {
        return Ok(already_processed());
    }
    let mut outcome = match_bluezone(&heard_index(store, ctx)?, &keys.keys, ctx);
    for skip in &keys.skipped {
        outcome.keys_processed += 1;
        *outcome.skipped.entry(*skip).or_default() += 1;
    }
    record(store, digest, outcome, risk, ctx, listener)
}

/// Checks an export as it streams out of its zip (from a file or from memory): its keys are matched as
/// they are read, and what they found is kept aside until the whole `export.bin` is read and its
/// signature checked against `keys(header)` (the signature covers the whole file): an export that fails
/// records nothing. The SHA-256 that checks the signature also names the batch, recorded with the result.
pub(crate) fn check_export<R: Read + Seek>(
    store: &Store,
    export: ExportFile<R>,
    keys: impl FnOnce(&ExportHeader) -> Result<Vec<VerificationKey>, Error>,
    risk: &RiskConfig,
    ctx: &MatchContext,
    listener: Option<&dyn PhoneListener>,
) -> Result<CheckReport, Error> {
    let index = heard_index(store, ctx)?;
    let mut matching = ExportMatching::default();
    let streamed = export.stream(|chunks| matching.add(&index, chunks.par_iter().copied(), ctx))?;
    streamed.verify(&keys(streamed.header())?)?;
    if store.batch_processed(&streamed.digest())? {
        return Ok(already_processed());
    }
    record(
        store,
        &streamed.digest(),
        matching.finish(),
        risk,
        ctx,
        listener,
    )
}

fn already_processed() -> CheckReport {
    CheckReport {
        already_processed: true,
        ..Default::default()
    }
}

/// What the phone heard in the retention period, indexed.
fn heard_index(store: &Store, ctx: &MatchContext) -> Result<HeardIndex, Error> {
    let oldest = ctx
        .now_ms
        .saturating_sub(u64::from(ctx.retention_days) * MS_PER_DAY);
    Ok(HeardIndex::new(store.scan_instances(oldest, u64::MAX)?))
}

/// Scores what matching a batch found and records it with the batch, in one transaction.
fn record(
    store: &Store,
    digest: &[u8; 32],
    outcome: MatchOutcome,
    risk: &RiskConfig,
    ctx: &MatchContext,
    listener: Option<&dyn PhoneListener>,
) -> Result<CheckReport, Error> {
    let mut days_heard: Vec<u32> = outcome.heard_ms.iter().map(|&t| day_of_ms(t)).collect();
    days_heard.sort_unstable();
    days_heard.dedup();
    let mut days = Vec::new();
    if !outcome.exposures.is_empty() {
        let mut stored: BTreeMap<u32, DayRisk> = exposure_days(store)?
            .into_iter()
            .map(|d| (d.day, d))
            .collect();
        for new in score(&outcome.exposures, risk) {
            days.push(match stored.remove(&new.day) {
                Some(mut old) => {
                    old.merge(&new, risk);
                    old
                }
                None => new,
            });
        }
    }
    let records = days
        .iter()
        .map(|day| {
            serde_json::to_vec(day)
                .map(|bytes| (day.day, bytes))
                .map_err(|e| Error::StoreCorrupt(e.to_string()))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    store.record_batch(BatchFindings::ExposureDays(&records), digest, ctx.now_ms)?;
    let newly_at_risk = notify_new_risk(store, ctx, listener)?;
    Ok(CheckReport {
        already_processed: false,
        keys_processed: outcome.keys_processed,
        keys_matched: outcome.keys_matched,
        skipped: outcome.skipped,
        days,
        days_heard,
        newly_at_risk,
    })
}

/// Every day with a recorded exposure, oldest first.
pub(crate) fn exposure_days(store: &Store) -> Result<Vec<DayRisk>, Error> {
    store
        .exposures()?
        .into_iter()
        .map(|(_, bytes)| {
            serde_json::from_slice(&bytes).map_err(|_| {
                Error::StoreCorrupt("an exposure result record has an unknown layout".into())
            })
        })
        .collect()
}

/// The notification policy: each day at risk within the retention period is announced once, the first
/// time it is found at risk, and never again (the days told are remembered in the store, so a restart
/// or a later batch adding to the same day does not repeat it). Returns the days announced now.
fn notify_new_risk(
    store: &Store,
    ctx: &MatchContext,
    listener: Option<&dyn PhoneListener>,
) -> Result<Vec<u32>, Error> {
    let oldest_day = day_of_ms(ctx.now_ms).saturating_sub(ctx.retention_days);
    let notified = store.notified_days()?;
    let fresh: Vec<DayRisk> = exposure_days(store)?
        .into_iter()
        .filter(|d| d.at_risk && d.day >= oldest_day && !notified.contains(&d.day))
        .collect();
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let mut remembered: Vec<u32> = notified
        .into_iter()
        .filter(|&d| d >= oldest_day)
        .chain(fresh.iter().map(|d| d.day))
        .collect();
    remembered.sort_unstable();
    // Told before remembered: a crash in between repeats a notification rather than losing one.
    if let Some(listener) = listener {
        for day in &fresh {
            listener.day_at_risk(day);
        }
    }
    store.set_notified_days(&remembered)?;
    Ok(fresh.iter().map(|d| d.day).collect())
}
