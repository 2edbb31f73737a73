//! Checking published keys end to end: match them against the store, score the matches, keep the
//! per-day result, and remember the batch so that it is never counted twice.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::export::bluezone::BluezoneKeys;
use crate::export::{KeySkip, VerifiedExport};
use crate::matching::{match_bluezone, match_export, HeardIndex, MatchContext, MatchOutcome};
use crate::risk::{score, DayRisk, RiskConfig};
use crate::store::Store;
use crate::time::MS_PER_DAY;

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
}

/// Matches a verified export against the store and records the result.
pub fn check_export(
    store: &Store,
    export: &VerifiedExport,
    risk: &RiskConfig,
    ctx: &MatchContext,
) -> Result<CheckReport, Error> {
    let digest = export.export().digest();
    check(store, &digest, risk, ctx, |index| {
        match_export(index, export, ctx)
    })
}

/// Matches a verified Bluezone key list (identified by `digest`, e.g. the SHA-256 of its JSON) against
/// the store and records the result.
pub fn check_bluezone(
    store: &Store,
    keys: &BluezoneKeys,
    digest: &[u8; 32],
    risk: &RiskConfig,
    ctx: &MatchContext,
) -> Result<CheckReport, Error> {
    check(store, digest, risk, ctx, |index| {
        let mut outcome = match_bluezone(index, &keys.keys, ctx);
        for skip in &keys.skipped {
            outcome.keys_processed += 1;
            *outcome.skipped.entry(*skip).or_default() += 1;
        }
        outcome
    })
}

fn check(
    store: &Store,
    digest: &[u8; 32],
    risk: &RiskConfig,
    ctx: &MatchContext,
    run: impl FnOnce(&HeardIndex) -> MatchOutcome,
) -> Result<CheckReport, Error> {
    if store.batch_processed(digest)? {
        return Ok(CheckReport {
            already_processed: true,
            ..Default::default()
        });
    }
    let oldest = ctx
        .now_ms
        .saturating_sub(u64::from(ctx.retention_days) * MS_PER_DAY);
    let index = HeardIndex::new(store.scan_instances(oldest, u64::MAX)?);
    let outcome = run(&index);
    let mut days = Vec::new();
    if !outcome.exposures.is_empty() {
        let mut stored: BTreeMap<u32, DayRisk> = exposure_days(store)?
            .into_iter()
            .map(|d| (d.day, d))
            .collect();
        for new in score(&outcome.exposures, risk) {
            let day = match stored.remove(&new.day) {
                Some(mut old) => {
                    old.merge(&new, risk);
                    old
                }
                None => new,
            };
            store.put_exposure(
                day.day,
                &serde_json::to_vec(&day).map_err(|e| Error::StoreCorrupt(e.to_string()))?,
            )?;
            days.push(day);
        }
    }
    store.mark_batch_processed(digest, ctx.now_ms)?;
    store.checkpoint(ctx.now_ms)?;
    Ok(CheckReport {
        already_processed: false,
        keys_processed: outcome.keys_processed,
        keys_matched: outcome.keys_matched,
        skipped: outcome.skipped,
        days,
    })
}

/// Every day with a recorded exposure, oldest first.
pub fn exposure_days(store: &Store) -> Result<Vec<DayRisk>, Error> {
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
