//! Matching published keys against a 14-day heavy-user store (see `support/heavy_user.rs`).
//!
//! `cargo bench -p openzone-core --bench matching`. Three cases per key count, in one run:
//! - `en_v1_match_1thread`: [`match_export`] on one core (rayon pool of one thread): keys per second per
//!   core, decoding each key from the export included;
//! - `en_v1_match_all_cores`: the same on every core;
//! - `bare_derivation`: HKDF for the RPIK plus 144 AES blocks per key, nothing else: the floor.
//!
//! And `bluezone_v3_match`: daily keys per second (96 chained SHA-256 per key).
//! Peak memory for a 1,000,000-key export: `cargo run --release -p openzone-core --example match_million`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

#[path = "support/floor.rs"]
mod floor;
#[path = "support/heavy_user.rs"]
#[allow(dead_code)]
mod heavy_user;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use openzone_core::export::signing::SigningKey;
use openzone_core::export::{Export, ExportBuilder, VerifiedExport};
use openzone_core::matching::{match_bluezone, match_export, HeardIndex, MatchContext};
use openzone_core::protocol::bluezone_v3::DailyKey;
use openzone_core::risk::calibration::CalibrationTable;

const KEYS: u32 = 100_000;

fn heavy_index() -> (HeardIndex, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = heavy_user::filled_store(dir.path()).expect("store");
    let index = HeardIndex::new(store.scan_instances(0, u64::MAX).expect("instances"));
    (index, dir)
}

fn export(keys: u32) -> VerifiedExport {
    let (signer, _) = SigningKey::generate("bench", "v1").expect("key");
    let zip = ExportBuilder::one_file(heavy_user::published_keys(keys).expect("valid keys"))
        .build_zip(&signer)
        .expect("zip");
    Export::from_zip_bytes(&zip)
        .and_then(|e| e.verify(&[signer.verification_key()]))
        .expect("verified")
}

fn matching(c: &mut Criterion) {
    let (index, _dir) = heavy_index();
    let verified = export(KEYS);
    let table = CalibrationTable::builtin();
    let ctx = MatchContext::new(
        heavy_user::T0_MS + 15 * 86_400_000,
        table.fleet(),
        table.fleet().tx_power_dbm,
    );
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let mut group = c.benchmark_group("matching");
    group.throughput(Throughput::Elements(u64::from(KEYS)));
    group.sample_size(10);
    group.bench_function("en_v1_match_1thread", |b| {
        b.iter(|| one.install(|| black_box(match_export(&index, &verified, &ctx)).keys_processed))
    });
    group.bench_function("en_v1_match_all_cores", |b| {
        b.iter(|| black_box(match_export(&index, &verified, &ctx)).keys_processed)
    });
    let teks: Vec<[u8; 16]> = verified
        .export()
        .keys()
        .map(|k| *k.expect("valid").key.tek.as_bytes())
        .collect();
    let salt = floor::empty_salt();
    group.bench_function("bare_derivation", |b| {
        b.iter(|| floor::bare_derivation(&salt, teks.iter()))
    });
    group.finish();

    let daily: Vec<DailyKey> = (0..2_000u32)
        .map(|i| {
            DailyKey::new(
                [(i % 251) as u8; 32],
                (heavy_user::T0_MS / 86_400_000) as u32 + i % 14,
                96,
            )
            .expect("key")
        })
        .collect();
    let mut group = c.benchmark_group("matching");
    group.throughput(Throughput::Elements(daily.len() as u64));
    group.sample_size(10);
    group.bench_function("bluezone_v3_match_1thread", |b| {
        b.iter(|| one.install(|| black_box(match_bluezone(&index, &daily, &ctx)).keys_processed))
    });
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
