//! Identifier generation: all 144 RPIs of an en-v1 key and all 96 IDs of a bluezone-v3 daily key.
//!
//! `cargo bench -p openzone-core --bench identifiers`. The `bare_primitives` case is the floor the
//! implementation is compared with: HKDF-SHA256 for the RPIK plus 144 AES-128 blocks, with no padding,
//! no key types and no output vector.
#![allow(missing_docs)] // criterion's macros generate undocumented items

#[path = "support/floor.rs"]
mod floor;

use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput,
};
use openzone_core::protocol::bluezone_v3::{BluezoneV3, DailyKey};
use openzone_core::protocol::en_v1::{EnV1, ExposureKey, TemporaryExposureKey};
use openzone_core::protocol::Scheme;

const KEYS_PER_ITER: u64 = 64;

/// Benchmarks `name`: all `per_key` identifiers of each of `keys`, into one reused vector.
fn bench_all_identifiers<S: Scheme>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    keys: &[S::Key],
    per_key: usize,
) {
    let mut out = Vec::with_capacity(per_key);
    group.bench_function(name, |b| {
        b.iter(|| {
            for key in keys {
                S::identifiers(black_box(key), &mut out);
                black_box(&out);
            }
        })
    });
}

fn en_v1(c: &mut Criterion) {
    let keys: Vec<ExposureKey> = (0..KEYS_PER_ITER)
        .map(|i| {
            let mut tek = [0u8; 16];
            tek[..8].copy_from_slice(&i.to_le_bytes());
            ExposureKey::new(TemporaryExposureKey::from_bytes(tek), 2_642_976, 144)
                .expect("valid key")
        })
        .collect();
    let mut group = c.benchmark_group("en_v1");
    group.throughput(Throughput::Elements(KEYS_PER_ITER));
    bench_all_identifiers::<EnV1>(&mut group, "key_all_144_rpis", &keys, 144);
    let salt = floor::empty_salt();
    group.bench_function("bare_primitives_hkdf_plus_144_aes_blocks", |b| {
        b.iter(|| floor::bare_derivation(&salt, keys.iter().map(|k| k.tek.as_bytes())))
    });
    group.finish();
}

fn bluezone_v3(c: &mut Criterion) {
    let keys: Vec<DailyKey> = (0..KEYS_PER_ITER)
        .map(|i| DailyKey::new([i as u8; 32], 18_760, 96).expect("valid key"))
        .collect();
    let mut group = c.benchmark_group("bluezone_v3");
    group.throughput(Throughput::Elements(KEYS_PER_ITER));
    bench_all_identifiers::<BluezoneV3>(&mut group, "daily_key_all_96_ids", &keys, 96);
    group.finish();
}

criterion_group!(benches, en_v1, bluezone_v3);
criterion_main!(benches);
