//! Registering at a venue's visitor log: what would be sent for the chosen profiles (shown to the user
//! first), and sending it sealed to the venue's key once they agree. Checking in never depends on it: a
//! visitor who declines still checks in.

use super::Phone;
use crate::checkin::Venue;
use crate::error::Error;
use crate::store::UserConsent;
use crate::visitorlog::{
    DeclarationStatus, Direction, EntryKind, VisitorEntry, VisitorRegistration,
};
use crate::wire::Error as WireError;

impl Phone {
    /// What registering `profiles` at `venue` would send, one entry per profile: the profile's name and
    /// class, the phone number of the settings, now, today's declaration result (`none` without one),
    /// and the answers the form marks as shared. Nothing is sent; show it and ask.
    pub fn visitor_registration(
        &self,
        venue: &Venue,
        profiles: &[String],
    ) -> Result<VisitorRegistration, Error> {
        let venue_key = venue.location().visitor_log_key.ok_or_else(|| {
            WireError::VisitorLog(
                "this venue keeps no visitor log (its poster has no visitor-log key); check in without registering".into(),
            )
        })?;
        if profiles.is_empty() {
            return Err(
                WireError::VisitorLog("choose at least one profile to register".into()).into(),
            );
        }
        let schema = self.declaration_schema();
        let phone = self.settings()?.phone;
        let time = self.now_ms() / 1000;
        let mut entries: Vec<VisitorEntry> = Vec::with_capacity(profiles.len());
        for name in profiles {
            let profile = self.profile(name)?;
            if entries.iter().any(|e| e.name == profile.name) {
                continue;
            }
            let today = self.todays_declaration(&profile.name)?;
            let answers = today
                .as_ref()
                .map(|d| {
                    d.answers
                        .0
                        .iter()
                        .filter(|(id, _)| schema.question(id).is_some_and(|q| q.shared))
                        .map(|(id, a)| (id.clone(), a.clone()))
                        .collect()
                })
                .unwrap_or_default();
            entries.push(VisitorEntry {
                v: 1,
                name: profile.name,
                phone: phone.clone(),
                class: profile.class,
                time,
                declaration: DeclarationStatus::from(today.map(|d| d.result)),
                kind: EntryKind::App,
                direction: Direction::In,
                purpose: None,
                answers,
            });
        }
        Ok(VisitorRegistration {
            venue_key,
            location_id_hash: venue.location_id().hash(),
            entries,
        })
    }

    /// Sends `registration` to the venue's inbox on the key server, sealed, with the user's `consent`;
    /// returns how many entries the server stored (repeats of earlier posts are not counted).
    pub async fn register_visit(
        &self,
        registration: &VisitorRegistration,
        consent: UserConsent,
    ) -> Result<usize, Error> {
        let client = self.key_server()?;
        let sealed = registration.seal(&ring::rand::SystemRandom::new(), consent)?;
        let mut stored = 0;
        for entry in &sealed {
            if client
                .post_visitor_entry(&registration.location_id_hash, entry)
                .await?
                .stored
            {
                stored += 1;
            }
        }
        Ok(stored)
    }
}
