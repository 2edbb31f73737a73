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
}
