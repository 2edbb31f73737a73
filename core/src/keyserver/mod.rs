//! The phone's side of the key server: sealed positive reports and downloads of published exports.
//!
//! - [`seal`]: the sealed upload format, shared with the server (`openzone-server`).
//! - [`wire`]: the JSON both sides exchange.
//! - [`client`]: the HTTP client (timeouts, retries with back-off, size caps).
//! - [`report`]: [`report_positive`]: end the key in use, upload the infectious window's keys.
//! - [`sync`](mod@sync): [`sync()`]: download new exports, verify, match, remember what was done.
//!
//! `docs/keyserver.md` describes the protocol.

pub mod client;
pub mod report;
pub mod seal;
pub mod sync;
pub mod wire;

pub use client::{ClientConfig, KeyServerClient};
pub use report::{prepare_report, report_positive, PreparedReport, ReportOutcome};
pub use sync::{sync, SyncOptions, SyncReport};
