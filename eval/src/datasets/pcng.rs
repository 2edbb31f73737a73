//! pc-ng/rss_smartphone: Ng, Spachos and Plataniotis, "COVID-19 and Your Smartphone: BLE-based Smart
//! Contact Tracing", IEEE Systems Journal 2021; repository `pc-ng/rss_smartphone` at commit
//! c6dd9d2b871546a2bcd802362fa2791cfd5e4241 (MIT licence).
//!
//! Two people carry Android phones in hand (H), pocket (P) or backpack (B) in six combinations,
//! `<Pos1><Pos2>/RSS_human<XY>.csv`, about a minute or two at each distance from 20 to 200 cm in 20 cm
//! steps, then 300, 400 and 500 cm. Columns `device, elapsed (s), rss (dBm), mRSS10, mRSS100, dist (cm),
//! label`; the `device` column names the logging phone, so each file holds two recordings, and the phone
//! heard is the file's other phone. The repository's training and testing splits are subsets of these files
//! and are not read.

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    csv_reader, file_log, file_name, files_under, header_columns, parse_cm, parse_rssi, relative,
    Dataset, Distance, FileLog, Label, Phone, Reading, Recording, ScanWindows,
};
use crate::EvalError;

/// The scan window the recordings are cut into when a clock is too coarse to cut by time, seconds (the
/// engine's background scan).
const WINDOW_MS: i64 = 4_000;

/// Reads the six recordings of `dir`.
pub fn load(dir: &Path) -> Result<Dataset, EvalError> {
    let mut recordings = Vec::new();
    let mut files = Vec::new();
    for path in files_under(dir, "csv")? {
        let name = file_name(&path);
        let Some(pair) = name
            .strip_prefix("RSS_human")
            .and_then(|n| n.strip_suffix(".csv"))
            .filter(|p| p.len() == 2 && p.chars().all(|c| "HPB".contains(c)))
        else {
            continue;
        };
        let (by_device, log) = read_file(&path, &relative(&path, dir))?;
        files.push(log);
        let devices: Vec<String> = by_device.keys().cloned().collect();
        let mut pair_recordings: Vec<Recording> = Vec::new();
        for (device, readings) in by_device {
            // With any other number of phones than two, the sender is unknown: the fleet average.
            let others: Vec<&String> = devices.iter().filter(|d| **d != device).collect();
            let sender = match others[..] {
                [other] => Phone::named(other),
                _ => Phone::named("unknown sender"),
            };
            pair_recordings.push(Recording {
                name: format!("pc-ng {pair}: {device} <- {}", sender.name),
                session: format!("pc-ng {pair}"),
                carriage: pair.into(),
                receiver: Phone::named(&device),
                sender,
                readings,
                label: Label::ByDistance,
                windows: ScanWindows::ByTime,
                bin_cm: 1,
            });
        }
        set_window_sizes(&mut pair_recordings);
        recordings.extend(pair_recordings);
    }
    if recordings.is_empty() {
        return Err(EvalError::data(dir, "no RSS_human<XY>.csv recording found"));
    }
    Ok(Dataset {
        name: "pc-ng".into(),
        source: "pc-ng/rss_smartphone @ c6dd9d2b871546a2bcd802362fa2791cfd5e4241 (MIT): Ng, Spachos and Plataniotis, IEEE Systems Journal 2021".into(),
        recordings,
        files,
        synthetic: false,
    })
}

/// The readings of one file per logging phone, in file order.
pub(crate) fn read_file(
    path: &Path,
    label: &str,
) -> Result<(BTreeMap<String, Vec<Reading>>, FileLog), EvalError> {
    let mut reader = csv_reader(path, true)?;
    let cols = header_columns(&mut reader, path, &["device", "elapsed", "rss", "dist"])?;
    let mut by_device: BTreeMap<String, Vec<Reading>> = BTreeMap::new();
    let mut log = file_log(label);
    for record in reader.records() {
        let parsed = record.ok().and_then(|r| {
            let field = |i: usize| r.get(cols[i]);
            let device = field(0).filter(|d| !d.is_empty())?.to_string();
            let elapsed: f64 = field(1)?.parse().ok().filter(|t: &f64| t.is_finite())?;
            let reading = Reading {
                t_ms: (elapsed * 1_000.0).round() as i64,
                rssi: parse_rssi(field(2)?)?,
                distance: Distance::MeasuredCm(parse_cm(field(3)?)?),
            };
            Some((device, reading))
        });
        match parsed {
            Some((device, reading)) => {
                log.rows += 1;
                by_device.entry(device).or_default().push(reading);
            }
            None => log.skipped += 1,
        }
    }
    Ok((by_device, log))
}

/// Some pc-ng phones logged their clock in steps of 100 s: their windows are cut by count instead, as many
/// readings as the file's other phone (with a fine clock) logged per 4 s window, else the recording's own
/// rate over its span.
fn set_window_sizes(recordings: &mut [Recording]) {
    let quantised = |r: &Recording| {
        r.readings
            .windows(2)
            .map(|w| (w[1].t_ms - w[0].t_ms).abs())
            .filter(|dt| *dt > 0)
            .min()
            .is_some_and(|step| step >= WINDOW_MS)
    };
    let fine_rate = recordings
        .iter()
        .filter(|r| !quantised(r))
        .map(readings_per_window)
        .next();
    for r in recordings.iter_mut() {
        if quantised(r) {
            let n = fine_rate.unwrap_or_else(|| readings_per_window(r));
            r.windows = ScanWindows::ByCount(n.round().max(1.0) as usize);
        }
    }
}

/// Mean readings per 4 s over a recording's span.
fn readings_per_window(r: &Recording) -> f64 {
    let (lo, hi) = r.readings.iter().fold((i64::MAX, i64::MIN), |(lo, hi), x| {
        (lo.min(x.t_ms), hi.max(x.t_ms))
    });
    let span = (hi - lo).max(WINDOW_MS) as f64;
    r.readings.len() as f64 / span * WINDOW_MS as f64
}
