//! Profiles, settings, health declarations and the visitor-log consent, for the shells: each method one
//! line into [`openzone_core::phone::Phone`], records converted. The declaration form travels as its JSON
//! (the shells render it from the schema), answers as a JSON object of question ids to answers.

use openzone_core::checkin::CheckInLinks;
use openzone_core::declaration::Answers;
use openzone_core::phone::{Profile, StoredDeclaration};
use openzone_core::visitorlog::VisitorRegistration;

use crate::phone::{consent_given, OpenZonePhone};
use crate::{runtime, OpenZoneError};

/// One person on the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProfileInfo {
    /// The name, unique on the phone.
    pub name: String,
    /// The class, for a student.
    pub class: Option<String>,
    /// The year of birth.
    pub born: Option<i32>,
}

/// A declaration as kept.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeclarationInfo {
    /// The profile's name.
    pub profile: String,
    /// The day it counts for, `YYYY-MM-DD` in the form's time zone.
    pub day: String,
    /// `clear` or `symptoms`.
    pub result: String,
    /// What to show: "no symptoms declared today" or "symptoms declared: see the school nurse before
    /// entering".
    pub message: String,
    /// The questions whose answers call for the nurse.
    pub reasons: Vec<String>,
    /// The answers, as JSON.
    pub answers_json: String,
}

/// One person's entry as a visitor log would receive it: what the app shows before asking.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitorEntryInfo {
    /// The name sent.
    pub name: String,
    /// The phone number sent, if set.
    pub phone: Option<String>,
    /// The class sent, if any.
    pub class: Option<String>,
    /// Today's declaration result sent: `clear`, `symptoms` or `none`.
    pub declaration: String,
    /// The shared answers, as JSON (`{}` unless the form marks questions as shared).
    pub answers_json: String,
}

impl From<Profile> for ProfileInfo {
    fn from(p: Profile) -> Self {
        Self {
            name: p.name,
            class: p.class,
            born: p.born,
        }
    }
}

impl From<StoredDeclaration> for DeclarationInfo {
    fn from(d: StoredDeclaration) -> Self {
        Self {
            day: openzone_core::time::format_day(d.day),
            result: d.result.as_str().into(),
            message: d.result.message().into(),
            answers_json: serde_json::to_string(&d.answers).unwrap_or_default(),
            profile: d.profile,
            reasons: d.reasons,
        }
    }
}

fn entries(registration: &VisitorRegistration) -> Vec<VisitorEntryInfo> {
    registration
        .entries
        .iter()
        .map(|e| VisitorEntryInfo {
            name: e.name.clone(),
            phone: e.phone.clone(),
            class: e.class.clone(),
            declaration: e.declaration.as_str().into(),
            answers_json: serde_json::to_string(&e.answers).unwrap_or_default(),
        })
        .collect()
}

impl OpenZonePhone {
    fn registration(
        &self,
        venue_link: &str,
        profiles: &[String],
    ) -> Result<VisitorRegistration, OpenZoneError> {
        let venue = CheckInLinks::default().venue(venue_link)?;
        Ok(self.phone.visitor_registration(&venue, profiles)?)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl OpenZonePhone {
    /// The phone number shared with visitor logs, if set.
    pub fn phone_number(&self) -> Result<Option<String>, OpenZoneError> {
        Ok(self.phone.settings()?.phone)
    }

    /// Sets (or with `None` removes) the phone number; returns it as stored.
    pub fn set_phone_number(&self, phone: Option<String>) -> Result<Option<String>, OpenZoneError> {
        Ok(self.phone.set_phone_number(phone.as_deref())?.phone)
    }

    /// The regions (province codes) whose exports syncs download besides the national ones; empty:
    /// every export.
    pub fn regions(&self) -> Result<Vec<String>, OpenZoneError> {
        Ok(self.phone.settings()?.regions)
    }

    /// Chooses the regions syncs download (empty: every export); returns them as stored.
    pub fn set_regions(&self, regions: Vec<String>) -> Result<Vec<String>, OpenZoneError> {
        Ok(self.phone.set_regions(&regions)?.regions)
    }

    /// Adds a profile.
    pub fn add_profile(
        &self,
        name: String,
        class: Option<String>,
        born: Option<i32>,
    ) -> Result<ProfileInfo, OpenZoneError> {
        Ok(self
            .phone
            .add_profile(Profile { name, class, born })?
            .into())
    }

    /// Every profile, by name.
    pub fn profiles(&self) -> Result<Vec<ProfileInfo>, OpenZoneError> {
        Ok(self.phone.profiles()?.into_iter().map(Into::into).collect())
    }

    /// Removes a profile and its declarations.
    pub fn remove_profile(&self, name: String) -> Result<(), OpenZoneError> {
        Ok(self.phone.remove_profile(&name)?)
    }

    /// The declaration form in use, as JSON (`docs/declarations.md`), to render the questions from.
    pub fn declaration_schema_json(&self) -> String {
        serde_json::to_string(&self.phone.declaration_schema()).unwrap_or_default()
    }

    /// Replaces the form with one the health authority published, verified against the pinned keys.
    pub fn set_declaration_schema(
        &self,
        json: Vec<u8>,
        signature: Vec<u8>,
    ) -> Result<(), OpenZoneError> {
        Ok(self.phone.set_declaration_schema(&json, &signature)?)
    }

    /// Today's declaration for `profile` from a JSON object of answers; every wrong field is named.
    pub fn declare(
        &self,
        profile: String,
        answers_json: String,
    ) -> Result<DeclarationInfo, OpenZoneError> {
        let answers = Answers::from_json(answers_json.as_bytes())?;
        Ok(self.phone.declare(&profile, &answers)?.into())
    }

    /// The one-tap "no symptoms, no exposure today" for `profile`.
    pub fn declare_all_clear(&self, profile: String) -> Result<DeclarationInfo, OpenZoneError> {
        Ok(self.phone.declare_all_clear(&profile)?.into())
    }

    /// Every declaration kept (14 days), newest first.
    pub fn declarations(&self) -> Result<Vec<DeclarationInfo>, OpenZoneError> {
        Ok(self
            .phone
            .declarations()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Whether `profile` has not declared today (for the daily reminder).
    pub fn declaration_missing_today(&self, profile: String) -> Result<bool, OpenZoneError> {
        Ok(self.phone.declaration_missing_today(&profile)?)
    }

    /// What registering `profiles` at the venue of `venue_link` would send, one entry per person: show
    /// it and ask before [`register_visit`](Self::register_visit).
    pub fn visitor_registration(
        &self,
        venue_link: String,
        profiles: Vec<String>,
    ) -> Result<Vec<VisitorEntryInfo>, OpenZoneError> {
        Ok(entries(&self.registration(&venue_link, &profiles)?))
    }

    /// Sends the registration of `profiles`, sealed to the venue's key, once the user agreed; returns
    /// how many entries the server stored.
    pub async fn register_visit(
        &self,
        venue_link: String,
        profiles: Vec<String>,
        user_agreed: bool,
    ) -> Result<u32, OpenZoneError> {
        let consent = consent_given(user_agreed)?;
        let registration = self.registration(&venue_link, &profiles)?;
        let phone = self.phone.clone();
        let stored =
            runtime::spawn(async move { phone.register_visit(&registration, consent).await })
                .await??;
        Ok(u32::try_from(stored).unwrap_or(u32::MAX))
    }
}
