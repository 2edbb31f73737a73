//! Time: UTC unix milliseconds everywhere, a clock the caller injects, and UTC calendar days.
//!
//! Protocol time is UTC: time zones never enter the core. The [`Clock`] trait lets tests and the
//! simulation run on virtual time; the real clock is [`SystemClock`].

use crate::error::Error;
pub use crate::units::{day_of_ms, MS_PER_DAY};

/// Where the current time comes from.
pub trait Clock: Send + Sync {
    /// Wall-clock time, UTC unix milliseconds. It may jump (the user changes the clock).
    fn now_ms(&self) -> u64;

    /// Milliseconds on a clock that never jumps, from any fixed origin, when this clock has one of its
    /// own (a simulation's virtual time); `None` lets the caller measure real elapsed time.
    fn monotonic_ms(&self) -> Option<u64> {
        None
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            // A clock before 1970 is a broken clock; treat it as the epoch rather than fail.
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The civil date (year, month 1-12, day 1-31) of a UTC day number (Howard Hinnant's algorithm).
pub const fn civil_from_days(day: u32) -> (i64, u32, u32) {
    let z = day as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The UTC day number of a civil date, or `None` before 1970 or for an impossible date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<u32> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    u32::try_from(era * 146_097 + doe - 719_468).ok()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` for a UTC day number.
pub fn format_day(day: u32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` into a UTC day number.
pub fn parse_day(text: &str) -> Result<u32, Error> {
    let bad = || Error::InvalidDate(text.to_owned());
    let mut parts = text.trim().splitn(3, '-');
    let mut field = |len: usize| {
        parts
            .next()
            .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
            .ok_or_else(bad)
    };
    let (y, m, d) = (field(4)?, field(2)?, field(2)?);
    days_from_civil(i64::from(y), m, d).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(format_day(0), "1970-01-01");
        assert_eq!(format_day(18_760), "2021-05-13");
        assert_eq!(parse_day("2021-05-13").unwrap(), 18_760);
        assert_eq!(parse_day("2024-02-29").unwrap(), 19_782);
        assert_eq!(format_day(day_of_ms(1_793_491_200_000)), "2026-11-01");
    }

    #[test]
    fn bad_dates_are_errors() {
        for bad in [
            "",
            "2021-5-13",
            "2021-02-30",
            "2023-02-29",
            "1969-12-31",
            "2021-13-01",
            "20210513",
            "2021-05-13x",
            "abcd-ef-gh",
            "+021-05-13",
        ] {
            assert!(
                matches!(parse_day(bad), Err(Error::InvalidDate(_))),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn days_round_trip(day in 0u32..2_000_000) {
            prop_assert_eq!(parse_day(&format_day(day)).unwrap(), day);
        }
    }
}
