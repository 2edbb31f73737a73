//! Health declarations: the form as data, answers checked against it, and the result a gate acts on.
//!
//! A health authority publishes the form ([`DeclarationSchema`]) as JSON with a detached ECDSA P-256
//! signature, like the risk configuration; the app verifies it against a pinned key. Without one, the
//! built-in form ([`DeclarationSchema::builtin`], `vn-2021.json`) follows the Vietnamese health
//! declaration of 2021. Answers ([`Answers`]) are checked against the form with one error per field
//! ([`FieldError`]) and give a [`DeclarationResult`]: clear, or symptoms (see the school nurse before
//! entering).
//!
//! - `schema.rs`: the form, its JSON format, its checks and its signature;
//! - `answers.rs`: answers as JSON, their validation, the result, the one-tap "all clear".
//!
//! Everything here is pure: no store, time passed in. `docs/declarations.md` describes the format.

pub mod answers;
mod schema;
#[cfg(test)]
mod tests;

pub use crate::error::{DeclarationError, FieldError};
pub use answers::{Answer, Answers, Checked, DeclarationResult, Prefill, MAX_ANSWERS_BYTES};
pub use schema::{
    AnswerKind, ChoiceOption, DeclarationSchema, Label, PrefillFrom, Question, SCHEMA_FORMAT,
};
