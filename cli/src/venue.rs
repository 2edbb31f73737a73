//! `openzone venue create | poster | inspect`: venues, their posters, and what a check-in code says.
//!
//! A venue lives in a directory: `venue.url` (its check-in link, the QR code's text), `venue.json` (what
//! the link says, as `inspect --json` prints it) and, for a venue with a visitor log, `visitor-log.key`
//! (the X25519 secret that reads the log, hex, readable by its owner only).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use openzone_core::checkin::image::venue_from_image;
use openzone_core::checkin::link::DEFAULT_BASE;
use openzone_core::checkin::venue::{VisitorLogSecret, MAX_STAY_MINUTES, MIN_STAY_MINUTES};
use openzone_core::checkin::{CheckInLinks, LocationType, NewVenue, Venue};
use openzone_poster::{render, rooms, template, Format};
use ring::rand::SystemRandom;
use serde::Serialize;

use crate::error::CliError;
use crate::output::{print_json, Table};
use crate::when::parse_time;

/// The check-in link of a venue directory.
const LINK_FILE: &str = "venue.url";
/// What the link says, for people and scripts.
const JSON_FILE: &str = "venue.json";
/// The visitor log's secret key.
pub(crate) const SECRET_FILE: &str = "visitor-log.key";

/// A4 at 150 dpi.
const DEFAULT_PNG_WIDTH: u32 = 1240;

#[derive(Debug, Subcommand)]
pub enum VenueCommand {
    /// Create a venue: writes its files into a directory and prints its check-in link.
    Create(CreateArgs),
    /// Make the printable poster of a venue directory, or one poster per room of a CSV
    /// (`name,address,type,minutes`): a PDF with a page per room, or numbered SVG/PNG files.
    Poster(PosterArgs),
    /// Show what a check-in link or a photo of a poster says (any well-formed code, as encoded).
    Inspect(InspectArgs),
    /// Read the venue's visitor log from the key server with the secret in its directory.
    Log(crate::visitorlog::LogArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The name people see (at most 100 characters).
    #[arg(long)]
    name: String,
    /// Where it is (at most 100 characters); the name when not given.
    #[arg(long)]
    address: Option<String>,
    /// The type, as a protobuf number or a name (educational-institution, private-event, ...); by
    /// default educational-institution, or temporary-other for an event.
    #[arg(long = "type")]
    kind: Option<String>,
    /// Default stay in minutes, 15 to 1440; by default 45, or the event's length.
    #[arg(long)]
    minutes: Option<u32>,
    /// An event's start: RFC 3339 or unix seconds.
    #[arg(long, requires = "end")]
    start: Option<String>,
    /// An event's end: RFC 3339 or unix seconds.
    #[arg(long, requires = "start")]
    end: Option<String>,
    /// The base of the check-in link.
    #[arg(long, default_value = DEFAULT_BASE)]
    base_url: String,
    /// Ask visitors to register in the venue's visitor log (its secret key is written to the directory).
    #[arg(long)]
    visitor_log: bool,
    /// The directory to write the venue into (created if absent; must not hold a venue already).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct PosterArgs {
    /// A venue directory (from `venue create`) or a CSV file of rooms.
    source: PathBuf,
    /// The poster file: .pdf, .svg or .png. For a CSV and .svg/.png, files FILE-001.svg, FILE-002.svg, ...
    #[arg(long)]
    out: PathBuf,
    /// The base of the check-in links of the rooms of a CSV.
    #[arg(long, default_value = DEFAULT_BASE)]
    base_url: String,
    /// PNG width in pixels (1240 is A4 at 150 dpi).
    #[arg(long, default_value_t = DEFAULT_PNG_WIDTH)]
    width: u32,
    /// For a CSV: print the rooms' links as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A check-in link, or a PNG/JPEG photo of a poster.
    source: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Also accept links with this base (OpenZone's default and Corona-Warn-App's are always read).
    #[arg(long, default_value = DEFAULT_BASE)]
    base_url: String,
}

pub fn run(cmd: VenueCommand) -> Result<(), CliError> {
    match cmd {
        VenueCommand::Create(args) => create(args),
        VenueCommand::Poster(args) => poster(args),
        VenueCommand::Inspect(args) => inspect(args),
        VenueCommand::Log(args) => crate::visitorlog::run_log(args),
    }
}

fn now_secs() -> u64 {
    crate::now_ms() / 1000
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn create(args: CreateArgs) -> Result<(), CliError> {
    let links = CheckInLinks::new(&args.base_url)?;
    let event = match (&args.start, &args.end) {
        (Some(start), Some(end)) => Some((parse_time(start)?, parse_time(end)?)),
        _ => None,
    };
    let location_type = match (&args.kind, event) {
        (Some(kind), _) => LocationType::parse(kind)?,
        (None, Some(_)) => LocationType::TemporaryOther,
        (None, None) => LocationType::EducationalInstitution,
    };
    let minutes = args.minutes.unwrap_or_else(|| match event {
        Some((start, end)) => {
            let length = u32::try_from(end.saturating_sub(start) / 60).unwrap_or(u32::MAX);
            length.clamp(MIN_STAY_MINUTES, MAX_STAY_MINUTES)
        }
        None => openzone_core::checkin::DEFAULT_STAY_MINUTES,
    });
    let dir = &args.out;
    if dir.join(LINK_FILE).exists() {
        return Err(CliError::Usage(format!(
            "{} already holds a venue; choose another directory (its files, and a visitor-log key, would be lost)",
            dir.display()
        )));
    }
    let rng = SystemRandom::new();
    let secret = if args.visitor_log {
        Some(VisitorLogSecret::generate(&rng)?)
    } else {
        None
    };
    let venue = NewVenue {
        description: args.name,
        address: args.address,
        location_type,
        default_checkin_minutes: minutes,
        event,
        visitor_log_key: secret.as_ref().map(VisitorLogSecret::public_key),
    }
    .create(now_secs(), &rng)?;
    let link = links.link(&venue);
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    if let Some(secret) = &secret {
        write_secret(&dir.join(SECRET_FILE), &hex::encode(secret.to_bytes()))?;
    }
    let json =
        serde_json::to_string_pretty(&VenueJson::of(&venue)).map_err(std::io::Error::from)?;
    for (name, text) in [(JSON_FILE, json), (LINK_FILE, link.clone())] {
        let path = dir.join(name);
        std::fs::write(&path, format!("{text}\n")).map_err(io_error(&path))?;
    }
    writeln!(std::io::stdout(), "{link}")?;
    Ok(())
}

/// Writes the secret readable and writable by its owner only, and never over an existing file.
fn write_secret(path: &Path, text: &str) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_error(path))?;
    writeln!(file, "{text}").map_err(io_error(path))
}

/// The venue of a directory, with its link exactly as written there.
pub(crate) fn read_venue_dir(dir: &Path) -> Result<(Venue, String), CliError> {
    let path = dir.join(LINK_FILE);
    if !path.exists() {
        return Err(CliError::Usage(format!(
            "{} holds no {LINK_FILE}; make a venue with `openzone venue create --out DIR`",
            dir.display()
        )));
    }
    let link = std::fs::read_to_string(&path).map_err(io_error(&path))?;
    let link = link.trim().to_owned();
    let base = link.split_once('?').map_or(link.as_str(), |(base, _)| base);
    let venue = CheckInLinks::new(base)?.venue(&link)?;
    Ok((venue, link))
}

fn poster(args: PosterArgs) -> Result<(), CliError> {
    let format = Format::of_path(&args.out).ok_or_else(|| {
        CliError::Usage(format!(
            "{}: the poster file must end in .pdf, .svg or .png",
            args.out.display()
        ))
    })?;
    if args.source.is_dir() {
        let (venue, link) = read_venue_dir(&args.source)?;
        let svg = template::svg(&venue, &link)?;
        write_poster(&args.out, format, &[svg], args.width)?;
        return Ok(());
    }
    let file = std::fs::File::open(&args.source).map_err(io_error(&args.source))?;
    let rooms = rooms::read_rooms(std::io::BufReader::new(file))?;
    if rooms.is_empty() {
        return Err(CliError::Usage(format!(
            "{} lists no rooms",
            args.source.display()
        )));
    }
    let links = CheckInLinks::new(&args.base_url)?;
    let rng = SystemRandom::new();
    let now = now_secs();
    let mut svgs = Vec::with_capacity(rooms.len());
    let mut listed = Vec::with_capacity(rooms.len());
    for room in &rooms {
        let venue = room.venue.create(now, &rng).map_err(|e| {
            CliError::Usage(format!(
                "{}, line {}: {e}",
                args.source.display(),
                room.line
            ))
        })?;
        let link = links.link(&venue);
        svgs.push(template::svg(&venue, &link)?);
        listed.push((room.venue.description.clone(), link));
    }
    let outputs = write_poster(&args.out, format, &svgs, args.width)?;
    let rows: Vec<RoomJson> = listed
        .into_iter()
        .enumerate()
        .map(|(i, (name, link))| RoomJson {
            poster: outputs
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("page {}", i + 1)),
            name,
            link,
        })
        .collect();
    if args.json {
        return print_json(&rows);
    }
    let mut table = Table::new(["poster", "name", "link"]);
    for r in rows {
        table.row(vec![r.poster, r.name, r.link]);
    }
    table.print()
}

/// Writes the posters: one PDF of all pages, or one SVG/PNG file each (numbered when several).
/// Returns the files written when there is one per poster.
fn write_poster(
    out: &Path,
    format: Format,
    svgs: &[String],
    width: u32,
) -> Result<Vec<String>, CliError> {
    let write = |path: &Path, bytes: &[u8]| std::fs::write(path, bytes).map_err(io_error(path));
    if format == Format::Pdf {
        write(out, &render::pdf(svgs)?)?;
        return Ok(Vec::new());
    }
    let mut written = Vec::with_capacity(svgs.len());
    for (i, svg) in svgs.iter().enumerate() {
        let path = if svgs.len() == 1 {
            out.to_path_buf()
        } else {
            let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("poster");
            out.with_file_name(format!("{stem}-{:03}.{}", i + 1, format.extension()))
        };
        match format {
            Format::Png => write(&path, &render::png(svg, width)?)?,
            _ => write(&path, svg.as_bytes())?,
        }
        written.push(path.display().to_string());
    }
    Ok(written)
}

#[derive(Serialize)]
struct RoomJson {
    poster: String,
    name: String,
    link: String,
}

/// What a venue's code says, with the keys scripts rely on.
#[derive(Serialize)]
struct VenueJson {
    description: String,
    address: String,
    #[serde(rename = "type")]
    kind: i32,
    default_checkin_minutes: u32,
    start: Option<u64>,
    end: Option<u64>,
    location_id: String,
    location_id_hash: String,
}

impl VenueJson {
    fn of(venue: &Venue) -> Self {
        let l = venue.location();
        let id = venue.location_id();
        Self {
            description: l.description.clone(),
            address: l.address.clone(),
            kind: l.location_type,
            default_checkin_minutes: l.default_checkin_minutes,
            start: l.start,
            end: l.end,
            location_id: hex::encode(id.0),
            location_id_hash: hex::encode(id.hash().0),
        }
    }
}

/// The venue of a check-in link, or of the photo of a poster when `source` is a file.
pub(crate) fn venue_from(source: &str, links: &CheckInLinks) -> Result<Venue, CliError> {
    let path = Path::new(source);
    if path.is_file() {
        let bytes = std::fs::read(path).map_err(io_error(path))?;
        Ok(venue_from_image(&bytes, links)?)
    } else {
        Ok(links.venue(source)?)
    }
}

fn inspect(args: InspectArgs) -> Result<(), CliError> {
    let venue = venue_from(&args.source, &CheckInLinks::new(&args.base_url)?)?;
    if args.json {
        return print_json(&VenueJson::of(&venue));
    }
    let l = venue.location();
    let id = venue.location_id();
    let kind = LocationType::from_number(l.location_type).map_or("unknown", |t| t.name());
    let mut table = Table::new(["field", "value"]);
    let mut row = |field: &str, value: String| table.row(vec![field.into(), value]);
    row("description", l.description.clone());
    row("address", l.address.clone());
    row("type", format!("{} ({kind})", l.location_type));
    row(
        "default stay",
        format!("{} minutes", l.default_checkin_minutes),
    );
    let time = |t: Option<u64>| t.map_or("-".into(), |t| t.to_string());
    row("start", time(l.start));
    row("end", time(l.end));
    row("seed", format!("{} bytes", l.seed.len()));
    row(
        "visitor log",
        l.visitor_log_key
            .map_or("no".into(), |k| format!("yes, key {}", hex::encode(k))),
    );
    row("location id", hex::encode(id.0));
    row("location id hash", hex::encode(id.hash().0));
    row(
        "check-in now",
        match venue.check_in_rules(now_secs()) {
            Ok(()) => "allowed".into(),
            Err(e) => format!("refused: {e}"),
        },
    );
    table.print()
}
