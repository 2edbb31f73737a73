//! Downloading and checking the exports the key server published since the last sync.
//!
//! Resumable: an export's name is remembered in the store once its result is recorded, so a sync that
//! was interrupted (no network, the app killed) downloads only what it had not finished; and the
//! batch's digest is remembered by [`check_export`] itself, so nothing is ever counted twice even if
//! the name was not yet recorded.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::export::signing::VerificationKey;
use crate::export::{Export, KeySkip};
use crate::exposure::{check_export, exposure_days};
use crate::matching::MatchContext;
use crate::risk::{DayRisk, RiskConfig};
use crate::store::Store;

use super::client::KeyServerClient;

/// How to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The risk configuration matches are scored with.
    pub risk: RiskConfig,
    /// The matching context (the current time, this phone's calibration).
    pub ctx: MatchContext,
    /// With no export-signing key pinned in the client, trust the keys `/v1/config` announces. Only for
    /// tests and the command line: an app pins its keys.
    pub trust_server_keys: bool,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncReport {
    /// Exports the index lists.
    pub exports_listed: usize,
    /// Exports downloaded and checked in this sync.
    pub exports_checked: usize,
    /// Exports listed that earlier syncs had checked.
    pub exports_already_checked: usize,
    /// Exports that could not be used (damaged, badly signed), with the reason; they are tried again at
    /// the next sync.
    pub exports_rejected: Vec<(String, String)>,
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
    /// The export-signing keys came from `/v1/config` rather than from pinned keys.
    pub trusted_server_keys: bool,
}

/// Fetches the index, then downloads, verifies and matches every listed export not checked before.
pub async fn sync(
    store: &Store,
    client: &KeyServerClient,
    options: &SyncOptions,
) -> Result<SyncReport, Error> {
    let mut report = SyncReport::default();
    let server_config = client.fetch_config().await?;
    let keys: Vec<VerificationKey> = if !client.config().pinned_export_keys.is_empty() {
        client.config().pinned_export_keys.clone()
    } else if options.trust_server_keys {
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
    let (entries, index_bytes) = client.fetch_index(&server_config.index_url).await?;
    report.bytes_downloaded += index_bytes;
    report.exports_listed = entries.len();
    for entry in entries {
        if store.export_fetched(&entry.name)? {
            report.exports_already_checked += 1;
            continue;
        }
        let zip = client.download_export(&entry.url).await?;
        report.bytes_downloaded += zip.len() as u64;
        let verified = match Export::from_zip_bytes(&zip).and_then(|e| e.verify(&keys)) {
            Ok(verified) => verified,
            Err(e) => {
                report.exports_rejected.push((entry.name, e.to_string()));
                continue;
            }
        };
        let checked = check_export(store, &verified, &options.risk, &options.ctx)?;
        report.exports_checked += 1;
        report.keys_processed += checked.keys_processed;
        report.keys_matched += checked.keys_matched;
        for (skip, n) in checked.skipped {
            *report.skipped.entry(skip).or_default() += n;
        }
        store.mark_export_fetched(&entry.name, options.ctx.now_ms)?;
    }
    report.days = exposure_days(store)?;
    Ok(report)
}
