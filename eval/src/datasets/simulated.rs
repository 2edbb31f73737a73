//! A campaign recorded by the simulation's radio model (`openzone_sim::radio`) instead of phones: the
//! design of pc-ng (two people, six carriage pairs of hand, pocket and backpack, 20 to 200 cm in 20 cm
//! steps, then 300, 400 and 500 cm, both directions), so that the harness measures the model exactly as it
//! measures real recordings and the simulation can be calibrated against them.
//!
//! Each pair of phones is drawn as the simulation draws its phones (an Android model from the calibration
//! table, with its own calibration errors); each distance is held for 90 s, one situation (posture,
//! orientation) per distance as in the real sweep; the phone logs five advertisements a second, each through
//! [`radio::rssi`] with a shadowing draw per 4 s scan window, as the simulation delivers them.

use openzone_core::seeded::SplitMix64;
use openzone_sim::radio::{self, Link, PhoneRadio, RadioParams};

use super::{Dataset, Distance, FileLog, Label, Phone, Reading, Recording, ScanWindows};
use crate::EvalError;

/// The carriage pairs, as pc-ng names them: H(and), P(ocket), B(ackpack).
const CARRIAGES: [&str; 6] = ["HH", "HP", "HB", "PP", "PB", "BB"];
/// Seconds at each distance.
const SEGMENT_S: i64 = 90;
/// Readings a second.
const RATE_HZ: i64 = 5;
/// A scan window, ms: the shadowing is drawn once per window.
const WINDOW_MS: i64 = 4_000;

/// The distances of the sweep, centimetres.
fn distances_cm() -> impl Iterator<Item = u32> {
    (1..=10).map(|k| k * 20).chain([300, 400, 500])
}

/// The simulated campaign under `params`.
pub fn generate(params: &RadioParams, seed: u64) -> Result<Dataset, EvalError> {
    params.check()?;
    let mut rng = SplitMix64::new(seed ^ 0x51_4D);
    let mut recordings = Vec::new();
    for (pair_index, carriage) in CARRIAGES.iter().enumerate() {
        let mut phones = [
            PhoneRadio::draw(params, false, &mut rng),
            PhoneRadio::draw(params, false, &mut rng),
        ];
        let positions: Vec<char> = carriage.chars().collect();
        for (phone, position) in phones.iter_mut().zip(&positions) {
            phone.carry_loss_db = [carry_loss(params, *position); 14];
        }
        let ids = [2 * pair_index, 2 * pair_index + 1];
        for (rx, tx) in [(0, 1), (1, 0)] {
            let mut readings = Vec::new();
            for (segment, d) in distances_cm().enumerate() {
                // One situation per distance: both directions share it, as both phones share a posture.
                let situation = params.situation(seed, ids[0], ids[1], 0, segment as u32 * 60);
                let start = segment as i64 * SEGMENT_S * 1_000;
                let mut shadowing = 0.0;
                for k in 0..SEGMENT_S * RATE_HZ {
                    let t = start + k * 1_000 / RATE_HZ;
                    if (t - start) % WINDOW_MS < 1_000 / RATE_HZ {
                        shadowing = params.shadowing(&mut rng);
                    }
                    let link = Link {
                        distance: f64::from(d) / 100.0,
                        walls: 0,
                        day: 0,
                        shadowing_db: shadowing + situation,
                    };
                    if let Some(r) = radio::rssi(params, &phones[tx], &phones[rx], &link, &mut rng)
                    {
                        readings.push(Reading {
                            t_ms: t,
                            rssi: r.round().clamp(-127.0, -1.0) as i8,
                            distance: Distance::MeasuredCm(d),
                        });
                    }
                }
            }
            let phone = |i: usize| Phone {
                name: format!("simulated phone {}", ids[i]),
                build: Default::default(),
                tx_power_dbm: phones[i].tx_power_dbm,
                rssi_correction_db: phones[i].rssi_correction_db,
                confidence: 3,
            };
            recordings.push(Recording {
                name: format!(
                    "simulated {carriage}: phone {} <- phone {}",
                    ids[rx], ids[tx]
                ),
                session: format!("simulated {carriage}"),
                carriage: (*carriage).into(),
                receiver: phone(rx),
                sender: phone(tx),
                readings,
                label: Label::ByDistance,
                windows: ScanWindows::ByTime,
                bin_cm: 1,
            });
        }
    }
    let files = recordings
        .iter()
        .map(|r| FileLog {
            file: r.name.clone(),
            rows: r.readings.len(),
            skipped: 0,
        })
        .collect();
    Ok(Dataset {
        name: "simulated".into(),
        source: "the simulation's radio model (sim/src/radio.rs), pc-ng's design".into(),
        recordings,
        files,
        synthetic: true,
    })
}

/// The model's extra loss of a carriage position.
fn carry_loss(params: &RadioParams, position: char) -> f64 {
    match position {
        'P' => params.pocket_db,
        'B' => params.bag_db,
        _ => 0.0,
    }
}
