//! The audit log: who did what with accounts and codes, for the health authority to answer "who issued
//! this code?" and "who signed in when?". Entries are only ever added. A code appears as its HMAC (as in
//! the codes tree), never in clear; an entry says nothing about uploads or keys.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::storage::{encode, Change, Storage, AUDIT};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// An account was created (`openzone officer add`).
    OfficerAdded,
    /// An account was disabled; its sessions ended.
    OfficerDisabled,
    /// The shared admin token of an earlier version became the account `admin`.
    AdminTokenMigrated,
    /// A successful sign-in (page or API).
    SignIn,
    /// A sign-in with a wrong password.
    SignInRefused,
    /// A code was issued; the entry carries its HMAC.
    CodeIssued,
    /// A code was refused because the officer's daily quota was spent.
    QuotaExceeded,
    /// The officer warned for a venue and a time span (which venue and when are not logged: the
    /// warning package is the only record).
    VenueWarned,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When, UTC unix milliseconds.
    pub at_ms: u64,
    /// The officer's name (for a refused sign-in, the name that was tried).
    pub officer: String,
    /// What happened.
    pub action: AuditAction,
    /// For [`AuditAction::CodeIssued`]: the code's HMAC (hex), as the codes tree keys it.
    pub code_hmac: Option<String>,
}

impl AuditEntry {
    /// An entry without a code.
    pub(crate) fn new(at_ms: u64, officer: &str, action: AuditAction) -> Self {
        Self {
            at_ms,
            officer: officer.to_owned(),
            action,
            code_hmac: None,
        }
    }
}

/// A fresh id for an entry: ids grow, so the log reads in order.
pub(crate) async fn next_id(storage: &Storage) -> Result<[u8; 8]> {
    Ok(storage.next_id().await?.to_be_bytes())
}

/// Adds `entry` to a change, under an id from [`next_id`].
pub(crate) fn add_in(change: &mut Change, id: [u8; 8], entry: &AuditEntry) {
    change.put(AUDIT, id, encode(entry));
}

/// Adds `entry` on its own.
pub(crate) async fn add(storage: &Storage, entry: &AuditEntry) -> Result<()> {
    let mut change = Change::default();
    add_in(&mut change, next_id(storage).await?, entry);
    storage.write(change).await
}

/// Every entry, oldest first.
pub(crate) async fn entries(storage: &Storage) -> Result<Vec<AuditEntry>> {
    storage.records(AUDIT).await
}

/// The officer who issued the code with this HMAC, if the log has it.
pub(crate) async fn issuer_of(storage: &Storage, code_hmac: &str) -> Result<Option<String>> {
    Ok(entries(storage)
        .await?
        .into_iter()
        .rev()
        .find(|entry| {
            entry.action == AuditAction::CodeIssued && entry.code_hmac.as_deref() == Some(code_hmac)
        })
        .map(|entry| entry.officer))
}
