//! A family on one phone: profiles, the phone's settings, the declaration form in use, and each
//! profile's daily health declarations. Bluetooth exposure stays the phone's, never a profile's.

use std::sync::RwLock;

use super::Phone;
use crate::declaration::answers::{normalise_phone, plausible_birth_year};
use crate::declaration::{Answers, DeclarationSchema, Prefill};
use crate::error::{DeclarationError, Error, FieldError};
use crate::export::signing::SignedConfig;
use crate::keyserver::wire::check_region;
use crate::store::{Profile, Settings, Store, StoredDeclaration};

/// The longest profile name or class, in characters.
const MAX_PROFILE_TEXT: usize = 100;

/// The form kept in the store (verified when it was set), else the built-in one.
pub(super) fn load_schema(store: &Store) -> Result<RwLock<DeclarationSchema>, Error> {
    let schema = match store.schema_json()? {
        Some(json) => DeclarationSchema::from_trusted_json(json.as_bytes())?,
        None => DeclarationSchema::builtin()?,
    };
    Ok(RwLock::new(schema))
}

fn invalid(field: &str, reason: String) -> Error {
    DeclarationError::InvalidValue(FieldError {
        field: field.into(),
        reason,
    })
    .into()
}

fn check_text(field: &str, text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty()
        || text.chars().count() > MAX_PROFILE_TEXT
        || text.chars().any(char::is_control)
    {
        return Err(invalid(
            field,
            format!("must be one line of 1 to {MAX_PROFILE_TEXT} characters"),
        ));
    }
    Ok(text.to_owned())
}

impl Phone {
    // ---- settings ----

    /// The phone's settings.
    pub fn settings(&self) -> Result<Settings, Error> {
        self.inner.store.settings()
    }

    /// Sets the phone number shared with visitor-log registrations (`None` removes it); returns the
    /// settings as stored (the number normalised).
    pub fn set_phone_number(&self, phone: Option<&str>) -> Result<Settings, Error> {
        let phone = phone
            .map(|p| {
                normalise_phone(p).ok_or_else(|| {
                    invalid(
                        "phone",
                        "must be a phone number of 8 to 15 digits (spaces, '-' and '.' are ignored, a leading '+' is kept)".into(),
                    )
                })
            })
            .transpose()?;
        let settings = Settings {
            phone,
            ..self.settings()?
        };
        self.inner.store.set_settings(&settings)?;
        Ok(settings)
    }

    /// Chooses the regions (province codes) whose exports syncs download, besides the national ones;
    /// none: every export. Returns the settings as stored (codes checked, upper case, sorted, once each).
    pub fn set_regions(&self, regions: &[String]) -> Result<Settings, Error> {
        let mut regions = regions
            .iter()
            .map(|r| check_region(r))
            .collect::<Result<Vec<_>, _>>()?;
        regions.sort();
        regions.dedup();
        let settings = Settings {
            regions,
            ..self.settings()?
        };
        self.inner.store.set_settings(&settings)?;
        Ok(settings)
    }

    // ---- profiles ----

    /// Adds a profile; its name must be new on this phone.
    pub fn add_profile(&self, profile: Profile) -> Result<Profile, Error> {
        let profile = Profile {
            name: check_text("name", &profile.name)?,
            class: profile
                .class
                .as_deref()
                .map(|c| check_text("class", c))
                .transpose()?,
            born: profile.born,
        };
        if let Some(year) = profile.born {
            if !plausible_birth_year(year, self.declaration_day()) {
                return Err(invalid(
                    "born",
                    format!("{year} is not a year of birth from 1900 to this year"),
                ));
            }
        }
        if self.inner.store.profile(&profile.name)?.is_some() {
            return Err(DeclarationError::ProfileExists { name: profile.name }.into());
        }
        self.inner.store.put_profile(&profile)?;
        Ok(profile)
    }

    /// Every profile on this phone, by name.
    pub fn profiles(&self) -> Result<Vec<Profile>, Error> {
        self.inner.store.profiles()
    }

    /// Removes a profile and its declarations.
    pub fn remove_profile(&self, name: &str) -> Result<(), Error> {
        self.profile(name)?;
        self.inner.store.remove_profile(name)?;
        Ok(())
    }

    /// The profile of this name, or an error that lists the profiles there are.
    pub fn profile(&self, name: &str) -> Result<Profile, Error> {
        if let Some(profile) = self.inner.store.profile(name)? {
            return Ok(profile);
        }
        let known: Vec<String> = self.profiles()?.into_iter().map(|p| p.name).collect();
        Err(DeclarationError::UnknownProfile {
            name: name.into(),
            known: if known.is_empty() {
                "none yet".into()
            } else {
                known.join(", ")
            },
        }
        .into())
    }

    // ---- declarations ----

    /// The declaration form in use.
    pub fn declaration_schema(&self) -> DeclarationSchema {
        self.schema().clone()
    }

    /// Replaces the declaration form with one a health authority published: its JSON and detached
    /// signature, verified against the pinned keys (those that sign exports). Kept in the store.
    pub fn set_declaration_schema(&self, json: &[u8], signature: &[u8]) -> Result<(), Error> {
        let schema = DeclarationSchema::from_signed_json(json, signature, &self.inner.export_keys)?;
        let text = String::from_utf8(json.to_vec())
            .map_err(|_| Error::from(DeclarationError::InvalidSchema("it is not UTF-8".into())))?;
        self.inner.store.set_schema_json(&text)?;
        *self.inner.schema.write().unwrap_or_else(|p| p.into_inner()) = schema;
        Ok(())
    }

    /// Checks `answers` for `profile` against the form (unanswered questions filled from the profile and
    /// the settings) and stores the declaration as today's; nothing is stored when a field is wrong.
    pub fn declare(&self, profile: &str, answers: &Answers) -> Result<StoredDeclaration, Error> {
        let profile = self.profile(profile)?;
        let schema = self.declaration_schema();
        let prefill = Prefill {
            name: profile.name.clone(),
            born: profile.born,
            phone: self.settings()?.phone,
        };
        let now_ms = self.now_ms();
        let checked = schema.validate(answers, &prefill, now_ms / 1000)?;
        let declaration = StoredDeclaration {
            profile: profile.name,
            day: schema.day_of(now_ms / 1000),
            time_ms: now_ms,
            schema: format!("{}/{}", schema.id, schema.version),
            answers: checked.answers,
            result: checked.result,
            reasons: checked.reasons,
        };
        self.inner.store.put_declaration(&declaration)?;
        Ok(declaration)
    }

    /// The one-tap "no symptoms, no exposure today" for `profile`.
    pub fn declare_all_clear(&self, profile: &str) -> Result<StoredDeclaration, Error> {
        let answers = self.schema().all_clear();
        self.declare(profile, &answers)
    }

    /// Every declaration kept (14 days), newest first.
    pub fn declarations(&self) -> Result<Vec<StoredDeclaration>, Error> {
        self.inner.store.declarations()
    }

    /// `profile`'s declaration of today (the form's calendar day), if made.
    pub fn todays_declaration(&self, profile: &str) -> Result<Option<StoredDeclaration>, Error> {
        let profile = self.profile(profile)?;
        self.inner
            .store
            .declaration(&profile.name, self.declaration_day())
    }

    /// Whether `profile` has not declared today: what the shells' daily reminder asks.
    pub fn declaration_missing_today(&self, profile: &str) -> Result<bool, Error> {
        Ok(self.todays_declaration(profile)?.is_none())
    }

    /// Today in the form's time zone.
    fn declaration_day(&self) -> u32 {
        self.schema().day_of(self.now_ms() / 1000)
    }

    fn schema(&self) -> std::sync::RwLockReadGuard<'_, DeclarationSchema> {
        // Replacing the form cannot leave it half-written.
        self.inner.schema.read().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests;
