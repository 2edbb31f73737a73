//! A positive report from the phone: end the key in use, collect the keys of the infectious window, seal
//! and upload them with the officer's one-time code.
//!
//! The key in use ends with the current interval (its `rolling_period` is shortened, so it can be
//! published the same day: its validity is over once this interval ends) and a fresh key takes over at
//! once, to the end of the UTC day (`crate::engine::release_key_in_use`). The identifiers broadcast after
//! the report thus come from a key that is never uploaded and cannot be linked to the published one.

use ring::rand::SystemRandom;

use crate::engine::release_key_in_use;
use crate::error::Error;
use crate::protocol::bluezone_v3::DEFAULT_SLOTS_PER_DAY;
use crate::protocol::en_v1::{en_interval_number, ExposureKey, EK_ROLLING_PERIOD};
use crate::store::{Store, UserConsent};
use crate::time::day_of_ms;

use super::client::KeyServerClient;
use super::wire::{
    PublishResponse, UploadKey, UploadPayload, KEY_RETENTION_DAYS, MAX_KEYS_PER_UPLOAD,
};

/// Days before the onset of symptoms (or before the test, without symptoms) that a person counts as
/// infectious.
pub const INFECTIOUS_DAYS_BEFORE_ONSET: u32 = 2;

/// The digits of an officer's one-time code.
pub const CODE_DIGITS: usize = 8;

/// A report ready to upload: the keys are chosen and the key in use has been ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedReport {
    /// What will be sealed and uploaded.
    pub payload: UploadPayload,
    /// The first UTC day of the infectious window.
    pub first_day: u32,
    /// The last UTC day of the infectious window (today).
    pub last_day: u32,
    /// The interval after which the key in use until now stops (its `end_interval`), if there was one.
    pub ended_key_end_interval: Option<u32>,
    /// The first interval of the fresh key stored for the rest of the day, if one was needed. The engine
    /// must rotate at once to advertise it.
    pub next_key_start_interval: Option<u32>,
}

/// What a positive report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOutcome {
    /// Keys uploaded.
    pub keys_uploaded: usize,
    /// The server's answer.
    pub response: PublishResponse,
    /// The first UTC day of the infectious window.
    pub first_day: u32,
    /// The last UTC day of the infectious window (today).
    pub last_day: u32,
    /// See [`PreparedReport::ended_key_end_interval`].
    pub ended_key_end_interval: Option<u32>,
    /// See [`PreparedReport::next_key_start_interval`]: the engine must restart advertising so that it
    /// picks this key up.
    pub next_key_start_interval: Option<u32>,
}

/// Reports a positive test: [`prepare_report`], then seals the keys to the server's key and uploads them.
///
/// `onset_day` is the UTC day symptoms started, if any; `test_day` the day of the test (default today);
/// the infectious window starts [`INFECTIOUS_DAYS_BEFORE_ONSET`] days before the first of them given.
/// The key rotation happens before the upload and stays even if the upload fails: a fresh key costs
/// nothing, and a retry then also publishes the key used in between.
pub async fn report_positive(
    store: &Store,
    client: &KeyServerClient,
    code: &str,
    onset_day: Option<u32>,
    test_day: Option<u32>,
    now_ms: u64,
    consent: UserConsent,
) -> Result<ReportOutcome, Error> {
    let prepared = prepare_report(store, code, onset_day, test_day, now_ms, consent)?;
    let sealing_key = client.sealing_key().await?;
    let response = client.publish(&sealing_key, &prepared.payload).await?;
    Ok(ReportOutcome {
        keys_uploaded: prepared.payload.keys.len(),
        response,
        first_day: prepared.first_day,
        last_day: prepared.last_day,
        ended_key_end_interval: prepared.ended_key_end_interval,
        next_key_start_interval: prepared.next_key_start_interval,
    })
}

/// Checks the code, ends the key in use, stores a fresh one, and collects the keys to upload (never the
/// fresh one; at most [`MAX_KEYS_PER_UPLOAD`], the newest; none older than [`KEY_RETENTION_DAYS`]).
pub fn prepare_report(
    store: &Store,
    code: &str,
    onset_day: Option<u32>,
    test_day: Option<u32>,
    now_ms: u64,
    consent: UserConsent,
) -> Result<PreparedReport, Error> {
    let code = code.trim();
    if code.len() != CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidCode);
    }
    let today = day_of_ms(now_ms);
    for (what, day) in [("onset of symptoms", onset_day), ("test", test_day)] {
        if day.is_some_and(|d| d > today) {
            return Err(Error::InvalidConfig(format!(
                "the day of the {what} is after today; give a day no later than today"
            )));
        }
    }
    let current = en_interval_number(now_ms / 1000);
    let (ended_key_end_interval, next_key_start_interval) = rotate(store, now_ms)?;

    let reference = onset_day.or(test_day).unwrap_or(today);
    let oldest_end = current.saturating_sub(KEY_RETENTION_DAYS * EK_ROLLING_PERIOD);
    let first_day = reference
        .saturating_sub(INFECTIOUS_DAYS_BEFORE_ONSET)
        .max(oldest_end / EK_ROLLING_PERIOD);
    let window = store.keys_for_report(first_day, today, consent, DEFAULT_SLOTS_PER_DAY)?;
    let mut keys: Vec<ExposureKey> = window
        .en_v1
        .into_iter()
        // Keys that ended by the end of this interval, and never the fresh key now in force.
        .filter(|k| Some(k.rolling_start_interval) != next_key_start_interval)
        .filter(|k| k.end_interval() <= current + 1 && k.end_interval() > oldest_end)
        .collect();
    keys.sort_by_key(|k| k.rolling_start_interval);
    if keys.len() > MAX_KEYS_PER_UPLOAD {
        keys.drain(..keys.len() - MAX_KEYS_PER_UPLOAD);
    }
    if keys.is_empty() {
        return Err(Error::NoKeysToReport);
    }
    let keys = keys
        .iter()
        .map(|k| {
            let day = k.rolling_start_interval / EK_ROLLING_PERIOD;
            UploadKey::new(k, onset_day.map(|onset| day as i32 - onset as i32))
        })
        .collect();
    Ok(PreparedReport {
        payload: UploadPayload {
            code: code.to_owned(),
            keys,
        },
        first_day,
        last_day: today,
        ended_key_end_interval,
        next_key_start_interval,
    })
}

/// Same-day release (see [`release_key_in_use`]): returns the end interval of the ended key and the
/// start of the fresh key now in force, if there were any.
fn rotate(store: &Store, now_ms: u64) -> Result<(Option<u32>, Option<u32>), Error> {
    let ended = release_key_in_use(store, &SystemRandom::new(), now_ms)?;
    let current = en_interval_number(now_ms / 1000);
    let ended_start = ended.as_ref().map(|k| k.rolling_start_interval);
    let fresh = store
        .own_en_keys()?
        .into_iter()
        .filter(|k| k.rolling_start_interval <= current + 1 && k.end_interval() > current)
        .map(|k| k.rolling_start_interval)
        .filter(|start| Some(*start) != ended_start)
        .max();
    Ok((ended.map(|k| k.end_interval()), fresh))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::en_v1::TemporaryExposureKey;
    use crate::store::{DataKey, StoreConfig};
    use crate::time::MS_PER_DAY;

    /// 2026-11-20.
    const DAY: u32 = 20_777;

    fn store(now_ms: u64) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            dir.path(),
            &DataKey::from_bytes([7; 32]),
            StoreConfig::default(),
            now_ms,
        )
        .unwrap();
        (dir, store)
    }

    fn daily_key(day: u32, byte: u8) -> ExposureKey {
        ExposureKey::new(TemporaryExposureKey::from_bytes([byte; 16]), day * 144, 144).unwrap()
    }

    #[test]
    fn the_key_in_use_ends_now_and_a_fresh_one_takes_over() {
        // 10:05 UTC: interval 60 of the day.
        let now = u64::from(DAY) * MS_PER_DAY + 10 * 3_600_000 + 5 * 60_000;
        let (_dir, store) = store(now);
        for (i, day) in (DAY - 20..=DAY).enumerate() {
            store.put_own_en_key(&daily_key(day, i as u8)).unwrap();
        }
        let current = DAY * 144 + 60;
        let prepared = prepare_report(
            &store,
            " 12345678 ",
            Some(DAY - 1),
            None,
            now,
            UserConsent::given(),
        )
        .unwrap();
        assert_eq!(prepared.payload.code, "12345678");
        assert_eq!(prepared.ended_key_end_interval, Some(current + 1));
        // The fresh key is in force from this very interval: the phone switches at the report.
        assert_eq!(prepared.next_key_start_interval, Some(current));
        // Onset yesterday: from 3 days ago to today, four keys, oldest first, today's shortened.
        assert_eq!(prepared.first_day, DAY - 3);
        let keys: Vec<ExposureKey> = prepared
            .payload
            .keys
            .iter()
            .map(|k| k.exposure_key().unwrap())
            .collect();
        assert_eq!(
            keys.iter()
                .map(|k| k.rolling_start_interval)
                .collect::<Vec<_>>(),
            [DAY - 3, DAY - 2, DAY - 1, DAY].map(|d| d * 144)
        );
        assert_eq!(keys[3].rolling_period, 61);
        assert_eq!(keys[3].end_interval(), current + 1);
        assert_eq!(
            prepared
                .payload
                .keys
                .iter()
                .map(|k| k.days_since_onset)
                .collect::<Vec<_>>(),
            [Some(-2), Some(-1), Some(0), Some(1)]
        );
        // The store now holds the shortened key and a fresh one to the end of the day, not uploaded.
        let own = store.own_en_keys().unwrap();
        let fresh = own.last().unwrap();
        assert_eq!(fresh.rolling_start_interval, current);
        assert_eq!(fresh.end_interval(), (DAY + 1) * 144);
        assert!(keys.iter().all(|k| k.tek != fresh.tek));
        assert_eq!(
            own.iter()
                .find(|k| k.rolling_start_interval == DAY * 144)
                .unwrap(),
            &keys[3]
        );
    }

    #[test]
    fn without_onset_the_window_starts_two_days_before_the_test() {
        let now = u64::from(DAY) * MS_PER_DAY + 3_600_000;
        let (_dir, store) = store(now);
        for (i, day) in (DAY - 6..=DAY).enumerate() {
            store.put_own_en_key(&daily_key(day, i as u8)).unwrap();
        }
        let prepared = prepare_report(
            &store,
            "00000001",
            None,
            Some(DAY - 3),
            now,
            UserConsent::given(),
        )
        .unwrap();
        assert_eq!(prepared.first_day, DAY - 5);
        assert_eq!(prepared.payload.keys.len(), 6);
        assert!(prepared
            .payload
            .keys
            .iter()
            .all(|k| k.days_since_onset.is_none()));
        // Without a test day, today is the test day.
        let (_dir2, store) = self::store(now);
        for (i, day) in (DAY - 6..=DAY).enumerate() {
            store.put_own_en_key(&daily_key(day, i as u8)).unwrap();
        }
        let prepared =
            prepare_report(&store, "00000001", None, None, now, UserConsent::given()).unwrap();
        assert_eq!(prepared.first_day, DAY - 2);
        assert_eq!(prepared.payload.keys.len(), 3);
    }

    #[test]
    fn at_most_fifteen_keys_none_older_than_fourteen_days() {
        let now = u64::from(DAY) * MS_PER_DAY + 12 * 3_600_000;
        let (_dir, store) = store(now);
        // Three keys a day (the phone restarted twice a day) for 14 days.
        for day in DAY - 13..=DAY {
            for part in 0..3u32 {
                let key = ExposureKey::new(
                    TemporaryExposureKey::from_bytes([(day % 200) as u8 + part as u8; 16]),
                    day * 144 + part * 48,
                    48,
                )
                .unwrap();
                store.put_own_en_key(&key).unwrap();
            }
        }
        let prepared = prepare_report(
            &store,
            "11111111",
            Some(DAY - 13),
            None,
            now,
            UserConsent::given(),
        )
        .unwrap();
        let keys = &prepared.payload.keys;
        assert_eq!(keys.len(), MAX_KEYS_PER_UPLOAD);
        // The newest fifteen: today's 12:00 key is the last one (it covers the current interval).
        let last = keys.last().unwrap();
        assert_eq!(last.rolling_start_interval, DAY * 144 + 48);
        assert_eq!(last.rolling_period, 72 - 48 + 1);
        assert!(keys
            .windows(2)
            .all(|w| w[0].rolling_start_interval < w[1].rolling_start_interval));
    }

    #[test]
    fn bad_input_changes_nothing() {
        let now = u64::from(DAY) * MS_PER_DAY + 3_600_000;
        let (_dir, store) = store(now);
        store.put_own_en_key(&daily_key(DAY, 1)).unwrap();
        for code in ["", "1234567", "123456789", "1234567a", "１２３４５６７８"] {
            assert!(
                matches!(
                    prepare_report(&store, code, None, None, now, UserConsent::given()),
                    Err(Error::InvalidCode)
                ),
                "{code:?}"
            );
        }
        assert!(matches!(
            prepare_report(
                &store,
                "12345678",
                Some(DAY + 1),
                None,
                now,
                UserConsent::given()
            ),
            Err(Error::InvalidConfig(_))
        ));
        assert_eq!(store.own_en_keys().unwrap(), vec![daily_key(DAY, 1)]);
        // A phone without keys in the window has nothing to report (after rotating, harmlessly).
        let (_dir, empty) = self::store(now);
        assert!(matches!(
            prepare_report(&empty, "12345678", None, None, now, UserConsent::given()),
            Err(Error::NoKeysToReport)
        ));
    }

    #[test]
    fn in_the_last_interval_of_the_day_the_fresh_key_covers_that_interval() {
        let now = u64::from(DAY + 1) * MS_PER_DAY - 60_000;
        let (_dir, store) = store(now);
        store.put_own_en_key(&daily_key(DAY, 1)).unwrap();
        let prepared =
            prepare_report(&store, "12345678", None, None, now, UserConsent::given()).unwrap();
        let last = (DAY + 1) * 144 - 1;
        assert_eq!(prepared.next_key_start_interval, Some(last));
        assert_eq!(prepared.ended_key_end_interval, Some((DAY + 1) * 144));
        assert_eq!(prepared.payload.keys.last().unwrap().rolling_period, 144);
        let own = store.own_en_keys().unwrap();
        assert_eq!(own.len(), 2);
        assert_eq!(
            (own[1].rolling_start_interval, own[1].rolling_period),
            (last, 1)
        );
        assert_eq!(prepared.payload.keys.len(), 1, "never the fresh key");
    }
}
