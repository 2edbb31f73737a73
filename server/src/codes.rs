//! One-time codes: an officer issues one per confirmed case; an upload consumes it.
//!
//! A code is 8 random decimal digits, valid for 24 hours, and moves once from issued to used, in the same
//! database transaction that stores the upload's keys (`publish.rs`): a code is never used without its
//! keys stored, nor twice. Codes are deleted 14 days after issue; the counters remain.

use ring::rand::{SecureRandom, SystemRandom};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::error::{Result, ServerError};
use crate::storage::{add_to_counter, encode, CodeRecord, Storage, TestType, CODES_ISSUED};

/// Digits of a code.
pub const CODE_DIGITS: usize = 8;

/// How long a code stays valid.
pub const CODE_VALIDITY_MS: u64 = 24 * 3_600_000;

/// The oldest onset of symptoms an officer may give, in days before today.
pub const MAX_ONSET_AGE_DAYS: u32 = 30;

/// 10^8: the number of distinct codes.
const CODE_SPACE: u32 = 100_000_000;

/// A freshly issued code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// The 8 digits to give the user.
    pub code: String,
    /// When it stops being valid, UTC unix milliseconds.
    pub expires_ms: u64,
}

/// Issues a new code for `test_type`, with the onset of symptoms `onset_day` (a UTC day) if known.
pub(crate) fn issue(
    storage: &Storage,
    test_type: TestType,
    onset_day: Option<u32>,
    now_ms: u64,
) -> Result<IssuedCode> {
    let today = (now_ms / 86_400_000) as u32;
    if let Some(onset) = onset_day {
        if onset > today {
            return Err(ServerError::Malformed(
                "the onset of symptoms is after today".into(),
            ));
        }
        if onset + MAX_ONSET_AGE_DAYS < today {
            return Err(ServerError::Malformed(format!(
                "the onset of symptoms is more than {MAX_ONSET_AGE_DAYS} days ago"
            )));
        }
    }
    let record = CodeRecord {
        test_type,
        onset_day,
        issued_ms: now_ms,
        expires_ms: now_ms + CODE_VALIDITY_MS,
        used_ms: None,
        upload_digest: None,
    };
    let value = encode(&record);
    let rng = SystemRandom::new();
    loop {
        let code = random_code(&rng)?;
        let result = (&storage.codes, &storage.meta).transaction(|(codes, meta)| {
            if codes.get(code.as_bytes())?.is_some() {
                // Taken (by a code of the last 14 days): draw another.
                return Ok(false);
            }
            codes.insert(code.as_bytes(), value.as_slice())?;
            add_to_counter(meta, CODES_ISSUED, 1)?;
            Ok::<_, ConflictableTransactionError<ServerError>>(true)
        });
        match result {
            Ok(true) => {
                return Ok(IssuedCode {
                    code,
                    expires_ms: record.expires_ms,
                })
            }
            Ok(false) => continue,
            Err(TransactionError::Abort(e)) => return Err(e),
            Err(TransactionError::Storage(e)) => return Err(e.into()),
        }
    }
}

/// 8 uniformly random digits (rejection sampling keeps every code equally likely).
fn random_code(rng: &SystemRandom) -> Result<String> {
    let limit = u32::MAX - u32::MAX % CODE_SPACE;
    loop {
        let mut bytes = [0u8; 4];
        rng.fill(&mut bytes)
            .map_err(|_| ServerError::Core(openzone_core::Error::Random))?;
        let n = u32::from_le_bytes(bytes);
        if n < limit {
            return Ok(format!("{:0width$}", n % CODE_SPACE, width = CODE_DIGITS));
        }
    }
}

/// Whether `code` looks like a code at all (8 ASCII digits).
pub(crate) fn well_formed(code: &str) -> bool {
    code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// Deletes codes issued before `cutoff_ms`; returns how many.
pub(crate) fn delete_issued_before(storage: &Storage, cutoff_ms: u64) -> Result<u64> {
    let mut n = 0;
    for entry in storage.codes.iter() {
        let (key, value) = entry?;
        let record: CodeRecord = crate::storage::decode(&value)?;
        if record.issued_ms < cutoff_ms {
            storage.codes.remove(key)?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::decode;

    #[test]
    fn codes_are_eight_digits_stored_as_issued_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let now = 1_795_000_000_000;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let issued = issue(&storage, TestType::Confirmed, None, now).unwrap();
            assert!(well_formed(&issued.code), "{}", issued.code);
            assert_eq!(issued.expires_ms, now + CODE_VALIDITY_MS);
            assert!(seen.insert(issued.code.clone()));
            let record: CodeRecord =
                decode(&storage.codes.get(issued.code.as_bytes()).unwrap().unwrap()).unwrap();
            assert_eq!(record.used_ms, None);
            assert_eq!(record.test_type, TestType::Confirmed);
        }
        assert_eq!(storage.counter(CODES_ISSUED).unwrap(), 200);
        // Leading zeros are kept: the digits are uniform, so some of 200 codes start with 0.
        assert!(seen.iter().any(|c| c.starts_with('0')));
    }

    #[test]
    fn onset_must_be_recent_and_not_in_the_future() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let now = 20_777 * 86_400_000 + 1;
        assert!(issue(&storage, TestType::Likely, Some(20_777), now).is_ok());
        assert!(issue(&storage, TestType::Likely, Some(20_777 - 30), now).is_ok());
        for bad in [20_778, 20_777 - 31] {
            assert!(matches!(
                issue(&storage, TestType::Likely, Some(bad), now),
                Err(ServerError::Malformed(_))
            ));
        }
    }

    #[test]
    fn old_codes_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let old = issue(&storage, TestType::Confirmed, None, 1_000).unwrap();
        let new = issue(&storage, TestType::Confirmed, None, 5_000).unwrap();
        assert_eq!(delete_issued_before(&storage, 2_000).unwrap(), 1);
        assert!(storage.codes.get(old.code.as_bytes()).unwrap().is_none());
        assert!(storage.codes.get(new.code.as_bytes()).unwrap().is_some());
        assert_eq!(storage.counter(CODES_ISSUED).unwrap(), 2);
    }

    #[test]
    fn well_formed_codes() {
        assert!(well_formed("00000000"));
        for bad in ["", "1234567", "123456789", "1234567x", "１２３４"] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
