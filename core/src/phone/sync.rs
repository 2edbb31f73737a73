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
use crate::export::{ExportFile, KeySkip};
use crate::keyserver::wire::{ServerConfigDoc, NATIONAL_PARTITION, WARNING_PACKAGE_MARK};
use crate::keyserver::KeyServerClient;
use crate::risk::DayRisk;
use crate::wire::Error as WireError;

use super::exposure::exposure_days;
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
    /// Bytes downloaded (indexes and exports).
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
    /// Regions this phone chose that the key server publishes no exports for (a code it does not know):
    /// nothing of theirs was checked.
    pub regions_not_published: Vec<String>,
}

/// The indexes a sync reads: with no region chosen, or from a server that does not partition its
/// exports, the index of every export; otherwise the national index and each chosen region's. A chosen
/// region the server does not publish for goes into `not_published` (the sync goes on with the rest).
fn index_urls<'a>(
    config: &'a ServerConfigDoc,
    regions: &[String],
    not_published: &mut Vec<String>,
) -> Vec<&'a str> {
    if regions.is_empty() || config.region_index_urls.is_empty() {
        return vec![config.index_url.as_str()];
    }
    let mut urls: Vec<&str> = config
        .region_index_urls
        .get(NATIONAL_PARTITION)
        .map(String::as_str)
        .into_iter()
        .collect();
    for region in regions {
        match config.region_index_urls.get(region) {
            Some(url) => urls.push(url),
            None => not_published.push(region.clone()),
        }
    }
    urls
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
        return Err(WireError::Signature(
            "no export-signing key is configured; pin the key server's public key".into(),
        )
        .into());
    };
    let store = &phone.inner.store;
    let mut entries = Vec::new();
    for index_url in index_urls(
        &server_config,
        &store.settings()?.regions,
        &mut report.regions_not_published,
    ) {
        let (listed, index_bytes) = client.fetch_index(index_url).await?;
        report.bytes_downloaded += index_bytes;
        entries.extend(listed);
    }
    // Partitions are disjoint; this only guards against a server listing an export twice.
    let mut seen = std::collections::HashSet::new();
    entries.retain(|entry| seen.insert(entry.name.clone()));
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
        let checked = if entry.name.contains(WARNING_PACKAGE_MARK) {
            WarningPackage::from_zip_bytes(&zip)
                .and_then(|p| p.verify(&keys))
                .map_err(Error::from)
                .and_then(|verified| phone.check_warning_package(&verified))
                .map(|checked| {
                    report.exports_checked += 1;
                    report.warning_packages_checked += 1;
                    report.checkins_matched += checked.matched;
                    report.new_presence_warnings.extend(checked.new_warnings);
                })
        } else {
            ExportFile::from_zip_bytes(zip)
                .map_err(Error::from)
                .and_then(|export| phone.check_export(export, |_| Ok(keys.clone())))
                .map(|checked| {
                    report.exports_checked += 1;
                    report.keys_processed += checked.keys_processed;
                    report.keys_matched += checked.keys_matched;
                    for (skip, n) in checked.skipped {
                        *report.skipped.entry(skip).or_default() += n;
                    }
                    report.newly_at_risk.extend(checked.newly_at_risk);
                })
        };
        match checked {
            Ok(()) => {}
            // A damaged or badly signed file: remembered as rejected, not downloaded again.
            Err(
                e @ Error::Wire(
                    WireError::CheckIn(_) | WireError::Signature(_) | WireError::Export(_),
                ),
            ) => report
                .exports_rejected
                .push((entry.name.clone(), e.to_string())),
            // A failing store stops the sync; the file is downloaded again next time.
            Err(e) => return Err(e),
        }
        store.mark_export_fetched(&entry.name, phone.now_ms())?;
    }
    phone.sync_progress(SyncProgress {
        exports_done: total,
        exports_total: total,
    });
    report.days = exposure_days(store)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(partitions: &[&str]) -> ServerConfigDoc {
        use crate::keyserver::wire::{PublicationDoc, SealingKeyDoc, UploadLimitsDoc};
        ServerConfigDoc {
            version: 1,
            region: "VN".into(),
            export_signing_keys: Vec::new(),
            upload_sealing_key: SealingKeyDoc {
                algorithm: String::new(),
                version: 1,
                public_key: String::new(),
            },
            risk_configuration: crate::risk::RiskConfig::default(),
            publication: PublicationDoc {
                cadence_secs: 3_600,
                delay_secs: 7_200,
                min_batch_keys: 1_000,
            },
            index_url: "exports/index.txt".into(),
            region_index_urls: partitions
                .iter()
                .map(|p| (p.to_string(), format!("exports/index-{p}.txt")))
                .collect(),
            upload_limits: UploadLimitsDoc {
                max_keys: 15,
                max_key_age_days: 14,
                max_body_bytes: 16_384,
            },
        }
    }

    #[test]
    fn a_phone_with_regions_reads_the_national_index_and_theirs() {
        let doc = config(&[NATIONAL_PARTITION, "01", "79"]);
        let mut missing = Vec::new();
        let urls = index_urls(&doc, &["79".into(), "48".into()], &mut missing);
        assert_eq!(urls, ["exports/index-national.txt", "exports/index-79.txt"]);
        assert_eq!(missing, ["48"]);
    }

    #[test]
    fn without_regions_or_partitions_every_export_is_read() {
        let mut missing = Vec::new();
        let partitioned = config(&[NATIONAL_PARTITION, "79"]);
        assert_eq!(
            index_urls(&partitioned, &[], &mut missing),
            [partitioned.index_url.as_str()]
        );
        let whole = config(&[]);
        assert_eq!(
            index_urls(&whole, &["79".into()], &mut missing),
            [whole.index_url.as_str()]
        );
        assert!(missing.is_empty());
    }

    #[test]
    fn a_config_of_a_server_without_partitions_reads_as_before() {
        let whole = config(&[]);
        let json = serde_json::to_string(&whole).unwrap();
        assert!(!json.contains("region_index_urls"));
        assert_eq!(
            serde_json::from_str::<ServerConfigDoc>(&json).unwrap(),
            whole
        );
        let partitioned = config(&[NATIONAL_PARTITION, "79"]);
        let json = serde_json::to_string(&partitioned).unwrap();
        assert_eq!(
            serde_json::from_str::<ServerConfigDoc>(&json).unwrap(),
            partitioned
        );
    }
}
