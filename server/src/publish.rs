//! `POST /v1/publish`: a phone's sealed positive report.
//!
//! The body opens with one of the server's sealing keys into an upload (`openzone_wire::keyserver::wire`):
//! chaff is answered by `api.rs` and dropped; a real report's keys are checked first (count, format, age,
//! duplicates, at most three per start interval), then, under the rate limit of failed code attempts,
//! one database transaction checks the code, stores the keys and the encrypted check-ins and marks the
//! code used: a code is consumed exactly when its keys are stored. The database is flushed before the phone is told, so an accepted
//! upload survives a crash.
//!
//! A key still valid on the day of the report (same-day release ends it at the report's interval) is
//! stored as covering its whole UTC day: it is published only after that day (plus the delay), and its
//! length does not tell when the report was made. The RPIs it adds were never broadcast (the phone
//! rotated to a fresh key), so they match nothing.

use std::collections::{HashMap, HashSet};

use openzone_wire::checkin::ProtectedReport;
use openzone_wire::export::ReportType;
use openzone_wire::keyserver::wire::{
    PublishResponse, UploadKey, UploadPayload, KEY_RETENTION_DAYS, MAX_KEYS_PER_UPLOAD,
};
use openzone_wire::protocol::en_v1::{en_interval_number, ExposureKey, EK_ROLLING_PERIOD};

use crate::codes::code_hmac;
use crate::error::{Result, ServerError};
use crate::storage::{
    decode, encode, Change, CodeRecord, Committed, KeyShape, Storage, StoredKey, TestType, CODES,
    CODES_USED, KEYS,
};

/// Days since onset a phone may state for a key.
const MAX_DAYS_SINCE_ONSET: i32 = 14;

/// Keys of one upload that may share a rolling start interval: a phone whose user reset its keys has
/// several for a day. Google's exposure-notifications-server allows 3
/// (`MAX_SAME_START_INTERVAL_KEYS`, default 3, `internal/publish/config.go`).
pub const MAX_KEYS_PER_START: usize = 3;

/// A key that passed the checks, with what the phone said about it.
#[derive(Debug, Clone)]
pub(crate) struct ValidKey {
    pub key: ExposureKey,
    pub phone_days_since_onset: Option<i32>,
}

/// Checks the keys of an upload against the clock `now_ms`: 1 to 15 keys, each a 16-byte TEK with a
/// period of 1 to 144, whose validity has ended (the current interval may be its last, for same-day
/// release) and ended less than 14 days ago, none twice, at most [`MAX_KEYS_PER_START`] with the same
/// start, days since onset within ±14.
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
    let mut per_start: HashMap<u32, usize> = HashMap::new();
    keys.iter()
        .enumerate()
        .map(|(index, k)| {
            let invalid = |reason: String| ServerError::InvalidKey { index, reason };
            let key = k.exposure_key().map_err(|e| invalid(e.to_string()))?;
            let end_interval = key.end_interval();
            if end_interval > current.saturating_add(1) {
                return Err(ServerError::KeyInFuture {
                    index,
                    end_interval,
                    current_interval: current,
                });
            }
            if u64::from(end_interval) + u64::from(KEY_RETENTION_DAYS * EK_ROLLING_PERIOD)
                <= u64::from(current)
            {
                return Err(ServerError::KeyTooOld {
                    index,
                    days: KEY_RETENTION_DAYS,
                });
            }
            if let Some(d) = k.days_since_onset {
                if !(-MAX_DAYS_SINCE_ONSET..=MAX_DAYS_SINCE_ONSET).contains(&d) {
                    return Err(invalid(format!(
                        "{d} days since onset is outside -{MAX_DAYS_SINCE_ONSET} to {MAX_DAYS_SINCE_ONSET}"
                    )));
                }
            }
            if !seen.insert(*key.tek.as_bytes()) {
                return Err(ServerError::DuplicateKey { index });
            }
            let sharing = per_start.entry(key.rolling_start_interval).or_default();
            *sharing += 1;
            if *sharing > MAX_KEYS_PER_START {
                return Err(invalid(format!(
                    "more than {MAX_KEYS_PER_START} keys start at interval {}",
                    key.rolling_start_interval
                )));
            }
            Ok(ValidKey {
                key,
                phone_days_since_onset: k.days_since_onset,
            })
        })
        .collect()
}

/// Keys get the same transmission risk levels as phones give their encrypted check-ins.
pub use openzone_wire::checkin::report::transmission_risk_level;

/// The report type an officer's confirmation becomes in exports.
pub fn report_type(test_type: TestType) -> ReportType {
    match test_type {
        TestType::Confirmed => ReportType::ConfirmedTest,
        // An officer's judgement without a positive test is a clinical diagnosis, not a self-report.
        TestType::Likely => ReportType::ConfirmedClinicalDiagnosis,
    }
}

/// What the export says about one key of an upload confirmed by `code`.
pub(crate) fn stored_key(code: &CodeRecord, key: &ValidKey) -> StoredKey {
    let start = key.key.rolling_start_interval;
    let key_day = start / EK_ROLLING_PERIOD;
    let days_since_onset = code
        .onset_day
        .map(|onset| i64::from(key_day) - i64::from(onset))
        .and_then(|d| i32::try_from(d).ok())
        .or(key.phone_days_since_onset);
    // Without any onset, the day the officer confirmed the case stands in for it (as for an
    // asymptomatic case, whose infectious window is counted from the test).
    let issue_day = code.issued_ms / 86_400_000;
    let from_issue = i32::try_from(i64::from(key_day) - issue_day as i64).unwrap_or(i32::MIN);
    let level = transmission_risk_level(days_since_onset.unwrap_or(from_issue));
    // A key cut short on its day (same-day release) covers the rest of the day once published (unless
    // that day ends past the last interval a key can have, which no clock reaches).
    let day_end = (u64::from(key_day) + 1) * u64::from(EK_ROLLING_PERIOD);
    let rolling_period =
        if u64::from(key.key.end_interval()) < day_end && day_end <= u64::from(u32::MAX) {
            (day_end - u64::from(start)) as u32
        } else {
            key.key.rolling_period
        };
    StoredKey {
        shape: KeyShape {
            rolling_start_interval: start,
            rolling_period,
            report_type: report_type(code.test_type).as_i32(),
            days_since_onset,
            transmission_risk_level: level,
        },
        batch: None,
        region: code.region.clone(),
    }
}

/// The tag that recognises a retry: SHA-256 over the sealed body's header (version byte, ephemeral public
/// key, nonce), random for every upload and unrelated to the keys inside.
pub(crate) fn retry_tag(sealed_body: &[u8]) -> String {
    let header = &sealed_body[..sealed_body
        .len()
        .min(openzone_wire::keyserver::seal::HEADER_LEN)];
    hex::encode(ring::digest::digest(&ring::digest::SHA256, header).as_ref())
}

/// What one upload brings to [`store_upload`].
pub(crate) struct Upload<'a> {
    pub payload: &'a UploadPayload,
    pub keys: &'a [ValidKey],
    /// The encrypted check-ins it carries.
    pub checkins: &'a [ProtectedReport],
    /// [`retry_tag`] of the sealed body.
    pub retry_tag: String,
}

/// In one transaction: recognises a retry of an accepted upload; refuses keys stored before (without
/// looking at the code, so the answer tells nothing about it); checks the code; stores the keys and
/// uses the code. Then flushes.
pub(crate) async fn store_upload(
    storage: &Storage,
    code_key: &ring::hmac::Key,
    upload: Upload<'_>,
    now_ms: u64,
) -> Result<PublishResponse> {
    let code = code_hmac(code_key, &upload.payload.code);
    let keys = upload.keys;
    let attempt = || async {
        let raw = storage.get(CODES, &code).await?;
        let record: Option<CodeRecord> = raw.as_deref().map(decode).transpose()?;
        if record
            .as_ref()
            .is_some_and(|r| r.used && r.retry_tag.as_deref() == Some(upload.retry_tag.as_str()))
        {
            return Ok(Some(false));
        }
        let mut change = Change::default();
        for (index, key) in keys.iter().enumerate() {
            let tek = key.key.tek.as_bytes();
            if storage.get(KEYS, tek).await?.is_some() {
                return Err(ServerError::KeyAlreadyUploaded { index });
            }
            change.expect(KEYS, tek.as_slice(), None);
        }
        let Some(mut record) = record else {
            return Err(ServerError::CodeUnknown);
        };
        if record.used {
            return Err(ServerError::CodeUsed);
        }
        if now_ms >= record.expires_ms {
            return Err(ServerError::CodeExpired);
        }
        for key in keys {
            change.put(
                KEYS,
                key.key.tek.as_bytes().as_slice(),
                encode(&stored_key(&record, key)),
            );
        }
        record.used = true;
        record.retry_tag = Some(upload.retry_tag.clone());
        change.expect(CODES, code, raw);
        change.put(CODES, code, encode(&record));
        change.add(CODES_USED, 1);
        crate::warnings::put_checkins(&mut change, upload.checkins);
        Ok(match storage.commit(change).await? {
            Committed::Yes => Some(true),
            Committed::Conflict => None,
        })
    };
    let stored = storage.retry(attempt).await?;
    if stored {
        storage.flush().await?;
    }
    Ok(PublishResponse {
        accepted_keys: keys.len(),
        repeated: !stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openzone_wire::protocol::en_v1::TemporaryExposureKey;
    use proptest::prelude::*;

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
    fn at_most_three_keys_share_a_start() {
        let same = |byte| key(byte, CURRENT - 300, 1);
        assert_eq!(check(&[same(1), same(2), same(3)]).unwrap().len(), 3);
        let err = check(&[same(1), same(2), same(3), same(4)]).unwrap_err();
        assert!(
            matches!(err, ServerError::InvalidKey { index: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_key_cut_short_on_its_day_covers_the_whole_day_once_stored() {
        let code = CodeRecord {
            test_type: TestType::Confirmed,
            onset_day: None,
            issued_ms: NOW_MS,
            expires_ms: NOW_MS + 1,
            used: false,
            retry_tag: None,
            region: None,
        };
        let valid = |start, period| ValidKey {
            key: ExposureKey::new(TemporaryExposureKey::from_bytes([1; 16]), start, period)
                .unwrap(),
            phone_days_since_onset: None,
        };
        // Ended at the report (12:10): stored as the whole day.
        let today = stored_key(&code, &valid(20_777 * 144, 73));
        assert_eq!(
            (
                today.shape.rolling_start_interval,
                today.shape.rolling_period
            ),
            (20_777 * 144, 144)
        );
        assert_eq!(today.shape.end_ms(), 20_778 * 86_400_000);
        // A fresh key started mid-day keeps its start and ends with its day.
        let fresh = stored_key(&code, &valid(20_776 * 144 + 80, 10));
        assert_eq!(
            (
                fresh.shape.rolling_start_interval,
                fresh.shape.rolling_period
            ),
            (20_776 * 144 + 80, 64)
        );
        // Whole days and keys reaching past midnight stay as they are.
        assert_eq!(
            stored_key(&code, &valid(20_776 * 144, 144))
                .shape
                .rolling_period,
            144
        );
        assert_eq!(
            stored_key(&code, &valid(20_776 * 144 + 100, 144))
                .shape
                .rolling_period,
            144
        );
    }

    #[test]
    fn retry_tags_come_from_the_sealed_header_only() {
        let body = vec![7u8; 200];
        let mut other_inside = body.clone();
        other_inside[150] = 8;
        assert_eq!(retry_tag(&body), retry_tag(&other_inside));
        let mut other_header = body.clone();
        other_header[5] = 8;
        assert_ne!(retry_tag(&body), retry_tag(&other_header));
        assert_eq!(retry_tag(&[]).len(), 64);
    }

    proptest! {
        /// Whatever the integers, validation answers (never panics) and accepts exactly what is in
        /// range.
        #[test]
        fn key_validation_at_integer_extremes(
            start in prop_oneof![Just(0u32), Just(u32::MAX), Just(u32::MAX - 144), Just(CURRENT), Just(CURRENT + 1), Just(CURRENT - 14 * 144), any::<u32>()],
            period in prop_oneof![Just(0u32), Just(1u32), Just(144u32), Just(145u32), Just(u32::MAX), any::<u32>()],
            days in prop_oneof![Just(None), Just(Some(i32::MIN)), Just(Some(i32::MAX)), Just(Some(-14)), Just(Some(14)), Just(Some(15)), Just(Some(-15)), any::<Option<i32>>()],
            now_ms in prop_oneof![Just(NOW_MS), Just(0u64), Just(u64::MAX), any::<u64>()],
        ) {
            let upload = UploadKey { days_since_onset: days, ..key(1, start, period) };
            let result = validate_keys(&[upload], now_ms);
            let current = en_interval_number(now_ms / 1000);
            let end = u64::from(start) + u64::from(period);
            let in_range = (1..=144).contains(&period)
                && end <= u64::from(u32::MAX)
                && end <= u64::from(current) + 1
                && end + u64::from(KEY_RETENTION_DAYS * 144) > u64::from(current)
                && days.is_none_or(|d| (-14..=14).contains(&d));
            prop_assert_eq!(result.is_ok(), in_range, "{:?}", result.err());
        }
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
            used: false,
            retry_tag: None,
            region: None,
        };
        let valid = ValidKey {
            key: ExposureKey::new(TemporaryExposureKey::from_bytes([1; 16]), 20_774 * 144, 144)
                .unwrap(),
            phone_days_since_onset: Some(5),
        };
        let stored = stored_key(&code, &valid);
        assert_eq!(stored.shape.days_since_onset, Some(-1));
        assert_eq!(stored.shape.transmission_risk_level, 8);
        assert_eq!(stored.shape.report_type, 2);
        // Without the officer's onset, the phone's; without either, the day of the code stands in.
        let no_onset = CodeRecord {
            onset_day: None,
            test_type: TestType::Confirmed,
            ..code
        };
        let stored = stored_key(&no_onset, &valid);
        assert_eq!(
            (
                stored.shape.days_since_onset,
                stored.shape.transmission_risk_level
            ),
            (Some(5), 2)
        );
        assert_eq!(stored.shape.report_type, 1);
        let silent = ValidKey {
            phone_days_since_onset: None,
            ..valid
        };
        let stored = stored_key(&no_onset, &silent);
        assert_eq!(
            (
                stored.shape.days_since_onset,
                stored.shape.transmission_risk_level
            ),
            (None, 6)
        );
    }
}
