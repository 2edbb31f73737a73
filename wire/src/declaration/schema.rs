//! The declaration form as data: its questions, their answer types, which answers mean "see the school
//! nurse", the time zone that decides which day a declaration belongs to, and where the questions come
//! from. Published as JSON with a detached signature and checked before use.

use serde::{Deserialize, Serialize};

use crate::error::{DeclarationError, Error};
use crate::export::signing::{SignedConfig, MAX_SIGNED_CONFIG_BYTES};

/// The `format` every schema names: the version of this JSON format.
pub const SCHEMA_FORMAT: &str = "openzone-declaration-schema-v1";

/// The most questions a form holds (the 2021 form has 18).
const MAX_QUESTIONS: usize = 64;
/// The longest label, in characters.
const MAX_LABEL_CHARS: usize = 300;
/// The longest question or option id, in characters.
const MAX_ID_CHARS: usize = 32;
/// The largest `max_chars` a text question may allow.
const MAX_TEXT_CHARS: u32 = 500;
/// The most options a choice offers.
const MAX_OPTIONS: usize = 20;
/// The most sources a schema cites.
const MAX_SOURCES: usize = 16;
/// The farthest time zones from UTC, minutes (UTC-12:00 to UTC+14:00).
const UTC_OFFSETS: std::ops::RangeInclusive<i32> = -720..=840;
/// Years a year-of-birth question may allow.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// The built-in form, following the Vietnamese health declaration of 2021 (sources inside).
const BUILTIN_JSON: &str = include_str!("vn-2021.json");

/// A text in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Vietnamese.
    pub vi: String,
    /// English.
    pub en: String,
}

/// What a question's answer is filled from when the user has not answered it: a profile's name or year of
/// birth, or the phone number of the phone's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrefillFrom {
    /// The profile's name (a `text` question).
    ProfileName,
    /// The profile's year of birth (a `year` question).
    ProfileBorn,
    /// The phone number in the settings (a `phone` question).
    SettingsPhone,
}

/// One option of a choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// What the answer holds.
    pub id: String,
    /// What the user reads.
    pub label: Label,
    /// Choosing it means "see the school nurse".
    #[serde(default)]
    pub see_nurse: bool,
}

/// A question's answer type, its bounds, and which answers mean "see the school nurse".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AnswerKind {
    /// One line of text of at most `max_chars` characters.
    Text {
        /// The longest answer, 1 to 500.
        max_chars: u32,
    },
    /// A phone number: digits, with an optional leading `+`, 8 to 15 digits (ITU-T E.164's maximum).
    Phone,
    /// A year (of birth), from `min` to `max` and not after the current year.
    Year {
        /// The earliest year.
        min: i32,
        /// The latest year.
        max: i32,
    },
    /// One of the options.
    Choice {
        /// The options, 2 to 20.
        options: Vec<ChoiceOption>,
    },
    /// Yes or no.
    YesNo {
        /// "Yes" means "see the school nurse".
        #[serde(default)]
        see_nurse_if_yes: bool,
    },
    /// A number from `min` to `max` (a temperature).
    Number {
        /// The smallest value.
        min: f64,
        /// The largest value.
        max: f64,
        /// The unit shown beside it (`°C`).
        unit: String,
        /// From this value up, "see the school nurse".
        #[serde(default)]
        see_nurse_at_least: Option<f64>,
    },
    /// A calendar day `YYYY-MM-DD`, not in the future and at most `max_days_ago` days back.
    Date {
        /// How far back, 1 to 366 days.
        max_days_ago: u32,
    },
}

/// One question of the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The answer's key: lower-case letters, digits and `_`, 1 to 32 characters.
    pub id: String,
    /// The section it belongs to (`personal`, `symptoms`, `exposure`), for the shells' layout.
    #[serde(default)]
    pub group: Option<String>,
    /// The question.
    pub label: Label,
    /// A declaration without an answer (after prefilling) is refused.
    #[serde(default)]
    pub required: bool,
    /// The answer goes into a venue's visitor log with the result; otherwise only the result does.
    #[serde(default)]
    pub shared: bool,
    /// Where an unanswered question takes its answer from.
    #[serde(default)]
    pub prefill: Option<PrefillFrom>,
    /// The answer's type.
    pub answer: AnswerKind,
}

/// A declaration form, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationSchema {
    /// [`SCHEMA_FORMAT`].
    pub format: String,
    /// The form's name (`vn-moh-2021`), stored with each declaration.
    pub id: String,
    /// The form's version, from 1.
    pub version: u32,
    /// The form's title.
    pub title: Label,
    /// The time zone whose calendar day a declaration counts for, minutes east of UTC (Vietnam: 420).
    pub utc_offset_minutes: i32,
    /// Where the questions come from (documents, addresses).
    pub sources: Vec<String>,
    /// The questions, in the order they are asked.
    pub questions: Vec<Question>,
}

impl DeclarationSchema {
    /// The built-in form, following the Vietnamese health declaration of 2021 with labels in
    /// Vietnamese and English; `sources` cites what it follows.
    pub fn builtin() -> Result<Self, Error> {
        Self::from_trusted_json(BUILTIN_JSON.as_bytes())
    }

    /// A form from JSON already trusted (built in, or given on the QA command line), checked; at most
    /// [`MAX_SIGNED_CONFIG_BYTES`], as a signed one. A form published by a health authority comes through
    /// [`SignedConfig::from_signed_json`].
    pub fn from_trusted_json(json: &[u8]) -> Result<Self, Error> {
        if json.len() > MAX_SIGNED_CONFIG_BYTES {
            return Err(invalid(format!(
                "it is {} bytes, at most {MAX_SIGNED_CONFIG_BYTES} are accepted",
                json.len(),
            )));
        }
        Self::from_json(json)
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The offset of the form's time zone, seconds east of UTC.
    pub(crate) fn utc_offset_secs(&self) -> i64 {
        i64::from(self.utc_offset_minutes) * 60
    }
}

impl SignedConfig for DeclarationSchema {
    const NAME: &'static str = "declaration schema";

    /// The rules every form keeps; says which one is broken and where.
    fn check(&self) -> Result<(), Error> {
        if self.format != SCHEMA_FORMAT {
            return Err(invalid(format!(
                "its format is {:?}; this app reads {SCHEMA_FORMAT:?}",
                self.format
            )));
        }
        check_id("id", &self.id)?;
        if self.version == 0 {
            return Err(invalid("its version must be 1 or more".into()));
        }
        check_label("title", &self.title)?;
        if !UTC_OFFSETS.contains(&self.utc_offset_minutes) {
            return Err(invalid(format!(
                "utc_offset_minutes {} is outside -720 to 840",
                self.utc_offset_minutes
            )));
        }
        if self.sources.is_empty() || self.sources.len() > MAX_SOURCES {
            return Err(invalid(format!(
                "it cites {} sources; cite 1 to {MAX_SOURCES}",
                self.sources.len()
            )));
        }
        for source in &self.sources {
            check_text("a source", source)?;
        }
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            return Err(invalid(format!(
                "it has {} questions; a form has 1 to {MAX_QUESTIONS}",
                self.questions.len()
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for q in &self.questions {
            if !seen.insert(q.id.as_str()) {
                return Err(invalid(format!("question {:?} appears twice", q.id)));
            }
            q.check()?;
        }
        Ok(())
    }
}

impl Question {
    fn check(&self) -> Result<(), Error> {
        check_id("a question id", &self.id)?;
        if let Some(group) = &self.group {
            check_id("a group", group)?;
        }
        check_label(&self.id, &self.label)?;
        let at = |reason: String| invalid(format!("question {:?}: {reason}", self.id));
        match &self.answer {
            AnswerKind::Text { max_chars } if !(1..=MAX_TEXT_CHARS).contains(max_chars) => {
                return Err(at(format!(
                    "max_chars {max_chars} is outside 1 to {MAX_TEXT_CHARS}"
                )))
            }
            AnswerKind::Year { min, max }
                if min > max || !YEARS.contains(min) || !YEARS.contains(max) =>
            {
                return Err(at(format!(
                    "years {min} to {max} are not a range within 1900 to 2200"
                )))
            }
            AnswerKind::Choice { options } => {
                if !(2..=MAX_OPTIONS).contains(&options.len()) {
                    return Err(at(format!(
                        "{} options; offer 2 to {MAX_OPTIONS}",
                        options.len()
                    )));
                }
                let mut ids = std::collections::BTreeSet::new();
                for option in options {
                    check_id("an option id", &option.id)?;
                    check_label(&option.id, &option.label)?;
                    if !ids.insert(option.id.as_str()) {
                        return Err(at(format!("option {:?} appears twice", option.id)));
                    }
                }
            }
            AnswerKind::Number {
                min,
                max,
                unit,
                see_nurse_at_least,
            } => {
                if !(min.is_finite() && max.is_finite() && min < max) {
                    return Err(at(format!("{min} to {max} is not a range")));
                }
                if let Some(t) = see_nurse_at_least.filter(|t| !(min..=max).contains(&t)) {
                    return Err(at(format!(
                        "see_nurse_at_least {t} is outside {min} to {max}"
                    )));
                }
                check_text("a unit", unit)?;
            }
            AnswerKind::Date { max_days_ago } if !(1..=366).contains(max_days_ago) => {
                return Err(at(format!(
                    "max_days_ago {max_days_ago} is outside 1 to 366"
                )))
            }
            _ => {}
        }
        let fits = matches!(
            (self.prefill, &self.answer),
            (None, _)
                | (Some(PrefillFrom::ProfileName), AnswerKind::Text { .. })
                | (Some(PrefillFrom::ProfileBorn), AnswerKind::Year { .. })
                | (Some(PrefillFrom::SettingsPhone), AnswerKind::Phone)
        );
        if !fits {
            return Err(at(
                "prefill does not fit the answer type (profile_name: text, profile_born: year, settings_phone: phone)".into(),
            ));
        }
        Ok(())
    }
}

fn invalid(reason: String) -> Error {
    DeclarationError::InvalidSchema(reason).into()
}

fn check_id(what: &str, id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} {id:?} must be 1 to {MAX_ID_CHARS} of a-z, 0-9, '_' and '-'"
        )))
    }
}

fn check_label(what: &str, label: &Label) -> Result<(), Error> {
    check_text(what, &label.vi)?;
    check_text(what, &label.en)
}

fn check_text(what: &str, text: &str) -> Result<(), Error> {
    if text.trim().is_empty()
        || text.chars().count() > MAX_LABEL_CHARS
        || text.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "the text of {what} must be one line of 1 to {MAX_LABEL_CHARS} characters"
        )));
    }
    Ok(())
}
