//! `openzone checkin`, `checkout`, `checkins` and `warn`: presence tracing on a store, through `Phone`,
//! and an officer's warning for a venue. Glue only: the rules live in `openzone_core::phone` and
//! `openzone_core::checkin`.

use std::path::{Path, PathBuf};

use clap::Args;
use openzone_core::checkin::image::venue_from_image;
use openzone_core::checkin::CheckInLinks;
use openzone_core::keyserver::wire::VenueWarning;
use openzone_core::phone::{
    CheckInEntry, CheckInSource, ClientConfig, KeyServerClient, PresenceWarning,
};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{cells, print_json, print_json_or_line, Table};
use crate::store::StoreArgs;
use crate::when::parse_time;

/// Arguments of `openzone checkin`.
#[derive(Debug, Args)]
pub struct CheckInArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The check-in link of the poster's QR code (openzone://checkin?v=1#... or a Corona-Warn-App
    /// link).
    #[arg(
        value_name = "URL",
        required_unless_present = "image",
        conflicts_with = "image"
    )]
    url: Option<String>,
    /// A photo of the poster (PNG or JPEG) instead of the link.
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// When you arrived: RFC 3339 or unix seconds (default: now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// How long you stay, 15 to 1440 minutes (default: the venue's stay).
    #[arg(long, value_name = "M")]
    minutes: Option<u32>,
    /// The base of this school's own check-in links, besides Corona-Warn-App's.
    #[arg(long, value_name = "URL", default_value = openzone_core::checkin::link::DEFAULT_BASE)]
    base_url: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone checkout`.
#[derive(Debug, Args)]
pub struct CheckOutArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// When you left: RFC 3339 or unix seconds (default: now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Check out of this check-in only (its id, from `openzone checkins`); default: every stay in
    /// progress.
    #[arg(long, value_name = "ID")]
    id: Option<u64>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone checkins`.
#[derive(Debug, Args)]
pub struct CheckInsArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON instead of a table: a list of check-ins.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone warn`.
#[derive(Debug, Args)]
pub struct WarnArgs {
    /// The venue: its check-in link, or a photo of its poster.
    #[arg(long, value_name = "URL|IMAGE")]
    venue: String,
    /// Start of the span the case was there: RFC 3339 or unix seconds.
    #[arg(long, value_name = "TIME")]
    from: String,
    /// End of the span: RFC 3339 or unix seconds.
    #[arg(long, value_name = "TIME")]
    to: String,
    /// The key server's address.
    #[arg(long, value_name = "URL")]
    server: String,
    /// A one-time code an officer issued on the officer page or through the API; the warning uses it.
    #[arg(long, value_name = "CODE")]
    code: String,
    /// The base of this school's own check-in links, for reading a photo.
    #[arg(long, value_name = "URL", default_value = openzone_core::checkin::link::DEFAULT_BASE)]
    base_url: String,
}

fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn time(text: Option<&str>) -> Result<Option<u64>, CliError> {
    text.map(parse_time).transpose()
}

/// Runs `openzone checkin`.
pub fn run_check_in(args: CheckInArgs) -> Result<(), CliError> {
    let links = CheckInLinks::new(&args.base_url)?;
    let phone = args.store.phone(|c| c.check_in_links = links)?;
    let image = args.image.as_deref().map(read_file).transpose()?;
    let source = match (&image, &args.url) {
        (Some(bytes), _) => CheckInSource::Image(bytes),
        (None, Some(url)) => CheckInSource::Link(url),
        (None, None) => return Err(CliError::Usage("give the poster's URL or --image".into())),
    };
    let entry = phone.check_in(source, time(args.at.as_deref())?, args.minutes)?;
    phone.checkpoint()?;
    print_json_or_line(
        args.json,
        &entry,
        format_args!(
            "checked in at {} ({}) from {} to {} (unix seconds); id {}",
            entry.description, entry.address, entry.arrival, entry.departure, entry.id
        ),
    )
}

/// Runs `openzone checkout`.
pub fn run_check_out(args: CheckOutArgs) -> Result<(), CliError> {
    let phone = args.store.phone(|_| {})?;
    let entries = phone.check_out(args.id, time(args.at.as_deref())?)?;
    phone.checkpoint()?;
    if args.json {
        return print_json(&entries);
    }
    for e in &entries {
        println!("checked out of {} at {}", e.description, e.departure);
    }
    Ok(())
}

/// Runs `openzone checkins`.
pub fn run_check_ins(args: CheckInsArgs) -> Result<(), CliError> {
    let phone = args.store.phone(|_| {})?;
    let entries: Vec<CheckInEntry> = phone.check_ins()?;
    if args.json {
        return print_json(&entries);
    }
    let mut table = Table::new([
        "id",
        "description",
        "address",
        "arrival",
        "departure",
        "state",
    ]);
    for e in &entries {
        let state = if e.active {
            "in progress"
        } else if e.checked_out {
            "checked out"
        } else {
            "ended as planned"
        };
        table.row(cells![
            e.id,
            e.description,
            e.address,
            e.arrival,
            e.departure,
            state,
        ]);
    }
    table.print()
}

/// Runs `openzone warn`.
pub fn run_warn(args: WarnArgs) -> Result<(), CliError> {
    let path = Path::new(&args.venue);
    let venue = if path.is_file() {
        let links = CheckInLinks::new(&args.base_url)?;
        // The link is written again from the photo's payload, byte for byte: the same location id.
        links.link(&venue_from_image(&read_file(path)?, &links)?)
    } else {
        args.venue.clone()
    };
    let warning = VenueWarning {
        venue,
        from: parse_time(&args.from)?,
        to: parse_time(&args.to)?,
        code: Some(args.code.trim().to_owned()),
    };
    let client = KeyServerClient::new(ClientConfig::new(&args.server))?;
    crate::keyserver::runtime()?.block_on(client.warn_venue(&warning))?;
    println!(
        "warning accepted for {} to {} (unix seconds); phones that checked in then are told after the next publication",
        warning.from, warning.to
    );
    Ok(())
}

/// A presence warning as `sync --json` prints it.
#[derive(Debug, Serialize)]
pub struct PresenceJson<'a> {
    check_in_id: u64,
    description: &'a str,
    address: &'a str,
    day: String,
    start: u64,
    end: u64,
    minutes: u64,
    at_risk: bool,
}

impl<'a> From<&'a PresenceWarning> for PresenceJson<'a> {
    fn from(w: &'a PresenceWarning) -> Self {
        Self {
            check_in_id: w.check_in_id,
            description: &w.description,
            address: &w.address,
            day: crate::date_of_day(w.day),
            start: w.start,
            end: w.end,
            minutes: w.minutes,
            at_risk: w.at_risk,
        }
    }
}
