//! The key server's inbox of sealed visitor-log entries: its paths, JSON and limits, shared by the
//! server and its clients.
//!
//! - `POST /v1/inbox/<location-id hash, hex>` with a sealed entry as the body (`application/octet-stream`)
//!   answers [`InboxPostResponse`]; an exact repeat of a stored entry is dropped (`stored: false`).
//! - `GET /v1/inbox/<hash>?since=<unix ms>&until=<unix ms>` answers [`InboxEntries`]: the entries
//!   received in that window (at most [`MAX_WINDOW_MS`] long), oldest first.

use serde::{Deserialize, Serialize};

use crate::checkin::venue::LocationIdHash;
use crate::error::Error;
use crate::units::{MS_PER_DAY, RETENTION_DAYS};

/// The inbox's path under the server's base URL, followed by the location-id hash in hex.
pub const INBOX_PATH: &str = "v1/inbox/";

/// The longest window one `GET` covers: two days, so that any local calendar day fits.
pub const MAX_WINDOW_MS: u64 = 2 * MS_PER_DAY;

/// Days the server keeps an entry.
pub const INBOX_RETENTION_DAYS: u32 = RETENTION_DAYS;

/// The most entries a venue's inbox takes in one UTC day (a school of 2,500 entering and leaving).
pub const MAX_ENTRIES_PER_VENUE_DAY: usize = 5_000;

/// The largest `GET` answer a client accepts.
pub const MAX_INBOX_ANSWER_BYTES: u64 = 16 << 20;

/// The answer to a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPostResponse {
    /// `false` when the same entry was stored already (a retry).
    pub stored: bool,
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    /// When the server received it, UTC unix milliseconds.
    pub received_ms: u64,
    /// The sealed entry, standard base64.
    pub entry: String,
}

/// The answer to a `GET`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntries {
    /// The entries, oldest first.
    pub entries: Vec<InboxItem>,
}

/// The inbox path of a venue: `v1/inbox/<hash hex>`.
pub fn inbox_path(venue: &LocationIdHash) -> String {
    format!("{INBOX_PATH}{}", hex::encode(venue.0))
}

/// Parses the hex location-id hash of an inbox path.
pub fn parse_hash(text: &str) -> Result<LocationIdHash, Error> {
    let bytes = hex::decode(text).map_err(|e| Error::InvalidHex {
        what: "a location-id hash",
        reason: e.to_string(),
    })?;
    let hash: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| Error::WrongLength {
        what: "a location-id hash",
        expected: 32,
        found: b.len(),
    })?;
    Ok(LocationIdHash(hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_and_garbage_is_refused() {
        let hash = LocationIdHash([0xab; 32]);
        let path = inbox_path(&hash);
        assert_eq!(
            parse_hash(path.strip_prefix(INBOX_PATH).unwrap()).unwrap(),
            hash
        );
        for bad in ["", "ab", "zz", &"ab".repeat(33), &"é".repeat(32)] {
            assert!(parse_hash(bad).is_err(), "{bad:?}");
        }
    }
}
