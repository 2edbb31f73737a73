//! openzone-eval: how well risk configurations tell close contacts (within 2 m) from farther ones, measured
//! on real phone-to-phone recordings whose distances or contact labels are known.
//!
//! The recordings ([`datasets`]) become 15-minute contacts ([`contacts`]): the phone scans on the engine's
//! background schedule and each scan hears what the recording holds. Each contact is replayed through the
//! real core ([`replay`]): its sightings go into a real sled store, the sender's key into a signed export,
//! and the export is matched against the store as a phone does. Every candidate configuration
//! ([`candidates`]) then scores the matched exposures with `risk::score`, and [`metrics`] turns the scores
//! into ROC AUC and precision, recall and F1 at each configuration's own threshold, with bootstrap
//! intervals over independent pairs. [`evaluate`] runs it all, including the leave-one-dataset-out choice of
//! the default; [`report`] prints tables and draws ROC curves.
//!
//! The same harness evaluates the simulation's radio model ([`datasets::simulated`]), so that the
//! simulation can be calibrated against what real phones show.

#![forbid(unsafe_code)]

pub mod candidates;
pub mod contacts;
pub mod datasets;
pub mod evaluate;
pub mod metrics;
pub mod replay;
pub mod report;

use std::path::PathBuf;

/// What can stop an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A data file is missing, unreadable or not in the expected layout.
    #[error("{path}: {message}")]
    Data {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// No contact could be drawn from a dataset: its recordings hold no labelled reading, or no contacts
    /// per segment were asked for.
    #[error("dataset {dataset} yields no contact to evaluate")]
    NoContacts {
        /// The dataset's name.
        dataset: String,
    },
    /// The core refused or failed (store, export, matching).
    #[error(transparent)]
    Core(#[from] openzone_core::Error),
    /// What phones and the key server share refused the input or failed (openzone-wire).
    #[error(transparent)]
    Wire(#[from] openzone_core::wire::Error),
    /// The simulation's radio parameters are invalid.
    #[error(transparent)]
    Sim(#[from] openzone_sim::SimError),
    /// Writing the report failed.
    #[error("cannot write {path}: {message}")]
    Output {
        /// The file that could not be written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl EvalError {
    pub(crate) fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Data {
            path: path.into(),
            message: message.into(),
        }
    }
}
