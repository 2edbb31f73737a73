//! Store ingest: one day of the heavy user (40 peers, a scan window every 5 minutes, 10 hours) into a
//! fresh store, with a checkpoint every hour as the engine makes them.
//!
//! `cargo bench -p openzone-core --bench store`. Bytes on disk and peak memory for the whole 14 days come
//! from `cargo run --release -p openzone-core --example heavy_user_store`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

#[path = "support/heavy_user.rs"]
#[allow(dead_code)]
mod heavy_user;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use openzone_core::sighting::Sighting;
use openzone_core::store::{DataKey, Store, StoreConfig};

const T0_MS: u64 = 1_793_491_200_000;

fn ingest_one_day(c: &mut Criterion) {
    let windows: Vec<Vec<Sighting>> = (0..heavy_user::WINDOWS_PER_DAY)
        .map(|w| heavy_user::window(T0_MS, w))
        .collect();
    let sightings: usize = windows.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(sightings as u64));
    group.sample_size(20);
    group.bench_function("ingest_heavy_user_day", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temporary directory");
                let store = Store::open(
                    dir.path(),
                    &DataKey::from_bytes([7; 32]),
                    StoreConfig::default(),
                    T0_MS,
                )
                .expect("fresh store");
                (dir, store)
            },
            |(dir, store)| {
                for (w, batch) in windows.iter().enumerate() {
                    store.record(batch).expect("record");
                    if w as u64 % heavy_user::WINDOWS_PER_HOUR == heavy_user::WINDOWS_PER_HOUR - 1 {
                        store.checkpoint(batch[0].time_ms).expect("checkpoint");
                    }
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, ingest_one_day);
criterion_main!(benches);
