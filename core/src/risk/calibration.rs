//! BLE calibration: how loud each phone model transmits and how its receiver reads, so that attenuation is
//! comparable across models.
//!
//! `Attenuation = TX_power(sender) - (RSSI_measured + RSSI_correction(receiver))`, as Google defines it for
//! exposure notification. The table is Google's 2020-12-14 calibration of 551 Android models (via microG;
//! see `core/data/calibration/README.md` for provenance and attribution), looked up as microG does: the exact
//! model, then sister devices, then the manufacturer's average, then the fleet average.

use std::sync::LazyLock;

use crate::error::Error;
use crate::wire::Error as WireError;

/// How sure the calibration of a phone is (the exposure-notification `CalibrationConfidence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// The fleet-wide average (0).
    Lowest,
    /// The manufacturer's average (1).
    Low,
    /// Averaged over models sharing a device or model name (2).
    Medium,
    /// Measured for this model (3).
    High,
}

/// The calibration of one phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCalibration {
    /// The TX power the phone announces in its metadata, dBm.
    pub tx_power_dbm: i8,
    /// Added to the RSSI the phone measures, dB.
    pub rssi_correction_db: i8,
    /// How sure this is.
    pub confidence: Confidence,
}

#[derive(Debug, Clone)]
struct Row {
    oem: String,
    device: String,
    model: String,
    tx_power_dbm: i8,
    rssi_correction_db: i8,
}

/// The calibration table.
#[derive(Debug, Clone)]
pub struct CalibrationTable {
    rows: Vec<Row>,
    fleet: DeviceCalibration,
}

const BUILTIN_CSV: &str = include_str!("../../data/calibration/en-calibration.csv");

static BUILTIN: LazyLock<CalibrationTable> = LazyLock::new(|| {
    CalibrationTable::from_csv(BUILTIN_CSV)
        .unwrap_or_else(|e| unreachable!("the built-in table parses: {e}"))
});

impl CalibrationTable {
    /// Google's table of 551 models, built into the core.
    pub fn builtin() -> &'static CalibrationTable {
        &BUILTIN
    }

    /// Parses a table in the `oem,device,model,tx_power_dbm,rssi_correction_db,calibration_confidence`
    /// layout (header line first).
    pub fn from_csv(text: &str) -> Result<Self, Error> {
        /// One line of the table; the confidence column is Google's and not used here.
        #[derive(serde::Deserialize)]
        struct Line {
            oem: String,
            device: String,
            model: String,
            tx_power_dbm: i8,
            rssi_correction_db: i8,
            #[serde(rename = "calibration_confidence")]
            _confidence: String,
        }
        const HEADER: [&str; 6] = [
            "oem",
            "device",
            "model",
            "tx_power_dbm",
            "rssi_correction_db",
            "calibration_confidence",
        ];
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header_ok = reader
            .headers()
            .is_ok_and(|h| h.iter().eq(HEADER.iter().copied()));
        if !header_ok {
            return Err(WireError::InvalidConfig(format!(
                "the calibration table's header is not {}",
                HEADER.join(",")
            ))
            .into());
        }
        let mut rows = Vec::new();
        for record in reader.deserialize::<Line>() {
            let line = record.map_err(|e| {
                let at = e.position().map_or(0, |p| p.line());
                WireError::InvalidConfig(format!(
                    "calibration table line {at}: expected 6 comma-separated fields, TX power and \
                     RSSI correction numbers from -128 to 127 ({e})"
                ))
            })?;
            rows.push(Row {
                oem: line.oem.to_lowercase(),
                device: line.device.to_lowercase(),
                model: line.model.to_lowercase(),
                tx_power_dbm: line.tx_power_dbm,
                rssi_correction_db: line.rssi_correction_db,
            });
        }
        if rows.is_empty() {
            return Err(
                WireError::InvalidConfig("the calibration table has no rows".into()).into(),
            );
        }
        let fleet = average(rows.iter(), Confidence::Lowest);
        Ok(Self { rows, fleet })
    }

    /// Models in the table.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table is empty (a parsed table never is).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The calibration of the table's `index`-th model (for simulations drawing phones from the table).
    pub fn model(&self, index: usize) -> Option<DeviceCalibration> {
        self.rows.get(index).map(|row| DeviceCalibration {
            tx_power_dbm: row.tx_power_dbm,
            rssi_correction_db: row.rssi_correction_db,
            confidence: Confidence::High,
        })
    }

    /// The fleet average: what an unknown phone, an iPhone or a Bluezone peer is assumed to be.
    pub fn fleet(&self) -> DeviceCalibration {
        self.fleet
    }

    /// The calibration of the phone that reports these `android.os.Build` values (case is ignored).
    pub fn lookup(&self, manufacturer: &str, device: &str, model: &str) -> DeviceCalibration {
        let (oem, device, model) = (
            manufacturer.to_lowercase(),
            device.to_lowercase(),
            model.to_lowercase(),
        );
        if let Some(row) = self
            .rows
            .iter()
            .find(|r| r.oem == oem && r.device == device && r.model == model)
        {
            return DeviceCalibration {
                tx_power_dbm: row.tx_power_dbm,
                rssi_correction_db: row.rssi_correction_db,
                confidence: Confidence::High,
            };
        }
        // Custom ROMs often report slightly different names: a shared device or model name is a sister.
        let sisters: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| {
                (!device.is_empty() && r.device == device)
                    || (!model.is_empty() && r.model == model)
            })
            .collect();
        if !sisters.is_empty() {
            return average(sisters.into_iter(), Confidence::Medium);
        }
        let same_oem: Vec<&Row> = self.rows.iter().filter(|r| r.oem == oem).collect();
        if !same_oem.is_empty() {
            return average(same_oem.into_iter(), Confidence::Low);
        }
        self.fleet
    }
}

/// The mean of each column, rounded half up as Kotlin's `roundToInt` does (microG's rule).
fn average<'a>(rows: impl Iterator<Item = &'a Row>, confidence: Confidence) -> DeviceCalibration {
    let (mut n, mut tx, mut rssi) = (0f64, 0f64, 0f64);
    for row in rows {
        n += 1.0;
        tx += f64::from(row.tx_power_dbm);
        rssi += f64::from(row.rssi_correction_db);
    }
    let round = |sum: f64| (sum / n.max(1.0) + 0.5).floor().clamp(-128.0, 127.0) as i8;
    DeviceCalibration {
        tx_power_dbm: round(tx),
        rssi_correction_db: round(rssi),
        confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_has_every_model() {
        let table = CalibrationTable::builtin();
        assert_eq!(table.rows.len(), 551);
        assert_eq!(
            table.fleet(),
            DeviceCalibration {
                tx_power_dbm: -25,
                rssi_correction_db: 4,
                confidence: Confidence::Lowest
            }
        );
    }

    #[test]
    fn exact_matches_ignore_case() {
        let table = CalibrationTable::builtin();
        assert_eq!(
            table.lookup("Google", "sargo", "Pixel 3a"),
            DeviceCalibration {
                tx_power_dbm: -29,
                rssi_correction_db: 2,
                confidence: Confidence::High
            }
        );
        assert_eq!(
            table.lookup("samsung", "beyond1", "SM-G973F").tx_power_dbm,
            -29
        );
        assert_eq!(
            table
                .lookup("tct (alcatel)", "Faraday", "5024A")
                .rssi_correction_db,
            -6
        );
    }

    #[test]
    fn fallbacks_follow_microg() {
        let table = CalibrationTable::builtin();
        // A Pixel 3a with a custom ROM's model name: its device name makes it a sister.
        let sister = table.lookup("google", "sargo", "Pixel 3a (LineageOS)");
        assert_eq!(sister.confidence, Confidence::Medium);
        assert_eq!((sister.tx_power_dbm, sister.rssi_correction_db), (-29, 2));
        // An unknown Samsung: the Samsung average from the fallbacks file.
        let samsung = table.lookup("samsung", "unknown", "SM-X000");
        assert_eq!(samsung.confidence, Confidence::Low);
        let fallbacks = include_str!("../../data/calibration/en-calibration-fallbacks.csv");
        let row = fallbacks
            .lines()
            .find(|l| l.starts_with("oem,samsung,"))
            .unwrap();
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(samsung.tx_power_dbm.to_string(), fields[3]);
        assert_eq!(samsung.rssi_correction_db.to_string(), fields[4]);
        // An iPhone is not in Google's table.
        assert_eq!(
            table.lookup("Apple", "iPhone12,1", "iPhone 11"),
            table.fleet()
        );
    }

    #[test]
    fn every_oem_average_matches_the_fallbacks_file() {
        let table = CalibrationTable::builtin();
        let fallbacks = include_str!("../../data/calibration/en-calibration-fallbacks.csv");
        for line in fallbacks.lines().filter(|l| l.starts_with("oem,")) {
            let f: Vec<&str> = line.split(',').collect();
            let c = table.lookup(f[1], "\u{0}", "\u{0}");
            assert_eq!(
                (c.tx_power_dbm.to_string(), c.rssi_correction_db.to_string()),
                (f[3].into(), f[4].into()),
                "{line}"
            );
        }
    }

    #[test]
    fn bad_tables_are_errors() {
        for csv in [
            "",
            "wrong,header\n",
            "oem,device,model,tx_power_dbm,rssi_correction_db,calibration_confidence\n",
            "oem,device,model,tx_power_dbm,rssi_correction_db,calibration_confidence\na,b,c,1,2\n",
            "oem,device,model,tx_power_dbm,rssi_correction_db,calibration_confidence\na,b,c,x,2,3\n",
            "oem,device,model,tx_power_dbm,rssi_correction_db,calibration_confidence\na,b,c,1,999,3\n",
        ] {
            assert!(matches!(CalibrationTable::from_csv(csv), Err(Error::Wire(WireError::InvalidConfig(_)))), "{csv}");
        }
    }
}
