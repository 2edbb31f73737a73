//! Fake uploads: a phone that reported could otherwise be spotted by anyone watching the network (an
//! upload to the key server means a positive test). Every phone therefore sends, now and then, an upload
//! the server drops, through the same steps as a real report (the sealing key, then `POST /v1/publish`),
//! padded to the same size and answered alike (docs/keyserver.md, "Chaff"). The Corona-Warn-App's
//! "plausible deniability" and Google's reference design do the same.

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::Error;
use crate::keyserver::KeyServerClient;
use crate::units::MAX_KEYS_PER_UPLOAD;
use crate::wire::Error as WireError;

/// The chance that a sync is followed by a fake upload. The apps sync every 6 hours, so this is about one
/// fake upload every 5 days per phone: among a school of 600 phones, some 120 a day, in which the rare
/// real report hides (OpenZone's own choice; the Corona-Warn-App also draws its fake requests at random
/// from its background runs).
pub(crate) const CHANCE_PER_SYNC: f64 = 1.0 / 20.0;

/// Whether to send a fake upload after this sync: a fresh draw each time, so that no schedule shows.
pub(crate) fn due_after_sync(rng: &SystemRandom) -> bool {
    let mut bytes = [0u8; 8];
    if rng.fill(&mut bytes).is_err() {
        return false;
    }
    (u64::from_le_bytes(bytes) as f64) < CHANCE_PER_SYNC * u64::MAX as f64
}

/// Sends one fake upload that pretends to carry as many keys as a real report could (1 to
/// [`MAX_KEYS_PER_UPLOAD`], drawn at random); returns that number.
pub(crate) async fn send(client: &KeyServerClient, rng: &SystemRandom) -> Result<usize, Error> {
    let mut byte = [0u8; 1];
    rng.fill(&mut byte).map_err(|_| {
        WireError::InvalidConfig("the system has no randomness for a fake upload".into())
    })?;
    let pretend_keys = 1 + usize::from(byte[0]) % MAX_KEYS_PER_UPLOAD;
    let sealing_key = client.sealing_key().await?;
    client.publish_fake(&sealing_key, pretend_keys).await?;
    Ok(pretend_keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_one_sync_in_twenty_is_followed_by_a_fake_upload() {
        let rng = SystemRandom::new();
        let draws = 30_000;
        let fakes = (0..draws).filter(|_| due_after_sync(&rng)).count();
        // Binomial(30000, 1/20): mean 1500, standard deviation 38; six deviations either side.
        assert!((1274..=1726).contains(&fakes), "{fakes} of {draws}");
    }
}
