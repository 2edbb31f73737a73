//! What a phone sends to a venue's visitor log, sealed only with the user's consent.

use super::VisitorEntry;
use crate::checkin::random::Random;
use crate::checkin::venue::LocationIdHash;
use crate::error::Error;
use crate::store::UserConsent;

/// What a phone would send to a venue's visitor log: one entry per chosen profile, shown to the user
/// before anything is sent, and sealed only when they agree.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitorRegistration {
    /// The venue's visitor-log key, from its poster.
    pub venue_key: [u8; 32],
    /// The venue's location-id hash: where the entries go.
    pub location_id_hash: LocationIdHash,
    /// One entry per person.
    pub entries: Vec<VisitorEntry>,
}

impl VisitorRegistration {
    /// The sealed entries, one per person, with the user's `consent`.
    pub fn seal(&self, rng: &dyn Random, _consent: UserConsent) -> Result<Vec<Vec<u8>>, Error> {
        self.entries
            .iter()
            .map(|e| Ok(e.seal(&self.venue_key, &self.location_id_hash, rng)?))
            .collect()
    }
}
