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
}
