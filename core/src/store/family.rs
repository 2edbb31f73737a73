//! A family's records in the store: the profiles one phone holds (a parent and their children), the
//! phone's settings (the phone number shared with visitor logs), the declaration form in use, and each
//! profile's health declarations, kept for the retention period.
//!
//! All in one tree, `family`, as sealed JSON records under hidden names. Logical keys: `settings`,
//! `schema`, `profile\0<name>`, `declaration\0<name>\0<day u32 BE>` (one declaration per profile and
//! day: declaring again replaces it). Names, days and times exist only inside the sealed values.

use serde::{Deserialize, Serialize};

use super::{Store, TreeId};
use crate::declaration::{Answers, DeclarationResult};
use crate::error::Error;

/// What a family record is called in errors.
const FAMILY: &str = "a profile, settings or declaration";

const KEY_SETTINGS: &[u8] = b"settings";
const KEY_SCHEMA: &[u8] = b"schema";
const PREFIX_PROFILE: &[u8] = b"profile\0";
const PREFIX_DECLARATION: &[u8] = b"declaration\0";

/// One person on the phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The name, as the school knows the person; unique on the phone.
    pub name: String,
    /// The class (`5A`), for a student.
    pub class: Option<String>,
    /// The year of birth.
    pub born: Option<i32>,
}

/// The phone's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The phone number sent with visitor-log registrations, normalised (digits, optional leading `+`).
    pub phone: Option<String>,
    /// The regions (province codes) whose exports this phone downloads, with the national ones; empty:
    /// every export the key server publishes.
    #[serde(default)]
    pub regions: Vec<String>,
}

/// A declaration as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDeclaration {
    /// The profile's name.
    pub profile: String,
    /// The calendar day it counts for, in the form's time zone (days since 1970-01-01).
    pub day: u32,
    /// When it was made, UTC unix milliseconds.
    pub time_ms: u64,
    /// The form's id and version.
    pub schema: String,
    /// The answers, checked and normalised.
    pub answers: Answers,
    /// The result.
    pub result: DeclarationResult,
    /// The questions whose answers call for the nurse.
    pub reasons: Vec<String>,
}

/// A family record's plaintext.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Record {
    Settings(Settings),
    Schema { json: String },
    Profile(Profile),
    Declaration(StoredDeclaration),
}

impl Record {
    fn into_profile(self) -> Option<Profile> {
        match self {
            Record::Profile(p) => Some(p),
            _ => None,
        }
    }

    fn into_declaration(self) -> Option<StoredDeclaration> {
        match self {
            Record::Declaration(d) => Some(d),
            _ => None,
        }
    }
}

fn profile_key(name: &str) -> Vec<u8> {
    [PREFIX_PROFILE, name.as_bytes()].concat()
}

fn declaration_key(profile: &str, day: u32) -> Vec<u8> {
    [
        PREFIX_DECLARATION,
        profile.as_bytes(),
        b"\0",
        &day.to_be_bytes()[..],
    ]
    .concat()
}

impl Store {
    fn put_family(&self, logical: &[u8], record: &Record) -> Result<(), Error> {
        self.check_space()?;
        let plain = serde_json::to_vec(record)
            .map_err(|e| Error::StoreCorrupt(format!("a family record cannot be encoded: {e}")))?;
        self.put_record(&self.sled.family, TreeId::Family, logical, &plain)?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    fn get_family(&self, logical: &[u8]) -> Result<Option<Record>, Error> {
        self.get_record(&self.sled.family, TreeId::Family, logical, FAMILY)?
            .map(|plain| decode(&plain))
            .transpose()
    }

    /// Every family record with its name in the tree.
    fn family_records(&self) -> Result<Vec<(sled::IVec, Record)>, Error> {
        self.records(&self.sled.family, TreeId::Family, FAMILY)?
            .into_iter()
            .map(|r| Ok((r.name, decode(&r.plain)?)))
            .collect()
    }

    /// Every family record of one kind: those `kind` picks.
    fn family_of<T>(&self, kind: fn(Record) -> Option<T>) -> Result<Vec<T>, Error> {
        Ok(self
            .family_records()?
            .into_iter()
            .filter_map(|(_, r)| kind(r))
            .collect())
    }

    /// The settings (defaults until set).
    pub fn settings(&self) -> Result<Settings, Error> {
        Ok(match self.get_family(KEY_SETTINGS)? {
            Some(Record::Settings(s)) => s,
            _ => Settings::default(),
        })
    }

    /// Replaces the settings.
    pub fn set_settings(&self, settings: &Settings) -> Result<(), Error> {
        self.put_family(KEY_SETTINGS, &Record::Settings(settings.clone()))
    }

    /// The declaration form's JSON kept by [`set_schema_json`](Self::set_schema_json), if any.
    pub fn schema_json(&self) -> Result<Option<String>, Error> {
        Ok(match self.get_family(KEY_SCHEMA)? {
            Some(Record::Schema { json }) => Some(json),
            _ => None,
        })
    }

    /// Keeps the declaration form in use (already verified by the caller).
    pub fn set_schema_json(&self, json: &str) -> Result<(), Error> {
        self.put_family(KEY_SCHEMA, &Record::Schema { json: json.into() })
    }

    /// The profile of this name.
    pub fn profile(&self, name: &str) -> Result<Option<Profile>, Error> {
        Ok(self
            .get_family(&profile_key(name))?
            .and_then(Record::into_profile))
    }

    /// Every profile, by name.
    pub fn profiles(&self) -> Result<Vec<Profile>, Error> {
        let mut profiles = self.family_of(Record::into_profile)?;
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(profiles)
    }

    /// Stores a profile (checked by the caller), replacing one of the same name.
    pub fn put_profile(&self, profile: &Profile) -> Result<(), Error> {
        self.put_family(
            &profile_key(&profile.name),
            &Record::Profile(profile.clone()),
        )
    }

    /// Removes a profile and its declarations; returns whether it existed.
    pub fn remove_profile(&self, name: &str) -> Result<bool, Error> {
        let existed = self.profile(name)?.is_some();
        let mut names = vec![sled::IVec::from(
            &self.record_name(TreeId::Family, &profile_key(name))[..],
        )];
        names.extend(
            self.family_records()?
                .into_iter()
                .filter(|(_, r)| matches!(r, Record::Declaration(d) if d.profile == name))
                .map(|(n, _)| n),
        );
        self.remove_records(&self.sled.family, names)?;
        self.sled.db.flush().map_err(|e| self.io(e))?;
        Ok(existed)
    }

    /// Stores a declaration (checked by the caller), replacing the profile's declaration of that day.
    pub fn put_declaration(&self, declaration: &StoredDeclaration) -> Result<(), Error> {
        self.put_family(
            &declaration_key(&declaration.profile, declaration.day),
            &Record::Declaration(declaration.clone()),
        )
    }

    /// A profile's declaration of a day.
    pub fn declaration(&self, profile: &str, day: u32) -> Result<Option<StoredDeclaration>, Error> {
        Ok(self
            .get_family(&declaration_key(profile, day))?
            .and_then(Record::into_declaration))
    }

    /// Every declaration kept, newest first.
    pub fn declarations(&self) -> Result<Vec<StoredDeclaration>, Error> {
        let mut all = self.family_of(Record::into_declaration)?;
        all.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(a.profile.cmp(&b.profile)));
        Ok(all)
    }

    /// Removes the declarations of days before `cutoff_day`; returns how many.
    pub(super) fn remove_declarations_before(&self, cutoff_day: u32) -> Result<u64, Error> {
        let expired = self
            .family_records()?
            .into_iter()
            .filter(|(_, r)| matches!(r, Record::Declaration(d) if d.day < cutoff_day))
            .map(|(n, _)| n);
        self.remove_records(&self.sled.family, expired)
    }
}

fn decode(plain: &[u8]) -> Result<Record, Error> {
    serde_json::from_slice(plain)
        .map_err(|_| Error::StoreCorrupt("a family record has an unknown layout".into()))
}
