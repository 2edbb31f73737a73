//! A positive report: the one rule for which keys a case publishes, the same-day release of the key in
//! use, and the sealed upload with the officer's one-time code.
//!
//! The key in use ends with the current interval (its `rolling_period` is shortened) and a fresh key takes
//! over at once, to the end of the UTC day (`crate::engine::release_key_in_use`): the identifiers
//! broadcast after the report come from a key that is never uploaded and cannot be linked to the
//! published ones.

use ring::rand::SystemRandom;

use crate::checkin::ProtectedReport;
use crate::engine::release_key_in_use;
use crate::error::Error;
use crate::keyserver::wire::{encode_checkin, PublishResponse, UploadKey, UploadPayload};
use crate::protocol::bluezone_v3::DailyKey;
use crate::protocol::en_v1::ExposureKey;
use crate::store::{Store, UserConsent};
use crate::units::{
    day_of_interval, day_of_ms, en_interval_number, CODE_DIGITS, EN_INTERVALS_PER_DAY,
    INFECTIOUS_DAYS_BEFORE_ONSET, MAX_KEYS_PER_UPLOAD, RETENTION_DAYS,
};
use crate::wire::Error as WireError;

/// What the user gives for a positive report.
#[derive(Debug, Clone)]
pub struct PositiveReport {
    /// The one-time code the health officer gave (8 digits; spaces around it are ignored).
    pub code: String,
    /// The UTC day symptoms started, if there were symptoms.
    pub onset_day: Option<u32>,
    /// The UTC day of the test, when there were no symptoms (default today).
    pub test_day: Option<u32>,
    /// The user agreed, on the consent screen, to publish the keys of their infectious days.
    pub consent: UserConsent,
}

/// The keys of the infectious window, chosen by `release_keys` (`Phone::report_positive`), after the key in use was ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasedKeys {
    /// en-v1 keys, oldest first: every key that ended by the end of the current interval and overlaps
    /// the window, never the fresh key now in force, none older than the retention period, at most
    /// [`MAX_KEYS_PER_UPLOAD`] (the newest).
    pub en_v1: Vec<ExposureKey>,
    /// Days from the onset of symptoms to each en-v1 key's UTC day, when the onset is known.
    pub days_since_onset: Vec<Option<i32>>,
    /// bluezone-v3 daily keys of the window's days (never the root key).
    pub bluezone_v3: Vec<DailyKey>,
    /// The window the keys cover.
    pub window: ReleaseWindow,
}

/// The infectious window a report covers, and how releasing its keys ended the key in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseWindow {
    /// The first UTC day of the infectious window.
    pub first_day: u32,
    /// The last UTC day of the infectious window (today).
    pub last_day: u32,
    /// The interval after which the key in use until now stops (its `end_interval`), if there was one.
    pub ended_key_end_interval: Option<u32>,
    /// The first interval of the fresh key now in force, if one was stored.
    pub next_key_start_interval: Option<u32>,
}

/// What a positive report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOutcome {
    /// Keys uploaded.
    pub keys_uploaded: usize,
    /// Real encrypted check-ins uploaded (with fakes up to a fixed count).
    pub checkins_uploaded: usize,
    /// The server's answer.
    pub response: PublishResponse,
    /// The window the keys covered.
    pub window: ReleaseWindow,
}

/// The code as the server takes it: [`CODE_DIGITS`] ASCII digits, spaces around them ignored.
pub(crate) fn check_code(code: &str) -> Result<&str, Error> {
    let code = code.trim();
    if code.len() != CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidCode);
    }
    Ok(code)
}

/// Ends the key in use, stores a fresh one, and chooses the keys of the infectious window: from
/// [`INFECTIOUS_DAYS_BEFORE_ONSET`] days before the onset of symptoms (or the test, or today) to today.
/// The caller must rotate the radio at once so that it advertises the fresh key.
pub(crate) fn release_keys(
    store: &Store,
    onset_day: Option<u32>,
    test_day: Option<u32>,
    bluezone_slots_per_day: u32,
    now_ms: u64,
    consent: UserConsent,
) -> Result<ReleasedKeys, Error> {
    let today = day_of_ms(now_ms);
    for (what, day) in [("onset of symptoms", onset_day), ("test", test_day)] {
        if day.is_some_and(|d| d > today) {
            return Err(WireError::InvalidConfig(format!(
                "the day of the {what} is after today; give a day no later than today"
            ))
            .into());
        }
    }
    let current = en_interval_number(now_ms / 1000);
    let (ended_key_end_interval, next_key_start_interval) = rotate(store, now_ms)?;

    let reference = onset_day.or(test_day).unwrap_or(today);
    let oldest_end = current.saturating_sub(RETENTION_DAYS * EN_INTERVALS_PER_DAY);
    let first_day = reference
        .saturating_sub(INFECTIOUS_DAYS_BEFORE_ONSET)
        .max(day_of_interval(oldest_end));
    let window = store.keys_for_report(first_day, today, consent, bluezone_slots_per_day)?;
    let mut en_v1: Vec<ExposureKey> = window
        .en_v1
        .into_iter()
        // Keys that ended by the end of this interval, and never the fresh key now in force.
        .filter(|k| Some(k.rolling_start_interval) != next_key_start_interval)
        .filter(|k| k.end_interval() <= current + 1 && k.end_interval() > oldest_end)
        .collect();
    en_v1.sort_by_key(|k| k.rolling_start_interval);
    if en_v1.len() > MAX_KEYS_PER_UPLOAD {
        en_v1.drain(..en_v1.len() - MAX_KEYS_PER_UPLOAD);
    }
    let days_since_onset = en_v1
        .iter()
        .map(|k| {
            onset_day.map(|onset| {
                i64::from(day_of_interval(k.rolling_start_interval)) - i64::from(onset)
            })
        })
        // Both days are UTC days of this phone's keys, a few days apart: far inside i32.
        .map(|d| d.and_then(|d| i32::try_from(d).ok()))
        .collect();
    Ok(ReleasedKeys {
        en_v1,
        days_since_onset,
        bluezone_v3: window.bluezone_v3,
        window: ReleaseWindow {
            first_day,
            last_day: today,
            ended_key_end_interval,
            next_key_start_interval,
        },
    })
}

impl ReleasedKeys {
    /// The upload's plaintext for `code` (checked with [`check_code`]) and the encrypted check-ins.
    pub(crate) fn upload(
        &self,
        code: &str,
        checkins: &[ProtectedReport],
    ) -> Result<UploadPayload, Error> {
        if self.en_v1.is_empty() {
            return Err(Error::NoKeysToReport);
        }
        Ok(UploadPayload {
            code: code.to_owned(),
            keys: self
                .en_v1
                .iter()
                .zip(&self.days_since_onset)
                .map(|(k, onset)| UploadKey::new(k, *onset))
                .collect(),
            checkins: checkins.iter().map(encode_checkin).collect(),
        })
    }
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
