//! The whole evaluation on the excerpts in `tests/data`: recordings to contacts, through the real store,
//! export and matching, to scores, summaries and the leave-one-dataset-out choice.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use openzone_core::risk::RiskConfig;
use openzone_eval::candidates;
use openzone_eval::datasets;
use openzone_eval::evaluate::{evaluate, prepare, Options};

fn options() -> Options {
    Options {
        replicates: 3,
        bootstrap: 50,
        ..Options::default()
    }
}

#[test]
fn the_excerpts_go_through_the_real_path_and_every_candidate_is_summarised() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let loaded = datasets::load(&data).unwrap();
    let replayed: Vec<_> = loaded
        .iter()
        .map(|d| prepare(d, &options()).unwrap())
        .collect();

    for r in &replayed {
        // Every contact that heard something was matched: one exposure, the sender's key, on its day.
        for (c, e) in r.contacts.iter().zip(&r.exposures) {
            if !c.sightings.is_empty() {
                assert_eq!(e.len(), 1, "{}: {}", r.dataset.name, c.cluster);
                assert!(!e[0].instances.is_empty());
                assert!(!e[0].tx_power_estimated);
            }
        }
    }
    // pc-ng's excerpt: 20 cm and 300 cm for two directions, 3 contacts each.
    let pcng = replayed.iter().find(|r| r.dataset.name == "pc-ng").unwrap();
    assert_eq!(pcng.contacts.len(), 12);
    assert_eq!(pcng.contacts.iter().filter(|c| c.near).count(), 6);
    // 15 minutes on the background schedule: 3 or 4 scans, each credited with its gap.
    let cwa = RiskConfig::corona_warn_app_2021();
    for (c, e) in pcng.contacts.iter().zip(&pcng.exposures) {
        let (score, _) = candidates::score(e, &cwa);
        let scans = e[0].instances.len();
        assert!((3..=4).contains(&scans), "{scans} scans in {}", c.cluster);
        assert!(score > 0.0);
    }

    let evaluation = evaluate(&replayed, &options());
    assert_eq!(evaluation.datasets, ["h0h1", "herald", "pc-ng"]);
    let names: Vec<&str> = evaluation
        .candidates
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for expected in [
        "corona-warn-app-2021",
        "swisscovid-2020",
        "nhs-uks-2020",
        "likelihood-2m",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    for c in &evaluation.candidates {
        assert_eq!(c.datasets.len(), 3);
        for s in c.datasets.iter().chain([&c.pooled]) {
            assert!(s.near > 0 && s.far > 0);
            let auc = s.auc.unwrap();
            assert!((0.0..=1.0).contains(&auc.value));
            assert!(auc.low <= auc.value + 1e-12 && auc.value <= auc.high + 1e-12);
        }
    }
    assert_eq!(evaluation.folds.len(), 3);
    for fold in &evaluation.folds {
        assert_eq!(fold.trained_on.len(), 2);
        assert!(!fold.trained_on.contains(&fold.held_out));
    }
    assert!(evaluation.choice.is_some());

    // Deterministic for a seed.
    let again: Vec<_> = loaded
        .iter()
        .map(|d| prepare(d, &options()).unwrap())
        .collect();
    let json = |e: &openzone_eval::evaluate::Evaluation| serde_json::to_string(e).unwrap();
    assert_eq!(json(&evaluate(&again, &options())), json(&evaluation));
}

#[test]
fn the_simulated_radio_is_a_dataset_like_the_others() {
    let params = openzone_sim::radio::RadioParams::default();
    let d = datasets::simulated::generate(&params, 3).unwrap();
    assert_eq!(d.recordings.len(), 12);
    let replayed = prepare(
        &d,
        &Options {
            replicates: 1,
            ..options()
        },
    )
    .unwrap();
    // 12 recordings of 13 distances, one contact each, less any distance where the model's receiver heard
    // nothing at all (below its sensitivity: a pocket-to-backpack pair at 5 m in a quiet situation).
    let contacts = replayed.contacts.len();
    assert!((140..=12 * 13).contains(&contacts), "{contacts}");
    let evaluation = evaluate(&[replayed], &options());
    assert!(evaluation.folds.is_empty());
    let bad = openzone_sim::radio::RadioParams {
        exponent: 0.0,
        ..params
    };
    assert!(datasets::simulated::generate(&bad, 3).is_err());
}
