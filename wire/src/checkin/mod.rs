//! Presence tracing: QR check-in at school gates and rooms, and warnings for the places a confirmed case
//! visited, interoperable with Corona-Warn-App's event registration.
//!
//! The poster is public, the visit log stays on the phone, warnings name no one, and each phone finds out
//! by itself that it was there:
//!
//! - [`venue`]: the venue a poster describes ([`Venue`], [`TraceLocation`]), its location id, the rules for
//!   creating one and checking in;
//! - [`link`]: the check-in link in the QR code, `<base>?v=1#<base64url payload>` ([`CheckInLinks`]);
//! - [`report`]: a check-in encrypted for upload so that only people who saw the poster can read it
//!   ([`ProtectedReport`]), and fake ones;
//! - [`package`]: the signed hourly warning packages the server publishes and phones verify;
//! - [`random`]: where seeds, IVs and fakes get their randomness.
//!
//! Reading QR codes from photos and scoring the overlap of stays are the phone's (openzone-core's
//! `checkin::image` and `checkin::scoring`). Everything here is pure: no store, no network, time passed in (UTC unix seconds). `docs/checkin.md`
//! explains the design, the formats and what each party can learn.

pub mod link;
pub mod package;
mod proto;
pub mod random;
pub mod report;
#[cfg(test)]
mod tests;
pub mod venue;

pub use crate::error::CheckInError;
pub use link::CheckInLinks;
pub use report::{CheckInRecord, ProtectedReport};
pub use venue::{
    LocationId, LocationIdHash, LocationType, NewVenue, TraceLocation, Venue, DEFAULT_STAY_MINUTES,
};
