//! The one error type of openzone-core.
//!
//! Each variant says what was wrong, with the values involved, so that whoever sees it (a QA tester at the
//! command line, a native shell, a log) knows what to fix. Secrets (keys, identifiers of other people)
//! never appear in messages.

use thiserror::Error;

/// Everything that can go wrong in openzone-core.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A scheme name that is neither `en-v1` nor `bluezone-v3`.
    #[error("unknown identifier scheme {0:?}: use \"en-v1\" or \"bluezone-v3\"")]
    UnknownScheme(String),

    /// Text that should have been hexadecimal was not.
    #[error("{what} is not valid hex: {reason}")]
    InvalidHex {
        /// What was being parsed.
        what: &'static str,
        /// What the hex decoder found wrong.
        reason: String,
    },

    /// A byte string of the wrong length.
    #[error("{what} must be {expected} bytes, got {found}")]
    WrongLength {
        /// What was being parsed.
        what: &'static str,
        /// The required length in bytes.
        expected: usize,
        /// The length that was given.
        found: usize,
    },

    /// Key parameters outside what the scheme allows (an interval, a period, a slot count).
    #[error("invalid key: {0}")]
    InvalidKey(String),

    /// The operating system's random number generator failed; nothing was generated.
    #[error("the system random number generator failed; try again, and report it if it persists")]
    Random,

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

    /// Something phones and the key server exchange could not be read or written.
    #[error(transparent)]
    Wire(#[from] openzone_wire::Error),

    /// A published export or key list that cannot be read (not a zip, damaged, too large).
    #[error("the published keys cannot be read: {0}")]
    Export(String),

    /// A signature that is missing, unknown or does not verify: the data is not trusted.
    #[error("signature check failed: {0}")]
    Signature(String),

    /// A public or private key that cannot be used.
    #[error("invalid key file: {0}")]
    InvalidPublicKey(String),

    /// A file that could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// A configuration value outside what is allowed.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

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

    /// A sealed upload that cannot be made or opened (too large, truncated, altered, another key).
    #[error("sealed upload: {0}")]
    SealedUpload(String),

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

    /// A venue, check-in code, encrypted check-in or warning package that cannot be used.
    #[error("{0}")]
    CheckIn(#[from] CheckInError),

    /// A declaration form, answers, a profile or a setting that cannot be used.
    #[error("{0}")]
    Declaration(#[from] DeclarationError),

    /// A visitor-log entry that cannot be sealed or opened (altered, another venue's, damaged), or an
    /// HPKE key that cannot be used.
    #[error("visitor log: {0}")]
    VisitorLog(String),
}

/// One field of a declaration that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The question id (or profile field).
    pub field: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Why a declaration form, a declaration, a profile or a setting was refused. Nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DeclarationError {
    /// A form that breaks the format's rules (or is not JSON): the health authority must fix it.
    #[error("the declaration form cannot be used: {0}")]
    InvalidSchema(String),
    /// Answers that are not a JSON object of answers, or too large.
    #[error("the answers cannot be read ({0}); give a JSON object of question ids to answers")]
    Answers(String),
    /// Answers that break the form's rules, one error per field.
    #[error("the declaration was not saved; fix: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidAnswers(Vec<FieldError>),
    /// No profile of this name on this phone.
    #[error("there is no profile named {name:?} on this phone; add it first (profiles: {known})")]
    UnknownProfile {
        /// The name given.
        name: String,
        /// The profiles there are, comma-separated.
        known: String,
    },
    /// A profile of this name exists already.
    #[error("a profile named {name:?} exists already; choose another name or remove it first")]
    ProfileExists {
        /// The name given.
        name: String,
    },
    /// A profile or setting value outside what is allowed.
    #[error("{0}")]
    InvalidValue(FieldError),
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

/// Why a venue, a check-in QR code, an encrypted check-in or a warning package was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CheckInError {
    /// Text that is not a check-in link of OpenZone or Corona-Warn-App (another app's QR code, a web page).
    #[error("this is not an OpenZone or Corona-Warn-App check-in code (it starts {found:?}); scan the venue's poster")]
    NotACheckInCode {
        /// The start of what was given, at most 40 characters.
        found: String,
    },
    /// A check-in code of a version this app does not read.
    #[error("the check-in code has version {version}, this app reads version 1; update the app")]
    UnsupportedVersion {
        /// The version found (from the link or the payload).
        version: String,
    },
    /// A payload larger than any real poster holds.
    #[error("the check-in code holds {len} bytes, at most {max} are accepted; it is not a venue's poster")]
    PayloadTooLarge {
        /// Bytes found (or, before decoding, the least it would hold).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A payload that is not a well-formed venue (bad base64, bad protobuf, truncated).
    #[error("the check-in code is damaged ({0}); scan the poster again")]
    Malformed(String),
    /// A venue that breaks a rule for creating venues or checking in.
    #[error("venue {field}: {reason}")]
    InvalidVenue {
        /// The field at fault.
        field: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// An event that has not begun yet.
    #[error("this event starts at unix time {start}; check in when it has begun")]
    EventNotStarted {
        /// The event's start, UTC unix seconds.
        start: u64,
    },
    /// An event that is over.
    #[error("this event ended at unix time {end}; it no longer takes check-ins")]
    EventEnded {
        /// The event's end, UTC unix seconds.
        end: u64,
    },
    /// An image that cannot be read, or holds no check-in QR code.
    #[error("{0}")]
    Image(String),
    /// An encrypted check-in that does not open with the venue's location id (altered, or another venue's).
    #[error("the encrypted check-in does not open: {0}")]
    Report(String),
    /// A published warning package that cannot be read (not a zip, damaged, too large).
    #[error("the warning package cannot be read: {0}")]
    WarningPackage(String),
    /// A check-in, check-out or edit at a time after now.
    #[error("unix time {at} is in the future (now is {now}); a check-in records where you were, not where you will be")]
    InTheFuture {
        /// The time given, UTC unix seconds.
        at: u64,
        /// Now, UTC unix seconds.
        now: u64,
    },
    /// A check-in or edit older than the days the phone keeps.
    #[error("unix time {at} is more than {days} days ago; check-ins are kept {days} days, so it would be deleted at once")]
    TooOld {
        /// The time given, UTC unix seconds.
        at: u64,
        /// The days kept.
        days: u32,
    },
    /// A stay whose times do not make sense.
    #[error("a stay from unix time {arrival} to {departure} {reason}")]
    BadStay {
        /// Arrival, UTC unix seconds.
        arrival: u64,
        /// Departure, UTC unix seconds.
        departure: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// No check-in has this id.
    #[error("there is no check-in {id} (it was never made, or is older than the days the phone keeps); list the check-ins to see their ids")]
    NoSuchCheckIn {
        /// The id asked for.
        id: u64,
    },
    /// A check-out with no stay in progress.
    #[error("no stay is in progress at unix time {at}; nothing to check out of")]
    NotCheckedIn {
        /// The time of the check-out, UTC unix seconds.
        at: u64,
    },
}
