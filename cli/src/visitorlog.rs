//! `openzone venue log`, `openzone gate` and `openzone card`: a school's visitor log at its gate.
//!
//! - `venue log DIR --server URL`: the day's entries of the venue in `DIR`, opened with its
//!   `visitor-log.key`; entries that do not open or parse (anyone who saw the poster can post) are
//!   skipped and counted on stderr.
//! - `gate`: the guard's device records a visitor without a smartphone, or scans a student's card,
//!   into the same sealed log, holding only the venue's public poster.
//! - `card`: a student's printed card with a QR code of their name and class.

use std::io::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use clap::Args;
use openzone_core::checkin::image::qr_texts;
use openzone_core::checkin::link::DEFAULT_BASE;
use openzone_core::checkin::venue::VisitorLogSecret;
use openzone_core::checkin::CheckInLinks;
use openzone_core::declaration::Answer;
use openzone_core::phone::{ClientConfig, KeyServerClient};
use openzone_core::time::{civil_from_days, parse_day};
use openzone_core::units::{MS_PER_DAY, SECS_PER_DAY};
use openzone_core::visitorlog::{
    DeclarationStatus, Direction, EntryKind, StudentCard, VisitorEntry,
};
use openzone_poster::{card, render, Format};
use ring::rand::SystemRandom;
use serde::Serialize;

use crate::error::CliError;
use crate::keyserver::runtime;
use crate::output::{print_json, print_json_or_line, Table};
use crate::venue::{io_error, read_venue_dir, venue_from, SECRET_FILE};

/// Vietnam's offset from UTC, minutes: the school's calendar day (the built-in declaration form's zone).
const DEFAULT_UTC_OFFSET_MINUTES: i32 = 420;

/// A card's PNG width: 54 mm at 300 dpi.
const CARD_PNG_WIDTH: u32 = 638;

/// Arguments of `openzone venue log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The venue directory (from `venue create --visitor-log`), holding its secret key.
    dir: PathBuf,
    /// The key server holding the venue's inbox.
    #[arg(long, value_name = "URL")]
    server: String,
    /// The day to show, in the school's time zone (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    day: Option<String>,
    /// The school's offset from UTC, minutes (Vietnam: 420).
    #[arg(long, default_value_t = DEFAULT_UTC_OFFSET_MINUTES, allow_hyphen_values = true)]
    utc_offset_minutes: i32,
    /// Print a JSON list.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV.
    #[arg(long)]
    csv: bool,
}

/// Arguments of `openzone gate`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["name", "card"])))]
pub struct GateArgs {
    /// The venue's check-in link, or a photo of its poster.
    #[arg(long, value_name = "URL|IMAGE")]
    venue: String,
    /// The key server holding the venue's inbox.
    #[arg(long, value_name = "URL")]
    server: String,
    /// The visitor's name.
    #[arg(long, requires = "phone")]
    name: Option<String>,
    /// The visitor's phone number.
    #[arg(long, requires = "name")]
    phone: Option<String>,
    /// The visitor answered yes to a symptom or exposure question asked aloud.
    #[arg(long, requires = "name")]
    symptoms: bool,
    /// Why the visitor came.
    #[arg(long, requires = "name")]
    purpose: Option<String>,
    /// A photo of a student's card (instead of --name and --phone).
    #[arg(long, value_name = "IMAGE")]
    card: Option<PathBuf>,
    /// The person is leaving (default: entering).
    #[arg(long)]
    exit: bool,
    /// Also accept venue links with this base.
    #[arg(long, default_value = DEFAULT_BASE)]
    base_url: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone card`.
#[derive(Debug, Args)]
pub struct CardArgs {
    /// The student's name.
    #[arg(long)]
    name: String,
    /// The class.
    #[arg(long)]
    class: String,
    /// The card file: .png or .svg.
    #[arg(long)]
    out: PathBuf,
}

/// One entry as `venue log` prints it.
#[derive(Debug, Serialize)]
struct EntryJson {
    name: String,
    time: String,
    declaration: &'static str,
    phone: Option<String>,
    class: Option<String>,
    kind: EntryKind,
    direction: Direction,
    purpose: Option<String>,
    answers: std::collections::BTreeMap<String, Answer>,
}

/// One entry as CSV.
#[derive(Debug, Serialize)]
struct EntryCsv<'a> {
    time: &'a str,
    name: &'a str,
    class: &'a str,
    phone: &'a str,
    declaration: &'a str,
    kind: &'a str,
    direction: &'a str,
    purpose: &'a str,
}

fn client(server: &str) -> Result<KeyServerClient, CliError> {
    Ok(KeyServerClient::new(ClientConfig::new(server))?)
}

/// `YYYY-MM-DDTHH:MM:SS+HH:MM` of UTC unix seconds in the zone `offset_minutes` east of UTC.
fn local_time(secs: u64, offset_minutes: i32) -> String {
    let local = i64::try_from(secs).unwrap_or(i64::MAX) + i64::from(offset_minutes) * 60;
    let local = local.max(0);
    let day = u32::try_from(local / SECS_PER_DAY as i64).unwrap_or(u32::MAX);
    let (y, m, d) = civil_from_days(day);
    let in_day = local % SECS_PER_DAY as i64;
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        off / 60,
        off % 60
    )
}

/// The UTC window `[since, until)` in ms of a calendar day in the zone `offset_minutes` east of UTC.
fn day_window(day: u32, offset_minutes: i32) -> (u64, u64) {
    let start = i128::from(day) * i128::from(MS_PER_DAY) - i128::from(offset_minutes) * 60_000;
    let since = u64::try_from(start.max(0)).unwrap_or(0);
    (since, since + MS_PER_DAY)
}

/// Runs `openzone venue log`.
pub fn run_log(args: LogArgs) -> Result<(), CliError> {
    if !(-720..=840).contains(&args.utc_offset_minutes) {
        return Err(CliError::Usage(
            "--utc-offset-minutes must be from -720 to 840".into(),
        ));
    }
    let (venue, _) = read_venue_dir(&args.dir)?;
    let secret_path = args.dir.join(SECRET_FILE);
    let text = std::fs::read_to_string(&secret_path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            CliError::Usage(format!(
                "{} holds no {SECRET_FILE}: this venue was made without --visitor-log, or its secret is kept elsewhere",
                args.dir.display()
            ))
        } else {
            io_error(&secret_path)(source)
        }
    })?;
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "{} is not a visitor-log key (64 hex characters)",
                secret_path.display()
            ))
        })?;
    let secret = VisitorLogSecret::from_bytes(bytes);
    let offset = args.utc_offset_minutes;
    let day = match &args.day {
        Some(day) => parse_day(day)?,
        None => {
            let local_ms = i128::from(crate::now_ms()) + i128::from(offset) * 60_000;
            u32::try_from(local_ms.max(0) / i128::from(MS_PER_DAY)).unwrap_or(u32::MAX)
        }
    };
    let (since, until) = day_window(day, offset);
    let hash = venue.location_id().hash();
    let inbox = runtime()?.block_on(client(&args.server)?.visitor_entries(&hash, since, until))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut skipped = 0usize;
    let mut entries: Vec<EntryJson> = Vec::new();
    for item in inbox.entries {
        let opened = b64
            .decode(&item.entry)
            .ok()
            .and_then(|bytes| VisitorEntry::open(&bytes, &secret, &hash).ok());
        let Some(e) = opened else {
            skipped += 1;
            continue;
        };
        entries.push(EntryJson {
            name: e.name,
            time: local_time(e.time, offset),
            declaration: e.declaration.as_str(),
            phone: e.phone,
            class: e.class,
            kind: e.kind,
            direction: e.direction,
            purpose: e.purpose,
            answers: e.answers,
        });
    }
    entries.sort_by(|a, b| a.time.cmp(&b.time));
    if skipped > 0 {
        eprintln!(
            "skipped {skipped} entries that do not open with this venue's key or are not entries (anyone who saw the poster can post)"
        );
    }
    if args.json {
        return print_json(&entries);
    }
    if args.csv {
        let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
        for e in &entries {
            writer
                .serialize(EntryCsv {
                    time: &e.time,
                    name: &e.name,
                    class: e.class.as_deref().unwrap_or(""),
                    phone: e.phone.as_deref().unwrap_or(""),
                    declaration: e.declaration,
                    kind: kind_name(e.kind),
                    direction: direction_name(e.direction),
                    purpose: e.purpose.as_deref().unwrap_or(""),
                })
                .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        }
        writer.flush()?;
        return Ok(());
    }
    let mut table = Table::new(["time", "name", "class", "phone", "declaration", "how"]);
    for e in entries {
        table.row(vec![
            e.time,
            e.name,
            e.class.unwrap_or_default(),
            e.phone.unwrap_or_default(),
            e.declaration.into(),
            format!("{} {}", kind_name(e.kind), direction_name(e.direction)),
        ]);
    }
    table.print()
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::App => "app",
        EntryKind::Gate => "gate",
        EntryKind::Card => "card",
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::In => "in",
        Direction::Out => "out",
    }
}

#[derive(Debug, Serialize)]
struct GateJson {
    name: String,
    declaration: &'static str,
    kind: EntryKind,
    direction: Direction,
    stored: bool,
}

impl GateJson {
    fn of(entry: VisitorEntry, stored: bool) -> Self {
        Self {
            declaration: entry.declaration.as_str(),
            name: entry.name,
            kind: entry.kind,
            direction: entry.direction,
            stored,
        }
    }
}

/// Runs `openzone gate`.
pub fn run_gate(args: GateArgs) -> Result<(), CliError> {
    let venue = venue_from(&args.venue, &CheckInLinks::new(&args.base_url)?)?;
    let key = venue.location().visitor_log_key.ok_or_else(|| {
        CliError::Usage(
            "this venue keeps no visitor log (its poster has no visitor-log key); make one with `venue create --visitor-log`".into(),
        )
    })?;
    let direction = if args.exit {
        Direction::Out
    } else {
        Direction::In
    };
    let time = crate::now_ms() / 1000;
    let entry = match (&args.card, &args.name) {
        (Some(path), _) => {
            let bytes = std::fs::read(path).map_err(io_error(path))?;
            let texts = qr_texts(&bytes)?;
            let card = texts
                .iter()
                .find_map(|t| StudentCard::from_text(t).ok())
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "{} shows no OpenZone student card; photograph the card's QR code",
                        path.display()
                    ))
                })?;
            VisitorEntry {
                v: 1,
                name: card.name,
                phone: None,
                class: Some(card.class),
                time,
                declaration: DeclarationStatus::None,
                kind: EntryKind::Card,
                direction,
                purpose: None,
                answers: Default::default(),
            }
        }
        (None, Some(name)) => VisitorEntry {
            v: 1,
            name: name.clone(),
            phone: args.phone.clone(),
            class: None,
            time,
            declaration: if args.symptoms {
                DeclarationStatus::Symptoms
            } else {
                DeclarationStatus::Clear
            },
            kind: EntryKind::Gate,
            direction,
            purpose: args.purpose.clone(),
            answers: Default::default(),
        },
        (None, None) => return Err(CliError::Usage("give --name and --phone, or --card".into())),
    };
    let hash = venue.location_id().hash();
    let sealed = entry.seal(&key, &hash, &SystemRandom::new())?;
    let answer = runtime()?.block_on(client(&args.server)?.post_visitor_entry(&hash, &sealed))?;
    let out = GateJson::of(entry, answer.stored);
    print_json_or_line(
        args.json,
        &out,
        format_args!(
            "recorded {} ({}, {}, declaration: {})",
            out.name,
            kind_name(out.kind),
            direction_name(out.direction),
            out.declaration
        ),
    )
}

/// Runs `openzone card`.
pub fn run_card(args: CardArgs) -> Result<(), CliError> {
    let student = StudentCard::new(&args.name, &args.class)?;
    let svg = card::svg(&student)?;
    let bytes = match Format::of_path(&args.out) {
        Some(Format::Png) => render::png(&svg, CARD_PNG_WIDTH)?,
        Some(Format::Svg) => svg.into_bytes(),
        _ => {
            return Err(CliError::Usage(format!(
                "{}: the card file must end in .png or .svg",
                args.out.display()
            )))
        }
    };
    std::fs::write(&args.out, bytes).map_err(io_error(&args.out))?;
    writeln!(std::io::stdout(), "{}", args.out.display())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_and_day_windows_follow_the_offset() {
        // 2021-09-06 00:30 UTC is 07:30 in Hanoi.
        assert_eq!(local_time(1_630_888_200, 420), "2021-09-06T07:30:00+07:00");
        assert_eq!(local_time(1_630_888_200, -90), "2021-09-05T23:00:00-01:30");
        let day = parse_day("2021-09-06").unwrap();
        let (since, until) = day_window(day, 420);
        assert_eq!(since, 1_630_861_200_000, "2021-09-05 17:00 UTC");
        assert_eq!(until - since, MS_PER_DAY);
        assert_eq!(day_window(0, 420).0, 0);
    }
}
