//! A venue's visitor log: who entered, sealed so that only the venue (the school holding the secret
//! half of the key on its poster) can read it.
//!
//! - [`hpke`]: RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM, single-shot,
//!   checked against the RFC's vector;
//! - [`entry`]: one person's entry ([`VisitorEntry`]) and its sealed form;
//! - [`inbox`]: the key server's inbox of sealed entries, by location-id hash: its JSON and limits.
//!
//! What a phone sends with the user's consent, and students' printed cards, are openzone-core's
//! (`visitorlog::VisitorRegistration`, `visitorlog::card`).
//!
//! The server stores ciphertext it cannot open; anyone who saw the poster can post (the key is public),
//! so readers skip entries that do not open or parse. `docs/declarations.md` says what each party learns.

pub mod entry;
pub mod hpke;
pub mod inbox;

pub use entry::{DeclarationStatus, Direction, EntryKind, VisitorEntry, MAX_SEALED_ENTRY_BYTES};
