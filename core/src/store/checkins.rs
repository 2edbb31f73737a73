//! Presence tracing in the store: this phone's check-ins, the encrypted check-ins of cases published for
//! the venues it visited, and the warnings the user was told of.
//!
//! Each check-in is one sealed record named by the keyed hash of its random id; the venue's payload, the
//! arrival and the departure are inside the sealed value, so the files show neither where nor when. A
//! matched published check-in is kept as the case's encrypted report (it is opened again whenever
//! warnings are scored, so that editing a stay's times re-scores it) together with the end of the span
//! it covers, for the purge.

use super::{Store, TreeId, META_PRESENCE_TOLD};
use crate::error::Error;
use crate::wire::Error as WireError;

/// What a check-in record is called in errors.
const CHECK_IN: &str = "a check-in";

/// What a published check-in record is called in errors.
const PRESENCE: &str = "a published check-in";

/// The layout version that opens every check-in record.
const CHECK_IN_LAYOUT: u8 = 1;

/// Bytes before the payload in a check-in record: layout, id, arrival, departure, flags, payload length.
const CHECK_IN_HEADER: usize = 1 + 8 + 8 + 8 + 1 + 2;

/// One stay as stored. Times are UTC unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckIn {
    /// A random id, stable across edits.
    pub id: u64,
    /// The venue's payload as scanned.
    pub payload: Vec<u8>,
    /// When the visitor arrived.
    pub arrival: u64,
    /// When the visitor left, or is planned to leave (the automatic check-out).
    pub departure: u64,
    /// Whether the departure was given by hand (a check-out or an edit) rather than planned.
    pub checked_out: bool,
    /// Whether a positive report of this phone uploaded it: the user is the case, not a contact.
    pub reported: bool,
}

/// Flag bits of a check-in record.
const FLAG_CHECKED_OUT: u8 = 1 << 0;
const FLAG_REPORTED: u8 = 1 << 1;

impl StoredCheckIn {
    fn encode(&self) -> Result<Vec<u8>, Error> {
        let len = u16::try_from(self.payload.len()).map_err(|_| {
            WireError::InvalidConfig(format!(
                "a venue payload of {} bytes cannot be stored",
                self.payload.len()
            ))
        })?;
        let mut out = Vec::with_capacity(CHECK_IN_HEADER + self.payload.len());
        out.push(CHECK_IN_LAYOUT);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.arrival.to_be_bytes());
        out.extend_from_slice(&self.departure.to_be_bytes());
        let flags = if self.checked_out {
            FLAG_CHECKED_OUT
        } else {
            0
        } | if self.reported { FLAG_REPORTED } else { 0 };
        out.push(flags);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    fn decode(plain: &[u8]) -> Result<Self, Error> {
        let damaged = || Error::StoreCorrupt("a check-in record has an unknown layout".into());
        let (header, payload) = plain
            .split_at_checked(CHECK_IN_HEADER)
            .ok_or_else(damaged)?;
        if header[0] != CHECK_IN_LAYOUT {
            return Err(damaged());
        }
        let u64_at = |at: usize| {
            header
                .get(at..at + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(damaged)
        };
        let len = usize::from(u16::from_be_bytes([header[26], header[27]]));
        if payload.len() != len {
            return Err(damaged());
        }
        Ok(Self {
            id: u64_at(1)?,
            arrival: u64_at(9)?,
            departure: u64_at(17)?,
            checked_out: header[25] & FLAG_CHECKED_OUT != 0,
            reported: header[25] & FLAG_REPORTED != 0,
            payload: payload.to_vec(),
        })
    }
}

impl Store {
    /// Every stored check-in, by arrival.
    pub fn check_ins(&self) -> Result<Vec<StoredCheckIn>, Error> {
        let mut all = self
            .records(&self.sled.checkins, TreeId::CheckIns, CHECK_IN)?
            .iter()
            .map(|r| StoredCheckIn::decode(&r.plain))
            .collect::<Result<Vec<_>, _>>()?;
        all.sort_by_key(|c| (c.arrival, c.id));
        Ok(all)
    }

    /// Stores a check-in, or replaces the one with the same id; flushed, as the user saw it happen.
    pub fn put_check_in(&self, check_in: &StoredCheckIn) -> Result<(), Error> {
        self.check_space()?;
        self.put_record(
            &self.sled.checkins,
            TreeId::CheckIns,
            &check_in.id.to_be_bytes(),
            &check_in.encode()?,
        )?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Removes the check-ins that ended before `cutoff_s` and the published check-ins whose span ended
    /// before it; returns how many.
    pub(super) fn remove_check_ins_before(&self, cutoff_s: u64) -> Result<u64, Error> {
        let mut expired = Vec::new();
        for record in self.records(&self.sled.checkins, TreeId::CheckIns, CHECK_IN)? {
            if StoredCheckIn::decode(&record.plain)?.departure < cutoff_s {
                expired.push(record.name);
            }
        }
        let mut removed = self.remove_records(&self.sled.checkins, expired)?;
        let mut expired = Vec::new();
        for record in self.records(&self.sled.presence, TreeId::Presence, PRESENCE)? {
            if split_end(&record.plain)?.0 < cutoff_s {
                expired.push(record.name);
            }
        }
        removed += self.remove_records(&self.sled.presence, expired)?;
        Ok(removed)
    }

    /// Every published check-in kept for this phone's venues (encoded `CheckInProtectedReport`s).
    pub fn presence_reports(&self) -> Result<Vec<Vec<u8>>, Error> {
        self.records(&self.sled.presence, TreeId::Presence, PRESENCE)?
            .into_iter()
            .map(|r| split_end(&r.plain).map(|(_, report)| report.to_vec()))
            .collect()
    }

    /// The warnings the user was told of: (check-in id, UTC day).
    pub fn presence_told(&self) -> Result<Vec<(u64, u32)>, Error> {
        let plain = self.sealed_meta(META_PRESENCE_TOLD, "the record of presence warnings told")?;
        Ok(plain
            .chunks_exact(12)
            .map(|c| {
                let (id, day) = c.split_at(8);
                (
                    u64::from_be_bytes(id.try_into().unwrap_or_default()),
                    u32::from_be_bytes(day.try_into().unwrap_or_default()),
                )
            })
            .collect())
    }

    /// Replaces the warnings the user was told of, and flushes: a warning must not repeat after a crash.
    pub fn set_presence_told(&self, told: &[(u64, u32)]) -> Result<(), Error> {
        let plain: Vec<u8> = told
            .iter()
            .flat_map(|(id, day)| [&id.to_be_bytes()[..], &day.to_be_bytes()].concat())
            .collect();
        self.set_sealed_meta(META_PRESENCE_TOLD, &plain)
    }
}

/// A published check-in record's plaintext: the end of its span (u64 BE), then the encoded report.
fn split_end(plain: &[u8]) -> Result<(u64, &[u8]), Error> {
    plain
        .split_first_chunk::<8>()
        .map(|(end, report)| (u64::from_be_bytes(*end), report))
        .ok_or_else(|| {
            Error::StoreCorrupt("a published check-in record has an unknown layout".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_refused() {
        let c = StoredCheckIn {
            id: 7,
            payload: vec![1, 2, 3],
            arrival: 100,
            departure: 200,
            checked_out: true,
            reported: true,
        };
        let plain = c.encode().unwrap();
        assert_eq!(StoredCheckIn::decode(&plain).unwrap(), c);
        for cut in 0..plain.len() {
            assert!(StoredCheckIn::decode(&plain[..cut]).is_err(), "{cut}");
        }
        let mut longer = plain.clone();
        longer.push(0);
        assert!(StoredCheckIn::decode(&longer).is_err());
        let mut other_layout = plain;
        other_layout[0] = 2;
        assert!(StoredCheckIn::decode(&other_layout).is_err());
        assert!(split_end(&[1, 2, 3]).is_err());
    }
}
