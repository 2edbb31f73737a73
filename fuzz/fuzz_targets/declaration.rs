//! Fuzz target for health declarations: the form's JSON (`DeclarationSchema::from_trusted_json`, what a
//! signed form goes through once its signature verifies) and the answers' JSON (`Answers::from_json`,
//! what `openzone declare --answers` and the shells hand the core), then the validation of those answers
//! against the built-in form.
//!
//! The first byte chooses: even, the rest is a form; odd, the rest is answers. Nothing may panic; a form
//! that reads re-encodes to a form that reads the same; answers that validate validate again unchanged.
//!
//! Run it with `fuzz/run declaration`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_core::declaration::{Answers, DeclarationSchema, Prefill};

/// 2021-09-06 01:00 UTC.
const NOW: u64 = 1_630_890_000;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    if choice % 2 == 0 {
        if let Ok(schema) = DeclarationSchema::from_trusted_json(rest) {
            let json = serde_json::to_vec(&schema).expect("a form encodes");
            let again = DeclarationSchema::from_trusted_json(&json).expect("a form reads back");
            assert_eq!(again, schema);
            let _ = schema.validate(&schema.all_clear(), &Prefill::default(), NOW);
        }
        return;
    }
    let Ok(answers) = Answers::from_json(rest) else {
        return;
    };
    let schema = DeclarationSchema::builtin().expect("the built-in form reads");
    let prefill = Prefill {
        name: "An".into(),
        born: Some(2012),
        phone: Some("0912345678".into()),
    };
    if let Ok(checked) = schema.validate(&answers, &prefill, NOW) {
        let again = schema
            .validate(&checked.answers, &prefill, NOW)
            .expect("normalised answers validate");
        assert_eq!(again, checked);
    }
});
