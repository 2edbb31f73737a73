//! Presence tracing on the phone: one hour's warning package of 100,000 encrypted check-ins checked
//! against 14 days of a heavy user's check-ins (20 a day: 20 rooms every day), on one core.
//!
//! `cargo bench -p openzone-core --bench checkin`. Cases, in one run:
//! - `package_100k/read_verify_match_score`: from the downloaded zip's bytes to the per-day result:
//!   unzip within the caps, verify the ECDSA signature, decode every report, match, open and score;
//! - `package_100k/match_score`: the same from an already verified package;
//! - `package_100k/verify`: unzip and signature check only.
//!
//! 100 of the 100,000 reports are for rooms the user was in (cases at school); the others are other
//! venues' and fakes. Criterion runs on one thread, and so does the matcher.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use openzone_core::checkin::package::{WarningPackage, WarningPackageBuilder};
use openzone_core::checkin::scoring::{score, CheckIn, Matcher, PresenceConfig};
use openzone_core::checkin::{CheckInRecord, LocationId, ProtectedReport};
use openzone_core::export::signing::SigningKey;
use ring::rand::SystemRandom;

const REPORTS: usize = 100_000;
const MATCHING: usize = 100;
const ROOMS: usize = 20;
const DAYS: u64 = 14;
const FIRST_DAY: u64 = 20_600 * 86_400;

fn room(i: usize) -> LocationId {
    LocationId::of_payload(format!("room {i}").as_bytes())
}

/// 20 check-ins a day for 14 days: 20 rooms, 25 minutes each, from 07:00.
fn heavy_user_checkins() -> Vec<CheckIn> {
    (0..DAYS)
        .flat_map(|d| {
            (0..ROOMS).map(move |r| {
                let arrival = FIRST_DAY + d * 86_400 + 7 * 3600 + r as u64 * 1_800;
                CheckIn {
                    location_id: room(r),
                    description: format!("Phòng {r}"),
                    address: "Trường THCS".into(),
                    arrival,
                    departure: arrival + 25 * 60,
                }
            })
        })
        .collect()
}

fn package_zip(signer: &SigningKey) -> Vec<u8> {
    let rng = SystemRandom::new();
    let mut reports = Vec::with_capacity(REPORTS);
    for i in 0..MATCHING {
        let day = FIRST_DAY + (i as u64 % DAYS) * 86_400;
        let record = CheckInRecord::covering(day + 7 * 3600, day + 15 * 3600, 6).expect("record");
        reports.push(ProtectedReport::seal(&room(i % ROOMS), &record, &rng).expect("sealed"));
    }
    while reports.len() < REPORTS {
        reports.push(ProtectedReport::fake(&rng).expect("fake"));
    }
    reports.sort_by_key(|r| r.location_id_hash);
    WarningPackageBuilder {
        interval_number: 494_444,
        region: "VN".into(),
        reports,
    }
    .build_zip(signer)
    .expect("zip")
}

fn checking(c: &mut Criterion) {
    let (signer, _) = SigningKey::generate("bench", "v1").expect("key");
    let keys = [signer.verification_key()];
    let zip = package_zip(&signer);
    let checkins = heavy_user_checkins();
    let config = PresenceConfig::corona_warn_app_2021();
    let verified = WarningPackage::from_zip_bytes(&zip)
        .and_then(|p| p.verify(&keys))
        .expect("verified");
    let matcher = Matcher::new(&checkins);
    let outcome = matcher.match_package(&verified);
    assert_eq!(outcome.matched as usize, MATCHING);
    assert!(!score(&checkins, &outcome.overlaps, &config).is_empty());

    let mut group = c.benchmark_group("package_100k");
    group.throughput(Throughput::Elements(REPORTS as u64));
    group.sample_size(20);
    group.bench_function("read_verify_match_score", |b| {
        b.iter(|| {
            let verified = WarningPackage::from_zip_bytes(black_box(&zip))
                .and_then(|p| p.verify(&keys))
                .expect("verified");
            let outcome = Matcher::new(&checkins).match_package(&verified);
            black_box(score(&checkins, &outcome.overlaps, &config))
        })
    });
    group.bench_function("match_score", |b| {
        b.iter(|| {
            let outcome = Matcher::new(&checkins).match_package(black_box(&verified));
            black_box(score(&checkins, &outcome.overlaps, &config))
        })
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            black_box(
                WarningPackage::from_zip_bytes(black_box(&zip))
                    .and_then(|p| p.verify(&keys))
                    .expect("verified"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, checking);
criterion_main!(benches);
