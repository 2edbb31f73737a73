//! theheraldproject/herald-analysis at commit fb668bec0fdf6a9c3f1fa99f6ff8e29eff8c2108,
//! `reference-data/rssi-raw-edison` (Apache-2.0).
//!
//! A robot rig moves one phone against a static one, no bodies: iPhone 6 Plus and 6S (0-300 cm, 10 cm
//! steps, 20 min each), iPhone 6S Plus and 8 Plus (0-340 cm, 1 cm steps, 4 min each), a Samsung A10 hearing
//! an A20 (0-300 cm). Files `time, rssi, distance (cm)`; `metadata.csv` names phone A and B of each test
//! and their files, `phones.csv` their models. The suffix A or B of a file names the phone that logged.

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    csv_reader, file_log, file_name, files_under, header_columns, parse_cm, parse_rssi,
    parse_timestamp_ms, relative, Dataset, Distance, FileLog, Label, Phone, Reading, Recording,
    ScanWindows,
};
use crate::EvalError;

/// Distances are grouped by 10 cm: the 1 cm sweeps hold 4 minutes per centimetre, too little for a
/// 15-minute contact, and 10 cm is the other sweeps' step.
const BIN_CM: u32 = 10;

/// Reads the rig's recordings in `dir`.
pub fn load(dir: &Path) -> Result<Dataset, EvalError> {
    let tests = read_table(&dir.join("metadata.csv"))?;
    let phones = read_table(&dir.join("phones.csv"))?;
    let model_of = |short: &str| {
        phones
            .iter()
            .find(|p| p.get("name").is_some_and(|n| n == short))
            .and_then(|p| p.get("model").cloned())
            .unwrap_or_else(|| short.to_string())
    };
    let mut recordings = Vec::new();
    let mut files = Vec::new();
    for path in files_under(dir, "csv")? {
        let name = file_name(&path);
        if name == "metadata.csv" || name == "phones.csv" {
            continue;
        }
        // The suffix names the phone that logged: A is the test's phone A, which heard phone B.
        let Some((rx, tx)) = tests.iter().find_map(|t| {
            let get = |k: &str| t.get(k).map(String::as_str).unwrap_or_default();
            if get("filenamephonea") == name {
                Some((get("phoneaname").to_string(), get("phonebname").to_string()))
            } else if get("filenamephoneb") == name {
                Some((get("phonebname").to_string(), get("phoneaname").to_string()))
            } else {
                None
            }
        }) else {
            continue;
        };
        let (readings, log) = read_file(&path, &relative(&path, dir))?;
        files.push(log);
        let (receiver, sender) = (Phone::named(&model_of(&rx)), Phone::named(&model_of(&tx)));
        let test = name.trim_end_matches(".csv");
        recordings.push(Recording {
            name: format!("herald {test}: {} <- {}", receiver.name, sender.name),
            session: format!(
                "herald {}",
                test.trim_end_matches(['A', 'B']).trim_end_matches('-')
            ),
            carriage: "rig".into(),
            receiver,
            sender,
            readings,
            label: Label::ByDistance,
            windows: ScanWindows::ByTime,
            bin_cm: BIN_CM,
        });
    }
    if recordings.is_empty() {
        return Err(EvalError::data(
            dir,
            "no recording named in metadata.csv was found",
        ));
    }
    Ok(Dataset {
        name: "herald".into(),
        source: "theheraldproject/herald-analysis @ fb668bec0fdf6a9c3f1fa99f6ff8e29eff8c2108, reference-data/rssi-raw-edison (Apache-2.0)".into(),
        recordings,
        files,
        synthetic: false,
    })
}

/// One rig file's readings.
pub(crate) fn read_file(path: &Path, label: &str) -> Result<(Vec<Reading>, FileLog), EvalError> {
    let mut reader = csv_reader(path, true)?;
    let cols = header_columns(&mut reader, path, &["time", "rssi", "distance"])?;
    let mut readings = Vec::new();
    let mut log = file_log(label);
    for record in reader.records() {
        let parsed = record.ok().and_then(|r| {
            Some(Reading {
                t_ms: parse_timestamp_ms(r.get(cols[0])?)?,
                rssi: parse_rssi(r.get(cols[1])?)?,
                distance: Distance::MeasuredCm(parse_cm(r.get(cols[2])?)?),
            })
        });
        match parsed {
            Some(reading) => readings.push(reading),
            None => log.skipped += 1,
        }
    }
    log.rows = readings.len();
    Ok((readings, log))
}

/// A small CSV with a header, as rows of lower-case name -> value.
fn read_table(path: &Path) -> Result<Vec<BTreeMap<String, String>>, EvalError> {
    let mut reader = csv_reader(path, true)?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| EvalError::data(path, format!("no header row: {e}")))?
        .iter()
        .map(str::to_lowercase)
        .collect();
    Ok(reader
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect())
}
