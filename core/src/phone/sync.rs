//! Downloading and checking the exports and warning packages the key server published since the last
//! sync.
//!
//! Resumable: an export's name is remembered in the store once it was checked, so a sync that was
//! interrupted (no network, the app killed) downloads only what it had not finished, and the batch's
//! digest is remembered with its result, so nothing is ever counted twice even if the name was not yet
//! recorded. One bad export does not stop a sync: a download that fails is tried again next time; an
//! export that is damaged or badly signed is remembered as rejected and not downloaded again.

use std::collections::BTreeMap;

use crate::checkin::package::WarningPackage;
use crate::error::Error;
use crate::export::signing::VerificationKey;
use crate::export::{Export, KeySkip};
use crate::keyserver::wire::WARNING_PACKAGE_MARK;
use crate::keyserver::KeyServerClient;
use crate::risk::DayRisk;

use super::exposure::{exposure_days, Batch};
use super::{Phone, PresenceWarning, SyncProgress};

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncReport {
    /// Exports the index lists.
    pub exports_listed: usize,
    /// Exports downloaded and checked in this sync.
    pub exports_checked: usize,
    /// Exports listed that earlier syncs had checked (or rejected).
    pub exports_already_checked: usize,
    /// Exports that could not be used (damaged, badly signed), with the reason; they are not downloaded
    /// again.
    pub exports_rejected: Vec<(String, String)>,
    /// Exports whose download failed, with the reason; the next sync tries them again.
    pub exports_failed: Vec<(String, String)>,
    /// Keys read from the new exports.
    pub keys_processed: u64,
    /// Keys that matched something this phone heard.
    pub keys_matched: u64,
    /// Keys skipped, by reason.
    pub skipped: BTreeMap<KeySkip, u64>,
    /// Bytes downloaded (index and exports).
    pub bytes_downloaded: u64,
    /// Every day with a recorded exposure, this sync's and earlier ones', oldest first.
    pub days: Vec<DayRisk>,
    /// The days that became at risk in this sync; the listener was told of each.
    pub newly_at_risk: Vec<u32>,
    /// The export-signing keys came from `/v1/config` rather than from pinned keys.
    pub trusted_server_keys: bool,
    /// Warning packages (encrypted check-ins of cases) downloaded and checked in this sync; the index
    /// lists them with the exports, and the counts of exports above include them.
    pub warning_packages_checked: usize,
    /// Published check-ins at venues this phone checked into.
    pub checkins_matched: u64,
    /// The presence warnings found in this sync; the listener was told of each.
    pub new_presence_warnings: Vec<PresenceWarning>,
}

/// Fetches the index, then downloads, verifies and checks every listed export not seen before.
pub(crate) async fn sync(phone: &Phone, client: &KeyServerClient) -> Result<SyncReport, Error> {
    let mut report = SyncReport::default();
    let server_config = client.fetch_config().await?;
    let keys: Vec<VerificationKey> = if !phone.inner.export_keys.is_empty() {
        phone.inner.export_keys.clone()
    } else if phone.inner.trust_announced_export_keys {
        report.trusted_server_keys = true;
        server_config
            .export_signing_keys
            .iter()
            .map(|k| k.verification_key())
            .collect::<Result<_, _>>()?
    } else {
        return Err(Error::Signature(
            "no export-signing key is configured; pin the key server's public key".into(),
        ));
    };
    let store = &phone.inner.store;
    let (entries, index_bytes) = client.fetch_index(&server_config.index_url).await?;
    report.bytes_downloaded += index_bytes;
    report.exports_listed = entries.len();
    let mut new = Vec::new();
    for entry in entries {
        if store.export_fetched(&entry.name)? {
            report.exports_already_checked += 1;
        } else {
            new.push(entry);
        }
    }
    let total = new.len();
    for (done, entry) in new.into_iter().enumerate() {
        phone.sync_progress(SyncProgress {
            exports_done: done,
            exports_total: total,
        });
        let zip = match client.download_export(&entry.url).await {
            Ok(zip) => zip,
            Err(e) => {
                report.exports_failed.push((entry.name, e.to_string()));
                continue;
            }
        };
        report.bytes_downloaded += zip.len() as u64;
        if entry.name.contains(WARNING_PACKAGE_MARK) {
            let checked = WarningPackage::from_zip_bytes(&zip)
                .and_then(|p| p.verify(&keys))
                .and_then(|verified| phone.check_warning_package(&verified));
            match checked {
                Ok(checked) => {
                    report.exports_checked += 1;
                    report.warning_packages_checked += 1;
                    report.checkins_matched += checked.matched;
                    report.new_presence_warnings.extend(checked.new_warnings);
                }
                // A damaged or badly signed package; a failing store stops the sync below.
                Err(e @ (Error::CheckIn(_) | Error::Signature(_) | Error::Export(_))) => {
                    report
                        .exports_rejected
                        .push((entry.name.clone(), e.to_string()));
                }
                Err(e) => return Err(e),
            }
            store.mark_export_fetched(&entry.name, phone.now_ms())?;
            continue;
        }
        let verified = match Export::from_zip_bytes(&zip).and_then(|e| e.verify(&keys)) {
            Ok(verified) => verified,
            Err(e) => {
                store.mark_export_fetched(&entry.name, phone.now_ms())?;
                report.exports_rejected.push((entry.name, e.to_string()));
                continue;
            }
        };
        let checked = phone.check(&Batch::Export(&verified))?;
        report.exports_checked += 1;
        report.keys_processed += checked.keys_processed;
        report.keys_matched += checked.keys_matched;
        for (skip, n) in checked.skipped {
            *report.skipped.entry(skip).or_default() += n;
        }
        report.newly_at_risk.extend(checked.newly_at_risk);
        store.mark_export_fetched(&entry.name, phone.now_ms())?;
    }
    phone.sync_progress(SyncProgress {
        exports_done: total,
        exports_total: total,
    });
    report.days = exposure_days(store)?;
    Ok(report)
}
