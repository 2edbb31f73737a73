//! `POST /v1/publish`: a phone's sealed positive report.
//!
//! The body opens with the server's sealing key (`openzone_core::keyserver::seal`) into an
//! [`UploadPayload`]. The keys are checked first (count, format, age, duplicates), then, under the rate
//! limit of failed code attempts, one sled transaction checks the code, stores the keys and marks the code
//! used: a code is consumed exactly when its keys are stored. The database is flushed before the phone is
//! told, so an accepted upload survives a crash.

use std::collections::HashSet;

use openzone_core::export::ReportType;
use openzone_core::keyserver::wire::{
    PublishResponse, UploadKey, UploadPayload, KEY_RETENTION_DAYS, MAX_KEYS_PER_UPLOAD,
};
use openzone_core::protocol::en_v1::{en_interval_number, ExposureKey, EK_ROLLING_PERIOD};
use ring::digest::{Context, SHA256};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::error::{Result, ServerError};
use crate::storage::{
    add_to_counter, decode, encode, CodeRecord, Storage, StoredKey, TestType, CODES_USED,
};

/// Days since onset a phone may state for a key.
const MAX_DAYS_SINCE_ONSET: i32 = 14;

/// A key that passed the checks, with what the phone said about it.
#[derive(Debug, Clone)]
pub(crate) struct ValidKey {
    pub key: ExposureKey,
    pub phone_days_since_onset: Option<i32>,
}

/// Checks the keys of an upload against the clock `now_ms`: 1 to 15 keys, each a 16-byte TEK with a
/// period of 1 to 144, whose validity has ended (the current interval may be its last, for same-day
/// release) and ended less than 14 days ago, none twice.
pub(crate) fn validate_keys(keys: &[UploadKey], now_ms: u64) -> Result<Vec<ValidKey>> {
    if keys.is_empty() {
        return Err(ServerError::NoKeys);
    }
    if keys.len() > MAX_KEYS_PER_UPLOAD {
        return Err(ServerError::TooManyKeys {
            found: keys.len(),
            max: MAX_KEYS_PER_UPLOAD,
        });
    }
    let current = en_interval_number(now_ms / 1000);
    let mut seen = HashSet::new();
    keys.iter()
        .enumerate()
        .map(|(index, k)| {
            let key = k.exposure_key().map_err(|e| ServerError::InvalidKey {
                index,
                reason: e.to_string(),
            })?;
            let end_interval = key.end_interval();
            if end_interval > current + 1 {
                return Err(ServerError::KeyInFuture {
                    index,
                    end_interval,
                    current_interval: current,
                });
            }
            if end_interval + KEY_RETENTION_DAYS * EK_ROLLING_PERIOD <= current {
                return Err(ServerError::KeyTooOld {
                    index,
                    days: KEY_RETENTION_DAYS,
                });
            }
            if let Some(d) = k.days_since_onset {
                if d.abs() > MAX_DAYS_SINCE_ONSET {
                    return Err(ServerError::InvalidKey {
                        index,
                        reason: format!(
                            "{d} days since onset is outside -{MAX_DAYS_SINCE_ONSET} to {MAX_DAYS_SINCE_ONSET}"
                        ),
                    });
                }
            }
            if !seen.insert(*key.tek.as_bytes()) {
                return Err(ServerError::DuplicateKey { index });
            }
            Ok(ValidKey {
                key,
                phone_days_since_onset: k.days_since_onset,
            })
        })
        .collect()
}

/// The transmission risk level of a key by days since the onset of symptoms: the Corona-Warn-App's
/// transmission risk vector for a known onset date (cwa-app-android, `TransmissionRiskVectorDeterminator`,
/// read along the diagonals: a key's level depends only on its day relative to the onset).
pub fn transmission_risk_level(days_since_onset: i32) -> u8 {
    match days_since_onset {
        ..=-6 => 1,
        -5 => 2,
        -4 => 4,
        -3 => 6,
        -2 => 7,
        -1..=1 => 8,
        2 => 6,
        3 => 5,
        4 => 3,
        5..=6 => 2,
        _ => 1,
    }
}

/// The report type an officer's confirmation becomes in exports.
pub fn report_type(test_type: TestType) -> ReportType {
    match test_type {
        TestType::Confirmed => ReportType::ConfirmedTest,
        // An officer's judgement without a positive test is a clinical diagnosis, not a self-report.
        TestType::Likely => ReportType::ConfirmedClinicalDiagnosis,
    }
}

/// What the export says about one key of an upload confirmed by `code`.
pub(crate) fn stored_key(code: &CodeRecord, key: &ValidKey, now_ms: u64) -> StoredKey {
    let key_day = (key.key.rolling_start_interval / EK_ROLLING_PERIOD) as i32;
    let days_since_onset = code
        .onset_day
        .map(|onset| key_day - onset as i32)
        .or(key.phone_days_since_onset);
    // Without any onset, the day the officer confirmed the case stands in for it (as for an
    // asymptomatic case, whose infectious window is counted from the test).
    let issue_day = (code.issued_ms / 86_400_000) as i32;
    let level = transmission_risk_level(days_since_onset.unwrap_or(key_day - issue_day));
    StoredKey {
        rolling_start_interval: key.key.rolling_start_interval,
        rolling_period: key.key.rolling_period,
        report_type: report_type(code.test_type).as_i32(),
        days_since_onset,
        transmission_risk_level: level,
        received_ms: now_ms,
        batch: None,
    }
}

/// SHA-256 over the sorted keys: recognises a retried upload of the same keys.
pub(crate) fn upload_digest(keys: &[ValidKey]) -> String {
    let mut sorted: Vec<&ValidKey> = keys.iter().collect();
    sorted.sort_by_key(|k| *k.key.tek.as_bytes());
    let mut ctx = Context::new(&SHA256);
    for k in sorted {
        ctx.update(k.key.tek.as_bytes());
        ctx.update(&k.key.rolling_start_interval.to_be_bytes());
        ctx.update(&k.key.rolling_period.to_be_bytes());
    }
    hex::encode(ctx.finish().as_ref())
}

enum Abort {
    Refused(ServerError),
    Repeat,
}

/// Consumes `code` and stores `keys` in one transaction, then flushes.
pub(crate) async fn store_upload(
    storage: &Storage,
    payload: &UploadPayload,
    keys: &[ValidKey],
    now_ms: u64,
) -> Result<PublishResponse> {
    let code = payload.code.as_bytes();
    let digest = upload_digest(keys);
    let result =
        (&storage.codes, &storage.keys, &storage.meta).transaction(|(codes, stored, meta)| {
            let abort = |a| Err(ConflictableTransactionError::Abort(a));
            let Some(value) = codes.get(code)? else {
                return abort(Abort::Refused(ServerError::CodeUnknown));
            };
            let mut record: CodeRecord = match decode(&value) {
                Ok(record) => record,
                Err(e) => return abort(Abort::Refused(e)),
            };
            if record.used_ms.is_some() {
                return if record.upload_digest.as_deref() == Some(digest.as_str()) {
                    abort(Abort::Repeat)
                } else {
                    abort(Abort::Refused(ServerError::CodeUsed))
                };
            }
            if now_ms >= record.expires_ms {
                return abort(Abort::Refused(ServerError::CodeExpired));
            }
            for (index, key) in keys.iter().enumerate() {
                if stored.get(key.key.tek.as_bytes())?.is_some() {
                    return abort(Abort::Refused(ServerError::KeyAlreadyUploaded { index }));
                }
            }
            for key in keys {
                stored.insert(
                    key.key.tek.as_bytes(),
                    encode(&stored_key(&record, key, now_ms)),
                )?;
            }
            record.used_ms = Some(now_ms);
            record.upload_digest = Some(digest.clone());
            codes.insert(code, encode(&record))?;
            add_to_counter(meta, CODES_USED, 1)?;
            Ok(())
        });
    match result {
        Ok(()) => {
            storage.flush().await?;
            Ok(PublishResponse {
                accepted_keys: keys.len(),
                repeated: false,
            })
        }
        Err(TransactionError::Abort(Abort::Repeat)) => Ok(PublishResponse {
            accepted_keys: keys.len(),
            repeated: true,
        }),
        Err(TransactionError::Abort(Abort::Refused(e))) => Err(e),
        Err(TransactionError::Storage(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openzone_core::protocol::en_v1::TemporaryExposureKey;

    /// 2026-11-20 12:00 UTC.
    const NOW_MS: u64 = 20_777 * 86_400_000 + 12 * 3_600_000;
    const CURRENT: u32 = 20_777 * 144 + 72;

    fn key(byte: u8, start: u32, period: u32) -> UploadKey {
        UploadKey {
            key: hex::encode([byte; 16]),
            rolling_start_interval: start,
            rolling_period: period,
            days_since_onset: None,
        }
    }

    fn check(keys: &[UploadKey]) -> Result<Vec<ValidKey>> {
        validate_keys(keys, NOW_MS)
    }

    #[test]
    fn good_keys_pass_including_same_day_release() {
        let keys: Vec<UploadKey> = (1..=14u32)
            .map(|d| key(d as u8, (20_777 - d) * 144, 144))
            .chain([key(99, 20_777 * 144, 73)])
            .collect();
        assert_eq!(check(&keys).unwrap().len(), 15);
    }

    #[test]
    fn each_rejection_reason() {
        assert!(matches!(check(&[]), Err(ServerError::NoKeys)));
        let sixteen: Vec<UploadKey> = (0..16u32)
            .map(|i| key(i as u8, CURRENT - 200 - i, 1))
            .collect();
        assert!(matches!(
            check(&sixteen),
            Err(ServerError::TooManyKeys { found: 16, max: 15 })
        ));
        // Ends one interval after the current one: still in use.
        assert!(matches!(
            check(&[key(1, 20_777 * 144, 74)]),
            Err(ServerError::KeyInFuture { index: 0, .. })
        ));
        assert!(matches!(
            check(&[key(1, 20_777 * 144, 73), key(2, CURRENT + 1, 1)]),
            Err(ServerError::KeyInFuture { index: 1, .. })
        ));
        // Ended exactly 14 days ago: too old; ending an interval later: fine.
        assert!(matches!(
            check(&[key(1, CURRENT - 14 * 144 - 1, 1)]),
            Err(ServerError::KeyTooOld { index: 0, days: 14 })
        ));
        assert_eq!(check(&[key(1, CURRENT - 14 * 144, 1)]).unwrap().len(), 1);
        for (bad, why) in [
            (
                UploadKey {
                    key: "00".repeat(15),
                    ..key(0, CURRENT - 10, 1)
                },
                "16 bytes",
            ),
            (
                UploadKey {
                    key: "zz".repeat(16),
                    ..key(0, CURRENT - 10, 1)
                },
                "hex",
            ),
            (key(1, CURRENT - 300, 0), "rolling period"),
            (key(1, CURRENT - 300, 145), "rolling period"),
            (
                UploadKey {
                    days_since_onset: Some(15),
                    ..key(1, CURRENT - 300, 1)
                },
                "days since onset",
            ),
        ] {
            let err = check(&[key(9, CURRENT - 500, 1), bad]).unwrap_err();
            assert!(
                matches!(err, ServerError::InvalidKey { index: 1, .. }),
                "{err}"
            );
            assert!(err.to_string().contains(why), "{err}");
        }
        assert!(matches!(
            check(&[
                key(1, CURRENT - 300, 1),
                key(2, CURRENT - 200, 1),
                key(1, CURRENT - 100, 1)
            ]),
            Err(ServerError::DuplicateKey { index: 2 })
        ));
    }

    #[test]
    fn transmission_risk_follows_the_cwa_vector() {
        // The first row of the vector (onset today): today, yesterday, ... 14 days ago.
        let onset_today = [8, 8, 7, 6, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        for (days_ago, level) in onset_today.iter().enumerate() {
            assert_eq!(transmission_risk_level(-(days_ago as i32)), *level);
        }
        // The row for an onset 5 days ago.
        let onset_5_days_ago = [2, 3, 5, 6, 8, 8, 8, 7, 6, 4, 2, 1, 1, 1, 1];
        for (days_ago, level) in onset_5_days_ago.iter().enumerate() {
            assert_eq!(transmission_risk_level(5 - days_ago as i32), *level);
        }
    }

    #[test]
    fn the_codes_onset_decides_days_since_onset_and_risk() {
        let code = CodeRecord {
            test_type: TestType::Likely,
            onset_day: Some(20_775),
            issued_ms: NOW_MS,
            expires_ms: NOW_MS + 1,
            used_ms: None,
            upload_digest: None,
        };
        let valid = ValidKey {
            key: ExposureKey::new(TemporaryExposureKey::from_bytes([1; 16]), 20_774 * 144, 144)
                .unwrap(),
            phone_days_since_onset: Some(5),
        };
        let stored = stored_key(&code, &valid, NOW_MS);
        assert_eq!(stored.days_since_onset, Some(-1));
        assert_eq!(stored.transmission_risk_level, 8);
        assert_eq!(stored.report_type, 2);
        // Without the officer's onset, the phone's; without either, the day of the code stands in.
        let no_onset = CodeRecord {
            onset_day: None,
            test_type: TestType::Confirmed,
            ..code
        };
        let stored = stored_key(&no_onset, &valid, NOW_MS);
        assert_eq!(
            (stored.days_since_onset, stored.transmission_risk_level),
            (Some(5), 2)
        );
        assert_eq!(stored.report_type, 1);
        let silent = ValidKey {
            phone_days_since_onset: None,
            ..valid
        };
        let stored = stored_key(&no_onset, &silent, NOW_MS);
        assert_eq!(
            (stored.days_since_onset, stored.transmission_risk_level),
            (None, 6)
        );
    }
}
