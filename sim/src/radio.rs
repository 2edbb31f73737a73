//! The radio between two phones: log-distance path loss, log-normal shadowing, walls, bodies, a slow
//! situation loss per pair, and phones that differ as real ones do. Every parameter and its source is in
//! `docs/simulation.md`; the exponent, the shadowing, the fading and the situation loss are calibrated so
//! that `openzone evaluate simulated` separates near from far no better than real phone recordings do
//! (`docs/radio.md`).
//!
//! ```text
//! RSSI = TX(sender) - PL(d) - walls - body(sender) - body(receiver) - crowd + X + S - RSSI_correction(receiver)
//! PL(d) = PL(1 m) + 10 n log10(d) to 5 m, then 10 n_far log10 more   X ~ N(0, sigma) per scan window,
//!                                                                       S ~ N(0, situation) per situation
//! ```
//!
//! TX and RSSI_correction are the calibration values of each phone's model, drawn from Google's table of
//! 551 models (iPhones take the fleet average), each off by a small per-phone error: so the attenuation the
//! engine computes, `TX - (RSSI + RSSI_correction)`, is the physical loss plus that error, as the
//! exposure-notification calibration intends.

use openzone_core::risk::calibration::CalibrationTable;
use openzone_core::seeded::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::SimError;

/// The radio model's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RadioParams {
    /// Path loss at 1 m, dB: free space at 2.44 GHz (Friis).
    pub path_loss_1m_db: f64,
    /// Path-loss exponent up to `breakpoint_m`: 2, calibrated on real recordings (`docs/radio.md`: carried
    /// phones gain 5 to 18 dB from 1 to 5 m, the NHS app's fitted model about 20 dB per decade); walls and
    /// bodies are added separately below.
    pub exponent: f64,
    /// Distance up to which `exponent` holds, metres: the recordings reach 5 m, no farther.
    pub breakpoint_m: f64,
    /// Path-loss exponent beyond the breakpoint: 3, ITU-R P.1238's distance power loss coefficient N = 30
    /// for offices at 2.4 GHz (rooms full of furniture and people).
    pub far_exponent: f64,
    /// Standard deviation of the shadowing drawn once per pair and scan window, dB.
    pub shadowing_db: f64,
    /// Standard deviation of the fast fading of each advertisement, dB.
    pub fading_db: f64,
    /// Loss through one wall, dB.
    pub wall_db: f64,
    /// Extra loss of a phone carried in a pocket, dB.
    pub pocket_db: f64,
    /// Extra loss of a phone in a bag, dB.
    pub bag_db: f64,
    /// Share of phones carried in a pocket (the rest: in a bag or in hand).
    pub pocket_share: f64,
    /// Share of phones in a bag.
    pub bag_share: f64,
    /// Chance that another body blocks the line of sight for one advertisement.
    pub crowd_chance: f64,
    /// Loss when a body blocks the line of sight, dB.
    pub crowd_db: f64,
    /// Standard deviation of each phone's deviation from its model's calibration, dB.
    pub calibration_error_db: f64,
    /// Weakest signal a phone receives, dBm.
    pub sensitivity_dbm: f64,
    /// Standard deviation of the slow loss of a pair in one situation, dB: posture, orientation, the
    /// bodies and furniture between two phones, which hold for minutes and do not average out within a
    /// scan or a lesson. Drawn once per pair and situation ([`RadioParams::situation`]).
    pub situation_db: f64,
    /// Minutes one situation lasts before the next is drawn.
    pub situation_minutes: f64,
}

impl Default for RadioParams {
    fn default() -> Self {
        Self {
            path_loss_1m_db: 40.05,
            exponent: 2.0,
            breakpoint_m: 5.0,
            far_exponent: 3.0,
            shadowing_db: 4.0,
            fading_db: 3.0,
            wall_db: 10.0,
            pocket_db: 7.0,
            bag_db: 10.0,
            pocket_share: 0.5,
            bag_share: 0.25,
            crowd_chance: 0.3,
            crowd_db: 6.0,
            calibration_error_db: 2.0,
            sensitivity_dbm: -100.0,
            situation_db: 10.0,
            situation_minutes: 15.0,
        }
    }
}

impl RadioParams {
    /// Checks the parameters are physical.
    pub fn check(&self) -> Result<(), SimError> {
        let ok = self.exponent > 0.5
            && self.exponent < 6.0
            && self.far_exponent > 0.5
            && self.far_exponent < 6.0
            && self.breakpoint_m >= 0.1
            && self.shadowing_db >= 0.0
            && self.fading_db >= 0.0
            && self.wall_db >= 0.0
            && self.pocket_share + self.bag_share <= 1.0
            && (0.0..=1.0).contains(&self.crowd_chance)
            && self.sensitivity_dbm < 0.0
            && self.situation_db >= 0.0
            && self.situation_minutes >= 1.0;
        if ok {
            Ok(())
        } else {
            Err(SimError::Scenario(
                "radio parameters out of range (exponents 0.5-6, breakpoint from 0.1 m, shares 0-1, sensitivity below 0 dBm, situations of a minute or more)".into(),
            ))
        }
    }

    /// Path loss at distance `d` metres: `exponent` up to the breakpoint, `far_exponent` beyond it.
    pub fn path_loss(&self, d: f64) -> f64 {
        let d = d.max(0.1);
        let near = d.min(self.breakpoint_m);
        self.path_loss_1m_db
            + 10.0 * self.exponent * near.log10()
            + 10.0 * self.far_exponent * (d / near).log10()
    }
}

/// One phone's radio as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhoneRadio {
    /// The TX power its model announces (its calibration).
    pub tx_power_dbm: i8,
    /// Its model's RSSI correction.
    pub rssi_correction_db: i8,
    /// How far its real transmit power is from the calibration, dB.
    pub tx_error_db: f64,
    /// How far its real receiver is from the calibration, dB.
    pub rx_error_db: f64,
    /// Extra loss from where it is carried, per day.
    pub carry_loss_db: [f64; 14],
}

impl PhoneRadio {
    /// A phone: an Android model from the calibration table, or an iPhone (the fleet average), with its
    /// own deviations and a carry position per day.
    pub fn draw(params: &RadioParams, iphone: bool, rng: &mut SplitMix64) -> Self {
        let table = CalibrationTable::builtin();
        let calibration = if iphone {
            table.fleet()
        } else {
            table
                .model(rng.between(0, table.len() as u64 - 1) as usize)
                .unwrap_or_else(|| table.fleet())
        };
        let mut carry_loss_db = [0.0; 14];
        for loss in &mut carry_loss_db {
            let u = rng.unit();
            *loss = if u < params.pocket_share {
                params.pocket_db
            } else if u < params.pocket_share + params.bag_share {
                params.bag_db
            } else {
                0.0
            };
        }
        Self {
            tx_power_dbm: calibration.tx_power_dbm,
            rssi_correction_db: calibration.rssi_correction_db,
            tx_error_db: params.calibration_error_db * rng.normal(),
            rx_error_db: params.calibration_error_db * rng.normal(),
            carry_loss_db,
        }
    }
}

/// Where two phones are relative to each other during one scan window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Distance, metres.
    pub distance: f64,
    /// Walls between them.
    pub walls: u32,
    /// The 0-based day (carry positions change daily).
    pub day: usize,
    /// This window's shadowing, dB: drawn once per pair and scan window with [`RadioParams::shadowing`],
    /// since the slow variation of the channel (bodies, posture, furniture) holds for seconds.
    pub shadowing_db: f64,
}

impl RadioParams {
    /// One draw of the shadowing for a pair's scan window.
    pub fn shadowing(&self, rng: &mut SplitMix64) -> f64 {
        self.shadowing_db * rng.normal()
    }

    /// The situation loss of phones `a` and `b` (in either order) at `minute` of `day`: the same for the
    /// whole situation (`situation_minutes`), a pure function of its arguments so that both directions of
    /// a pair and every scan within the situation share it.
    pub fn situation(&self, seed: u64, a: usize, b: usize, day: u32, minute: u32) -> f64 {
        if self.situation_db == 0.0 {
            return 0.0;
        }
        let block = (f64::from(minute) / self.situation_minutes) as u64;
        let (lo, hi) = (a.min(b) as u64, a.max(b) as u64);
        let mut rng = SplitMix64::new(
            seed ^ lo.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ hi.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                ^ (u64::from(day) << 48)
                ^ block.wrapping_mul(0x1656_67B1_9E37_79F9),
        );
        self.situation_db * rng.normal()
    }
}

/// The RSSI `rx` measures from one advertisement of `tx` over `link`, or `None` below the receiver's
/// sensitivity. Each advertisement adds its own fast fading and may be blocked by another body.
pub fn rssi(
    params: &RadioParams,
    tx: &PhoneRadio,
    rx: &PhoneRadio,
    link: &Link,
    rng: &mut SplitMix64,
) -> Option<f64> {
    let crowd = if rng.unit() < params.crowd_chance {
        params.crowd_db
    } else {
        0.0
    };
    let day = link.day.min(13);
    let physical_loss = params.path_loss(link.distance)
        + f64::from(link.walls) * params.wall_db
        + tx.carry_loss_db[day]
        + rx.carry_loss_db[day]
        + crowd
        - link.shadowing_db
        - params.fading_db * rng.normal();
    let rssi = f64::from(tx.tx_power_dbm) + tx.tx_error_db
        - physical_loss
        - f64::from(rx.rssi_correction_db)
        + rx.rx_error_db;
    (rssi >= params.sensitivity_dbm).then_some(rssi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attenuation_is_the_physical_loss_give_or_take_calibration() {
        // A deaf-proof receiver: this test checks the arithmetic, not the sensitivity cut-off.
        let params = RadioParams {
            sensitivity_dbm: -200.0,
            shadowing_db: 0.0,
            fading_db: 0.0,
            crowd_chance: 0.0,
            calibration_error_db: 0.0,
            ..RadioParams::default()
        };
        let mut rng = SplitMix64::new(1);
        let mut a = PhoneRadio::draw(&params, false, &mut rng);
        let mut b = PhoneRadio::draw(&params, true, &mut rng);
        a.carry_loss_db = [0.0; 14];
        b.carry_loss_db = [0.0; 14];
        let link = |distance, walls| Link {
            distance,
            walls,
            day: 0,
            shadowing_db: 0.0,
        };
        let r = rssi(&params, &a, &b, &link(2.0, 0), &mut rng).unwrap();
        let attenuation = f64::from(a.tx_power_dbm) - (r + f64::from(b.rssi_correction_db));
        assert!((attenuation - params.path_loss(2.0)).abs() < 1e-9);
        // 40.05 + 10 · 2 · log10(2); at 10 m, 20 dB per decade to 5 m, then 30.
        assert!((params.path_loss(2.0) - 46.07).abs() < 0.01);
        assert!((params.path_loss(10.0) - 63.06).abs() < 0.01);
        let through_a_wall = rssi(&params, &a, &b, &link(2.0, 1), &mut rng).unwrap();
        assert!((r - through_a_wall - 10.0).abs() < 1e-9);
        assert!(rssi(&params, &a, &b, &link(10_000.0, 2), &mut rng).is_none());
    }

    #[test]
    fn a_situation_holds_for_its_minutes_and_both_directions() {
        let params = RadioParams {
            situation_db: 6.0,
            situation_minutes: 15.0,
            ..RadioParams::default()
        };
        let s = params.situation(7, 3, 9, 2, 480);
        assert_eq!(s, params.situation(7, 9, 3, 2, 494));
        assert_ne!(s, params.situation(7, 3, 9, 2, 495));
        assert_ne!(s, params.situation(7, 3, 10, 2, 480));
        let draws: Vec<f64> = (0..2_000)
            .map(|m| params.situation(1, 0, 1, 0, m * 15))
            .collect();
        let sd = (draws.iter().map(|x| x * x).sum::<f64>() / draws.len() as f64).sqrt();
        assert!((sd - 6.0).abs() < 0.5, "{sd}");
        let none = RadioParams {
            situation_db: 0.0,
            ..params
        };
        assert_eq!(none.situation(1, 0, 1, 0, 0), 0.0);
    }

    #[test]
    fn defaults_are_valid_and_bad_ones_are_not() {
        RadioParams::default().check().unwrap();
        assert!(RadioParams {
            exponent: 0.0,
            ..RadioParams::default()
        }
        .check()
        .is_err());
        assert!(RadioParams {
            pocket_share: 0.8,
            bag_share: 0.5,
            ..RadioParams::default()
        }
        .check()
        .is_err());
    }
}
