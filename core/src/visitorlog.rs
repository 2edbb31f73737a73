//! A venue's visitor log: who entered, sealed so that only the venue (the school holding the secret
//! half of the key on its poster) can read it.
//!
//! The entries, their sealing ([`hpke`], [`entry`]) and the key server's [`inbox`] are openzone-wire's,
//! shared with the server. The phone's parts are here:
//!
//! - [`VisitorRegistration`]: what a phone would send, one entry per chosen profile, sealed only with
//!   the user's consent;
//! - [`card`]: a student's printed card (name and class in a QR code) for gate mode.
//!
//! `docs/declarations.md` says what each party learns.

pub use openzone_wire::visitorlog::*;

pub mod card;
mod registration;

pub use card::StudentCard;
pub use registration::VisitorRegistration;
