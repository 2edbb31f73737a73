//! Answers to a declaration form: read from JSON, prefilled from the profile and settings, checked
//! against the form with one error per field, and the result they give.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::schema::{AnswerKind, DeclarationSchema, PrefillFrom, Question};
use crate::error::{DeclarationError, Error, FieldError};
use crate::time::{format_day, parse_day};
use crate::units::SECS_PER_DAY;

/// The largest answers document accepted, in bytes (a full form's answers take under 2 KiB).
pub const MAX_ANSWERS_BYTES: usize = 16 * 1024;

/// Fewest and most digits of a phone number (ITU-T E.164 allows at most 15; Vietnamese numbers have 9
/// or 10 after the leading 0 or +84).
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 8..=15;

/// One answer: yes/no, a number (a year, a temperature) or text (text, a phone number, a choice's id,
/// a date `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    /// Yes (`true`) or no.
    YesNo(bool),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

/// Answers by question id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Answer>);

/// What a declaration's answers mean at the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationResult {
    /// No symptom, exposure or temperature that calls for the nurse.
    Clear,
    /// Symptoms or exposure declared: see the school nurse before entering.
    Symptoms,
}

impl DeclarationResult {
    /// The word scripts and logs use: `clear` or `symptoms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Symptoms => "symptoms",
        }
    }

    /// What the shells show, in English.
    pub fn message(self) -> &'static str {
        match self {
            Self::Clear => "no symptoms declared today",
            Self::Symptoms => "symptoms declared: see the school nurse before entering",
        }
    }
}

/// What unanswered questions are filled from: the profile and the phone's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefill {
    /// The profile's name.
    pub name: String,
    /// The profile's year of birth.
    pub born: Option<i32>,
    /// The phone number of the settings.
    pub phone: Option<String>,
}

/// Answers checked against a form, and what they mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The answers, prefilled and normalised (phone numbers without spaces, text trimmed).
    pub answers: Answers,
    /// The result.
    pub result: DeclarationResult,
    /// The questions whose answers call for the nurse.
    pub reasons: Vec<String>,
}

impl Answers {
    /// Answers from a JSON object of question ids to `true`/`false`, numbers or strings; `null` leaves a
    /// question unanswered. At most [`MAX_ANSWERS_BYTES`].
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let unreadable = |reason: String| Error::from(DeclarationError::Answers(reason));
        if json.len() > MAX_ANSWERS_BYTES {
            return Err(unreadable(format!(
                "they are {} bytes, at most {MAX_ANSWERS_BYTES} are accepted",
                json.len()
            )));
        }
        let value: BTreeMap<String, serde_json::Value> = serde_json::from_slice(json)
            .map_err(|e| unreadable(format!("not a JSON object of answers: {e}")))?;
        let mut answers = BTreeMap::new();
        let mut errors = Vec::new();
        for (id, value) in value {
            let answer = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::Bool(b) => Answer::YesNo(b),
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(n) => Answer::Number(n),
                    None => {
                        errors.push(field(&id, "is not a number this app can read"));
                        continue;
                    }
                },
                serde_json::Value::String(s) => Answer::Text(s),
                _ => {
                    errors.push(field(&id, "must be true/false, a number or a string"));
                    continue;
                }
            };
            answers.insert(id, answer);
        }
        if errors.is_empty() {
            Ok(Self(answers))
        } else {
            Err(DeclarationError::InvalidAnswers(errors).into())
        }
    }
}

fn field(id: &str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: id.to_owned(),
        reason: reason.into(),
    }
}

impl DeclarationSchema {
    /// The calendar day (days since 1970-01-01 in the form's time zone) a declaration made at `now_secs`
    /// (UTC unix seconds) counts for.
    pub fn day_of(&self, now_secs: u64) -> u32 {
        let local = i64::try_from(now_secs)
            .unwrap_or(i64::MAX)
            .saturating_add(self.utc_offset_secs())
            .max(0);
        u32::try_from(local / SECS_PER_DAY as i64).unwrap_or(u32::MAX)
    }

    /// The one-tap "no symptoms, no exposure today": every yes/no question answered no; the rest left
    /// to the prefill.
    pub fn all_clear(&self) -> Answers {
        Answers(
            self.questions
                .iter()
                .filter(|q| matches!(q.answer, AnswerKind::YesNo { .. }))
                .map(|q| (q.id.clone(), Answer::YesNo(false)))
                .collect(),
        )
    }

    /// Checks `answers` made at `now_secs` (UTC unix seconds), after filling unanswered questions from
    /// `prefill`: every error found, one per field, or the normalised answers and their result.
    pub fn validate(
        &self,
        answers: &Answers,
        prefill: &Prefill,
        now_secs: u64,
    ) -> Result<Checked, Error> {
        let today = self.day_of(now_secs);
        let mut errors: Vec<FieldError> = answers
            .0
            .keys()
            .filter(|id| self.question(id).is_none())
            .map(|id| field(id, "is not a question of this form"))
            .collect();
        let mut checked = BTreeMap::new();
        let mut reasons = Vec::new();
        for q in &self.questions {
            let given = answers
                .0
                .get(&q.id)
                .cloned()
                .or_else(|| prefilled(q, prefill));
            let Some(given) = given else {
                if q.required {
                    errors.push(field(&q.id, "is required"));
                }
                continue;
            };
            match check_answer(q, given, today) {
                Ok((answer, see_nurse)) => {
                    if see_nurse {
                        reasons.push(q.id.clone());
                    }
                    checked.insert(q.id.clone(), answer);
                }
                Err(reason) => errors.push(field(&q.id, reason)),
            }
        }
        if !errors.is_empty() {
            return Err(DeclarationError::InvalidAnswers(errors).into());
        }
        Ok(Checked {
            answers: Answers(checked),
            result: if reasons.is_empty() {
                DeclarationResult::Clear
            } else {
                DeclarationResult::Symptoms
            },
            reasons,
        })
    }
}

fn prefilled(q: &Question, prefill: &Prefill) -> Option<Answer> {
    match q.prefill? {
        PrefillFrom::ProfileName => {
            Some(Answer::Text(prefill.name.clone())).filter(|_| !prefill.name.is_empty())
        }
        PrefillFrom::ProfileBorn => prefill.born.map(|y| Answer::Number(f64::from(y))),
        PrefillFrom::SettingsPhone => prefill.phone.clone().map(Answer::Text),
    }
}

/// The answer normalised and whether it calls for the nurse, or what is wrong with it.
fn check_answer(q: &Question, given: Answer, today: u32) -> Result<(Answer, bool), String> {
    match (&q.answer, given) {
        (AnswerKind::YesNo { see_nurse_if_yes }, Answer::YesNo(yes)) => {
            Ok((Answer::YesNo(yes), yes && *see_nurse_if_yes))
        }
        (AnswerKind::YesNo { .. }, _) => Err("must be true (yes) or false (no)".into()),
        (AnswerKind::Text { max_chars }, Answer::Text(text)) => {
            let text = text.trim();
            let chars = text.chars().count();
            if text.is_empty() || chars > *max_chars as usize || text.chars().any(char::is_control)
            {
                Err(format!("must be one line of 1 to {max_chars} characters"))
            } else {
                Ok((Answer::Text(text.to_owned()), false))
            }
        }
        (AnswerKind::Text { .. }, _) => Err("must be text".into()),
        (AnswerKind::Phone, Answer::Text(text)) => normalise_phone(&text)
            .map(|p| (Answer::Text(p), false))
            .ok_or_else(|| {
                format!(
                    "must be a phone number of {} to {} digits (spaces, '-' and '.' are ignored, a leading '+' is kept)",
                    PHONE_DIGITS.start(),
                    PHONE_DIGITS.end()
                )
            }),
        (AnswerKind::Phone, _) => Err("must be a phone number written as text".into()),
        (AnswerKind::Year { min, max }, Answer::Number(n)) => {
            let this_year = civil_year(today);
            let latest = (*max).min(this_year);
            if n.fract() != 0.0 || n < f64::from(*min) || n > f64::from(latest) {
                Err(format!("must be a year from {min} to {latest}"))
            } else {
                Ok((Answer::Number(n), false))
            }
        }
        (AnswerKind::Year { .. }, _) => Err("must be a year written as a number".into()),
        (AnswerKind::Choice { options }, Answer::Text(id)) => options
            .iter()
            .find(|o| o.id == id)
            .map(|o| (Answer::Text(id.clone()), o.see_nurse))
            .ok_or_else(|| {
                let ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
                format!("must be one of {}", ids.join(", "))
            }),
        (AnswerKind::Choice { .. }, _) => Err("must be the id of an option, as text".into()),
        (
            AnswerKind::Number {
                min,
                max,
                unit,
                see_nurse_at_least,
            },
            Answer::Number(n),
        ) => {
            if n.is_finite() && (*min..=*max).contains(&n) {
                Ok((Answer::Number(n), see_nurse_at_least.is_some_and(|t| n >= t)))
            } else {
                Err(format!("must be from {min} to {max} {unit}"))
            }
        }
        (AnswerKind::Number { .. }, _) => Err("must be a number".into()),
        (AnswerKind::Date { max_days_ago }, Answer::Text(text)) => {
            let earliest = today.saturating_sub(*max_days_ago);
            match parse_day(&text) {
                Ok(day) if (earliest..=today).contains(&day) => {
                    Ok((Answer::Text(format_day(day)), false))
                }
                _ => Err(format!(
                    "must be a day YYYY-MM-DD from {} to {}",
                    format_day(earliest),
                    format_day(today)
                )),
            }
        }
        (AnswerKind::Date { .. }, _) => Err("must be a day written as text YYYY-MM-DD".into()),
    }
}

/// The year of a day number.
fn civil_year(day: u32) -> i32 {
    i32::try_from(crate::time::civil_from_days(day).0).unwrap_or(i32::MAX)
}

/// Digits with an optional leading `+`, separators removed; `None` when it is not a phone number.
pub fn normalise_phone(text: &str) -> Option<String> {
    let text = text.trim();
    let (plus, rest) = match text.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", text),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' => {}
            _ => return None,
        }
    }
    PHONE_DIGITS
        .contains(&digits.len())
        .then(|| format!("{plus}{digits}"))
}

/// Whether a year is a plausible year of birth at `today` (a day number), for profiles.
pub fn plausible_birth_year(year: i32, today: u32) -> bool {
    (1900..=civil_year(today)).contains(&year)
}
