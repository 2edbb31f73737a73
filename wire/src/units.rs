//! The protocol's units, each defined once with its source, and the arithmetic between them.
//!
//! Every other place (the phone core, the key server, the simulation, the bindings and through them the
//! Kotlin and Swift shells) takes these values from here; a search for one of the numbers finds this
//! definition and tests.
//!
//! Time is UTC unix time throughout: days are UTC days (days since 1970-01-01), en-v1 intervals are
//! `ENIntervalNumber`s, bluezone-v3 slots are counted from UTC midnight.

/// Milliseconds in a second.
pub const MS_PER_SEC: u64 = 1_000;

/// Seconds in a UTC day.
pub const SECS_PER_DAY: u64 = 86_400;

/// Milliseconds in a UTC day.
pub const MS_PER_DAY: u64 = SECS_PER_DAY * MS_PER_SEC;

/// Seconds in one en-v1 interval: `ENIntervalNumber(t) = floor(t / (60 × 10))` (Apple & Google, *Exposure
/// Notification Cryptography Specification* v1.2, "ENIntervalNumber").
pub const EN_INTERVAL_SECS: u64 = 600;

/// en-v1 intervals in a UTC day, and the longest validity of a Temporary Exposure Key: `EKRollingPeriod`
/// = 144 (EN cryptography v1.2, "Temporary Exposure Key").
pub const EN_INTERVALS_PER_DAY: u32 = 144;

/// How far from its own interval a received RPI still matches, seconds: "±2 hours" (Apple & Google,
/// *Exposure Notification Cryptography Specification* v1.2, "Rolling Proximity Identifier": matching
/// allows for clock skew between devices). A key server must therefore not publish a key before this long
/// after it ended, or a phone could still be broadcasting its identifiers.
pub const EN_MATCH_TOLERANCE_SECS: u64 = 2 * 3_600;

/// bluezone-v3 identifier slots in a UTC day (15 minutes each): Bluezone 3.x's default
/// (BluezoneGlobal/react-native-bluetooth-scan, `BluezoneIdGenerator`).
pub const BLUEZONE_SLOTS_PER_DAY: u32 = 96;

/// How many bluezone-v3 slots a received identifier may be off by and still match: one slot either way
/// allows for clock skew as en-v1's tolerance does (OpenZone's own choice; Bluezone's app matched IDs
/// without any time check).
pub const BLUEZONE_MATCH_TOLERANCE_SLOTS: u32 = 1;

/// Days a phone keeps what it heard and its own keys, and days a key stays published: the 14 days of the
/// exposure-notification framework, which keeps Temporary Exposure Keys and scan results on the device
/// for 14 days (Apple & Google, *Exposure Notification Frequently Asked Questions*), as Corona-Warn-App
/// and Bluezone's successors did.
pub const RETENTION_DAYS: u32 = 14;

/// Days before the onset of symptoms (or before the test, without symptoms) that a case counts as
/// infectious: ECDC, *Contact tracing: public health management of persons, including healthcare workers,
/// who have had contact with COVID-19 cases in the European Union*, third update (2020-11-18), "48 hours
/// before symptom onset"; WHO, *Contact tracing in the context of COVID-19* (2021-02-01), the same.
pub const INFECTIOUS_DAYS_BEFORE_ONSET: u32 = 2;

/// The most keys one positive report uploads: one per day of the retention period plus the key of the
/// day of the report, which a same-day release ends early.
pub const MAX_KEYS_PER_UPLOAD: usize = 15;

/// The encrypted check-ins every positive report carries, real ones and fakes together (a phone always
/// sends this many, so that the count of real ones does not show), and the most a server accepts. A
/// teacher scans the gate and up to 8 rooms a day, so 64 hold a week of the infectious window; a phone
/// with more sends the newest. 64 reports with the keys fit the padded upload.
pub const MAX_CHECKINS_PER_UPLOAD: usize = 64;

/// Digits of the one-time code a health officer gives a confirmed case: short enough to read out on the
/// phone, long enough that guessing is hopeless within the code's validity and the server's rate limits
/// (Google's `exposure-notifications-verification-server` issues 8-digit short codes by default).
pub const CODE_DIGITS: usize = 8;

/// Seconds a phone waits for a GATT read of a peer's identifier before it gives up: the platforms report
/// a connection that never completes late or never, and one read at a time means a hung read would block
/// every other iPhone's (OpenZone's own choice; docs/engine.md).
pub const GATT_READ_TIMEOUT_SECS: u32 = 10;

/// Most seconds between a sighting and the checkpoint that makes it durable: what the operating system
/// killing the app can lose. A checkpoint flushes a few kilobytes; one every 30 s while people are near
/// costs little battery (OpenZone's own choice; docs/storage.md).
pub const CHECKPOINT_PERIOD_SECS: u32 = 30;

/// The RSSI value meaning "not available": HCI's LE Advertising Report (Bluetooth Core 5.3, Vol 4,
/// Part E, 7.7.65.2, RSSI 127 = "not available"), Android's `ScanResult` and CoreBluetooth report the same.
/// A sighting with it proves presence but says nothing of distance.
pub const RSSI_UNKNOWN: i8 = 127;

/// The UTC day of unix time `unix_ms` (milliseconds).
pub const fn day_of_ms(unix_ms: u64) -> u32 {
    (unix_ms / MS_PER_DAY) as u32
}

/// The UTC day of unix time `unix_secs` (seconds).
pub const fn day_of_secs(unix_secs: u64) -> u32 {
    (unix_secs / SECS_PER_DAY) as u32
}

/// The first millisecond of UTC day `day`.
pub const fn day_start_ms(day: u32) -> u64 {
    day as u64 * MS_PER_DAY
}

/// `ENIntervalNumber(t) = floor(t / 600)` for unix seconds `t`, saturating for clocks past the year
/// 83,000 rather than wrapping.
pub const fn en_interval_number(unix_secs: u64) -> u32 {
    let interval = unix_secs / EN_INTERVAL_SECS;
    if interval > u32::MAX as u64 {
        u32::MAX
    } else {
        interval as u32
    }
}

/// The first unix millisecond of en-v1 interval `interval`.
pub const fn interval_start_ms(interval: u32) -> u64 {
    interval as u64 * EN_INTERVAL_SECS * MS_PER_SEC
}

/// The UTC day an en-v1 interval falls in.
pub const fn day_of_interval(interval: u32) -> u32 {
    interval / EN_INTERVALS_PER_DAY
}

/// The first en-v1 interval of UTC day `day` (saturating at the end of time).
pub const fn day_first_interval(day: u32) -> u32 {
    day.saturating_mul(EN_INTERVALS_PER_DAY)
}

/// The bluezone-v3 slot (0-based from UTC midnight) that `secs_of_day` seconds into a day fall in, for a
/// day divided into `slots_per_day` slots.
pub const fn slot_of_day(secs_of_day: u64, slots_per_day: u32) -> u32 {
    let slot_secs = slot_secs(slots_per_day);
    (secs_of_day % SECS_PER_DAY / slot_secs) as u32
}

/// Seconds in one bluezone-v3 slot of a day divided into `slots_per_day` slots (at least 1).
pub const fn slot_secs(slots_per_day: u32) -> u64 {
    let slots = if slots_per_day == 0 { 1 } else { slots_per_day };
    SECS_PER_DAY / slots as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_units_agree() {
        assert_eq!(
            u64::from(EN_INTERVALS_PER_DAY) * EN_INTERVAL_SECS,
            SECS_PER_DAY
        );
        assert_eq!(slot_secs(BLUEZONE_SLOTS_PER_DAY), 900);
        assert_eq!(MAX_KEYS_PER_UPLOAD, RETENTION_DAYS as usize + 1);
    }

    #[test]
    fn days_intervals_and_slots() {
        // 2021-05-13 10:05:00 UTC.
        let secs = 18_760 * SECS_PER_DAY + 10 * 3_600 + 5 * 60;
        assert_eq!(day_of_secs(secs), 18_760);
        assert_eq!(day_of_ms(secs * 1_000), 18_760);
        assert_eq!(day_start_ms(18_760), 18_760 * MS_PER_DAY);
        let interval = en_interval_number(secs);
        assert_eq!(interval, 18_760 * 144 + 60);
        assert_eq!(day_of_interval(interval), 18_760);
        assert_eq!(day_first_interval(18_760), 18_760 * 144);
        assert_eq!(interval_start_ms(interval), (secs - 300) * 1_000);
        assert_eq!(slot_of_day(10 * 3_600 + 5 * 60, 96), 40);
        assert_eq!(slot_of_day(SECS_PER_DAY - 1, 96), 95);
    }

    #[test]
    fn extremes_saturate() {
        assert_eq!(en_interval_number(u64::MAX), u32::MAX);
        assert_eq!(day_first_interval(u32::MAX), u32::MAX);
        assert_eq!(slot_secs(0), SECS_PER_DAY);
    }
}
