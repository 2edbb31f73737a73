//! End-to-end tests across OpenZone's crates live in `tests/`; this library holds what they share.

pub mod child;
pub mod keyserver_fixture;
pub mod lesson;
pub mod phone;
pub mod store_fixture;
