//! `openzone`: the OpenZone command line.
//!
//! This binary is glue: it parses arguments, calls openzone-core, and prints tables or JSON. Errors become
//! one line on stderr and a non-zero exit here, in one place.

mod error;
mod ids;
mod output;
mod payload;
mod store;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;

/// OpenZone: Bluetooth exposure notification for schools. QA and maintenance tools.
#[derive(Debug, Parser)]
#[command(name = "openzone", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the rotating identifiers a key generates (compare them with what a real phone sends).
    #[command(subcommand)]
    Ids(ids::IdsCommand),
    /// Decode or encode BLE advertisements and GATT values.
    #[command(subcommand)]
    Payload(payload::PayloadCommand),
    /// Import sightings into an encrypted store, show what it holds, purge it.
    #[command(subcommand)]
    Store(store::StoreCommand),
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Ids(cmd) => ids::run(cmd),
        Command::Payload(cmd) => payload::run(cmd),
        Command::Store(cmd) => store::run(cmd),
    }
}

/// The current time, UTC unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    use openzone_core::time::Clock;
    openzone_core::time::SystemClock.now_ms()
}

/// `YYYY-MM-DD` of a UTC day number.
pub(crate) fn date_of_day(day: u32) -> String {
    openzone_core::time::format_day(day)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("openzone: {err}");
            ExitCode::FAILURE
        }
    }
}
