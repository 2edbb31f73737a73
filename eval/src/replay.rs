//! Contacts through the real core: a phone's store, the radio's sighting path, a signed export, matching.
//!
//! [`replay`] is the one place where contacts meet the core. Each receiving phone model gets real phones
//! ([`Phone`] on a sled store in a temporary folder); each contact is one UTC day of one phone, its sender
//! one published key: the contact's sightings carry the sender's rolling identifiers and encrypted
//! metadata (its calibrated TX power) and enter through [`Phone::record_sightings`], the radio's own entry
//! (the same rule for unknown RSSI), and are aggregated into scan instances by the store. The senders' keys
//! are published in an export built and signed by the core's [`ExportBuilder`], read back and verified, and
//! matched against what the phone heard with [`match_export`], as the phone's check of an export does.
//! What comes back, per contact, is the matched exposures that `risk::score` turns into the day's result
//! under any configuration (as the phone's check does with its own); the same matches serve every
//! candidate.

use std::collections::BTreeMap;

use openzone_core::export::signing::SigningKey;
use openzone_core::export::{Export, ExportBuilder, ExportKey, ReportType};
use openzone_core::matching::{match_export, HeardIndex, MatchContext};
use openzone_core::phone::{DataKey, Phone, PhoneConfig};
use openzone_core::platform::NoRadio;
use openzone_core::protocol::en_v1::{EnV1, ExposureKey, TemporaryExposureKey, EK_ROLLING_PERIOD};
use openzone_core::protocol::Scheme;
use openzone_core::risk::calibration::CalibrationTable;
use openzone_core::risk::Exposure;
use openzone_core::seeded::SplitMix64;
use openzone_core::sighting::{Sighting, Source};
use openzone_core::time::{Clock, MS_PER_DAY};

use crate::contacts::Contact;
use crate::datasets::Dataset;
use crate::EvalError;

/// Contacts per store: each on its own UTC day, all of them within the 14 days that matching looks back.
const DAYS_PER_STORE: usize = 13;
/// The first contact's day: 2026-01-01.
const FIRST_DAY: u32 = 20_454;
/// Contacts begin at 08:00 UTC.
const CONTACT_START_MS: u64 = 8 * 3_600_000;
/// The transmission risk level of the published keys: 7, what Corona-Warn-App publishes for a confirmed
/// test with standard infectiousness (`trlEncoding` in cwa-server's `risk-calculation-parameters.yaml`: 6 + 1).
pub const TRANSMISSION_RISK_LEVEL: u8 = 7;

/// The matched exposures of every contact, in the order of `contacts`.
pub fn replay(
    dataset: &Dataset,
    contacts: &[Contact],
    seed: u64,
) -> Result<Vec<Vec<Exposure>>, EvalError> {
    let mut rng = SplitMix64::new(seed);
    let (signer, _) = SigningKey::generate("openzone-eval", "v1")?;
    // One phone per receiving model: its RSSI correction is the phone's calibration.
    let mut by_receiver: BTreeMap<i8, Vec<usize>> = BTreeMap::new();
    for (i, c) in contacts.iter().enumerate() {
        let correction = dataset.recordings[c.recording].receiver.rssi_correction_db;
        by_receiver.entry(correction).or_default().push(i);
    }
    let mut out = vec![Vec::new(); contacts.len()];
    for (correction, indices) in by_receiver {
        let mut receiver = CalibrationTable::builtin().fleet();
        receiver.rssi_correction_db = correction;
        for batch in indices.chunks(DAYS_PER_STORE) {
            let matched = replay_batch(dataset, contacts, batch, receiver, &signer, &mut rng)?;
            for (i, exposures) in batch.iter().zip(matched) {
                out[*i] = exposures;
            }
        }
    }
    Ok(out)
}

/// Up to 13 contacts of one receiving phone: one store, one export.
fn replay_batch(
    dataset: &Dataset,
    contacts: &[Contact],
    batch: &[usize],
    receiver: openzone_core::risk::calibration::DeviceCalibration,
    signer: &SigningKey,
    rng: &mut SplitMix64,
) -> Result<Vec<Vec<Exposure>>, EvalError> {
    let now_ms = u64::from(FIRST_DAY + DAYS_PER_STORE as u32 + 1) * MS_PER_DAY;
    let dir = temp_dir()?;
    let mut config = PhoneConfig::new(dir.path(), DataKey::from_bytes(random_bytes(rng)));
    config.calibration = receiver;
    let phone = Phone::open(
        config,
        std::sync::Arc::new(NoRadio),
        None,
        std::sync::Arc::new(FixedClock(now_ms)),
    )?;
    let mut keys = Vec::with_capacity(batch.len());
    for (day_index, &i) in batch.iter().enumerate() {
        let contact = &contacts[i];
        let day = FIRST_DAY + day_index as u32;
        let key = ExposureKey::new(
            TemporaryExposureKey::from_bytes(random_bytes(rng)),
            day * EK_ROLLING_PERIOD,
            EK_ROLLING_PERIOD,
        )?;
        let sender = EnV1::new(dataset.recordings[contact.recording].sender.tx_power_dbm);
        let start_ms = u64::from(day) * MS_PER_DAY + CONTACT_START_MS;
        let sightings: Vec<Sighting> = contact
            .sightings
            .iter()
            .filter_map(|&(offset_ms, rssi)| {
                let time_ms = start_ms + offset_ms;
                let (_, payload) = sender.payload_at(&key, time_ms / 1_000)?;
                Some(Sighting {
                    payload,
                    rssi,
                    tx_power: None,
                    time_ms,
                    source: Source::Advertisement,
                })
            })
            .collect();
        phone.record_sightings(&sightings)?;
        keys.push(ExportKey {
            key,
            transmission_risk_level: Some(TRANSMISSION_RISK_LEVEL),
            report_type: ReportType::ConfirmedTest,
            days_since_onset: Some(0),
        });
    }
    phone.checkpoint()?;
    // Servers publish keys sorted by their bytes.
    keys.sort_by(|a, b| a.key.tek.as_bytes().cmp(b.key.tek.as_bytes()));
    let zip = ExportBuilder {
        start_timestamp: u64::from(FIRST_DAY) * 86_400,
        end_timestamp: now_ms / 1_000,
        region: "VN".into(),
        ..ExportBuilder::one_file(keys)
    }
    .build_zip(signer)?;
    let export = Export::from_zip_bytes(&zip)?.verify(&[signer.verification_key()])?;
    let ctx = MatchContext::new(
        now_ms,
        receiver,
        CalibrationTable::builtin().fleet().tx_power_dbm,
    );
    let index = HeardIndex::new(phone.heard()?);
    let outcome = match_export(&index, &export, &ctx);
    // Each exposure is one key, hence one contact: its day says which.
    let mut out = vec![Vec::new(); batch.len()];
    for exposure in outcome.exposures {
        let Some(first) = exposure.instances.iter().map(|i| i.time_ms).min() else {
            continue;
        };
        let day_index = (first / MS_PER_DAY) as usize - FIRST_DAY as usize;
        if let Some(slot) = out.get_mut(day_index) {
            slot.push(exposure);
        }
    }
    Ok(out)
}

/// The replay's clock: the day after the last contact, when every key has expired.
#[derive(Debug)]
struct FixedClock(u64);

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0
    }
}

/// A temporary folder for a store: in memory (`/dev/shm`) where there is one, as the simulation does, so
/// that hundreds of stores cost no disk syncs.
fn temp_dir() -> Result<tempfile::TempDir, EvalError> {
    let shm = std::path::Path::new("/dev/shm");
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix("openzone-eval-");
        b
    };
    let made = if shm.is_dir() {
        builder.tempdir_in(shm).or_else(|_| builder.tempdir())
    } else {
        builder.tempdir()
    };
    made.map_err(|e| EvalError::Output {
        path: std::env::temp_dir(),
        message: format!("cannot create a temporary store folder: {e}"),
    })
}

fn random_bytes<const N: usize>(rng: &mut SplitMix64) -> [u8; N] {
    std::array::from_fn(|_| rng.next_u64() as u8)
}
