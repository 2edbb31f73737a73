//! When the radio scans, and what that costs.
//!
//! Scanning costs battery in proportion to the share of time the receiver is on, so each mode is a duty
//! cycle: scan for `scan_secs`, then wait until `period` has passed since the scan began, the period drawn
//! uniformly from `[period_min_secs, period_max_secs]` so that phones do not scan in lockstep.
//!
//! | mode | scan | every | as |
//! |---|---|---|---|
//! | background | 4 s | 4 to 5 min | the exposure-notification systems of Apple and Google |
//! | foreground | 8 s | 1 min | the app is open: denser sampling costs little then |
//! | QA | continuous | 60 s windows | testers comparing devices |
//!
//! Advertising runs all the time; its duty is the air time of one advertising event (three channels) over
//! the advertising interval.

use serde::Serialize;

/// How the engine scans: chosen by the app's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanMode {
    /// The app is in the background (the normal state).
    Background,
    /// The app is open.
    Foreground,
    /// Continuous scanning for QA testers.
    Qa,
}

/// One mode's scanning schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DutyCycle {
    /// Seconds the receiver is on per scan.
    pub scan_secs: u32,
    /// Shortest time from one scan's start to the next.
    pub period_min_secs: u32,
    /// Longest time from one scan's start to the next.
    pub period_max_secs: u32,
}

impl DutyCycle {
    /// Whether the receiver never switches off.
    pub const fn is_continuous(&self) -> bool {
        self.scan_secs >= self.period_min_secs
    }

    /// The share of time spent scanning, with the mean period.
    pub fn scan_share(&self) -> f64 {
        let mean = f64::from(self.period_min_secs + self.period_max_secs) / 2.0;
        (f64::from(self.scan_secs) / mean).min(1.0)
    }
}

/// How advertising is paced, for its duty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdvertisingPace {
    /// Milliseconds between advertising events (the exposure-notification specification asks for 200 to
    /// 270 ms).
    pub interval_ms: f64,
    /// Air time of one event in milliseconds: a 47-byte legacy advertising PDU at 1 Mbit/s (376 µs) on each
    /// of the three advertising channels, plus the radio's switching between them (about 150 µs each).
    pub event_ms: f64,
}

impl Default for AdvertisingPace {
    fn default() -> Self {
        Self {
            interval_ms: 250.0,
            event_ms: 3.0 * (0.376 + 0.150),
        }
    }
}

/// The radio duty of a mode: the share of time the radio works, what the battery pays for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RadioDuty {
    /// The mode.
    pub mode: ScanMode,
    /// Share of time scanning (0 to 1).
    pub scanning: f64,
    /// Share of time transmitting advertisements (0 to 1).
    pub advertising: f64,
    /// Share of time the radio is busy with either.
    pub total: f64,
}

/// The scanning schedules of every mode, and advertising's pace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Schedules {
    /// The background schedule.
    pub background: DutyCycle,
    /// The foreground schedule.
    pub foreground: DutyCycle,
    /// The QA schedule.
    pub qa: DutyCycle,
    /// Advertising's pace.
    pub advertising: AdvertisingPace,
}

impl Default for Schedules {
    fn default() -> Self {
        Self {
            background: DutyCycle {
                scan_secs: 4,
                period_min_secs: 240,
                period_max_secs: 300,
            },
            foreground: DutyCycle {
                scan_secs: 8,
                period_min_secs: 60,
                period_max_secs: 60,
            },
            qa: DutyCycle {
                scan_secs: 60,
                period_min_secs: 60,
                period_max_secs: 60,
            },
            advertising: AdvertisingPace::default(),
        }
    }
}

impl Schedules {
    /// The schedule of `mode`.
    pub const fn of(&self, mode: ScanMode) -> DutyCycle {
        match mode {
            ScanMode::Background => self.background,
            ScanMode::Foreground => self.foreground,
            ScanMode::Qa => self.qa,
        }
    }

    /// The radio duty of `mode`.
    pub fn duty(&self, mode: ScanMode) -> RadioDuty {
        let scanning = self.of(mode).scan_share();
        let advertising = (self.advertising.event_ms / self.advertising.interval_ms).min(1.0);
        // The radio cannot transmit while it listens; the two shares add up.
        RadioDuty {
            mode,
            scanning,
            advertising,
            total: (scanning + advertising).min(1.0),
        }
    }

    /// Checks the schedules make sense.
    pub fn check(&self) -> Result<(), crate::Error> {
        for (name, d) in [
            ("background", self.background),
            ("foreground", self.foreground),
            ("qa", self.qa),
        ] {
            if d.scan_secs == 0 || d.period_min_secs == 0 || d.period_min_secs > d.period_max_secs {
                return Err(crate::wire::Error::InvalidConfig(format!(
                    "the {name} duty cycle needs a scan of at least 1 s and a period range min <= max"
                )).into());
            }
        }
        if !(self.advertising.interval_ms >= 20.0 && self.advertising.event_ms > 0.0) {
            return Err(crate::wire::Error::InvalidConfig(
                "the advertising interval must be at least 20 ms (the BLE minimum)".into(),
            )
            .into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_duties_are_what_the_docs_say() {
        let s = Schedules::default();
        s.check().unwrap();
        let bg = s.duty(ScanMode::Background);
        // 4 s every 270 s on average.
        assert!((bg.scanning - 4.0 / 270.0).abs() < 1e-12);
        // 1.578 ms every 250 ms.
        assert!(
            (bg.advertising - 0.006_312).abs() < 1e-6,
            "{}",
            bg.advertising
        );
        assert!((bg.total - (bg.scanning + bg.advertising)).abs() < 1e-12);
        assert!((s.duty(ScanMode::Foreground).scanning - 8.0 / 60.0).abs() < 1e-12);
        assert_eq!(s.duty(ScanMode::Qa).scanning, 1.0);
        assert_eq!(s.duty(ScanMode::Qa).total, 1.0);
        assert!(s.qa.is_continuous() && !s.background.is_continuous());
    }

    #[test]
    fn bad_schedules_are_refused() {
        let mut s = Schedules::default();
        s.background.period_min_secs = 400;
        assert!(s.check().is_err());
        let mut s = Schedules::default();
        s.qa.scan_secs = 0;
        assert!(s.check().is_err());
        let mut s = Schedules::default();
        s.advertising.interval_ms = 10.0;
        assert!(s.check().is_err());
    }
}
