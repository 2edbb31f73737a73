//! What is simulated: the school, its people, their phones, the radio and the case. Every parameter has a
//! default (the school: 600 students in 20 classes of 30, 40 teachers, 5 days) and can be changed
//! by a command-line flag or a JSON scenario file.

use serde::{Deserialize, Serialize};

use crate::radio::RadioParams;
use crate::SimError;

/// A simulation's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Students (in classes of `class_size`).
    pub students: u32,
    /// Students per class.
    pub class_size: u32,
    /// Teachers.
    pub teachers: u32,
    /// School days simulated.
    pub days: u32,
    /// Seed of everything random: the same seed gives the same result.
    pub seed: u64,
    /// Share of phones that are iPhones with the app in the background (read over GATT).
    pub iphone_share: f64,
    /// Share of phones with Bluetooth off.
    pub bluetooth_off_share: f64,
    /// Students who become confirmed cases.
    pub cases: u32,
    /// Day (1-based) the cases test positive and report.
    pub report_day: u32,
    /// Day (1-based) of the onset of symptoms.
    pub onset_day: u32,
    /// Local hour of the report (school starts at 7:00 local, UTC+7).
    pub report_hour: f64,
    /// Hours between a phone's syncs of published keys.
    pub sync_every_hours: f64,
    /// Risk configuration: a name (`corona-warn-app-2021`, `google-sample`) or a JSON file.
    pub risk: String,
    /// The radio model.
    pub radio: RadioParams,
    /// Share of people who forget to scan the classroom posters' QR codes on a given day.
    pub checkin_forget_share: f64,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            students: 600,
            class_size: 30,
            teachers: 40,
            days: 5,
            seed: 1,
            iphone_share: 0.25,
            bluetooth_off_share: 0.05,
            cases: 1,
            report_day: 3,
            onset_day: 2,
            report_hour: 10.0,
            sync_every_hours: 4.0,
            risk: openzone_core::risk::RiskConfig::default().name,
            radio: RadioParams::default(),
            checkin_forget_share: 0.2,
        }
    }
}

impl Scenario {
    /// Reads a JSON scenario file (any field may be left out).
    pub fn from_json(text: &str) -> Result<Self, SimError> {
        let scenario: Self = serde_json::from_str(text)
            .map_err(|e| SimError::Scenario(format!("not a scenario: {e}")))?;
        scenario.check()?;
        Ok(scenario)
    }

    /// Checks the parameters make a school.
    pub fn check(&self) -> Result<(), SimError> {
        let bad = |what: &str| Err(SimError::Scenario(what.into()));
        if self.students == 0 || self.class_size == 0 {
            return bad("there must be students, in classes of at least one");
        }
        if self.students > 100_000 || self.teachers > 10_000 {
            return bad("at most 100,000 students and 10,000 teachers");
        }
        if self.days == 0 || self.days > 14 {
            return bad("simulate 1 to 14 days");
        }
        if !(0.0..=1.0).contains(&self.iphone_share)
            || !(0.0..=1.0).contains(&self.bluetooth_off_share)
            || !(0.0..=1.0).contains(&self.checkin_forget_share)
        {
            return bad("shares are between 0 and 1");
        }
        if self.cases > self.students {
            return bad("there cannot be more cases than students");
        }
        if self.cases > 0 && !(1..=self.days).contains(&self.report_day) {
            return bad("the report day must be one of the simulated days");
        }
        if self.onset_day > self.report_day || self.onset_day == 0 {
            return bad("the onset day is a simulated day no later than the report");
        }
        if !(7.0..16.0).contains(&self.report_hour) {
            return bad("the report happens during the school day (7:00 to 16:00 local)");
        }
        if !(0.25..=48.0).contains(&self.sync_every_hours) {
            return bad("phones sync every 15 minutes to 48 hours");
        }
        self.radio.check()
    }

    /// Classes of students.
    pub fn classes(&self) -> u32 {
        self.students.div_ceil(self.class_size)
    }

    /// Everyone with a phone.
    pub fn people(&self) -> u32 {
        self.students + self.teachers
    }
}
