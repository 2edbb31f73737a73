//! Venues' visitor-log inboxes: sealed entries posted by visitors' phones and guards' devices, kept by
//! location-id hash for 14 days, read back by the school. The server checks only the framing (version,
//! key, whole padded blocks, size): it holds no key and never sees a name.
//!
//! Tables (`storage.rs`, on either backend): `inbox` — `hash (32) || received ms (u64 BE) || SHA-256 of
//! the entry (32)` → the entry; `inbox_digests` — `hash || SHA-256` → received ms (exact repeats are
//! dropped); `inbox_counts` — `hash || UTC day (u32 BE)` → entries that day (u64 BE), for the per-venue
//! daily cap, read and written with compare-and-set so that replicas posting at once keep it. Wire
//! format and limits: `openzone_wire::visitorlog::inbox`.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use openzone_wire::checkin::venue::LocationIdHash;
use openzone_wire::units::{day_of_ms, MS_PER_DAY};
use openzone_wire::visitorlog::entry::split_sealed;
use openzone_wire::visitorlog::inbox::{
    parse_hash, InboxEntries, InboxItem, InboxPostResponse, INBOX_RETENTION_DAYS,
    MAX_ENTRIES_PER_VENUE_DAY, MAX_WINDOW_MS,
};
use openzone_wire::visitorlog::MAX_SEALED_ENTRY_BYTES;
use serde::Deserialize;

use crate::api::{read_body, Client};
use crate::error::{Result, ServerError};
use crate::storage::{decode_u64, Change, Committed, Storage, INBOX, INBOX_COUNTS, INBOX_DIGESTS};
use crate::AppState;

/// How often expired entries are looked for (on the next inbox request after this much time).
const PURGE_EVERY_MS: u64 = 3_600_000;

/// The inboxes in the server's database.
pub(crate) struct Inbox {
    storage: Storage,
    /// When expired entries were last removed, UTC unix ms.
    last_purge_ms: AtomicU64,
}

/// A post checked for framing: the venue and the entry's digest.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CheckedPost {
    pub venue: LocationIdHash,
    pub digest: [u8; 32],
}

/// Checks a post's path and body without storing anything: a 64-hex-digit location-id hash and a
/// well-framed sealed entry.
pub(crate) fn check_post(hash_hex: &str, body: &[u8]) -> Result<CheckedPost> {
    let venue = parse_hash(hash_hex).map_err(|e| ServerError::Malformed(e.to_string()))?;
    if body.len() > MAX_SEALED_ENTRY_BYTES {
        return Err(ServerError::BodyTooLarge {
            max: MAX_SEALED_ENTRY_BYTES,
        });
    }
    split_sealed(body).map_err(|e| ServerError::Malformed(e.to_string()))?;
    let mut digest = [0u8; 32];
    digest.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, body).as_ref());
    Ok(CheckedPost { venue, digest })
}

/// The query of a `GET`.
#[derive(Debug, Deserialize)]
pub(crate) struct Window {
    since: u64,
    until: u64,
}

/// Checks a `GET`'s window: `since` before `until`, at most two days.
pub(crate) fn check_window(since: u64, until: u64) -> Result<()> {
    if since >= until || until - since > MAX_WINDOW_MS {
        return Err(ServerError::Malformed(format!(
            "the window {since}..{until} must start before it ends and last at most {} hours",
            MAX_WINDOW_MS / 3_600_000
        )));
    }
    Ok(())
}

impl Inbox {
    pub fn new(storage: Storage) -> Self {
        Self {
            storage,
            last_purge_ms: AtomicU64::new(0),
        }
    }

    /// Stores a checked entry received at `now_ms`; `false` for an exact repeat.
    pub async fn store(&self, post: &CheckedPost, body: &[u8], now_ms: u64) -> Result<bool> {
        let digest_key = [&post.venue.0[..], &post.digest].concat();
        let entry_key = [&post.venue.0[..], &now_ms.to_be_bytes(), &post.digest].concat();
        let count_key = [&post.venue.0[..], &day_of_ms(now_ms).to_be_bytes()].concat();
        let attempt = || async {
            if self
                .storage
                .get(INBOX_DIGESTS, &digest_key)
                .await?
                .is_some()
            {
                return Ok(Some(false));
            }
            let raw = self.storage.get(INBOX_COUNTS, &count_key).await?;
            let count = raw.as_deref().map_or(0, decode_u64);
            if count >= MAX_ENTRIES_PER_VENUE_DAY as u64 {
                return Err(ServerError::InboxFull {
                    max: MAX_ENTRIES_PER_VENUE_DAY,
                });
            }
            let mut change = Change::default();
            change.expect(INBOX_COUNTS, count_key.as_slice(), raw);
            change.put(
                INBOX_COUNTS,
                count_key.as_slice(),
                (count + 1).to_be_bytes().to_vec(),
            );
            change.expect(INBOX_DIGESTS, digest_key.as_slice(), None);
            change.put(
                INBOX_DIGESTS,
                digest_key.as_slice(),
                now_ms.to_be_bytes().to_vec(),
            );
            change.put(INBOX, entry_key.as_slice(), body.to_vec());
            Ok(match self.storage.commit(change).await? {
                Committed::Yes => Some(true),
                Committed::Conflict => None,
            })
        };
        self.storage.retry(attempt).await
    }

    /// The entries of `venue` received from `since` to `until` (ms), oldest first.
    pub async fn read(
        &self,
        venue: &LocationIdHash,
        since: u64,
        until: u64,
    ) -> Result<InboxEntries> {
        let from = [&venue.0[..], &since.to_be_bytes()].concat();
        let to = [&venue.0[..], &until.to_be_bytes()].concat();
        let b64 = base64::engine::general_purpose::STANDARD;
        let entries = self
            .storage
            .range(INBOX, &from, &to)
            .await?
            .into_iter()
            .map(|(key, value)| InboxItem {
                received_ms: received_ms(&key),
                entry: b64.encode(value),
            })
            .collect();
        Ok(InboxEntries { entries })
    }

    /// Removes what was received more than 14 days before `now_ms`, at most once an hour in a process;
    /// returns how many entries went. Replicas may purge at once: removing is the same whoever does it.
    pub async fn purge(&self, now_ms: u64) -> Result<u64> {
        let last = self.last_purge_ms.load(Ordering::Relaxed);
        if now_ms < last.saturating_add(PURGE_EVERY_MS) && last != 0 {
            return Ok(0);
        }
        self.last_purge_ms.store(now_ms, Ordering::Relaxed);
        let cutoff = now_ms.saturating_sub(u64::from(INBOX_RETENTION_DAYS) * MS_PER_DAY);
        let mut removed = 0;
        let mut change = Change::default();
        for (key, _) in self.storage.scan(INBOX).await? {
            if received_ms(&key) < cutoff {
                let digest_key = [&key[..32], &key[40..]].concat();
                change.remove(INBOX_DIGESTS, digest_key);
                change.remove(INBOX, key);
                removed += 1;
            }
        }
        let cutoff_day = day_of_ms(cutoff);
        for (key, _) in self.storage.scan(INBOX_COUNTS).await? {
            let day = key
                .get(32..36)
                .and_then(|d| <[u8; 4]>::try_from(d).ok())
                .map_or(0, u32::from_be_bytes);
            if day < cutoff_day {
                change.remove(INBOX_COUNTS, key);
            }
        }
        self.storage.write(change).await?;
        Ok(removed)
    }
}

/// The receive time in an entry's key.
fn received_ms(key: &[u8]) -> u64 {
    key.get(32..40)
        .and_then(|t| <[u8; 8]>::try_from(t).ok())
        .map_or(0, u64::from_be_bytes)
}

/// `POST /v1/inbox/{hash}`.
pub(crate) async fn post(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    Path(hash): Path<String>,
    request: Request,
) -> Response {
    let outcome = answer_post(&state, client, &hash, request).await;
    state.metrics.request("inbox_post", &outcome);
    outcome.map(Json).into_response()
}

async fn answer_post(
    state: &AppState,
    client: IpAddr,
    hash: &str,
    request: Request,
) -> Result<InboxPostResponse> {
    let now_ms = state.now_ms();
    state.inbox_posts.acquire(client, now_ms)?;
    let body = read_body(request, MAX_SEALED_ENTRY_BYTES).await?;
    let post = check_post(hash, &body)?;
    state.inbox.purge(now_ms).await?;
    let stored = state.inbox.store(&post, &body, now_ms).await?;
    Ok(InboxPostResponse { stored })
}

/// `GET /v1/inbox/{hash}?since=&until=`.
pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    Query(window): Query<Window>,
) -> Response {
    let answer = async {
        let venue = parse_hash(&hash).map_err(|e| ServerError::Malformed(e.to_string()))?;
        check_window(window.since, window.until)?;
        state.inbox.purge(state.now_ms()).await?;
        state.inbox.read(&venue, window.since, window.until).await
    };
    answer.await.map(Json).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openzone_wire::checkin::venue::VisitorLogSecret;
    use openzone_wire::visitorlog::{DeclarationStatus, Direction, EntryKind, VisitorEntry};

    fn sealed(name: &str, venue: &LocationIdHash) -> Vec<u8> {
        VisitorEntry {
            v: 1,
            name: name.into(),
            phone: None,
            class: None,
            time: 1,
            declaration: DeclarationStatus::None,
            kind: EntryKind::Gate,
            direction: Direction::In,
            purpose: None,
            answers: Default::default(),
        }
        .seal(
            &VisitorLogSecret::from_bytes([1; 32]).public_key(),
            venue,
            &ring::rand::SystemRandom::new(),
        )
        .unwrap()
    }

    fn inbox() -> (tempfile::TempDir, Inbox) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        (dir, Inbox::new(storage))
    }

    #[test]
    fn posts_are_checked_for_framing_only() {
        let venue = LocationIdHash([3; 32]);
        let hex = hex::encode(venue.0);
        let body = sealed("An", &venue);
        assert_eq!(check_post(&hex, &body).unwrap().venue, venue);
        for len in 0..body.len() {
            assert!(
                check_post(&hex, &body[..len]).is_err(),
                "truncated to {len}"
            );
        }
        assert!(matches!(
            check_post(&hex, &vec![1; MAX_SEALED_ENTRY_BYTES + 1]),
            Err(ServerError::BodyTooLarge { .. })
        ));
        for bad in ["", "xyz", &hex[..62], &format!("{hex}00")] {
            assert!(check_post(bad, &body).is_err());
        }
        assert!(check_post(&hex, b"garbage").is_err());
    }

    #[tokio::test]
    async fn entries_are_kept_by_venue_without_repeats_for_14_days() {
        let (_dir, inbox) = inbox();
        let (a, b) = (LocationIdHash([3; 32]), LocationIdHash([4; 32]));
        let t0 = 1_700_000_000_000;
        let first = sealed("An", &a);
        let post = check_post(&hex::encode(a.0), &first).unwrap();
        assert!(inbox.store(&post, &first, t0).await.unwrap());
        assert!(
            !inbox.store(&post, &first, t0 + 5).await.unwrap(),
            "a repeat is dropped"
        );
        let second = sealed("Bình", &a);
        let post2 = check_post(&hex::encode(a.0), &second).unwrap();
        assert!(inbox.store(&post2, &second, t0 + 10).await.unwrap());
        let other = sealed("Chi", &b);
        let post3 = check_post(&hex::encode(b.0), &other).unwrap();
        assert!(inbox.store(&post3, &other, t0 + 20).await.unwrap());

        let read = inbox.read(&a, t0, t0 + MS_PER_DAY).await.unwrap();
        assert_eq!(read.entries.len(), 2);
        assert_eq!(read.entries[0].received_ms, t0);
        assert_eq!(
            inbox.read(&a, t0 + 1, t0 + 11).await.unwrap().entries.len(),
            1
        );
        assert_eq!(inbox.read(&b, t0, t0 + 100).await.unwrap().entries.len(), 1);

        assert_eq!(inbox.purge(t0 + 13 * MS_PER_DAY).await.unwrap(), 0);
        assert_eq!(
            inbox.purge(t0 + 13 * MS_PER_DAY + 1).await.unwrap(),
            0,
            "once an hour"
        );
        assert_eq!(inbox.purge(t0 + 14 * MS_PER_DAY + 30).await.unwrap(), 3);
        assert!(inbox
            .read(&a, t0, t0 + MS_PER_DAY)
            .await
            .unwrap()
            .entries
            .is_empty());
        // Once deleted, the same entry may come again.
        assert!(inbox
            .store(&post, &first, t0 + 15 * MS_PER_DAY)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_venue_takes_at_most_its_daily_cap() {
        let (_dir, inbox) = inbox();
        let venue = LocationIdHash([5; 32]);
        let body = sealed("An", &venue);
        let t0 = 1_700_000_000_000;
        for i in 0..MAX_ENTRIES_PER_VENUE_DAY {
            let mut post = check_post(&hex::encode(venue.0), &body).unwrap();
            post.digest[..8].copy_from_slice(&(i as u64).to_be_bytes());
            assert!(inbox.store(&post, &body, t0).await.unwrap());
        }
        let post = check_post(&hex::encode(venue.0), &body).unwrap();
        assert!(matches!(
            inbox.store(&post, &body, t0).await,
            Err(ServerError::InboxFull { .. })
        ));
        assert!(
            inbox.store(&post, &body, t0 + MS_PER_DAY).await.unwrap(),
            "the next day"
        );
    }

    #[test]
    fn windows_are_bounded() {
        assert!(check_window(0, MAX_WINDOW_MS).is_ok());
        assert!(check_window(0, MAX_WINDOW_MS + 1).is_err());
        assert!(check_window(5, 5).is_err());
        assert!(check_window(6, 5).is_err());
    }
}
