//! Presence-tracing warnings: the encrypted check-ins of confirmed cases, and officers' warnings for a
//! venue and a time span, published hourly in signed warning packages.
//!
//! - A positive report's sealed upload carries its phone's encrypted check-ins, always
//!   [`MAX_CHECKINS_PER_UPLOAD`] of them with the phone's fakes; they are stored in the same transaction
//!   as the keys, under the hash of their bytes, with nothing about the upload (no code, no time, no
//!   order), and only while they wait for publication. The server cannot read their times (only
//!   someone who saw the poster can): phones judge those when they open them.
//! - An officer warns for a venue without any app upload (a class without phones, a paper gate log):
//!   signed in (`Authorization: Bearer`), or with a one-time code an officer issued, which the warning
//!   uses up. The server reads the poster, checks the span (in the past, within the retention period,
//!   at most a day) and encrypts the check-in itself.
//! - Each publication run puts the waiting check-ins into one warning package padded with fakes as
//!   exports are padded, signed with the export key and listed in `index.txt` next to the exports
//!   (`<batch number>-warnings-<hash>.zip`); it is a batch like an export, so the publication's lease,
//!   its index decided in the database, its crash recovery and retention apply as they are, on either
//!   backend. Check-ins of a batch that is rolled back wait again and those of a published one are
//!   deleted, in the transaction that rolls back or publishes it (`settle_checkins`).

use openzone_wire::checkin::package::WarningPackageBuilder;
use openzone_wire::checkin::report::transmission_risk_level;
use openzone_wire::checkin::{CheckInLinks, CheckInRecord, ProtectedReport, Venue};
use openzone_wire::keyserver::wire::{
    decode_checkin, encode_checkin, VenueWarning, MAX_CHECKINS_PER_UPLOAD, WARNING_PACKAGE_MARK,
};
use openzone_wire::units::{RETENTION_DAYS, SECS_PER_DAY};
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditAction, AuditEntry};
use crate::codes::code_hmac;
use crate::error::{Result, ServerError};
use crate::padding::padded_reports;
use crate::publication::{failpoint, lost, record_writing, Publisher};
use crate::storage::{
    decode, decode_u64, encode, BatchRecord, BatchState, Change, CodeRecord, Committed, Storage,
    CHECKINS, CODES, META, NEXT_BATCH,
};
use crate::AppState;

/// The longest span an officer may warn for at once: a stay lasts at most a day.
const MAX_WARNING_SECS: u64 = SECS_PER_DAY;

/// How far ahead of the server's clock a warning's end may be (clocks of officers' laptops).
const CLOCK_SLACK_SECS: u64 = 60;

/// An encrypted check-in waiting for publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredCheckIn {
    /// The `CheckInProtectedReport`, base64.
    pub report: String,
    /// The warning package it went into; `None` while it waits.
    pub batch: Option<u64>,
}

/// Checks the encrypted check-ins of an upload: at most [`MAX_CHECKINS_PER_UPLOAD`], each a
/// `CheckInProtectedReport` with fields of the right sizes.
pub(crate) fn validate_checkins(texts: &[String]) -> Result<Vec<ProtectedReport>> {
    if texts.len() > MAX_CHECKINS_PER_UPLOAD {
        return Err(ServerError::TooManyCheckIns {
            found: texts.len(),
            max: MAX_CHECKINS_PER_UPLOAD,
        });
    }
    texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            decode_checkin(text).map_err(|e| ServerError::InvalidCheckIn {
                index,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Adds check-ins to a change, keyed by the hash of their bytes (a retry stores nothing new).
pub(crate) fn put_checkins(change: &mut Change, reports: &[ProtectedReport]) {
    for report in reports {
        let bytes = report.encode();
        let id = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let stored = StoredCheckIn {
            report: encode_checkin(report),
            batch: None,
        };
        change.put(CHECKINS, id.as_ref(), encode(&stored));
    }
}

/// Adds to the change that ends batch `seq` what becomes of its check-ins (none for an export):
/// deleted once it is `published`, waiting again if it is rolled back. Each is expected as read, so the
/// batch's end and its check-ins' change commit together or not at all.
pub(crate) async fn settle_checkins(
    storage: &Storage,
    change: &mut Change,
    seq: u64,
    published: bool,
) -> Result<()> {
    for (id, value) in storage.scan(CHECKINS).await? {
        let stored: StoredCheckIn = decode(&value)?;
        if stored.batch != Some(seq) {
            continue;
        }
        change.expect(CHECKINS, id.clone(), Some(value));
        if published {
            change.remove(CHECKINS, id);
        } else {
            let waiting = StoredCheckIn {
                batch: None,
                ..stored
            };
            change.put(CHECKINS, id, encode(&waiting));
        }
    }
    Ok(())
}

/// The encrypted check-in of an officer's warning at `now_ms`: the venue read from its link (any base:
/// the officer holds the school's own poster), a span in the past, within the retention period, of at
/// most a day, at the transmission risk level of the day of onset.
pub(crate) fn officer_report(request: &VenueWarning, now_ms: u64) -> Result<ProtectedReport> {
    let invalid = |reason: String| ServerError::InvalidWarning(reason);
    let venue = venue_of_link(&request.venue).map_err(|e| invalid(e.to_string()))?;
    let now = now_ms / 1000;
    let (from, to) = (request.from, request.to);
    if to <= from {
        return Err(invalid(format!(
            "the span ends ({to}) before it begins ({from})"
        )));
    }
    if to - from > MAX_WARNING_SECS {
        return Err(invalid(format!(
            "the span lasts {} hours; warn for at most a day at a time",
            (to - from) / 3_600
        )));
    }
    if to > now + CLOCK_SLACK_SECS {
        return Err(invalid(format!(
            "the span ends at {to}, after now ({now}); warn for what happened"
        )));
    }
    if from + u64::from(RETENTION_DAYS) * SECS_PER_DAY < now {
        return Err(invalid(format!(
            "the span begins more than {RETENTION_DAYS} days ago; phones no longer keep those check-ins"
        )));
    }
    let record = CheckInRecord::covering(from, to, transmission_risk_level(0))?;
    Ok(ProtectedReport::seal(
        &venue.location_id(),
        &record,
        &SystemRandom::new(),
    )?)
}

/// The venue of a check-in link of any base.
fn venue_of_link(text: &str) -> std::result::Result<Venue, openzone_wire::Error> {
    let base = text.trim().split(['?', '#']).next().unwrap_or_default();
    CheckInLinks::new(base)?.venue(text)
}

/// Stores an officer's warning; with `code`, uses the code up in the same transaction (refused,
/// changing nothing, if it is unknown, used or expired). Flushed before the officer is told.
pub(crate) async fn store_warning(
    storage: &Storage,
    code_key: &ring::hmac::Key,
    code: Option<&str>,
    report: &ProtectedReport,
    now_ms: u64,
) -> Result<()> {
    let hmac = code.map(|c| code_hmac(code_key, c));
    let attempt = || async {
        let mut change = Change::default();
        if let Some(hmac) = &hmac {
            let Some(raw) = storage.get(CODES, hmac).await? else {
                return Err(ServerError::CodeUnknown);
            };
            let mut record: CodeRecord = decode(&raw)?;
            if record.used {
                return Err(ServerError::CodeUsed);
            }
            if now_ms >= record.expires_ms {
                return Err(ServerError::CodeExpired);
            }
            record.used = true;
            change.expect(CODES, hmac.as_slice(), Some(raw));
            change.put(CODES, hmac.as_slice(), encode(&record));
        }
        put_checkins(&mut change, std::slice::from_ref(report));
        Ok(match storage.commit(change).await? {
            Committed::Yes => Some(()),
            Committed::Conflict => None,
        })
    };
    storage.retry(attempt).await?;
    storage.flush().await
}

/// Stores the warning of a signed-in officer, and records it in the audit log (which venue and when are
/// not logged: the warning package is the only record).
pub(crate) async fn store_as(
    state: &AppState,
    officer: &str,
    report: &ProtectedReport,
) -> Result<()> {
    let now_ms = state.now_ms();
    store_warning(&state.storage, &state.code_key, None, report, now_ms).await?;
    audit::add(
        &state.storage,
        &AuditEntry::new(now_ms, officer, AuditAction::VenueWarned),
    )
    .await
}

/// Checks and stores the warning of a signed-in officer (the officer page's form).
pub(crate) async fn warn_as(state: &AppState, officer: &str, warning: &VenueWarning) -> Result<()> {
    let report = officer_report(warning, state.now_ms())?;
    store_as(state, officer, &report).await
}

impl Publisher {
    /// Publishes the waiting check-ins in one warning package, if any wait: numbered and recorded as
    /// `writing` with its check-ins assigned, written, listed in the index, published (the steps, the
    /// lease and the crash recovery of exports). Returns its name, the check-ins and all reports in it.
    pub(crate) async fn publish_warnings(&self, now_ms: u64) -> Result<Option<(String, u64, u64)>> {
        let mut waiting = Vec::new();
        for (id, raw) in self.storage.scan(CHECKINS).await? {
            let stored: StoredCheckIn = decode(&raw)?;
            if stored.batch.is_none() {
                waiting.push((id, raw, stored));
            }
        }
        if waiting.is_empty() {
            return Ok(None);
        }
        let reports = waiting
            .iter()
            .map(|(_, _, s)| decode_checkin(&s.report))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let real = reports.len() as u64;
        let reports = padded_reports(
            reports,
            self.settings.min_batch,
            self.settings.padding_jitter,
        )?;
        let total = reports.len() as u64;
        let zip = WarningPackageBuilder {
            interval_number: u32::try_from(now_ms / 3_600_000).unwrap_or(u32::MAX),
            region: self.settings.region.clone(),
            reports,
        }
        .build_zip(&self.signer)?;
        let next_raw = self.storage.get(META, NEXT_BATCH.as_bytes()).await?;
        let seq = next_raw.as_deref().map_or(0, decode_u64) + 1;
        let hash = ring::digest::digest(&ring::digest::SHA256, &zip);
        let name = format!(
            "{seq:010}{WARNING_PACKAGE_MARK}{}.zip",
            hex::encode(&hash.as_ref()[..8])
        );
        let batch = BatchRecord {
            seq,
            name: name.clone(),
            state: BatchState::Writing,
            created_ms: now_ms,
            // A warning package holds no keys.
            real_keys: 0,
            total_keys: 0,
            delisted_ms: None,
            // Check-ins are national: every phone reads the national index.
            region: None,
        };
        self.keep_lease().await?;
        let mut change = record_writing(next_raw, &batch);
        for (id, raw, stored) in waiting {
            let assigned = StoredCheckIn {
                batch: Some(seq),
                ..stored
            };
            change.expect(CHECKINS, id.clone(), Some(raw));
            change.put(CHECKINS, id, encode(&assigned));
        }
        if self.storage.commit(change).await? == Committed::Conflict {
            return Err(lost("the batch numbering or a waiting check-in"));
        }
        self.storage.flush().await?;
        self.list_batch(&batch, zip).await?;
        failpoint("warnings-published");
        tracing::info!(
            batch = seq,
            total_reports = total,
            "warning package published"
        );
        Ok(Some((name, real, total)))
    }
}
