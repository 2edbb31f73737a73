//! The recordings: what one phone logged of another, with the true distance of each reading or the label
//! of the whole contact, and the phones' calibrations from the core's table.
//!
//! Three public campaigns are read as published (each loader's doc names its source and layout), and the
//! simulation's radio can produce a campaign of its own ([`simulated`]). [`load`] takes a folder: one
//! campaign's folder, or a folder holding several.

pub mod h0h1;
pub mod herald;
pub mod pcng;
pub mod simulated;

use std::path::{Path, PathBuf};

use openzone_core::risk::calibration::CalibrationTable;

use crate::EvalError;

/// A close contact is at most this far, centimetres (the 2 m of every health authority's definition).
pub const NEAR_CM: u32 = 200;

/// One reading: an RSSI at a time, with what is known of the distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Milliseconds on the logging phone's clock (only differences matter).
    pub t_ms: i64,
    /// dBm as logged.
    pub rssi: i8,
    /// What is known of the distance.
    pub distance: Distance,
}

/// What a campaign tells of the distance at a reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// The true distance, centimetres, as the campaign measured it.
    MeasuredCm(u32),
    /// The distance the testers noted, metres (H0H1's range in feet).
    NotedM(f64),
    /// Not known (a log without a noted range).
    Unknown,
}

impl Distance {
    /// Metres, measured or noted.
    pub fn metres(self) -> Option<f64> {
        match self {
            Self::MeasuredCm(cm) => Some(f64::from(cm) / 100.0),
            Self::NotedM(m) => Some(m),
            Self::Unknown => None,
        }
    }
}

/// A phone of a recording, calibrated as the core calibrates a phone of that name.
#[derive(Debug, Clone, PartialEq)]
pub struct Phone {
    /// The name the recording uses.
    pub name: String,
    /// The `android.os.Build` values assumed (manufacturer, device, model); empty when unknown.
    pub build: [String; 3],
    /// TX power announced, dBm.
    pub tx_power_dbm: i8,
    /// RSSI correction, dB.
    pub rssi_correction_db: i8,
    /// The calibration's confidence, 0 (fleet average) to 3 (measured).
    pub confidence: u8,
}

impl Phone {
    /// The phone a recording calls `name`. Only what the name or the campaign's documentation says is
    /// looked up; the table then falls back (sister devices, maker, fleet) as it does for a real phone.
    pub fn named(name: &str) -> Self {
        let build: [String; 3] = BUILD_VALUES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.map(String::from))
            .unwrap_or_else(|| {
                let lower = name.to_lowercase();
                if lower.starts_with("apple ") || lower.starts_with("iphone") {
                    [
                        "Apple".into(),
                        String::new(),
                        name.trim_start_matches("Apple ").into(),
                    ]
                } else {
                    Default::default()
                }
            });
        let table = CalibrationTable::builtin();
        let c = if build.iter().all(String::is_empty) {
            table.fleet()
        } else {
            table.lookup(&build[0], &build[1], &build[2])
        };
        Self {
            name: name.into(),
            build,
            tx_power_dbm: c.tx_power_dbm,
            rssi_correction_db: c.rssi_correction_db,
            confidence: c.confidence as u8,
        }
    }
}

/// The `android.os.Build` values (manufacturer, device, model) assumed for each phone name found in the
/// recordings; a field left empty is unknown.
const BUILD_VALUES: &[(&str, [&str; 3])] = &[
    // pc-ng: the device column names the logging phone.
    ("HTC One M9", ["HTC", "htc_himaul", "HTC One M9"]),
    ("ASUS_Z00AD", ["asus", "Z00A", "ASUS_Z00AD"]),
    // "N8" is taken to be a Samsung Galaxy Note 8, as the Herald project names that phone; its variant
    // (each with its own calibration) is unknown, so only the maker is given.
    ("N8", ["samsung", "", ""]),
    // Herald (phones.csv): Samsung variants are unknown too, but every A10/A20 variant shares its device name.
    ("Samsung A10", ["samsung", "a10", ""]),
    ("Samsung A20", ["samsung", "a20", ""]),
];

/// How a recording's contacts are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// Each reading carries its distance: contacts are built per distance and labelled by it.
    ByDistance,
    /// The whole recording is one contact, within 2 m or not.
    Contact {
        /// Within 2 m.
        near: bool,
    },
}

/// What one phone logged of one other phone in one session.
#[derive(Debug, Clone)]
pub struct Recording {
    /// A label for tables: the file and who heard whom.
    pub name: String,
    /// The session both phones of a pair recorded together: recordings of one session are not
    /// independent, and the bootstrap resamples sessions (with the distance, for distance sweeps).
    pub session: String,
    /// Where the phones were carried (`HH`, `PB`, `rig`, `hands`, `pocket`, ...).
    pub carriage: String,
    /// The logging phone (its RSSI correction applies).
    pub receiver: Phone,
    /// The phone heard (its TX power applies).
    pub sender: Phone,
    /// The readings in file order.
    pub readings: Vec<Reading>,
    /// How contacts are labelled.
    pub label: Label,
    /// How its readings are cut into 4 s scan windows.
    pub windows: ScanWindows,
    /// Distances are grouped into bins of this many centimetres (1 cm sweeps have one reading series per
    /// centimetre).
    pub bin_cm: u32,
}

/// How a recording's readings are cut into the 4 s windows of the receiver's scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanWindows {
    /// By the readings' times.
    ByTime,
    /// This many readings a window: the clock ticks in steps of a window or more, too coarse to cut them.
    ByCount(usize),
}

/// A file read, for the report.
#[derive(Debug, Clone)]
pub struct FileLog {
    /// The file, relative to the dataset's folder.
    pub file: String,
    /// Rows used.
    pub rows: usize,
    /// Rows skipped as malformed.
    pub skipped: usize,
}

/// One campaign.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Short name: `pc-ng`, `herald`, `h0h1`, `simulated`.
    pub name: String,
    /// Where it comes from (repository and commit, licence).
    pub source: String,
    /// Its recordings.
    pub recordings: Vec<Recording>,
    /// Files read.
    pub files: Vec<FileLog>,
    /// Made by a model, not recorded: evaluated like the others, but kept out of the pooled figures and
    /// of the choice of the default.
    pub synthetic: bool,
}

/// Reads every campaign found at `path`: a campaign's own folder, or a folder holding campaign folders.
pub fn load(path: &Path) -> Result<Vec<Dataset>, EvalError> {
    if !path.is_dir() {
        return Err(EvalError::data(
            path,
            "not a folder: give a dataset's folder",
        ));
    }
    if let Some(kind) = kind_of(path)? {
        return Ok(vec![kind.load(path)?]);
    }
    let mut out = Vec::new();
    for dir in subfolders(path)? {
        if let Some(kind) = kind_of(&dir)? {
            out.push(kind.load(&dir)?);
        } else if let Some(kind) = kind_of(&dir.join("reference-data/rssi-raw-edison"))? {
            // herald-analysis as cloned: the recordings sit two folders down.
            out.push(kind.load(&dir.join("reference-data/rssi-raw-edison"))?);
        }
    }
    if out.is_empty() {
        return Err(EvalError::data(
            path,
            "no dataset found: expected pc-ng's RSS_human<XY>.csv files, Herald's metadata.csv and phones.csv, or H0H1's Close/ and Far/ folders",
        ));
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    PcNg,
    Herald,
    H0h1,
}

impl Kind {
    fn load(self, dir: &Path) -> Result<Dataset, EvalError> {
        match self {
            Self::PcNg => pcng::load(dir),
            Self::Herald => herald::load(dir),
            Self::H0h1 => h0h1::load(dir),
        }
    }
}

fn kind_of(dir: &Path) -> Result<Option<Kind>, EvalError> {
    if !dir.is_dir() {
        return Ok(None);
    }
    if dir.join("metadata.csv").is_file() && dir.join("phones.csv").is_file() {
        return Ok(Some(Kind::Herald));
    }
    if dir.join("Close").is_dir() && dir.join("Far").is_dir() {
        return Ok(Some(Kind::H0h1));
    }
    // pc-ng's files sit in the folder or one level down (`HandHand/RSS_humanHH.csv`); deeper ones belong
    // to a campaign folder inside a parent folder.
    let is_pcng = |d: &Path| -> Result<bool, EvalError> {
        Ok(std::fs::read_dir(d)
            .map_err(|e| EvalError::data(d, format!("cannot list: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .any(|p| p.is_file() && file_name(&p).starts_with("RSS_human")))
    };
    let mut pcng = is_pcng(dir)?;
    for sub in subfolders(dir)? {
        pcng |= is_pcng(&sub)?;
    }
    Ok(pcng.then_some(Kind::PcNg))
}

fn subfolders(dir: &Path) -> Result<Vec<PathBuf>, EvalError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| EvalError::data(dir, format!("cannot list: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

/// Every file under `dir` (recursively) whose extension is `ext`, sorted, so that results do not depend
/// on the file system's order.
pub(crate) fn files_under(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, EvalError> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| EvalError::data(dir, format!("cannot list: {e}")))?;
    for entry in entries {
        let path = entry
            .map_err(|e| EvalError::data(dir, format!("cannot list: {e}")))?
            .path();
        if path.is_dir() {
            out.extend(files_under(&path, ext)?);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The last component of `path`.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `path` relative to `base`, for tables.
pub(crate) fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// A CSV reader over a file, with or without a header row: flexible rows (a short or long row is one bad
/// row, not a failed file).
pub(crate) fn csv_reader(
    path: &Path,
    has_headers: bool,
) -> Result<csv::Reader<std::fs::File>, EvalError> {
    let file = std::fs::File::open(path)
        .map_err(|e| EvalError::data(path, format!("cannot read: {e}")))?;
    Ok(csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(has_headers)
        .trim(csv::Trim::All)
        .from_reader(file))
}

/// The indices of the columns `names` in the header row of `reader`, or an error naming the file and the
/// columns expected.
pub(crate) fn header_columns(
    reader: &mut csv::Reader<std::fs::File>,
    path: &Path,
    names: &[&str],
) -> Result<Vec<usize>, EvalError> {
    let headers = reader
        .headers()
        .map_err(|e| EvalError::data(path, format!("no header row: {e}")))?
        .clone();
    columns(&headers, names).ok_or_else(|| {
        EvalError::data(
            path,
            format!("the header lacks the columns {}", names.join(", ")),
        )
    })
}

/// An empty log of the file `label`.
pub(crate) fn file_log(label: &str) -> FileLog {
    FileLog {
        file: label.into(),
        rows: 0,
        skipped: 0,
    }
}

/// Column indices by header name (case-insensitive, a byte-order mark ignored).
pub(crate) fn columns(headers: &csv::StringRecord, names: &[&str]) -> Option<Vec<usize>> {
    let fields: Vec<String> = headers
        .iter()
        .map(|f| f.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    names
        .iter()
        .map(|n| fields.iter().position(|f| f == n))
        .collect()
}

/// An RSSI as the core stores it (an `i8`): a whole number of dBm below 0; anything else is a bad row.
pub(crate) fn parse_rssi(field: &str) -> Option<i8> {
    let v: f64 = field.trim().parse().ok()?;
    (v.is_finite() && v.fract() == 0.0 && (-127.0..0.0).contains(&v)).then_some(v as i8)
}

/// A distance in centimetres: finite, not negative, below 100 m.
pub(crate) fn parse_cm(field: &str) -> Option<u32> {
    let v: f64 = field.trim().parse().ok()?;
    (v.is_finite() && (0.0..10_000.0).contains(&v)).then_some(v.round() as u32)
}

/// Milliseconds since 1970 of `YYYY-MM-DD HH:MM:SS[.fff]` (the zone does not matter: only differences
/// are used).
pub(crate) fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once(' ')?;
    let mut d = date.split('-');
    let (y, m, day) = (
        d.next()?.parse::<i64>().ok()?,
        d.next()?.parse::<u32>().ok()?,
        d.next()?.parse::<u32>().ok()?,
    );
    let days = openzone_core::time::days_from_civil(y, m, day)?;
    let mut t = time.split(':');
    let (hh, mm, ss) = (
        t.next()?.parse::<u32>().ok()?,
        t.next()?.parse::<u32>().ok()?,
        t.next()?.parse::<f64>().ok()?,
    );
    if hh > 23 || mm > 59 || !(0.0..61.0).contains(&ss) || t.next().is_some() {
        return None;
    }
    Some(
        i64::from(days) * 86_400_000
            + i64::from(hh * 3_600 + mm * 60) * 1_000
            + (ss * 1_000.0).round() as i64,
    )
}

#[cfg(test)]
mod tests;
