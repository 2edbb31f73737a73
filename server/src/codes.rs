//! One-time codes: an officer issues one per confirmed case; an upload consumes it.
//!
//! A code is 8 random decimal digits, valid for a short time (default one hour: the officer gives it in
//! person and the student enters it at once, as with Google's short codes and the Corona-Warn-App's
//! teleTAN), and moves once from issued to used, in the same database transaction that stores the
//! upload's keys (`publish.rs`): a code is never used without its keys stored, nor twice.
//!
//! The database keeps only the code's HMAC-SHA256 under the server's code key (`keys.rs`), as Google's
//! verification server does (`pkg/database/vercode.go`): whoever reads the database cannot use or
//! recognise the codes in it. Issuing counts against the officer's daily quota and is written to the
//! audit log, in the same transaction. Codes are deleted 14 days after issue; the counters remain.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

use crate::audit::{self, AuditAction, AuditEntry};
use crate::error::{Result, ServerError};
use crate::officers::OfficerRecord;
use crate::storage::{
    decode, encode, Change, CodeRecord, Committed, Storage, TestType, CODES, CODES_ISSUED, OFFICERS,
};

/// Digits of a code.
pub const CODE_DIGITS: usize = 8;

/// How long a code stays valid unless configured otherwise.
pub const DEFAULT_CODE_VALIDITY: Duration = Duration::from_secs(3_600);

/// The longest validity a configuration may give codes.
pub const MAX_CODE_VALIDITY: Duration = Duration::from_secs(24 * 3_600);

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

/// What the codes tree keys a code by: HMAC-SHA256(code key, code).
pub(crate) fn code_hmac(key: &ring::hmac::Key, code: &str) -> [u8; 32] {
    let tag = ring::hmac::sign(key, code.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// How an officer asks for a code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeRequest<'a> {
    pub officer: &'a str,
    pub test_type: TestType,
    /// The onset of symptoms (a UTC day), if known.
    pub onset_day: Option<u32>,
    /// The region the case is tied to (checked against the server's regions); `None`: national.
    pub region: Option<&'a str>,
}

/// Issues a new code for `request` at `now_ms`, valid for `validity`, within the officer's quota.
pub(crate) async fn issue(
    storage: &Storage,
    key: &ring::hmac::Key,
    request: CodeRequest<'_>,
    now_ms: u64,
    validity: Duration,
) -> Result<IssuedCode> {
    let today = (now_ms / 86_400_000) as u32;
    if let Some(onset) = request.onset_day {
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
        test_type: request.test_type,
        onset_day: request.onset_day,
        issued_ms: now_ms,
        expires_ms: now_ms + validity.as_millis() as u64,
        used: false,
        retry_tag: None,
        region: request.region.map(str::to_owned),
    };
    let value = encode(&record);
    let rng = SystemRandom::new();
    loop {
        let code = random_code(&rng)?;
        let hmac = code_hmac(key, &code);
        let id = audit::next_id(storage).await?;
        let entry = AuditEntry {
            code_hmac: Some(hex::encode(hmac)),
            ..AuditEntry::new(now_ms, request.officer, AuditAction::CodeIssued)
        };
        let attempt = || async {
            if storage.get(CODES, &hmac).await?.is_some() {
                // Taken (by a code of the last 14 days): draw another.
                return Ok(Some(false));
            }
            let mut change = Change::default();
            change.expect(CODES, hmac, None);
            count_against_quota(storage, &mut change, request.officer, today).await?;
            change.put(CODES, hmac, value.clone());
            change.add(CODES_ISSUED, 1);
            audit::add_in(&mut change, id, &entry);
            Ok(match storage.commit(change).await? {
                Committed::Yes => Some(true),
                Committed::Conflict => None,
            })
        };
        match storage.retry(attempt).await {
            Ok(true) => {
                return Ok(IssuedCode {
                    code,
                    expires_ms: record.expires_ms,
                })
            }
            Ok(false) => continue,
            Err(e @ ServerError::QuotaExceeded { .. }) => {
                audit::add(
                    storage,
                    &AuditEntry::new(now_ms, request.officer, AuditAction::QuotaExceeded),
                )
                .await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Counts one code against `officer`'s quota for `today` in `change`, or fails with
/// [`ServerError::QuotaExceeded`].
async fn count_against_quota(
    storage: &Storage,
    change: &mut Change,
    officer: &str,
    today: u32,
) -> Result<()> {
    let Some(value) = storage.get(OFFICERS, officer.as_bytes()).await? else {
        return Err(ServerError::Unauthorized);
    };
    let mut record: OfficerRecord = decode(&value)?;
    if record.quota_day != today {
        record.quota_day = today;
        record.issued_that_day = 0;
    }
    if record.issued_that_day >= record.daily_quota {
        return Err(ServerError::QuotaExceeded {
            quota: record.daily_quota,
        });
    }
    record.issued_that_day += 1;
    change.expect(OFFICERS, officer.as_bytes(), Some(value));
    change.put(OFFICERS, officer.as_bytes(), encode(&record));
    Ok(())
}

/// 8 uniformly random digits (rejection sampling keeps every code equally likely).
fn random_code(rng: &SystemRandom) -> Result<String> {
    let limit = u32::MAX - u32::MAX % CODE_SPACE;
    loop {
        let mut bytes = [0u8; 4];
        rng.fill(&mut bytes)
            .map_err(|_| ServerError::Wire(openzone_wire::Error::Random))?;
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
pub(crate) async fn delete_issued_before(storage: &Storage, cutoff_ms: u64) -> Result<u64> {
    let mut change = Change::default();
    let mut n = 0;
    for (key, record) in storage.scan_records::<CodeRecord>(CODES).await? {
        if record.issued_ms < cutoff_ms {
            change.remove(CODES, key);
            n += 1;
        }
    }
    storage.write(change).await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::officers;

    const HOUR: Duration = Duration::from_secs(3_600);

    /// A database with the officer `lan` (daily quota `quota`), and the server's code key.
    struct Desk {
        _dir: tempfile::TempDir,
        storage: Storage,
        key: ring::hmac::Key,
    }

    impl Desk {
        async fn new(quota: u32) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let storage = Storage::open(dir.path()).unwrap();
            officers::add(&storage, "lan", "a long enough password", quota, 0)
                .await
                .unwrap();
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[9; 32]);
            Self {
                _dir: dir,
                storage,
                key,
            }
        }

        /// Issues a code valid an hour at `now_ms`, for `lan` unless `request` says otherwise.
        async fn issue(&self, request: CodeRequest<'_>, now_ms: u64) -> Result<IssuedCode> {
            issue(&self.storage, &self.key, request, now_ms, HOUR).await
        }

        /// Whether the code's record is stored (under its HMAC).
        async fn stored(&self, code: &str) -> bool {
            self.storage
                .get(CODES, &code_hmac(&self.key, code))
                .await
                .unwrap()
                .is_some()
        }
    }

    fn request(test_type: TestType, onset_day: Option<u32>) -> CodeRequest<'static> {
        CodeRequest {
            officer: "lan",
            test_type,
            onset_day,
            region: None,
        }
    }

    #[tokio::test]
    async fn codes_are_eight_digits_stored_by_their_hmac_and_counted() {
        let desk = Desk::new(1_000).await;
        let storage = &desk.storage;
        let now = 1_795_000_000_000;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let issued = desk
                .issue(request(TestType::Confirmed, None), now)
                .await
                .unwrap();
            assert!(well_formed(&issued.code), "{}", issued.code);
            assert_eq!(issued.expires_ms, now + 3_600_000);
            assert!(seen.insert(issued.code.clone()));
            assert!(storage
                .get(CODES, issued.code.as_bytes())
                .await
                .unwrap()
                .is_none());
            let record: CodeRecord = storage
                .get_record(CODES, &code_hmac(&desk.key, &issued.code))
                .await
                .unwrap()
                .unwrap();
            assert!(!record.used);
            assert_eq!(record.test_type, TestType::Confirmed);
        }
        assert_eq!(storage.counter(CODES_ISSUED).await.unwrap(), 200);
        let audit = audit::entries(storage).await.unwrap();
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.action == AuditAction::CodeIssued)
                .count(),
            200
        );
    }

    #[tokio::test]
    async fn the_daily_quota_holds_and_renews_each_day() {
        let desk = Desk::new(2).await;
        let likely = || request(TestType::Likely, None);
        let day = 20_777 * 86_400_000;
        for _ in 0..2 {
            desk.issue(likely(), day).await.unwrap();
        }
        assert!(matches!(
            desk.issue(likely(), day + 1).await,
            Err(ServerError::QuotaExceeded { quota: 2 })
        ));
        assert_eq!(desk.storage.counter(CODES_ISSUED).await.unwrap(), 2);
        desk.issue(likely(), day + 86_400_000).await.unwrap();
        let unknown = CodeRequest {
            officer: "minh",
            ..likely()
        };
        assert!(matches!(
            desk.issue(unknown, day).await,
            Err(ServerError::Unauthorized)
        ));
    }

    #[tokio::test]
    async fn onset_must_be_recent_and_not_in_the_future() {
        let desk = Desk::new(100).await;
        let now = 20_777 * 86_400_000 + 1;
        for good in [20_777, 20_777 - 30] {
            assert!(desk
                .issue(request(TestType::Likely, Some(good)), now)
                .await
                .is_ok());
        }
        for bad in [20_778, 20_777 - 31] {
            assert!(matches!(
                desk.issue(request(TestType::Likely, Some(bad)), now).await,
                Err(ServerError::Malformed(_))
            ));
        }
    }

    #[tokio::test]
    async fn old_codes_are_deleted() {
        let desk = Desk::new(100).await;
        let confirmed = || request(TestType::Confirmed, None);
        let old = desk.issue(confirmed(), 1_000).await.unwrap();
        let new = desk.issue(confirmed(), 5_000).await.unwrap();
        assert_eq!(delete_issued_before(&desk.storage, 2_000).await.unwrap(), 1);
        assert!(!desk.stored(&old.code).await);
        assert!(desk.stored(&new.code).await);
        assert_eq!(desk.storage.counter(CODES_ISSUED).await.unwrap(), 2);
    }

    #[test]
    fn well_formed_codes() {
        assert!(well_formed("00000000"));
        for bad in ["", "1234567", "123456789", "1234567x", "１２３４"] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
