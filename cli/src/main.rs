//! `openzone`: the OpenZone command line.
//!
//! This binary is glue: it parses arguments, calls openzone-core, and prints tables or JSON. Errors become
//! one line on stderr and a non-zero exit here, in one place.

#[cfg(all(feature = "desktop-ble", target_os = "linux"))]
mod ble;
mod checkin;
mod error;
mod evaluate;
mod export;
mod family;
mod ids;
mod keyserver;
mod matching;
mod officer;
mod output;
mod payload;
mod serve;
mod simulate;
mod store;
mod venue;
mod visitorlog;
mod when;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;

/// `openzone --version`: the release and the commit it was built from (`cli/build.rs`), so that a report
/// names the exact source.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("OPENZONE_GIT_COMMIT"),
    ")"
);

/// OpenZone: Bluetooth exposure notification for schools. QA and maintenance tools.
#[derive(Debug, Parser)]
#[command(name = "openzone", version = VERSION, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Declares the subcommands and dispatches them from one table: each row is the variant clap parses (its
/// doc comment is the help line) and the function that runs it.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $(#[cfg($cfg:meta)])?
        $(#[command($command:meta)])?
        $name:ident($args:ty) => $run:path,
    )*) => {
        #[derive(Debug, Subcommand)]
        enum Command {
            $(
                $(#[doc = $doc])*
                $(#[cfg($cfg)])?
                $(#[command($command)])?
                $name($args),
            )*
        }

        fn run(cli: Cli) -> Result<(), CliError> {
            match cli.command {
                $(
                    $(#[cfg($cfg)])?
                    Command::$name(args) => $run(args),
                )*
            }
        }
    };
}

commands! {
    /// Print the rotating identifiers a key generates (compare them with what a real phone sends).
    #[command(subcommand)]
    Ids(ids::IdsCommand) => ids::run,
    /// Decode or encode BLE advertisements and GATT values.
    #[command(subcommand)]
    Payload(payload::PayloadCommand) => payload::run,
    /// Import sightings into an encrypted store, show what it holds, purge it.
    #[command(subcommand)]
    Store(store::StoreCommand) => store::run,
    /// Inspect, build and sign published key exports.
    #[command(subcommand)]
    Export(export::ExportCommand) => export::run,
    /// Check a store against published keys and print the exposure per day.
    Match(matching::MatchArgs) => matching::run,
    /// Simulate a school with the real engine, stores and key server, and see who gets notified.
    Simulate(simulate::SimulateArgs) => simulate::run,
    /// Measure how well each risk configuration tells contacts within 2 m from farther ones on recorded
    /// datasets, through the real store and matching.
    Evaluate(evaluate::EvaluateArgs) => evaluate::run,
    /// Listen on a Bluetooth adapter and show what OpenZone and Bluezone devices around send: scheme,
    /// identifier, RSSI, and the attenuation estimated with the fleet-average calibration (en-v1's TX
    /// power is in its encrypted metadata, which only the sender's key opens).
    #[cfg(all(feature = "desktop-ble", target_os = "linux"))]
    Scan(ble::ScanArgs) => ble::scan,
    /// Advertise a payload from throwaway keys and serve its GATT characteristic, rotating as a phone.
    #[cfg(all(feature = "desktop-ble", target_os = "linux"))]
    Advertise(ble::AdvertiseArgs) => ble::advertise,
    /// Run the whole engine on a Bluetooth adapter: advertise, scan and record into a store, until
    /// Ctrl-C.
    #[cfg(all(feature = "desktop-ble", target_os = "linux"))]
    Run(ble::RunArgs) => ble::run,
    /// Run the key server: sealed uploads with officers' codes, signed exports, the officer page.
    Serve(serve::ServeArgs) => serve::run,
    /// Manage the key server's officer accounts and read its audit log (server stopped).
    #[command(subcommand)]
    Officer(officer::OfficerCommand) => officer::run,
    /// Rotate the key server's upload sealing key (server stopped).
    #[command(subcommand)]
    SealingKey(officer::SealingKeyCommand) => officer::run_sealing_key,
    /// Upload this store's keys of the infectious days with an officer's one-time code.
    ReportPositive(keyserver::ReportArgs) => keyserver::run_report,
    /// Download new exports from a key server, verify and match them, print the exposure per day.
    Sync(keyserver::SyncArgs) => keyserver::run_sync,
    /// Create venues (a gate, a classroom, an event), print their posters, inspect check-in codes.
    #[command(subcommand)]
    Venue(venue::VenueCommand) => venue::run,
    /// Show or set the phone's settings (the phone number shared with visitor logs).
    Settings(family::SettingsArgs) => family::run_settings,
    /// Add, list and remove the people (profiles) on this phone.
    #[command(subcommand)]
    Profile(family::ProfileCommand) => family::run_profile,
    /// Make today's health declaration for a profile.
    Declare(family::DeclareArgs) => family::run_declare,
    /// List the declarations kept (14 days).
    Declarations(family::DeclarationsArgs) => family::run_declarations,
    /// Record a visitor without a smartphone, or a student's card, in a venue's visitor log.
    Gate(visitorlog::GateArgs) => visitorlog::run_gate,
    /// Print a student's card: a QR code of their name and class for the gate.
    Card(visitorlog::CardArgs) => visitorlog::run_card,
    /// Check in at a venue from its poster's link or a photo of it.
    Checkin(checkin::CheckInArgs) => checkin::run_check_in,
    /// Check out of the stays in progress (or of one).
    Checkout(checkin::CheckOutArgs) => checkin::run_check_out,
    /// List the check-ins the store keeps.
    Checkins(checkin::CheckInsArgs) => checkin::run_check_ins,
    /// Warn the phones that were at a venue during a span (an officer's warning, with a one-time code).
    Warn(checkin::WarnArgs) => checkin::run_warn,
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

/// clap's usage errors, folded into one line: the message without the usage block that follows it.
fn usage_error(err: &clap::Error) -> String {
    let text = err.to_string();
    let message: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("openzone: {message} (see --help)")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version: clap prints them as they are.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("{}", usage_error(&err));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`openzone ... | head`): nothing left to say to anyone.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("openzone: {err}");
            ExitCode::FAILURE
        }
    }
}
