//! `rssi_eval`: how well OpenZone's exposure detection separates close contacts (at most 2 m) from farther
//! ones, measured on real phone-to-phone RSSI recordings whose true distances are known.
//!
//! Nothing here is fitted to the data. The calibration comes from the core's built-in table
//! ([`CalibrationTable::builtin`]), the attenuation buckets and weights from the core's published risk
//! configurations ([`RiskConfig::corona_warn_app_2021`], [`RiskConfig::google_sample`]), the scan schedule
//! from [`Schedules::default`], the notification decision from [`risk::score`], and the model it is
//! compared with from the simulation's [`RadioParams::default`] and [`radio::rssi`]. The recordings only
//! say what happened.
//!
//! ```text
//! cargo run --release -p openzone-sim --example rssi_eval -- DATA
//! ```
//!
//! The argument is the folder described by its `README.md` (`pc-ng-rss_smartphone/` and
//! `herald-analysis/reference-data/rssi-raw-edison/`). The output is markdown, ready for `docs/radio.md`.
//! The contact-level evaluation of risk configurations is `openzone evaluate` (crate `eval/`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use openzone_core::engine::schedule::DutyCycle;
use openzone_core::engine::Schedules;
use openzone_core::export::ReportType;
use openzone_core::risk::calibration::{CalibrationTable, Confidence, DeviceCalibration};
use openzone_core::risk::{self, Exposure, KeyWeighting, RiskConfig, ScoredInstance};
use openzone_core::seeded::SplitMix64;
use openzone_sim::radio::{self, PhoneRadio, RadioParams};

/// A close contact is at most this far, centimetres (the 2 m of every health authority's definition).
const NEAR_CM: u32 = 200;

/// Bootstrap replicates for the confidence intervals of the AUCs.
const BOOTSTRAP_REPLICATES: usize = 1000;

/// Emulated contacts per (recording, distance), for the notification rates.
const CONTACTS_PER_SEGMENT: usize = 100;

/// Sightings the simulation delivers per scan window (`SAMPLES_PER_SCAN` in `sim/src/world.rs`, private
/// there): the model's windows are built the same way.
const MODEL_SAMPLES_PER_SCAN: usize = 3;

/// A transmission risk level of 7: what Corona-Warn-App publishes for a confirmed test with standard
/// infectiousness (`trlEncoding` in cwa-server's `risk-calculation-parameters.yaml`: 6 + 1), so the CWA
/// configuration weighs the key 7 x 0.2 = 1.4 as it would in the field.
const CWA_TRANSMISSION_RISK_LEVEL: u8 = 7;

/// Why the evaluation could not run: a message for the person who ran it.
struct EvalError(String);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// `main` returning an error prints its Debug form: make that the plain message.
impl fmt::Debug for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One RSSI reading with its true distance.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Seconds on the logging phone's clock (only differences matter).
    t: f64,
    /// dBm as logged.
    rssi: i8,
    /// True distance, centimetres.
    dist_cm: u32,
}

/// A phone named in the recordings, and what the core's calibration table says of it.
#[derive(Debug, Clone)]
struct Phone {
    /// The name the recording uses.
    name: String,
    /// The `android.os.Build` values assumed for it (manufacturer, device, model), empty when unknown.
    build: [String; 3],
    /// The table's answer.
    calibration: DeviceCalibration,
}

/// The readings one phone logged of one other phone in one recording.
#[derive(Debug, Clone)]
struct Stream {
    /// The recording's label (one per file; a pc-ng file holds two streams).
    file: String,
    /// Where the two phones were carried: two letters of H(and), P(ocket), B(ackpack), or `rig, ...` for
    /// Herald's robot (no bodies).
    pair: String,
    /// Which pools of the evaluation the stream belongs to besides its file.
    pools: Vec<&'static str>,
    /// The phone that logged (its RSSI correction applies).
    receiver: Phone,
    /// The phone heard (its TX power applies).
    sender: Phone,
    /// Readings in file order.
    samples: Vec<Sample>,
    /// The clock only ticks in steps of at least a scan window (so windows are cut by sample count).
    quantised_clock: bool,
    /// Readings per window when the clock is quantised.
    samples_per_window: usize,
}

impl Stream {
    /// `TX_power(sender) - RSSI_correction(receiver)`: attenuation is this minus the RSSI.
    fn offset_db(&self) -> f64 {
        f64::from(self.sender.calibration.tx_power_dbm)
            - f64::from(self.receiver.calibration.rssi_correction_db)
    }
}

/// The sightings of one stream during one emulated scan window: what the store's `ScanInstance` keeps.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Index of the stream.
    stream: usize,
    /// True distance, centimetres.
    dist_cm: u32,
    /// Sightings aggregated.
    count: u32,
    /// Sum of their RSSI, dBm (the store keeps the sum, and the mean is sum / count).
    sum: i64,
    /// Strongest RSSI, dBm.
    max: i8,
    /// Sum over the first few sightings only (a background scan hears only a few advertisements).
    first_sum: i64,
    /// How many sightings `first_sum` holds.
    first_count: u32,
}

impl Window {
    /// Mean RSSI, computed as `ScanInstance::mean_rssi` does.
    fn mean_rssi(&self) -> f64 {
        self.sum as f64 / f64::from(self.count.max(1))
    }

    /// Mean RSSI of the first readings only.
    fn mean_first_rssi(&self) -> f64 {
        self.first_sum as f64 / f64::from(self.first_count.max(1))
    }
}

/// What reading the files found, for the report.
#[derive(Debug, Default)]
struct ReadLog {
    /// (file, rows read, rows skipped) per file.
    files: Vec<(String, usize, usize)>,
    /// Files found but not used, and why.
    unused: Vec<String>,
}

/// Reads the recordings, evaluates them and prints the report as markdown.
fn main() -> Result<(), EvalError> {
    let root = data_root()?;
    let table = CalibrationTable::builtin();
    let cwa = RiskConfig::corona_warn_app_2021();
    let google = RiskConfig::google_sample();
    let background = Schedules::default().background;
    let window_secs = f64::from(background.scan_secs);

    let mut log = ReadLog::default();
    let mut streams = read_pcng(&root.join("pc-ng-rss_smartphone"), table, &mut log)?;
    streams.extend(read_herald(
        &root.join("herald-analysis/reference-data/rssi-raw-edison"),
        table,
        &mut log,
    )?);
    if streams.is_empty() {
        return Err(EvalError(format!(
            "no recordings found under {}",
            root.display()
        )));
    }
    set_window_sizes(&mut streams, window_secs);
    let windows = cut_windows(&streams, window_secs);
    let groups = groups(&streams);

    println!(
        "<!-- generated by sim/examples/rssi_eval.rs from {} -->",
        root.display()
    );
    print_read_log(&log, &streams, &windows);
    print_calibrations(&streams, table);
    print_aucs(&streams, &windows, &groups);
    print_calibration_sensitivity(&streams, &windows, &groups, table);
    print_buckets(&streams, &windows, &groups, &cwa, &google);
    let contacts = emulate_contacts(&streams, &windows, 0.0, &cwa, &google, background);
    print_contacts(&contacts, &groups, &cwa, &google);
    print_by_distance(&streams, &windows, &contacts, &cwa);
    print_shift_sensitivity(&streams, &windows, &groups, &cwa, &google, background);
    print_model_comparison(&streams, &windows);
    Ok(())
}

/// The data folder: the first argument.
fn data_root() -> Result<PathBuf, EvalError> {
    std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| EvalError("give the folder of the recordings: rssi_eval DATA".into()))
}

// ---------------------------------------------------------------------------------------------------------
// Phones and calibration
// ---------------------------------------------------------------------------------------------------------

/// The `android.os.Build` values (manufacturer, device, model) assumed for each phone name found in the
/// recordings. Only what the recordings or their documentation say is filled in: a field left empty is
/// unknown, and the table's lookup then falls back (sister devices, the manufacturer, the fleet) exactly
/// as it does for a real phone.
const BUILD_VALUES: &[(&str, [&str; 3])] = &[
    // pc-ng: the device column names the logging phone.
    ("HTC One M9", ["HTC", "htc_himaul", "HTC One M9"]),
    ("ASUS_Z00AD", ["asus", "Z00A", "ASUS_Z00AD"]),
    // "N8" is taken to be a Samsung Galaxy Note 8, as the Herald project names that phone; the variant
    // (SM-N950F/N/U/U1/W, each with its own calibration) is unknown, so only the maker is given.
    ("N8", ["samsung", "", ""]),
    // Herald (phones.csv): Samsung variants are unknown too, but every A10/A20 variant shares its device name.
    ("Samsung A10", ["samsung", "a10", ""]),
    ("Samsung A20", ["samsung", "a20", ""]),
    ("Samsung J6", ["samsung", "", ""]),
    ("Samsung Note 8", ["samsung", "", ""]),
    ("Google Pixel 2", ["Google", "walleye", "Pixel 2"]),
    ("Google Pixel 3", ["Google", "blueline", "Pixel 3"]),
];

/// The phone a recording calls `name`, calibrated by the core's table. iPhones and unknown names get the
/// fleet average, as the core gives every peer it cannot look up.
fn phone(name: &str, table: &CalibrationTable) -> Phone {
    let build = BUILD_VALUES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b.map(String::from))
        .unwrap_or_else(|| {
            if name.starts_with("Apple ") {
                [
                    "Apple".into(),
                    String::new(),
                    name.trim_start_matches("Apple ").into(),
                ]
            } else {
                [String::new(), String::new(), String::new()]
            }
        });
    let calibration = if build.iter().all(String::is_empty) {
        table.fleet()
    } else {
        table.lookup(&build[0], &build[1], &build[2])
    };
    Phone {
        name: name.into(),
        build,
        calibration,
    }
}

/// How the report names a calibration confidence.
fn confidence_name(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high (3): measured for this model",
        Confidence::Medium => "medium (2): sister devices' average",
        Confidence::Low => "low (1): manufacturer's average",
        Confidence::Lowest => "lowest (0): fleet average",
    }
}

// ---------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------

/// A file's text.
fn read_text(path: &Path) -> Result<String, EvalError> {
    let bytes = std::fs::read(path)
        .map_err(|e| EvalError(format!("cannot read {}: {e}", path.display())))?;
    // The files are ASCII; a stray byte must not stop the evaluation, only spoil its line.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Every `.csv` file under `dir`, sorted, so that the report's order does not depend on the file system.
fn csv_files(dir: &Path) -> Result<Vec<PathBuf>, EvalError> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| EvalError(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| EvalError(format!("cannot list {}: {e}", dir.display())))?
            .path();
        if path.is_dir() {
            files.extend(csv_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "csv") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The last component of `path`.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// An RSSI as the core stores it (an `i8`): a whole number of dBm below 0; anything else is a bad row.
fn parse_rssi(field: &str) -> Option<i8> {
    let v: f64 = field.trim().parse().ok()?;
    (v.is_finite() && v.fract() == 0.0 && (-127.0..0.0).contains(&v)).then_some(v as i8)
}

/// A distance in centimetres: finite, not negative, below 100 m.
fn parse_cm(field: &str) -> Option<u32> {
    let v: f64 = field.trim().parse().ok()?;
    (v.is_finite() && (0.0..10_000.0).contains(&v)).then_some(v.round() as u32)
}

/// Column indices by header name.
fn columns(header: &str, names: &[&str]) -> Option<Vec<usize>> {
    let fields: Vec<String> = header
        .split(',')
        .map(|f| f.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    names
        .iter()
        .map(|n| fields.iter().position(|f| f == n))
        .collect()
}

/// pc-ng/rss_smartphone: `<Pos1><Pos2>/RSS_human<XY>.csv`, two logging phones per file.
fn read_pcng(
    dir: &Path,
    table: &CalibrationTable,
    log: &mut ReadLog,
) -> Result<Vec<Stream>, EvalError> {
    let mut streams = Vec::new();
    for path in csv_files(dir)? {
        let name = file_name(&path);
        // Only the full recordings: the repository's training/testing splits are subsets of them.
        let Some(pair) = name
            .strip_prefix("RSS_human")
            .and_then(|n| n.strip_suffix(".csv"))
            .filter(|p| p.len() == 2 && p.chars().all(|c| "HPB".contains(c)))
        else {
            log.unused
                .push(format!("{name}: not an RSS_human<XY>.csv recording"));
            continue;
        };
        let text = read_text(&path)?;
        let mut lines = text.lines();
        let Some(cols) = lines
            .next()
            .and_then(|h| columns(h, &["device", "elapsed", "rss", "dist"]))
        else {
            log.unused
                .push(format!("{name}: header lacks device, elapsed, rss, dist"));
            continue;
        };
        let width = cols.iter().max().map_or(0, |m| m + 1);
        let (mut read, mut bad) = (0, 0);
        // Samples per logging phone, in file order.
        let mut by_device: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split(',').collect();
            let parsed = (f.len() >= width)
                .then(|| {
                    let t: f64 = f[cols[1]]
                        .trim()
                        .parse()
                        .ok()
                        .filter(|t: &f64| t.is_finite())?;
                    Some((
                        f[cols[0]].trim(),
                        t,
                        parse_rssi(f[cols[2]])?,
                        parse_cm(f[cols[3]])?,
                    ))
                })
                .flatten()
                .filter(|(device, ..)| !device.is_empty());
            match parsed {
                Some((device, t, rssi, dist_cm)) => {
                    read += 1;
                    by_device
                        .entry(device.to_string())
                        .or_default()
                        .push(Sample { t, rssi, dist_cm });
                }
                None => bad += 1,
            }
        }
        log.files.push((format!("pc-ng {name}"), read, bad));
        let devices: Vec<String> = by_device.keys().cloned().collect();
        for (device, samples) in by_device {
            // The file names only the logging phone; the phone it heard is the file's other one. With any
            // other number of phones the sender is unknown and gets the fleet average.
            let others: Vec<&String> = devices.iter().filter(|d| **d != device).collect();
            let sender = match others[..] {
                [other] => phone(other, table),
                _ => phone("unknown sender", table),
            };
            streams.push(Stream {
                file: format!("pc-ng {pair}"),
                pair: pair.into(),
                pools: vec!["pc-ng, all six pairs"],
                receiver: phone(&device, table),
                sender,
                samples,
                quantised_clock: false,
                samples_per_window: 0,
            });
        }
    }
    Ok(streams)
}

/// Seconds since 1970 of `YYYY-MM-DD HH:MM:SS` (UTC or not: only differences are used).
fn parse_timestamp(s: &str) -> Option<f64> {
    let (date, time) = s.trim().split_once(' ')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|x| x.parse::<f64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), so that a run across midnight keeps its order.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + hh * 3_600.0 + mm * 60.0 + ss)
}

/// A small CSV with a header, as rows of name -> value.
fn read_table(path: &Path) -> Result<Vec<BTreeMap<String, String>>, EvalError> {
    let text = read_text(path)?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_lowercase())
        .collect();
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(|v| v.trim().to_string()))
                .collect()
        })
        .collect())
}

/// theheraldproject/herald-analysis `rssi-raw-edison`: one logging phone per file, named with
/// `metadata.csv` and `phones.csv`.
fn read_herald(
    dir: &Path,
    table: &CalibrationTable,
    log: &mut ReadLog,
) -> Result<Vec<Stream>, EvalError> {
    let tests = read_table(&dir.join("metadata.csv"))?;
    let phones = read_table(&dir.join("phones.csv"))?;
    let model_of = |short: &str| {
        phones
            .iter()
            .find(|p| p.get("name").is_some_and(|n| n == short))
            .and_then(|p| p.get("model").cloned())
            .unwrap_or_else(|| short.to_string())
    };
    let mut streams = Vec::new();
    for path in csv_files(dir)? {
        let name = file_name(&path);
        if name == "metadata.csv" || name == "phones.csv" {
            continue;
        }
        // The suffix names the phone that logged: A is metadata's phone A, which heard phone B.
        let test = tests.iter().find_map(|t| {
            let get = |k: &str| t.get(k).map(String::as_str).unwrap_or_default();
            if get("filenamephonea") == name {
                Some((get("phoneaname").to_string(), get("phonebname").to_string()))
            } else if get("filenamephoneb") == name {
                Some((get("phonebname").to_string(), get("phoneaname").to_string()))
            } else {
                None
            }
        });
        let Some((rx, tx)) = test else {
            log.unused.push(format!("{name}: not in metadata.csv"));
            continue;
        };
        let text = read_text(&path)?;
        let mut lines = text.lines();
        let Some(cols) = lines
            .next()
            .and_then(|h| columns(h, &["time", "rssi", "distance"]))
        else {
            log.unused
                .push(format!("{name}: header lacks time, rssi, distance"));
            continue;
        };
        let width = cols.iter().max().map_or(0, |m| m + 1);
        let (mut samples, mut bad) = (Vec::new(), 0);
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split(',').collect();
            let parsed = (f.len() >= width)
                .then(|| {
                    Some(Sample {
                        t: parse_timestamp(f[cols[0]])?,
                        rssi: parse_rssi(f[cols[1]])?,
                        dist_cm: parse_cm(f[cols[2]])?,
                    })
                })
                .flatten();
            match parsed {
                Some(s) => samples.push(s),
                None => bad += 1,
            }
        }
        log.files
            .push((format!("Herald {name}"), samples.len(), bad));
        let (receiver, sender) = (phone(&model_of(&rx), table), phone(&model_of(&tx), table));
        let iphones = receiver.name.starts_with("Apple") && sender.name.starts_with("Apple");
        let short = |p: &Phone| p.name.replace("Apple ", "").replace("Samsung ", "");
        // Only the iPhone files are pooled: the A10 reads some 25 dB weaker than the iPhones' research app,
        // and a pool mixing the two would measure that offset rather than distance.
        let pools = if iphones {
            vec!["Herald, iPhone files"]
        } else {
            Vec::new()
        };
        streams.push(Stream {
            file: format!(
                "Herald {} <- {} ({})",
                short(&receiver),
                short(&sender),
                name.trim_end_matches(".csv")
            ),
            pair: if iphones {
                "rig, iPhones"
            } else {
                "rig, Samsung"
            }
            .into(),
            pools,
            receiver,
            sender,
            samples,
            quantised_clock: false,
            samples_per_window: 0,
        });
    }
    Ok(streams)
}

// ---------------------------------------------------------------------------------------------------------
// Scan windows
// ---------------------------------------------------------------------------------------------------------

/// Finds streams whose clock cannot cut scan windows and decides how many readings make one window there.
///
/// Some pc-ng phones logged time in steps of 100 s. Their windows are cut by count instead: as many
/// readings as the file's other phone (with a fine clock) logged per window, on average; failing that,
/// the stream's own rate over its whole span.
fn set_window_sizes(streams: &mut [Stream], window_secs: f64) {
    for s in streams.iter_mut() {
        let smallest_step = s
            .samples
            .windows(2)
            .map(|w| (w[1].t - w[0].t).abs())
            .filter(|dt| *dt > 0.0)
            .fold(f64::INFINITY, f64::min);
        s.quantised_clock = smallest_step >= window_secs;
    }
    let mut mean_per_window: BTreeMap<String, f64> = BTreeMap::new();
    for s in streams.iter().filter(|s| !s.quantised_clock) {
        let windows = windows_of(s, 0, window_secs);
        if !windows.is_empty() {
            mean_per_window.insert(
                s.file.clone(),
                s.samples.len() as f64 / windows.len() as f64,
            );
        }
    }
    for s in streams.iter_mut().filter(|s| s.quantised_clock) {
        let own_rate = || {
            let (lo, hi) = s
                .samples
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                    (lo.min(x.t), hi.max(x.t))
                });
            s.samples.len() as f64 / (hi - lo).max(window_secs) * window_secs
        };
        let n = mean_per_window
            .get(&s.file)
            .copied()
            .unwrap_or_else(own_rate);
        s.samples_per_window = n.round().max(1.0) as usize;
    }
}

/// A stream's readings grouped as the engine's background scanning would: a window holds what one phone
/// heard of the other during `window_secs` at one distance. A window ends at a change of distance, when
/// the clock leaves it (forwards or backwards), or, on a quantised clock, when it holds enough readings.
fn windows_of(stream: &Stream, index: usize, window_secs: f64) -> Vec<Window> {
    let mut out: Vec<Window> = Vec::new();
    let mut start = f64::NAN;
    for s in &stream.samples {
        let same = out.last().is_some_and(|w| {
            w.dist_cm == s.dist_cm
                && if stream.quantised_clock {
                    (w.count as usize) < stream.samples_per_window
                } else {
                    s.t >= start && s.t < start + window_secs
                }
        });
        match out.last_mut() {
            Some(w) if same => {
                w.count += 1;
                w.sum += i64::from(s.rssi);
                w.max = w.max.max(s.rssi);
                if (w.first_count as usize) < MODEL_SAMPLES_PER_SCAN {
                    w.first_count += 1;
                    w.first_sum += i64::from(s.rssi);
                }
            }
            _ => {
                start = s.t;
                out.push(Window {
                    stream: index,
                    dist_cm: s.dist_cm,
                    count: 1,
                    sum: i64::from(s.rssi),
                    max: s.rssi,
                    first_sum: i64::from(s.rssi),
                    first_count: 1,
                });
            }
        }
    }
    out
}

/// The scan windows of every stream.
fn cut_windows(streams: &[Stream], window_secs: f64) -> Vec<Window> {
    streams
        .iter()
        .enumerate()
        .flat_map(|(i, s)| windows_of(s, i, window_secs))
        .collect()
}

/// A row of the tables: a file, or a pool of files.
struct Group {
    /// The row's label.
    label: String,
    /// Indices of its streams.
    streams: Vec<usize>,
}

/// One row per recording file, then one per pool.
fn groups(streams: &[Stream]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for (i, s) in streams.iter().enumerate() {
        match out.iter_mut().find(|g| g.label == s.file) {
            Some(g) => g.streams.push(i),
            None => out.push(Group {
                label: s.file.clone(),
                streams: vec![i],
            }),
        }
    }
    let mut pools: Vec<&'static str> = Vec::new();
    for s in streams {
        for p in &s.pools {
            if !pools.contains(p) {
                pools.push(p);
            }
        }
    }
    for pool in pools {
        out.push(Group {
            label: format!("**{pool}**"),
            streams: (0..streams.len())
                .filter(|i| streams[*i].pools.contains(&pool))
                .collect(),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------------------

/// ROC AUC of `score` (higher means nearer) for "near": the chance that a random near item scores above a
/// random far one, ties counting half (Mann-Whitney). `None` without both classes.
fn auc(points: &mut [(f64, bool)]) -> Option<f64> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let near = points.iter().filter(|p| p.1).count() as f64;
    let far = points.len() as f64 - near;
    if near == 0.0 || far == 0.0 {
        return None;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < points.len() {
        let j = i + points[i..]
            .iter()
            .take_while(|p| p.0 == points[i].0)
            .count();
        let mid_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mid_rank * points[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    Some((rank_sum - near * (near + 1.0) / 2.0) / (near * far))
}

/// 95 % interval of the AUC when whole segments (one phone's windows at one distance) are resampled, near
/// and far separately. Windows of one segment are not independent (the same minute, posture and
/// orientation), so resampling windows would give far too narrow an interval.
fn bootstrap_auc(clusters: &[(bool, Vec<f64>)], rng: &mut SplitMix64) -> Option<(f64, f64)> {
    let near: Vec<&Vec<f64>> = clusters.iter().filter(|c| c.0).map(|c| &c.1).collect();
    let far: Vec<&Vec<f64>> = clusters.iter().filter(|c| !c.0).map(|c| &c.1).collect();
    if near.is_empty() || far.is_empty() {
        return None;
    }
    let mut estimates = Vec::with_capacity(BOOTSTRAP_REPLICATES);
    let mut points = Vec::new();
    for _ in 0..BOOTSTRAP_REPLICATES {
        points.clear();
        for (set, is_near) in [(&near, true), (&far, false)] {
            for _ in 0..set.len() {
                let c = set[rng.between(0, set.len() as u64 - 1) as usize];
                points.extend(c.iter().map(|s| (*s, is_near)));
            }
        }
        estimates.extend(auc(&mut points));
    }
    estimates.sort_by(f64::total_cmp);
    let at = |q: f64| estimates[((estimates.len() - 1) as f64 * q).round() as usize];
    (!estimates.is_empty()).then(|| (at(0.025), at(0.975)))
}

/// The median (sorts `values`).
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The arithmetic mean.
fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The sample standard deviation.
fn sd(values: &[f64]) -> Option<f64> {
    let m = mean(values)?;
    (values.len() > 1).then(|| {
        (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
    })
}

/// Pooled within-group standard deviation: how much readings vary around their own group's mean.
fn pooled_within_sd(groups: &[Vec<f64>]) -> Option<f64> {
    let (mut ss, mut dof) = (0.0, 0usize);
    for g in groups.iter().filter(|g| g.len() > 1) {
        let m = g.iter().sum::<f64>() / g.len() as f64;
        ss += g.iter().map(|v| (v - m).powi(2)).sum::<f64>();
        dof += g.len() - 1;
    }
    (dof > 0).then(|| (ss / dof as f64).sqrt())
}

/// Two decimals, or a dash.
fn f2(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

/// One decimal, or a dash.
fn f1(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

/// A whole percentage, or a dash.
fn pct(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.0} %", 100.0 * part / whole)
    } else {
        "-".into()
    }
}

/// Bucket `i` of `config`: the index of the first threshold above `attenuation_db` (`RiskConfig`'s rule:
/// thresholds are exclusive upper bounds).
fn bucket(config: &RiskConfig, attenuation_db: f64) -> usize {
    config
        .attenuation_thresholds_db
        .iter()
        .position(|t| attenuation_db < f64::from(*t))
        .unwrap_or(config.attenuation_thresholds_db.len())
}

/// The buckets' ranges as the report names them (`< 63`, `63-73`, ..., `>= 79`).
fn bucket_labels(config: &RiskConfig) -> Vec<String> {
    let t = &config.attenuation_thresholds_db;
    let mut labels = Vec::new();
    for (i, hi) in t.iter().enumerate() {
        labels.push(match i {
            0 => format!("< {hi}"),
            _ => format!("{}-{hi}", t[i - 1]),
        });
    }
    if let Some(last) = t.last() {
        labels.push(format!(">= {last}"));
    }
    labels
}

// ---------------------------------------------------------------------------------------------------------
// Report sections
// ---------------------------------------------------------------------------------------------------------

/// What was read, skipped and cut into windows.
fn print_read_log(log: &ReadLog, streams: &[Stream], windows: &[Window]) {
    println!("\n### Data read\n");
    println!("| file | rows used | rows skipped |");
    println!("|---|---:|---:|");
    for (f, read, bad) in &log.files {
        println!("| {f} | {read} | {bad} |");
    }
    for u in &log.unused {
        println!("\nNot used: {u}");
    }
    println!("\n| recording | receiver (logged) | sender (heard) | readings | scan windows | readings per window | clock |");
    println!("|---|---|---|---:|---:|---:|---|");
    for (i, s) in streams.iter().enumerate() {
        let n = windows.iter().filter(|w| w.stream == i).count();
        println!(
            "| {} | {} | {} | {} | {} | {:.1} | {} |",
            s.file,
            s.receiver.name,
            s.sender.name,
            s.samples.len(),
            n,
            s.samples.len() as f64 / n.max(1) as f64,
            if s.quantised_clock {
                format!("100 s steps: windows of {} readings", s.samples_per_window)
            } else {
                "fine".into()
            }
        );
    }
}

/// What the calibration table says of each phone, and how sure it is.
fn print_calibrations(streams: &[Stream], table: &CalibrationTable) {
    println!("\n### Calibration lookups (`CalibrationTable::builtin()`)\n");
    println!(
        "Fleet average: TX {} dBm, RSSI correction {:+} dB.\n",
        table.fleet().tx_power_dbm,
        table.fleet().rssi_correction_db
    );
    println!("| name in the data | Build values looked up (manufacturer, device, model) | TX power dBm | RSSI correction dB | confidence |");
    println!("|---|---|---:|---:|---|");
    let mut seen: Vec<&str> = Vec::new();
    for p in streams.iter().flat_map(|s| [&s.receiver, &s.sender]) {
        if seen.contains(&p.name.as_str()) {
            continue;
        }
        seen.push(&p.name);
        let build = if p.build.iter().all(String::is_empty) {
            "unknown model: fleet".to_string()
        } else {
            p.build
                .iter()
                .map(|b| if b.is_empty() { "?" } else { b.as_str() })
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "| {} | {} | {} | {:+} | {} |",
            p.name,
            build,
            p.calibration.tx_power_dbm,
            p.calibration.rssi_correction_db,
            confidence_name(p.calibration.confidence)
        );
    }
}

/// Typical attenuation of each window, with the stream offsets in `offsets`.
fn window_attenuation(w: &Window, offsets: &[f64]) -> f64 {
    offsets[w.stream] - w.mean_rssi()
}

/// ROC AUC per recording and pool: raw readings, and scan windows with a segment bootstrap.
fn print_aucs(streams: &[Stream], windows: &[Window], groups: &[Group]) {
    let offsets: Vec<f64> = streams.iter().map(Stream::offset_db).collect();
    let mut rng = SplitMix64::new(0x5eed_0001);
    println!("\n### ROC AUC for \"distance <= 2 m\"\n");
    println!("Score: raw RSSI per reading; attenuation per reading; typical attenuation per 4 s scan window (all readings, then only the first {MODEL_SAMPLES_PER_SCAN}). 95 % intervals resample whole (phone, distance) segments.\n");
    println!("| recording | readings near/far | windows near/far | segments near/far | raw RSSI | raw attenuation | window typical attenuation [95 % CI] | window, first {MODEL_SAMPLES_PER_SCAN} readings |");
    println!("|---|---:|---:|---:|---:|---:|---|---:|");
    for g in groups {
        let mut raw_rssi = Vec::new();
        let mut raw_att = Vec::new();
        for &i in &g.streams {
            for s in &streams[i].samples {
                let near = s.dist_cm <= NEAR_CM;
                raw_rssi.push((f64::from(s.rssi), near));
                raw_att.push((-(offsets[i] - f64::from(s.rssi)), near));
            }
        }
        let in_group: Vec<&Window> = windows
            .iter()
            .filter(|w| g.streams.contains(&w.stream))
            .collect();
        let mut win: Vec<(f64, bool)> = in_group
            .iter()
            .map(|w| (-window_attenuation(w, &offsets), w.dist_cm <= NEAR_CM))
            .collect();
        let mut first: Vec<(f64, bool)> = in_group
            .iter()
            .map(|w| {
                (
                    -(offsets[w.stream] - w.mean_first_rssi()),
                    w.dist_cm <= NEAR_CM,
                )
            })
            .collect();
        let mut clusters: BTreeMap<(usize, u32), Vec<f64>> = BTreeMap::new();
        for w in &in_group {
            clusters
                .entry((w.stream, w.dist_cm))
                .or_default()
                .push(-window_attenuation(w, &offsets));
        }
        let clusters: Vec<(bool, Vec<f64>)> = clusters
            .into_iter()
            .map(|((_, d), v)| (d <= NEAR_CM, v))
            .collect();
        let count = |v: &[(f64, bool)]| {
            let n = v.iter().filter(|p| p.1).count();
            format!("{n}/{}", v.len() - n)
        };
        let seg_near = clusters.iter().filter(|c| c.0).count();
        let ci = bootstrap_auc(&clusters, &mut rng)
            .map_or_else(String::new, |(lo, hi)| format!(" [{lo:.2}-{hi:.2}]"));
        println!(
            "| {} | {} | {} | {}/{} | {} | {} | {}{} | {} |",
            g.label,
            count(&raw_rssi),
            count(&win),
            seg_near,
            clusters.len() - seg_near,
            f2(auc(&mut raw_rssi)),
            f2(auc(&mut raw_att)),
            f2(auc(&mut win)),
            ci,
            f2(auc(&mut first)),
        );
    }
}

/// The pooled AUCs under other readings of who sent what, to show how much the calibration assumption
/// matters: within one stream any calibration is a constant shift and changes nothing; only pooling
/// streams of different phones can.
fn print_calibration_sensitivity(
    streams: &[Stream],
    windows: &[Window],
    groups: &[Group],
    table: &CalibrationTable,
) {
    let fleet = table.fleet();
    let fleet_offset = f64::from(fleet.tx_power_dbm) - f64::from(fleet.rssi_correction_db);
    let variants: [(&str, Vec<f64>); 4] = [
        (
            "table (as above)",
            streams.iter().map(Stream::offset_db).collect(),
        ),
        (
            "fleet average for every phone",
            vec![fleet_offset; streams.len()],
        ),
        (
            "pc-ng device column read as the sender",
            streams
                .iter()
                .map(|s| {
                    f64::from(s.receiver.calibration.tx_power_dbm)
                        - f64::from(s.sender.calibration.rssi_correction_db)
                })
                .collect(),
        ),
        ("no calibration (raw RSSI)", vec![0.0; streams.len()]),
    ];
    println!("\n### Does the calibration assumption matter? Pooled window AUC\n");
    print!("| pool |");
    for (name, _) in &variants {
        print!(" {name} |");
    }
    println!("\n|---|{}", "---:|".repeat(variants.len()));
    for g in groups.iter().filter(|g| g.label.starts_with("**")) {
        print!("| {} |", g.label);
        for (_, offsets) in &variants {
            let mut points: Vec<(f64, bool)> = windows
                .iter()
                .filter(|w| g.streams.contains(&w.stream))
                .map(|w| (-window_attenuation(w, offsets), w.dist_cm <= NEAR_CM))
                .collect();
            print!(" {} |", f2(auc(&mut points)));
        }
        println!();
    }
}

/// Share of scan windows near and far in each attenuation bucket of both configurations.
fn print_buckets(
    streams: &[Stream],
    windows: &[Window],
    groups: &[Group],
    cwa: &RiskConfig,
    google: &RiskConfig,
) {
    let offsets: Vec<f64> = streams.iter().map(Stream::offset_db).collect();
    for config in [cwa, google] {
        let labels = bucket_labels(config);
        println!(
            "\n### Scan windows per attenuation bucket, `{}` (weights {:?})\n",
            config.name, config.attenuation_weights
        );
        print!("| recording | distance | windows | median typical attenuation dB |");
        for l in &labels {
            print!(" {l} dB |");
        }
        println!(" mean weight per window |");
        println!("|---|---|---:|---:|{}---:|", "---:|".repeat(labels.len()));
        for g in groups {
            for (near, class) in [(true, "<= 2 m"), (false, "> 2 m")] {
                let mut att: Vec<f64> = windows
                    .iter()
                    .filter(|w| g.streams.contains(&w.stream) && (w.dist_cm <= NEAR_CM) == near)
                    .map(|w| window_attenuation(w, &offsets))
                    .collect();
                let mut counts = vec![0usize; labels.len()];
                for a in &att {
                    counts[bucket(config, *a)] += 1;
                }
                let weight = mean(
                    &att.iter()
                        .map(|a| config.attenuation_weights[bucket(config, *a)])
                        .collect::<Vec<_>>(),
                );
                let n = att.len();
                print!("| {} | {class} | {n} | {} |", g.label, f1(median(&mut att)));
                for c in &counts {
                    print!(" {} |", pct(*c as f64, n as f64));
                }
                println!(" {} |", f2(weight));
            }
        }
    }
}

/// The outcome of emulated contacts at one (stream, distance).
struct SegmentContacts {
    stream: usize,
    dist_cm: u32,
    /// Per configuration (CWA, Google) and duration (15, 45 min): mean weighted minutes, share at risk.
    results: [[(f64, f64); 2]; 2],
}

/// Contact durations emulated, minutes: the "15 minutes" of the close-contact definition, and a lesson.
const CONTACT_MINUTES: [u32; 2] = [15, 45];

/// Emulates contacts of fixed length at each recorded distance and scores them with the core's
/// [`risk::score`]: the phone scans on its background schedule (a scan every 240-300 s, at a random
/// phase), each scan hears the other phone as one of the 4 s windows recorded at that distance (drawn at
/// random), and each scan is credited with the time since the previous one, as the engine does.
///
/// `shift_db` is added to every attenuation (0 for the table's calibration): the sensitivity of the result
/// to an error in the absolute level.
fn emulate_contacts(
    streams: &[Stream],
    windows: &[Window],
    shift_db: f64,
    cwa: &RiskConfig,
    google: &RiskConfig,
    duty: DutyCycle,
) -> Vec<SegmentContacts> {
    let offsets: Vec<f64> = streams.iter().map(|s| s.offset_db() + shift_db).collect();
    let mut segments: BTreeMap<(usize, u32), Vec<(f64, f64)>> = BTreeMap::new();
    for w in windows {
        segments.entry((w.stream, w.dist_cm)).or_default().push((
            window_attenuation(w, &offsets),
            offsets[w.stream] - f64::from(w.max),
        ));
    }
    let mut rng = SplitMix64::new(0x5eed_0002);
    // Noon of an arbitrary day, so that no contact crosses a UTC midnight (which would split its windows).
    let base_ms: u64 = 20_000 * 86_400_000 + 12 * 3_600_000;
    let keys = [
        KeyWeighting {
            transmission_risk_level: Some(CWA_TRANSMISSION_RISK_LEVEL),
            report_type: ReportType::ConfirmedTest,
            days_since_onset: None,
        },
        KeyWeighting {
            transmission_risk_level: None,
            report_type: ReportType::ConfirmedTest,
            days_since_onset: None,
        },
    ];
    let mut out = Vec::new();
    for ((stream, dist_cm), recorded) in segments {
        let mut results = [[(0.0, 0.0); 2]; 2];
        for (c, config) in [cwa, google].into_iter().enumerate() {
            for (d, minutes) in CONTACT_MINUTES.into_iter().enumerate() {
                let (mut weighted, mut at_risk) = (0.0, 0.0);
                for _ in 0..CONTACTS_PER_SEGMENT {
                    let exposure = Exposure {
                        key: keys[c],
                        instances: contact_scans(&recorded, minutes, duty, base_ms, &mut rng),
                        tx_power_estimated: false,
                    };
                    for day in risk::score(&[exposure], config) {
                        weighted += day.weighted_minutes;
                        at_risk += f64::from(u8::from(day.at_risk));
                    }
                }
                results[c][d] = (
                    weighted / CONTACTS_PER_SEGMENT as f64,
                    at_risk / CONTACTS_PER_SEGMENT as f64,
                );
            }
        }
        out.push(SegmentContacts {
            stream,
            dist_cm,
            results,
        });
    }
    out
}

/// The scan instances one contact of `minutes` leaves: one per background scan that falls inside it.
fn contact_scans(
    recorded: &[(f64, f64)],
    minutes: u32,
    duty: DutyCycle,
    base_ms: u64,
    rng: &mut SplitMix64,
) -> Vec<ScoredInstance> {
    let period = |rng: &mut SplitMix64| {
        rng.between(
            u64::from(duty.period_min_secs),
            u64::from(duty.period_max_secs),
        )
    };
    let end = u64::from(minutes) * 60;
    let mut previous = period(rng);
    // The contact starts somewhere within the phone's scan cycle.
    let mut t = rng.between(0, previous.saturating_sub(1));
    let mut instances = Vec::new();
    while t < end {
        let (typical, min) = recorded[rng.between(0, recorded.len() as u64 - 1) as usize];
        instances.push(ScoredInstance {
            time_ms: base_ms + t * 1000,
            seconds_since_previous_scan: u32::try_from(previous).ok(),
            typical_attenuation_db: typical,
            min_attenuation_db: min,
        });
        previous = period(rng);
        t += previous;
    }
    instances
}

/// Mean over the segments of `group` on one side of 2 m of one emulated result (configuration `c`,
/// duration `d`; `at_risk` picks the share at risk rather than the weighted minutes).
fn contact_mean(
    contacts: &[SegmentContacts],
    group: &Group,
    near: bool,
    c: usize,
    d: usize,
    at_risk: bool,
) -> Option<f64> {
    mean(
        &contacts
            .iter()
            .filter(|s| group.streams.contains(&s.stream) && (s.dist_cm <= NEAR_CM) == near)
            .map(|s| {
                let (weighted, risk) = s.results[c][d];
                if at_risk {
                    risk
                } else {
                    weighted
                }
            })
            .collect::<Vec<_>>(),
    )
}

/// A share as a whole percentage, or a dash.
fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.0} %", 100.0 * v))
}

/// Weighted minutes > 2 m per weighted minute <= 2 m, for 45-minute contacts.
fn far_near_ratio(contacts: &[SegmentContacts], group: &Group, c: usize) -> Option<f64> {
    let near = contact_mean(contacts, group, true, c, 1, false)?;
    let far = contact_mean(contacts, group, false, c, 1, false)?;
    (near > 0.0).then_some(far / near)
}

/// Weighted minutes and notification rates of the emulated contacts, near and far.
fn print_contacts(
    contacts: &[SegmentContacts],
    groups: &[Group],
    cwa: &RiskConfig,
    google: &RiskConfig,
) {
    println!("\n### Emulated contacts scored by `risk::score`\n");
    println!("Each (phone, distance) segment counts once, whatever its recording time; {CONTACTS_PER_SEGMENT} contacts per segment. Weighted minutes per 45-minute contact; \"far share\" is the share of weighted minutes that come from > 2 m when as much time is spent > 2 m as <= 2 m. CWA keys carry transmission risk level {CWA_TRANSMISSION_RISK_LEVEL} (x {:.1}).\n",
        f64::from(CWA_TRANSMISSION_RISK_LEVEL) * cwa.transmission_risk_multiplier.unwrap_or(1.0));
    for (c, config) in [cwa, google].into_iter().enumerate() {
        println!(
            "\n`{}` (at risk from {} weighted minutes a day):\n",
            config.name, config.at_risk_minutes_per_day
        );
        println!("| recording | weighted min <= 2 m | weighted min > 2 m | far/near | far share | at risk, 15 min <= 2 m | at risk, 15 min > 2 m | at risk, 45 min <= 2 m | at risk, 45 min > 2 m |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for g in groups {
            let wn = contact_mean(contacts, g, true, c, 1, false);
            let wf = contact_mean(contacts, g, false, c, 1, false);
            let share = wn
                .zip(wf)
                .and_then(|(n, f)| (n + f > 0.0).then_some(f / (n + f)));
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                g.label,
                f1(wn),
                f1(wf),
                f2(far_near_ratio(contacts, g, c)),
                percent(share),
                percent(contact_mean(contacts, g, true, c, 0, true)),
                percent(contact_mean(contacts, g, false, c, 0, true)),
                percent(contact_mean(contacts, g, true, c, 1, true)),
                percent(contact_mean(contacts, g, false, c, 1, true)),
            );
        }
    }
}

/// Buckets and notification rates by true distance, for the two pools.
fn print_by_distance(
    streams: &[Stream],
    windows: &[Window],
    contacts: &[SegmentContacts],
    cwa: &RiskConfig,
) {
    let offsets: Vec<f64> = streams.iter().map(Stream::offset_db).collect();
    let labels = bucket_labels(cwa);
    for pool in ["pc-ng, all six pairs", "Herald, iPhone files"] {
        let herald = pool.starts_with("Herald");
        println!("\n### By distance: {pool} (`{}`)\n", cwa.name);
        print!(
            "| distance cm{} | windows | median typical attenuation dB |",
            if herald {
                " (50 cm bins, upper edge)"
            } else {
                ""
            }
        );
        for l in &labels {
            print!(" {l} dB |");
        }
        println!(" at risk, 15 min | at risk, 45 min |");
        println!("|---:|---:|---:|{}---:|---:|", "---:|".repeat(labels.len()));
        // Herald's rig moves in 1-10 cm steps: rows of 50 cm keep the table readable.
        let bin = |d: u32| {
            if herald {
                d.div_ceil(50) * 50
            } else {
                d
            }
        };
        let in_pool = |i: usize| streams[i].pools.contains(&pool);
        let mut rows: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for w in windows.iter().filter(|w| in_pool(w.stream)) {
            rows.entry(bin(w.dist_cm))
                .or_default()
                .push(window_attenuation(w, &offsets));
        }
        for (d, mut att) in rows {
            let mut counts = vec![0usize; labels.len()];
            for a in &att {
                counts[bucket(cwa, *a)] += 1;
            }
            let risk = |k: usize| {
                mean(
                    &contacts
                        .iter()
                        .filter(|s| in_pool(s.stream) && bin(s.dist_cm) == d)
                        .map(|s| s.results[0][k].1)
                        .collect::<Vec<_>>(),
                )
                .map_or_else(|| "-".into(), |v| format!("{:.0} %", 100.0 * v))
            };
            let n = att.len();
            print!("| {d} | {n} | {} |", f1(median(&mut att)));
            for c in &counts {
                print!(" {} |", pct(*c as f64, n as f64));
            }
            println!(" {} | {} |", risk(0), risk(1));
        }
    }
}

/// The contact results again with every attenuation shifted by a constant. The absolute level rests on
/// calibrations the recordings cannot confirm (the research apps' advertising power is unknown, and no
/// phone of the recordings has a row of its own in the table); this shows which conclusions survive an
/// error in it. It is a sensitivity check, not a proposal: no parameter is chosen from it.
fn print_shift_sensitivity(
    streams: &[Stream],
    windows: &[Window],
    groups: &[Group],
    cwa: &RiskConfig,
    google: &RiskConfig,
    duty: DutyCycle,
) {
    println!("\n### Sensitivity to the absolute level: every attenuation shifted by a constant\n");
    println!("| pool | shift dB | CWA far/near | CWA at risk, 15 min <= 2 m / > 2 m | CWA at risk, 45 min <= 2 m / > 2 m | Google far/near | Google at risk, 45 min <= 2 m / > 2 m |");
    println!("|---|---:|---:|---|---|---:|---|");
    let runs: Vec<(i32, Vec<SegmentContacts>)> = [-10, 0, 10, 20]
        .into_iter()
        .map(|shift| {
            let contacts = emulate_contacts(streams, windows, f64::from(shift), cwa, google, duty);
            (shift, contacts)
        })
        .collect();
    for g in groups.iter().filter(|g| g.label.starts_with("**")) {
        for (shift, contacts) in &runs {
            let both = |c: usize, d: usize| {
                format!(
                    "{} / {}",
                    percent(contact_mean(contacts, g, true, c, d, true)),
                    percent(contact_mean(contacts, g, false, c, d, true))
                )
            };
            println!(
                "| {} | {shift:+} | {} | {} | {} | {} | {} |",
                g.label,
                f2(far_near_ratio(contacts, g, 0)),
                both(0, 0),
                both(0, 1),
                f2(far_near_ratio(contacts, g, 1)),
                both(1, 1),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The simulation's radio model against the recordings
// ---------------------------------------------------------------------------------------------------------

/// The carry positions of a recording's two phones: the pc-ng pair's letters, or two hands (no extra
/// loss) for Herald's rig.
fn carry_positions(pair: &str) -> (char, char) {
    let mut letters = pair.chars();
    match (letters.next(), letters.next(), letters.next()) {
        (Some(a), Some(b), None) if "HPB".contains(a) && "HPB".contains(b) => (a, b),
        _ => ('H', 'H'),
    }
}

/// Extra loss of one carry position in the model: hand 0, pocket and bag as `RadioParams` says.
fn carry_loss(params: &RadioParams, position: char) -> f64 {
    match position {
        'P' => params.pocket_db,
        'B' => params.bag_db,
        _ => 0.0,
    }
}

/// The model's median attenuation for a pair at a distance: path loss plus both carry losses. Shadowing
/// and calibration errors are centred on zero and the crowd loss strikes less than half the time, so
/// this is the median before the receiver's sensitivity cuts the weakest advertisements off.
fn model_median_db(params: &RadioParams, pair: &str, dist_cm: u32) -> f64 {
    let (a, b) = carry_positions(pair);
    params.path_loss(f64::from(dist_cm) / 100.0) + carry_loss(params, a) + carry_loss(params, b)
}

/// The model's version of one recorded window: `MODEL_SAMPLES_PER_SCAN` advertisements through
/// [`radio::rssi`], rounded to whole dBm as the simulation delivers them. Returns the typical attenuation
/// (`None` when no advertisement was received) and how many were lost below the sensitivity.
fn model_window(
    params: &RadioParams,
    tx: &PhoneRadio,
    rx: &PhoneRadio,
    dist_cm: u32,
    rng: &mut SplitMix64,
) -> (Option<f64>, usize) {
    let mut received = Vec::new();
    // One shadowing draw per window, as the simulation makes it.
    let link = radio::Link {
        distance: f64::from(dist_cm) / 100.0,
        walls: 0,
        day: 0,
        shadowing_db: params.shadowing(rng),
    };
    for _ in 0..MODEL_SAMPLES_PER_SCAN {
        if let Some(r) = radio::rssi(params, tx, rx, &link, rng) {
            received.push(
                f64::from(tx.tx_power_dbm)
                    - (r.round().clamp(-127.0, 20.0) + f64::from(rx.rssi_correction_db)),
            );
        }
    }
    let lost = MODEL_SAMPLES_PER_SCAN - received.len();
    (mean(&received), lost)
}

/// Measured and modelled windows of one (stream, distance).
#[derive(Default)]
struct ModelSegment {
    /// Typical attenuation of each recorded window.
    measured: Vec<f64>,
    /// Each recorded reading's RSSI.
    measured_rssi: Vec<f64>,
    /// Typical attenuation of each model window that heard anything.
    model: Vec<f64>,
    /// Model advertisements lost below the sensitivity.
    model_lost: usize,
    /// Readings per recorded window, on a clock fine enough to tell (how often the phone heard the other).
    measured_counts: Vec<f64>,
}

/// The simulation's radio model beside the recordings, per carry pair and by distance.
fn print_model_comparison(streams: &[Stream], windows: &[Window]) {
    let params = RadioParams::default();
    let offsets: Vec<f64> = streams.iter().map(Stream::offset_db).collect();
    let mut rng = SplitMix64::new(0x5eed_0003);
    // One model phone pair per recorded stream: the same calibrations, the model's own per-phone errors,
    // and the recording's carry positions every day.
    let model_phones: Vec<(PhoneRadio, PhoneRadio)> = streams
        .iter()
        .map(|s| {
            let (a, b) = carry_positions(&s.pair);
            let mut make = |p: &Phone, position: char| PhoneRadio {
                tx_power_dbm: p.calibration.tx_power_dbm,
                rssi_correction_db: p.calibration.rssi_correction_db,
                tx_error_db: params.calibration_error_db * rng.normal(),
                rx_error_db: params.calibration_error_db * rng.normal(),
                carry_loss_db: [carry_loss(&params, position); 14],
            };
            (make(&s.sender, a), make(&s.receiver, b))
        })
        .collect();
    let mut segments: BTreeMap<(usize, u32), ModelSegment> = BTreeMap::new();
    for w in windows {
        let (tx, rx) = &model_phones[w.stream];
        let seg = segments.entry((w.stream, w.dist_cm)).or_default();
        seg.measured.push(window_attenuation(w, &offsets));
        if !streams[w.stream].quantised_clock {
            seg.measured_counts.push(f64::from(w.count));
        }
        let (typical, lost) = model_window(&params, tx, rx, w.dist_cm, &mut rng);
        seg.model.extend(typical);
        seg.model_lost += lost;
    }
    for (i, s) in streams.iter().enumerate() {
        for x in &s.samples {
            if let Some(seg) = segments.get_mut(&(i, x.dist_cm)) {
                seg.measured_rssi.push(f64::from(x.rssi));
            }
        }
    }
    // The model's spread of one advertisement around its median: shadowing and the crowd's coin.
    let p = params.crowd_chance;
    let model_reading_sd =
        (params.shadowing_db.powi(2) + params.crowd_db.powi(2) * p * (1.0 - p)).sqrt();

    println!(
        "\n### The simulation's radio model (`RadioParams::default()`) against the recordings\n"
    );
    println!(
        "Model: path loss {:.2} dB at 1 m, exponent {}, shadowing {} dB per advertisement, pocket {} dB, \
         bag {} dB, crowd {:.0} % x {} dB, calibration error {} dB, sensitivity {} dBm; \
         {MODEL_SAMPLES_PER_SCAN} advertisements per scan window, as the simulation delivers them; hand and \
         rig 0 dB. Every recorded window gets one model window at the same distance, with the same phones' \
         calibrations. Model medians are path loss + carry losses (before the sensitivity cut); the model's \
         spread per advertisement is {model_reading_sd:.1} dB.\n",
        params.path_loss_1m_db,
        params.exponent,
        params.shadowing_db,
        params.pocket_db,
        params.bag_db,
        100.0 * params.crowd_chance,
        params.crowd_db,
        params.calibration_error_db,
        params.sensitivity_dbm
    );
    println!("| carry pair | window AUC measured | window AUC model | median att. at 1 m, meas. / model | at 2 m | at 3 m | measured - model per segment, mean and sd dB | within-segment sd per reading, measured dB | reception > 2 m relative to <= 2 m, meas. / model |");
    println!("|---|---:|---:|---|---|---|---|---:|---|");
    let mut pairs: Vec<String> = Vec::new();
    for s in streams {
        if !pairs.contains(&s.pair) {
            pairs.push(s.pair.clone());
        }
    }
    for pair in &pairs {
        let (mut meas_points, mut model_points) = (Vec::new(), Vec::new());
        let (mut residual, mut rssi_groups) = (Vec::new(), Vec::new());
        // Per side of 2 m: model advertisements lost and sent, recorded readings per window.
        let mut lost = [0usize; 2];
        let mut sent = [0usize; 2];
        let mut counts: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut at: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for ((_, d), seg) in segments
            .iter()
            .filter(|((i, _), _)| &streams[*i].pair == pair)
        {
            let near = *d <= NEAR_CM;
            meas_points.extend(seg.measured.iter().map(|a| (-a, near)));
            model_points.extend(seg.model.iter().map(|a| (-a, near)));
            let mut m = seg.measured.clone();
            if let Some(m) = median(&mut m) {
                residual.push(m - model_median_db(&params, pair, *d));
            }
            rssi_groups.push(seg.measured_rssi.clone());
            let side = usize::from(near);
            lost[side] += seg.model_lost;
            sent[side] += seg.measured.len() * MODEL_SAMPLES_PER_SCAN;
            counts[side].extend(&seg.measured_counts);
            if [100, 200, 300].contains(d) {
                at.entry(*d).or_default().extend(&seg.measured);
            }
        }
        let cell = |d: u32| {
            at.get(&d).map_or_else(
                || "-".to_string(),
                |m| {
                    let mut m = m.clone();
                    format!(
                        "{} / {:.1}",
                        f1(median(&mut m)),
                        model_median_db(&params, pair, d)
                    )
                },
            )
        };
        // Reception far relative to near: recorded readings per window, and the model's share received.
        let measured_reception = mean(&counts[0])
            .zip(mean(&counts[1]))
            .and_then(|(far, near)| (near > 0.0).then_some(far / near));
        let received =
            |side: usize| (sent[side] > 0).then(|| 1.0 - lost[side] as f64 / sent[side] as f64);
        let model_reception = received(0)
            .zip(received(1))
            .and_then(|(far, near)| (near > 0.0).then_some(far / near));
        println!(
            "| {pair} | {} | {} | {} | {} | {} | {} , {} | {} | {} / {} |",
            f2(auc(&mut meas_points)),
            f2(auc(&mut model_points)),
            cell(100),
            cell(200),
            cell(300),
            f1(mean(&residual)),
            f1(sd(&residual)),
            f1(pooled_within_sd(&rssi_groups)),
            f2(measured_reception),
            f2(model_reception),
        );
    }

    // Median attenuation by distance for the pc-ng carry pairs, measured / model.
    let pcng: Vec<&String> = pairs.iter().filter(|p| !p.starts_with("rig")).collect();
    if pcng.is_empty() {
        return;
    }
    println!("\n### Median typical attenuation by distance, pc-ng, measured / model (dB)\n");
    print!("| distance cm |");
    for p in &pcng {
        print!(" {p} |");
    }
    println!("\n|---:|{}", "---|".repeat(pcng.len()));
    let mut distances: Vec<u32> = segments
        .keys()
        .filter(|(i, _)| !streams[*i].pair.starts_with("rig"))
        .map(|(_, d)| *d)
        .collect();
    distances.sort_unstable();
    distances.dedup();
    for d in distances {
        print!("| {d} |");
        for p in &pcng {
            let mut m: Vec<f64> = segments
                .iter()
                .filter(|((i, dd), _)| *dd == d && &&streams[*i].pair == p)
                .flat_map(|(_, seg)| seg.measured.iter().copied())
                .collect();
            print!(
                " {} / {:.1} |",
                f1(median(&mut m)),
                model_median_db(&params, p, d)
            );
        }
        println!();
    }
}
