//! `openzone report-positive` and `openzone sync`: the phone's two key-server flows on a store.

use std::path::PathBuf;

use clap::Args;
use openzone_core::export::signing::VerificationKey;
use openzone_core::keyserver::seal::SealingPublicKey;
use openzone_core::phone::{ClientConfig, KeyServerClient, PositiveReport, UserConsent};
use openzone_core::time::parse_day;
use openzone_core::units;
use serde::Serialize;

use crate::checkin::PresenceJson;
use crate::error::CliError;
use crate::export::read;
use crate::matching::{print_days, DayJson};
use crate::output::print_json;
use crate::store::StoreArgs;

/// Arguments of `openzone report-positive`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The key server's address, e.g. https://keys.example.vn/.
    #[arg(long, value_name = "URL")]
    server: String,
    /// The 8-digit one-time code the health officer gave.
    #[arg(long, value_name = "CODE")]
    code: String,
    /// The day symptoms started (UTC), if there were symptoms.
    #[arg(long, value_name = "YYYY-MM-DD")]
    onset: Option<String>,
    /// The day of the test, when there were no symptoms (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    test_date: Option<String>,
    /// The server's upload sealing key to seal to (base64, as `openzone sealing-key rotate` prints it);
    /// give it twice during a rotation, the next key first. Without it, the key the server's
    /// /v1/config announces is used.
    #[arg(long, value_name = "BASE64")]
    sealing_key: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The key server's address.
    #[arg(long, value_name = "URL")]
    server: String,
    /// The export-signing public key to trust (PEM). Without it, the keys the server's /v1/config
    /// announces are trusted, which the output says.
    #[arg(long, value_name = "PEM")]
    public_key: Option<PathBuf>,
    /// The key id exports name the --public-key by.
    #[arg(long, value_name = "ID", default_value = "452")]
    key_id: String,
    /// The key version exports name the --public-key by.
    #[arg(long, value_name = "V", default_value = "v1")]
    key_version: String,
    /// A named risk configuration (see `docs/radio.md`; default: the core's default) or a JSON file.
    #[arg(long, value_name = "NAME|FILE", default_value_t = openzone_core::risk::RiskConfig::default().name)]
    risk_config: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// A runtime for one command's requests.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    built(tokio::runtime::Builder::new_current_thread())
}

/// The runtime `builder` makes, with I/O and timers.
pub(crate) fn built(
    mut builder: tokio::runtime::Builder,
) -> Result<tokio::runtime::Runtime, CliError> {
    builder.enable_all().build().map_err(|source| CliError::Io {
        path: PathBuf::from("<tokio runtime>"),
        source,
    })
}

#[derive(Debug, Serialize)]
struct ReportJson {
    keys_uploaded: usize,
    checkins_uploaded: usize,
    repeated: bool,
    first_day: String,
    last_day: String,
    next_key_start_interval: Option<u32>,
}

/// Runs `openzone report-positive`.
pub fn run_report(args: ReportArgs) -> Result<(), CliError> {
    let report = PositiveReport {
        code: args.code.clone(),
        onset_day: args.onset.as_deref().map(parse_day).transpose()?,
        test_day: args.test_date.as_deref().map(parse_day).transpose()?,
        // Running this command is the user's consent to publish the keys of their infectious days.
        consent: UserConsent::given(),
    };
    let mut config = ClientConfig::new(&args.server);
    config.pinned_sealing_keys = args
        .sealing_key
        .iter()
        .map(|k| SealingPublicKey::from_base64(k))
        .collect::<Result<_, _>>()?;
    let client = KeyServerClient::new(config)?;
    let phone = args.store.phone(|c| c.key_server = Some(client))?;
    let outcome = runtime()?.block_on(phone.report_positive(report))?;
    phone.checkpoint()?;
    let out = ReportJson {
        keys_uploaded: outcome.keys_uploaded,
        checkins_uploaded: outcome.checkins_uploaded,
        repeated: outcome.response.repeated,
        first_day: crate::date_of_day(outcome.window.first_day),
        last_day: crate::date_of_day(outcome.window.last_day),
        next_key_start_interval: outcome.window.next_key_start_interval,
    };
    if args.json {
        return print_json(&out);
    }
    if out.repeated {
        println!("these keys had been uploaded with this code already; nothing changed");
    } else {
        println!(
            "uploaded {} keys of {} to {}; they are published after they expire",
            out.keys_uploaded, out.first_day, out.last_day
        );
        println!(
            "uploaded {} encrypted check-ins of those days (with fakes, so that the count does not show)",
            out.checkins_uploaded
        );
    }
    if let Some(interval) = out.next_key_start_interval {
        let secs = units::interval_start_ms(interval) / 1000;
        let of_day = secs % units::SECS_PER_DAY;
        println!(
            "this phone now uses a fresh key from {} {:02}:{:02} UTC",
            crate::date_of_day(units::day_of_secs(secs)),
            of_day / 3_600,
            of_day % 3_600 / 60
        );
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct SyncJson<'a> {
    exports_listed: usize,
    exports_checked: usize,
    exports_already_checked: usize,
    exports_rejected: Vec<(String, String)>,
    exports_failed: Vec<(String, String)>,
    keys_processed: u64,
    keys_matched: u64,
    bytes_downloaded: u64,
    trusted_server_keys: bool,
    days: Vec<DayJson>,
    newly_at_risk: Vec<String>,
    warning_packages_checked: usize,
    checkins_matched: u64,
    /// Every presence warning found so far.
    presence_warnings: Vec<PresenceJson<'a>>,
    /// The presence warnings found in this sync (the user is told of each once).
    new_presence_warnings: Vec<PresenceJson<'a>>,
    /// Regions chosen (`openzone settings --region`) that the server publishes nothing for.
    regions_not_published: Vec<String>,
}

/// Runs `openzone sync`.
pub fn run_sync(args: SyncArgs) -> Result<(), CliError> {
    let risk = crate::matching::risk_config(&args.risk_config)?;
    let export_keys = match &args.public_key {
        Some(path) => {
            let pem = String::from_utf8_lossy(&read(path)?).into_owned();
            vec![VerificationKey::from_pem(
                &args.key_id,
                &args.key_version,
                &pem,
            )?]
        }
        None => Vec::new(),
    };
    let client = KeyServerClient::new(ClientConfig::new(&args.server))?;
    let phone = args.store.phone(|c| {
        c.risk = risk;
        c.export_keys = export_keys;
        c.trust_announced_export_keys = args.public_key.is_none();
        c.key_server = Some(client);
    })?;
    let report = runtime()?.block_on(phone.sync())?;
    let warnings = phone.presence_warnings()?;
    let out = SyncJson {
        warning_packages_checked: report.warning_packages_checked,
        checkins_matched: report.checkins_matched,
        presence_warnings: warnings.iter().map(PresenceJson::from).collect(),
        new_presence_warnings: report
            .new_presence_warnings
            .iter()
            .map(PresenceJson::from)
            .collect(),
        regions_not_published: report.regions_not_published.clone(),
        exports_listed: report.exports_listed,
        exports_checked: report.exports_checked,
        exports_already_checked: report.exports_already_checked,
        exports_rejected: report.exports_rejected.clone(),
        exports_failed: report.exports_failed.clone(),
        keys_processed: report.keys_processed,
        keys_matched: report.keys_matched,
        bytes_downloaded: report.bytes_downloaded,
        trusted_server_keys: report.trusted_server_keys,
        days: report.days.iter().map(DayJson::from).collect(),
        newly_at_risk: report
            .newly_at_risk
            .iter()
            .map(|&d| crate::date_of_day(d))
            .collect(),
    };
    if args.json {
        return print_json(&out);
    }
    if out.trusted_server_keys {
        println!(
            "note: trusting the export-signing keys the server announces (give --public-key to pin one)"
        );
    }
    println!(
        "{} exports listed, {} new checked, {} checked before; {} keys checked, {} matched; {} bytes downloaded",
        out.exports_listed,
        out.exports_checked,
        out.exports_already_checked,
        out.keys_processed,
        out.keys_matched,
        out.bytes_downloaded
    );
    if !out.regions_not_published.is_empty() {
        println!(
            "note: the key server publishes no exports for region(s) {}; check `openzone settings --region`",
            out.regions_not_published.join(", ")
        );
    }
    for (name, reason) in &out.exports_rejected {
        println!("  rejected {name}: {reason}");
    }
    for (name, reason) in &out.exports_failed {
        println!("  not downloaded {name} (tried again next time): {reason}");
    }
    for w in &warnings {
        let new = report
            .new_presence_warnings
            .iter()
            .any(|n| (n.check_in_id, n.day) == (w.check_in_id, w.day));
        println!(
            "{}: at {} ({}) from {} to {} (unix seconds), {} minutes with a confirmed case{}{}",
            crate::date_of_day(w.day),
            w.description,
            w.address,
            w.start,
            w.end,
            w.minutes,
            if w.at_risk { ", at risk" } else { "" },
            if new { " (new)" } else { "" }
        );
    }
    print_days(&out.days)
}
