//! Officers' accounts and sessions. Each officer has a name, a password stored as an Argon2id hash
//! (RustCrypto's `argon2` with its default parameters: 19 MiB, 2 passes, the OWASP minimum), a daily
//! quota of codes, and can be disabled. Signing in (on the page or with `POST /v1/admin/login`) starts a
//! 12-hour session whose random token the browser keeps in a cookie or an API client sends as a bearer
//! token; the database keeps only the token's SHA-256, so a copy of it opens no session.
//!
//! Accounts are made with `openzone officer add` on the data directory (the server stopped: sled lets
//! one process open it). The shared admin token of earlier versions becomes the account `admin`, whose
//! password is that token, once ([`migrate_admin_token`]).

use std::path::Path;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditAction, AuditEntry};
use crate::error::{Result, ServerError};
use crate::keys::{random_32, read_optional, ADMIN_TOKEN_FILE};
use crate::storage::{encode, Change, Committed, Storage, OFFICERS, SESSIONS};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Codes an officer may issue per UTC day unless told otherwise.
pub const DEFAULT_DAILY_QUOTA: u32 = 50;

/// How long a session lasts.
pub(crate) const SESSION_MS: u64 = 12 * 3_600_000;

/// The longest password accepted (hashing cost grows with its length).
const MAX_PASSWORD_BYTES: usize = 1_024;

/// The longest name accepted.
const MAX_NAME_CHARS: usize = 64;

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OfficerRecord {
    /// The PHC string of the Argon2id hash.
    pub password_hash: String,
    pub daily_quota: u32,
    pub disabled: bool,
    pub created_ms: u64,
    /// The UTC day `issued_that_day` counts.
    pub quota_day: u32,
    pub issued_that_day: u32,
}

/// What `openzone officer list` shows of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficerInfo {
    /// The name officers sign in with.
    pub name: String,
    /// Codes per UTC day.
    pub daily_quota: u32,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// When it was created, UTC unix milliseconds.
    pub created_ms: u64,
}

/// A session: whose, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub officer: String,
    pub expires_ms: u64,
}

fn check_name(name: &str) -> Result<()> {
    let ok = (1..=MAX_NAME_CHARS).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ServerError::Config(format!(
            "an officer's name has 1 to {MAX_NAME_CHARS} letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

/// The Argon2id hash of `password` with a fresh random salt.
fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| ServerError::Wire(openzone_wire::Error::Random))?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ServerError::Config(format!("cannot hash the password: {e}")))
}

/// A hash to verify against when the name is unknown, so that unknown names take as long as wrong
/// passwords and the answer's timing does not tell which names exist.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("decoy password, never valid").unwrap_or_default());

/// Creates an account.
pub(crate) async fn add(
    storage: &Storage,
    name: &str,
    password: &str,
    daily_quota: u32,
    now_ms: u64,
) -> Result<()> {
    check_name(name)?;
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ServerError::Config(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_BYTES} bytes)"
        )));
    }
    let record = OfficerRecord {
        password_hash: hash_password(password)?,
        daily_quota,
        disabled: false,
        created_ms: now_ms,
        quota_day: 0,
        issued_that_day: 0,
    };
    let id = audit::next_id(storage).await?;
    let entry = AuditEntry::new(now_ms, name, AuditAction::OfficerAdded);
    if storage.get(OFFICERS, name.as_bytes()).await?.is_some() {
        return Err(exists(name));
    }
    let mut change = Change::default();
    change.expect(OFFICERS, name.as_bytes(), None);
    change.put(OFFICERS, name.as_bytes(), encode(&record));
    audit::add_in(&mut change, id, &entry);
    match storage.commit(change).await? {
        Committed::Yes => Ok(()),
        // Made meanwhile, on another replica.
        Committed::Conflict => Err(exists(name)),
    }
}

fn exists(name: &str) -> ServerError {
    ServerError::Config(format!("an officer named {name:?} exists already"))
}

/// Disables an account and ends its sessions.
pub(crate) async fn disable(storage: &Storage, name: &str, now_ms: u64) -> Result<()> {
    let Some(mut record) = storage
        .get_record::<OfficerRecord>(OFFICERS, name.as_bytes())
        .await?
    else {
        return Err(ServerError::Config(format!(
            "there is no officer named {name:?}"
        )));
    };
    record.disabled = true;
    let mut change = Change::default();
    change.put(OFFICERS, name.as_bytes(), encode(&record));
    for (key, session) in storage.scan_records::<SessionRecord>(SESSIONS).await? {
        if session.officer == name {
            change.remove(SESSIONS, key);
        }
    }
    audit::add_in(
        &mut change,
        audit::next_id(storage).await?,
        &AuditEntry::new(now_ms, name, AuditAction::OfficerDisabled),
    );
    storage.write(change).await
}

/// Every account.
pub(crate) async fn list(storage: &Storage) -> Result<Vec<OfficerInfo>> {
    Ok(storage
        .scan_records::<OfficerRecord>(OFFICERS)
        .await?
        .into_iter()
        .map(|(name, record)| OfficerInfo {
            name: String::from_utf8_lossy(&name).into_owned(),
            daily_quota: record.daily_quota,
            disabled: record.disabled,
            created_ms: record.created_ms,
        })
        .collect())
}

/// Whether `password` is `name`'s and the account is enabled. Slow on purpose (an Argon2id hash), for
/// unknown names too.
pub(crate) async fn check_password(storage: &Storage, name: &str, password: &str) -> Result<bool> {
    let record: Option<OfficerRecord> = storage.get_record(OFFICERS, name.as_bytes()).await?;
    let hash = record
        .as_ref()
        .map_or(DECOY_HASH.as_str(), |r| r.password_hash.as_str())
        .to_owned();
    let password = password.to_owned();
    // Argon2id takes tens of milliseconds of one core: off the async workers.
    let matches = tokio::task::spawn_blocking(move || {
        password.len() <= MAX_PASSWORD_BYTES
            && Argon2::default()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
    })
    .await
    .map_err(|e| ServerError::Database(format!("the password check failed: {e}")))?;
    Ok(matches && record.is_some_and(|r| !r.disabled))
}

fn token_key(token: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

/// Starts a session for `officer`; returns its token (the only copy). Sessions live in the database,
/// so that any replica recognises them.
pub(crate) async fn start_session(storage: &Storage, officer: &str, now_ms: u64) -> Result<String> {
    let mut change = Change::default();
    for (key, session) in storage.scan_records::<SessionRecord>(SESSIONS).await? {
        if session.expires_ms <= now_ms {
            change.remove(SESSIONS, key);
        }
    }
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_32()?);
    let session = SessionRecord {
        officer: officer.to_owned(),
        expires_ms: now_ms + SESSION_MS,
    };
    change.put(SESSIONS, token_key(&token), encode(&session));
    storage.write(change).await?;
    Ok(token)
}

/// The officer whose session `token` is, if it is open and the account enabled.
pub(crate) async fn session_officer(
    storage: &Storage,
    token: &str,
    now_ms: u64,
) -> Result<Option<String>> {
    let Some(session) = storage
        .get_record::<SessionRecord>(SESSIONS, &token_key(token))
        .await?
    else {
        return Ok(None);
    };
    if session.expires_ms <= now_ms {
        return Ok(None);
    }
    let enabled = storage
        .get_record::<OfficerRecord>(OFFICERS, session.officer.as_bytes())
        .await?
        .is_some_and(|record| !record.disabled);
    Ok(enabled.then_some(session.officer))
}

/// Ends the session `token`.
pub(crate) async fn end_session(storage: &Storage, token: &str) -> Result<()> {
    let mut change = Change::default();
    change.remove(SESSIONS, token_key(token));
    storage.write(change).await
}

/// Earlier versions had one admin token for everyone, in `DIR/admin-token`. If that file exists and
/// there is no account `admin`, it becomes one whose password is the token, so that the health
/// system that used the token can sign in as `admin`; the operator then makes one account per
/// officer, disables `admin` and deletes the file (`docs/deployment.md`). Returns whether it did.
pub(crate) async fn migrate_admin_token(
    storage: &Storage,
    dir: &Path,
    now_ms: u64,
) -> Result<bool> {
    let Some(token) = read_optional(&dir.join(ADMIN_TOKEN_FILE))? else {
        return Ok(false);
    };
    if storage.get(OFFICERS, b"admin").await?.is_some() {
        return Ok(false);
    }
    add(storage, "admin", token.trim(), DEFAULT_DAILY_QUOTA, now_ms).await?;
    audit::add(
        storage,
        &AuditEntry::new(now_ms, "admin", AuditAction::AdminTokenMigrated),
    )
    .await?;
    tracing::warn!(
        "the shared admin token became the officer account `admin`; create one account per officer \
         (openzone officer add), then disable `admin` and delete {ADMIN_TOKEN_FILE}"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(&dir.path().join("db")).unwrap();
        (dir, storage)
    }

    /// A database with the officer `lan`, whose password is "a long enough password".
    async fn with_lan() -> (tempfile::TempDir, Storage) {
        let (dir, storage) = storage();
        add(&storage, "lan", "a long enough password", 5, 0)
            .await
            .unwrap();
        (dir, storage)
    }

    #[tokio::test]
    async fn passwords_are_stored_as_argon2id_hashes_and_checked() {
        let (_dir, storage) = with_lan().await;
        let record: OfficerRecord = storage.get_record(OFFICERS, b"lan").await.unwrap().unwrap();
        assert!(
            record.password_hash.starts_with("$argon2id$"),
            "{}",
            record.password_hash
        );
        assert!(!record.password_hash.contains("a long enough password"));
        assert!(check_password(&storage, "lan", "a long enough password")
            .await
            .unwrap());
        assert!(!check_password(&storage, "lan", "a long enough passwore")
            .await
            .unwrap());
        assert!(
            !check_password(&storage, "nobody", "a long enough password")
                .await
                .unwrap()
        );
        assert!(!check_password(&storage, "lan", &"x".repeat(2_000))
            .await
            .unwrap());
        disable(&storage, "lan", 2).await.unwrap();
        assert!(!check_password(&storage, "lan", "a long enough password")
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn names_and_passwords_are_checked() {
        let (_dir, storage) = storage();
        for bad in ["", "has space", "semi;colon", &"n".repeat(65), "new\nline"] {
            assert!(
                add(&storage, bad, "a long enough password", 5, 1)
                    .await
                    .is_err(),
                "{bad:?}"
            );
        }
        assert!(add(&storage, "lan", "short", 5, 1).await.is_err());
        add(&storage, "Nguyễn.Lan", "a long enough password", 5, 1)
            .await
            .unwrap();
        assert!(add(&storage, "Nguyễn.Lan", "another long password", 5, 1)
            .await
            .is_err());
        assert_eq!(list(&storage).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn sessions_expire_end_and_die_with_their_account() {
        let (_dir, storage) = with_lan().await;
        let token = start_session(&storage, "lan", 0).await.unwrap();
        assert_eq!(
            session_officer(&storage, &token, SESSION_MS - 1)
                .await
                .unwrap()
                .as_deref(),
            Some("lan")
        );
        assert_eq!(
            session_officer(&storage, &token, SESSION_MS).await.unwrap(),
            None
        );
        assert_eq!(session_officer(&storage, "nope", 0).await.unwrap(), None);
        // Only the token's digest is stored.
        assert!(storage
            .get(SESSIONS, token.as_bytes())
            .await
            .unwrap()
            .is_none());
        end_session(&storage, &token).await.unwrap();
        assert_eq!(session_officer(&storage, &token, 1).await.unwrap(), None);
        let token = start_session(&storage, "lan", 0).await.unwrap();
        disable(&storage, "lan", 1).await.unwrap();
        assert_eq!(session_officer(&storage, &token, 1).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_old_admin_token_becomes_the_admin_account_once() {
        let (dir, storage) = storage();
        assert!(!migrate_admin_token(&storage, dir.path(), 0).await.unwrap());
        std::fs::write(
            dir.path().join(ADMIN_TOKEN_FILE),
            "the-old-shared-admin-token\n",
        )
        .unwrap();
        assert!(migrate_admin_token(&storage, dir.path(), 0).await.unwrap());
        assert!(
            check_password(&storage, "admin", "the-old-shared-admin-token")
                .await
                .unwrap()
        );
        assert!(!migrate_admin_token(&storage, dir.path(), 0).await.unwrap());
        let actions: Vec<AuditAction> = audit::entries(&storage)
            .await
            .unwrap()
            .iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [AuditAction::OfficerAdded, AuditAction::AdminTokenMigrated]
        );
    }
}
