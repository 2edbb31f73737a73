//! `TIME` arguments: RFC 3339 (`2026-05-29T07:30:00+07:00`, `2026-05-29T00:30:00Z`) or unix seconds.

use openzone_core::time::days_from_civil;

use crate::error::CliError;

/// UTC unix seconds of a `TIME` argument.
pub fn parse_time(text: &str) -> Result<u64, CliError> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(secs);
    }
    rfc3339(text).ok_or_else(|| {
        CliError::Usage(format!(
            "{text:?} is not a time: give RFC 3339 (2026-05-29T07:30:00+07:00) or unix seconds"
        ))
    })
}

fn rfc3339(text: &str) -> Option<u64> {
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let days = days_from_civil(year, month, day)?;
    // The offset starts at the last 'Z', '+' or '-' of the time part.
    let at = rest.rfind(['Z', 'z', '+', '-'])?;
    let (clock, offset) = rest.split_at(at);
    let mut hms = clock.splitn(3, ':');
    let hour: u64 = hms.next()?.parse().ok()?;
    let minute: u64 = hms.next()?.parse().ok()?;
    let second = hms.next()?;
    // Fractions of a second are dropped.
    let second: u64 = second.split('.').next()?.parse().ok()?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_secs: i64 = match offset {
        "Z" | "z" => 0,
        _ => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (h, m) = offset[1..].split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let local = i64::from(days) * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    u64::try_from(local - offset_secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_unix_seconds() {
        assert_eq!(parse_time("1780012800").unwrap(), 1_780_012_800);
        assert_eq!(parse_time("2026-05-29T00:00:00Z").unwrap(), 1_780_012_800);
        assert_eq!(
            parse_time("2026-05-29T07:00:00+07:00").unwrap(),
            1_780_012_800
        );
        assert_eq!(
            parse_time("2026-05-28T23:30:00.250-00:30").unwrap(),
            1_780_012_800
        );
        for bad in [
            "",
            "tomorrow",
            "2026-05-29",
            "2026-02-30T00:00:00Z",
            "2026-05-29T24:00:00Z",
            "2026-05-29T07:00:00",
            "2026-05-29T07:00:00+7",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
