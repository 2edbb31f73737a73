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

fn ingest_one_day(c: &mut Criterion) {
    let windows: Vec<Vec<Sighting>> = (0..heavy_user::WINDOWS_PER_DAY)
        .map(|w| heavy_user::window(heavy_user::T0_MS, w))
        .collect();
    let sightings: usize = windows.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(sightings as u64));
    group.sample_size(20);
    group.bench_function("ingest_heavy_user_day", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temporary directory");
                let store = heavy_user::open_store(dir.path()).expect("fresh store");
                (dir, store)
            },
            |(dir, store)| {
                for (w, batch) in (0..).zip(&windows) {
                    heavy_user::record_window(&store, w, batch).expect("record");
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
