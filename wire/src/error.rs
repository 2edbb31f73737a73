//! The one error type of openzone-wire.
//!
//! Each variant says what was wrong, with the values involved, so that whoever sees it (a QA tester, a
//! native shell, the key server's log) knows what to fix. Secrets never appear in messages.

use thiserror::Error;

/// Everything that can go wrong reading or writing what phones and the key server exchange.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A date that is not a real `YYYY-MM-DD` date from 1970 on.
    #[error("{0:?} is not a date; write it as YYYY-MM-DD")]
    InvalidDate(String),

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

    /// A sealed upload that cannot be made or opened (too large, truncated, altered, another key).
    #[error("sealed upload: {0}")]
    SealedUpload(String),

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
