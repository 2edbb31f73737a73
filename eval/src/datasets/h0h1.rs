//! MIT Lincoln Laboratory's PACT situational test, `mitll/H0H1` at commit
//! 49abe75b276e1772f03a0a5372f513ace89fbc69 (CC BY 4.0, © 2020 Massachusetts Institute of Technology).
//!
//! Household pairs carry iPhones for about 15 minutes while living normally (hands, pockets, sitting,
//! standing, many angles): `Close/` is the H1 test (kept within 6 ft, 1.8 m), `Far/` the H0 test (kept 10 ft,
//! 3 m, or more apart). One `log_*.txt` file per phone per test, lines `timestamp, kind, ...`:
//! `Device,<model>,...` names the logging phone, `Range,<ft>` the distance the testers noted (it changes
//! during some tests), `Bluetooth,<peer UUID>,<RSSI>,<name>,<tx power>,<time>` one advertisement heard,
//! where the name `BlueProxTx` marks the partner phone (other UUIDs are bystanders; RSSI 127 means
//! unknown). Each recording is one contact, labelled by its folder.

use std::collections::HashSet;
use std::path::Path;

use super::{
    csv_reader, file_log, files_under, parse_rssi, parse_timestamp_ms, relative, Dataset, Distance,
    FileLog, Label, Phone, Reading, Recording, ScanWindows,
};
use crate::EvalError;

/// The advertised name of the BlueProx app on the partner phone.
const PARTNER_NAME: &str = "BlueProxTx";
/// Feet in metres (the testers noted ranges in feet).
const FOOT_M: f64 = 0.3048;

/// Reads the `Close/` and `Far/` logs of `dir`.
pub fn load(dir: &Path) -> Result<Dataset, EvalError> {
    let mut recordings: Vec<Recording> = Vec::new();
    let mut files = Vec::new();
    let mut spans: Vec<(bool, i64, i64)> = Vec::new();
    for (folder, near) in [("Close", true), ("Far", false)] {
        for path in files_under(&dir.join(folder), "txt")? {
            let label = relative(&path, dir);
            let Some(log) = read_file(&path, &label)? else {
                continue;
            };
            files.push(log.file);
            if log.readings.is_empty() {
                continue;
            }
            let first = log.readings.first().map_or(0, |r| r.t_ms);
            let last = log.readings.last().map_or(0, |r| r.t_ms);
            spans.push((near, first, last));
            let carriage = label
                .split('/')
                .skip(1)
                .take_while(|c| !c.ends_with(".txt"))
                .collect::<Vec<_>>()
                .join(" ");
            recordings.push(Recording {
                name: format!("h0h1 {label}"),
                session: String::new(),
                carriage,
                receiver: Phone::named(&log.device),
                sender: Phone::named("iPhone (partner)"),
                readings: log.readings,
                label: Label::Contact { near },
                windows: ScanWindows::ByTime,
                bin_cm: 1,
            });
        }
    }
    if recordings.is_empty() {
        return Err(EvalError::data(
            dir,
            "no log_*.txt file with partner readings under Close/ or Far/",
        ));
    }
    // The two phones of one test recorded at the same time: files whose partner readings overlap in time
    // are one session.
    let mut session: Vec<usize> = (0..recordings.len()).collect();
    for i in 0..spans.len() {
        for j in 0..i {
            let (a, b) = (spans[i], spans[j]);
            if a.0 == b.0 && a.1 <= b.2 && b.1 <= a.2 {
                let root = session[j];
                let old = session[i];
                session
                    .iter_mut()
                    .filter(|s| **s == old)
                    .for_each(|s| *s = root);
            }
        }
    }
    for (r, s) in recordings.iter_mut().zip(&session) {
        r.session = format!("h0h1 test {s}");
    }
    Ok(Dataset {
        name: "h0h1".into(),
        source: "mitll/H0H1 @ 49abe75b276e1772f03a0a5372f513ace89fbc69 (CC BY 4.0, © 2020 MIT): MIT Lincoln Laboratory PACT situational test".into(),
        recordings,
        files,
        synthetic: false,
    })
}

/// What one log holds: the logging phone and its readings of the partner.
pub(crate) struct Log {
    pub(crate) device: String,
    pub(crate) readings: Vec<Reading>,
    pub(crate) file: FileLog,
}

/// Reads one log; `None` when it names no logging phone (not a BlueProx log).
pub(crate) fn read_file(path: &Path, label: &str) -> Result<Option<Log>, EvalError> {
    // The logs have no header row.
    let mut reader = csv_reader(path, false)?;
    let mut device = None;
    let mut noted_m = None;
    let mut partners: HashSet<String> = HashSet::new();
    // (time, peer, rssi, noted range) of every advertisement; the partner is known only once its name
    // was seen, which may come after its first readings.
    let mut heard: Vec<(i64, String, i8, Option<f64>)> = Vec::new();
    let mut file = file_log(label);
    for record in reader.records() {
        let Ok(r) = record else {
            file.skipped += 1;
            continue;
        };
        match r.get(1) {
            Some("Device") => device = r.get(2).map(String::from),
            Some("Range") => {
                noted_m = r
                    .get(2)
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| v.is_finite() && *v > 0.0 && *v < 1_000.0)
                    .map(|ft| ft * FOOT_M);
            }
            Some("Bluetooth") => {
                let parsed = (|| {
                    let t = parse_timestamp_ms(r.get(0)?)?;
                    let peer = r.get(2)?.to_string();
                    let rssi_field = r.get(3)?;
                    let name = r.get(4)?;
                    if name == PARTNER_NAME {
                        partners.insert(peer.clone());
                    }
                    // 127: the radio reported no RSSI; the advertisement proves presence, not distance.
                    let rssi = if rssi_field == "127" {
                        None
                    } else {
                        Some(parse_rssi(rssi_field)?)
                    };
                    Some((t, peer, rssi))
                })();
                match parsed {
                    Some((t, peer, Some(rssi))) => heard.push((t, peer, rssi, noted_m)),
                    Some((_, _, None)) => {}
                    None => file.skipped += 1,
                }
            }
            _ => {}
        }
    }
    let Some(device) = device else {
        return Ok(None);
    };
    let readings: Vec<Reading> = heard
        .into_iter()
        .filter(|(_, peer, ..)| partners.contains(peer))
        .map(|(t_ms, _, rssi, noted_m)| Reading {
            t_ms,
            rssi,
            distance: noted_m.map_or(Distance::Unknown, Distance::NotedM),
        })
        .collect();
    file.rows = readings.len();
    Ok(Some(Log {
        device,
        readings,
        file,
    }))
}
