//! The command line's error type: every failure the user sees, as one line.

use std::path::PathBuf;

use thiserror::Error;

/// What can stop an `openzone` command.
#[derive(Debug, Error)]
pub enum CliError {
    /// The core refused the input or failed.
    #[error(transparent)]
    Core(#[from] openzone_core::Error),

    /// What phones and the key server share refused the input or failed: a date, a key, a signed
    /// export or document, a sealed upload, a check-in (openzone-wire).
    #[error(transparent)]
    Wire(#[from] openzone_core::wire::Error),

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// Bluetooth cannot be used: no system bus, no BlueZ, no adapter, or BlueZ refused (the message
    /// names what is missing and what to do).
    #[cfg(all(feature = "desktop-ble", target_os = "linux"))]
    #[error("{0}")]
    Bluetooth(String),

    /// Arguments that parse but do not fit together.
    #[error("{0}")]
    Usage(String),

    /// The key server failed to start or stopped with an error.
    #[error(transparent)]
    Server(#[from] openzone_server::ServerError),

    /// A poster could not be made.
    #[error(transparent)]
    Poster(#[from] openzone_poster::PosterError),

    /// An evaluation could not read its datasets or write its report.
    #[error(transparent)]
    Eval(#[from] openzone_eval::EvalError),

    /// Writing output failed (a closed pipe, a full disk).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}
