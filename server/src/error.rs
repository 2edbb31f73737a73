//! The one error type of the key server, and the one place where errors become HTTP answers.
//!
//! Every answer is `{"error": "<stable code>", "message": "<what to do>"}`. Client errors say exactly what
//! was wrong; internal errors are logged (without keys or codes) and answered with a generic
//! `internal_error`, so that nothing about the server's insides leaks to the caller.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use openzone_wire::keyserver::wire::ErrorBody;
use thiserror::Error;

/// Everything that can go wrong in the key server.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No code like this was ever issued (or it was deleted after 14 days).
    #[error("this code is unknown; check the 8 digits with the health officer")]
    CodeUnknown,
    /// The code has been used for another upload.
    #[error("this code was already used; ask the health officer for a new one")]
    CodeUsed,
    /// The code is older than its 24-hour validity.
    #[error("this code expired; ask the health officer for a new one")]
    CodeExpired,
    /// Too many failed attempts (codes, passwords, tokens) from this address or at this account.
    #[error("too many failed attempts; wait {retry_after_secs} seconds before trying again")]
    RateLimited {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// The upload carries more keys than allowed.
    #[error("{found} keys were sent; at most {max} are accepted")]
    TooManyKeys {
        /// Keys sent.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// The upload carries no key.
    #[error("the upload carries no key")]
    NoKeys,
    /// A key whose validity has not ended (it starts after, or ends later than, the current interval).
    #[error("key {index} is still in the future (it ends at interval {end_interval}, now is {current_interval}); check the phone's clock")]
    KeyInFuture {
        /// Position of the key in the upload.
        index: usize,
        /// The key's end interval.
        end_interval: u32,
        /// The server's current interval.
        current_interval: u32,
    },
    /// A key that ended more than 14 days ago.
    #[error("key {index} ended more than {days} days ago; only keys of the last {days} days are accepted")]
    KeyTooOld {
        /// Position of the key in the upload.
        index: usize,
        /// The retention in days.
        days: u32,
    },
    /// A key that is not a valid en-v1 key (length, hex, period).
    #[error("key {index} is invalid: {reason}")]
    InvalidKey {
        /// Position of the key in the upload.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The same key twice in one upload.
    #[error("key {index} appears twice in the upload")]
    DuplicateKey {
        /// Position of the key in the upload.
        index: usize,
    },
    /// A key that an earlier upload already sent. Nothing was stored and the code was not looked at.
    #[error("key {index} was uploaded before; nothing was stored and the code was not used")]
    KeyAlreadyUploaded {
        /// Position of the key in the upload.
        index: usize,
    },
    /// More encrypted check-ins than an upload may carry.
    #[error("{found} encrypted check-ins were sent; at most {max} are accepted")]
    TooManyCheckIns {
        /// Check-ins in the upload.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// An encrypted check-in that cannot be read.
    #[error("encrypted check-in {index} is invalid: {reason}")]
    InvalidCheckIn {
        /// Its position in the upload.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// An officer's warning for a venue that cannot be issued (the poster, or the time span).
    #[error("the warning cannot be issued: {0}")]
    InvalidWarning(String),
    /// A sealed body that does not open.
    #[error("the upload cannot be opened: {0}")]
    BadSeal(String),
    /// A body that opens but is not the expected JSON, or a malformed admin request.
    #[error("the request is malformed: {0}")]
    Malformed(String),
    /// A code asked for a region this server does not publish exports for.
    #[error("{0}")]
    UnknownRegion(String),
    /// A body larger than allowed.
    #[error("the request body is larger than the {max} bytes accepted")]
    BodyTooLarge {
        /// The limit.
        max: usize,
    },
    /// A body that did not arrive within its deadline.
    #[error("the request body did not arrive within {secs} seconds")]
    BodyTimeout {
        /// The deadline.
        secs: u64,
    },
    /// A missing or wrong session token, or a wrong name or password.
    #[error("sign in with your officer name and password (POST /v1/admin/login), then send Authorization: Bearer <token>")]
    Unauthorized,
    /// The officer has issued as many codes today as their quota allows.
    #[error(
        "you have issued your {quota} codes for today; ask the administrator to raise your quota"
    )]
    QuotaExceeded {
        /// Codes per UTC day.
        quota: u32,
    },
    /// Something that is not there.
    #[error("not found")]
    NotFound,
    /// A venue's inbox took as many entries today as it may.
    #[error("this venue's visitor log took its {max} entries for today; record further visitors on paper")]
    InboxFull {
        /// Entries per venue and UTC day.
        max: usize,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
    /// The export storage (local directory or bucket) failed.
    #[error("export storage: {0}")]
    ObjectStore(String),
    /// A file in the data directory could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A configuration that cannot work.
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// The export storage and the database disagree in a way publication cannot repair without
    /// deleting what it cannot account for; nothing was deleted.
    #[error("the export storage does not match the database: {0}")]
    Publication(String),
    /// Signing, sealing or the random number generator failed (openzone-wire).
    #[error(transparent)]
    Wire(#[from] openzone_wire::Error),
}

impl ServerError {
    /// The stable machine code of this error, as answers carry it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CodeUnknown => "code_unknown",
            Self::CodeUsed => "code_used",
            Self::CodeExpired => "code_expired",
            Self::RateLimited { .. } => "rate_limited",
            Self::TooManyKeys { .. } => "too_many_keys",
            Self::NoKeys => "no_keys",
            Self::KeyInFuture { .. } => "key_in_future",
            Self::KeyTooOld { .. } => "key_too_old",
            Self::InvalidKey { .. } => "invalid_key",
            Self::DuplicateKey { .. } => "duplicate_key",
            Self::KeyAlreadyUploaded { .. } => "key_already_uploaded",
            Self::TooManyCheckIns { .. } => "too_many_checkins",
            Self::InvalidCheckIn { .. } => "invalid_checkin",
            Self::InvalidWarning(_) => "invalid_warning",
            Self::BadSeal(_) => "bad_seal",
            Self::Malformed(_) => "malformed",
            Self::UnknownRegion(_) => "unknown_region",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::BodyTimeout { .. } => "body_timeout",
            Self::Unauthorized => "unauthorized",
            Self::QuotaExceeded { .. } => "quota_exceeded",
            Self::NotFound => "not_found",
            Self::InboxFull { .. } => "inbox_full",
            Self::Database(_)
            | Self::ObjectStore(_)
            | Self::File { .. }
            | Self::Config(_)
            | Self::Publication(_)
            | Self::Wire(_) => "internal_error",
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::CodeUnknown => StatusCode::NOT_FOUND,
            Self::CodeUsed => StatusCode::CONFLICT,
            Self::CodeExpired => StatusCode::GONE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TooManyKeys { .. }
            | Self::NoKeys
            | Self::KeyInFuture { .. }
            | Self::KeyTooOld { .. }
            | Self::InvalidKey { .. }
            | Self::DuplicateKey { .. }
            | Self::TooManyCheckIns { .. }
            | Self::InvalidCheckIn { .. }
            | Self::InvalidWarning(_)
            | Self::BadSeal(_)
            | Self::Malformed(_)
            | Self::UnknownRegion(_) => StatusCode::BAD_REQUEST,
            Self::KeyAlreadyUploaded { .. } => StatusCode::CONFLICT,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::InboxFull { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Database(_)
            | Self::ObjectStore(_)
            | Self::File { .. }
            | Self::Config(_)
            | Self::Publication(_)
            | Self::Wire(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether a wrong code caused it: these count against the rate limit.
    pub fn is_failed_code_attempt(&self) -> bool {
        matches!(self, Self::CodeUnknown | Self::CodeUsed | Self::CodeExpired)
    }
}

impl From<sled::Error> for ServerError {
    fn from(e: sled::Error) -> Self {
        Self::Database(e.to_string())
    }
}

impl From<object_store::Error> for ServerError {
    fn from(e: object_store::Error) -> Self {
        Self::ObjectStore(e.to_string())
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            // The details stay in the log; callers learn only that it was not their fault.
            tracing::error!(error = %self, "request failed");
            "the server failed; try again later".to_owned()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: self.code().to_owned(),
            message,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::RateLimited { retry_after_secs } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"openzone-admin\""),
            );
        }
        if status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body may still be on its way: the connection cannot be reused.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// The key server's result type.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;
