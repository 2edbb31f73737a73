//! Where presence tracing's random bytes come from: the operating system in the app, fixed bytes in tests
//! (ring's own `SecureRandom` is sealed, so tests could not replay a published vector's IV through it).

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::Error;

/// A source of random bytes for seeds, IVs and fake reports.
pub trait Random {
    /// Fills `out` with random bytes.
    fn fill(&self, out: &mut [u8]) -> Result<(), Error>;
}

impl Random for SystemRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), Error> {
        SecureRandom::fill(self, out).map_err(|_| Error::Random)
    }
}

/// `N` random bytes.
pub fn bytes<const N: usize>(rng: &dyn Random) -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}
