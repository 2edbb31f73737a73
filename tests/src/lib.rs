//! End-to-end tests across OpenZone crates live in `tests/`; this library is empty on purpose.
