//! The one error type of openzone-core.
//!
//! Each variant says what was wrong, with the values involved, so that whoever sees it (a QA tester at the
//! command line, a native shell, a log) knows what to fix. Secrets (keys, identifiers of other people)
//! never appear in messages.

use thiserror::Error;

pub use openzone_wire::{CheckInError, DeclarationError, FieldError};

/// Everything that can go wrong in openzone-core.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// Raw advertisement bytes that are not a valid sequence of AD structures.
    #[error("malformed advertisement at byte offset {offset}: {reason}")]
    Advertisement {
        /// Where in the input the bad AD structure starts.
        offset: usize,
        /// What is wrong with it.
        reason: PayloadError,
    },

    /// A well-formed advertisement or GATT value that carries no valid OpenZone payload.
    #[error("{0}")]
    Payload(PayloadError),

    /// What openzone-wire refused: a key, a date, a signed export or document, a sealed upload, a check-in,
    /// a declaration, a visitor-log entry, a configuration, or the system random number generator.
    #[error(transparent)]
    Wire(#[from] openzone_wire::Error),

    /// A data key that is not 32 bytes.
    #[error("invalid data key: {0}; give 32 raw bytes or 64 hex characters")]
    InvalidDataKey(String),

    /// The store was sealed under a different data key. Nothing was changed.
    #[error("the store cannot be opened with this data key (it was created with another one); nothing was changed")]
    WrongDataKey,

    /// The store was written by a different version of OpenZone. Nothing was changed.
    #[error("the store has schema version {found}, this version of OpenZone reads version {supported}; update the app. Nothing was changed")]
    UnsupportedStoreVersion {
        /// The version found in the store.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },

    /// The directory holds something other than an OpenZone store.
    #[error("{} is not an OpenZone store: {reason}", path.display())]
    NotAStore {
        /// The directory.
        path: std::path::PathBuf,
        /// What was found.
        reason: String,
    },

    /// Another process (or another open in this one) holds the store.
    #[error("the store at {} is in use by another process; close it first", path.display())]
    StoreLocked {
        /// The directory.
        path: std::path::PathBuf,
    },

    /// The operating system refused a file operation (permissions, a full disk, a read-only file system).
    #[error("cannot use the store at {}: {source} (check that the directory is writable and the disk has space)", path.display())]
    StoreIo {
        /// The file or directory.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The disk is (nearly) full: the store stopped writing and keeps what it was given in memory.
    #[error("the disk holding {} is nearly full ({available} bytes free, the store keeps {reserve} free); free some space. Nothing recorded so far is lost while the app keeps running", path.display())]
    DiskFull {
        /// The store directory.
        path: std::path::PathBuf,
        /// Bytes available to the store's user.
        available: u64,
        /// The reserve the store keeps free.
        reserve: u64,
    },

    /// Stored data that cannot be read back. Nothing was changed.
    #[error("the store is damaged: {0}")]
    StoreCorrupt(String),

    /// A one-time code that is not the 8 digits an officer gives.
    #[error(
        "the code must be the {} digits the health officer gave you",
        crate::units::CODE_DIGITS
    )]
    InvalidCode,

    /// A positive report found no key of the infectious window to upload. The code was not used.
    #[error("this phone has no keys from the infectious days (it was not broadcasting then); nothing was uploaded and the code was not used")]
    NoKeysToReport,

    /// The key server answered with an error; `code` is its stable error code (docs/keyserver.md).
    #[error("the key server refused the request ({code}, HTTP {status}): {message}")]
    KeyServerRejected {
        /// The HTTP status.
        status: u16,
        /// The server's error code, e.g. `code_used`.
        code: String,
        /// The server's explanation.
        message: String,
    },

    /// The key server could not be reached, even after retries.
    #[error("cannot reach the key server at {url}: {reason}; check the network and the server address, then try again")]
    KeyServerUnreachable {
        /// The address tried.
        url: String,
        /// What failed.
        reason: String,
    },

    /// The key server answered with something unusable (not JSON, too large).
    #[error("the key server's answer cannot be used: {0}")]
    KeyServerResponse(String),
}

/// Why an advertisement or GATT value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// More bytes than any advertisement can hold.
    #[error("{len} bytes is longer than any BLE advertisement (at most 1650)")]
    TooLong {
        /// The input length.
        len: usize,
    },
    /// An AD structure whose length runs past the end of the input.
    #[error("an AD structure of length {len} runs past the end of the data")]
    Truncated {
        /// The length byte of the structure.
        len: usize,
    },
    /// A zero length byte (end of data) followed by non-zero bytes.
    #[error("non-zero bytes after the zero-length end marker")]
    DataAfterEnd,
    /// A service UUID list whose length is not a multiple of the UUID size.
    #[error("service UUID list of AD type 0x{kind:02X} has a partial UUID")]
    BadUuidList {
        /// The AD type.
        kind: u8,
    },
    /// An AD structure too short for its type (service data without a UUID, a TX power without a value).
    #[error("AD structure of type 0x{kind:02X} is too short for its type")]
    ShortField {
        /// The AD type.
        kind: u8,
    },
    /// The same field twice with different values.
    #[error("{what} appears twice with different values")]
    Duplicate {
        /// Which field.
        what: &'static str,
    },
    /// An OpenZone field of the wrong size.
    #[error("{what} must be {expected} bytes, got {found}")]
    WrongSize {
        /// Which field.
        what: &'static str,
        /// The size the scheme requires.
        expected: usize,
        /// The size received.
        found: usize,
    },
    /// A GATT value that is neither an en-v1 payload (20 bytes) nor a Bluezone ID (12 bytes).
    #[error("a GATT value must be 20 bytes (en-v1) or 12 bytes (bluezone-v3), got {found}")]
    WrongGattValue {
        /// The length received.
        found: usize,
    },
    /// No OpenZone service data, Bluezone data or iPhone marker: another device's advertisement.
    #[error("not an OpenZone or Bluezone advertisement")]
    NotOpenZone,
}

// Check-in and declaration errors are openzone-wire's, whether its formats or the core's photos, scoring
// and profiles raise them: `?` takes them into the core's error as such.
impl From<CheckInError> for Error {
    fn from(e: CheckInError) -> Self {
        Self::Wire(e.into())
    }
}

impl From<DeclarationError> for Error {
    fn from(e: DeclarationError) -> Self {
        Self::Wire(e.into())
    }
}
