//! `openzone payload`: decode and encode advertisements and GATT values.

use clap::Subcommand;

use crate::error::CliError;

/// `openzone payload <decode|encode>`.
#[derive(Debug, Subcommand)]
pub enum PayloadCommand {}

/// Runs `openzone payload`.
pub fn run(cmd: PayloadCommand) -> Result<(), CliError> {
    match cmd {}
}
