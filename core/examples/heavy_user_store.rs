//! Fills a fresh store with the benchmark's 14-day heavy user and reports what the store benchmark cannot
//! measure in its loop: bytes on disk and peak memory.
//!
//! `cargo run --release -p openzone-core --example heavy_user_store`
#![allow(missing_docs)]

#[path = "../benches/support/heavy_user.rs"]
#[allow(dead_code)]
mod heavy_user;

use std::time::Instant;

fn main() -> Result<(), openzone_core::Error> {
    let dir = tempfile::tempdir()
        .map_err(|e| openzone_core::wire::Error::InvalidConfig(e.to_string()))?;
    let rss_before = heavy_user::peak_rss_kib();
    let end_ms = heavy_user::T0_MS + heavy_user::DAYS * 86_400_000;
    let store = heavy_user::open_store(dir.path())?;
    let windows = heavy_user::WINDOWS_PER_DAY * heavy_user::DAYS;
    let mut sightings = 0u64;
    let started = Instant::now();
    for w in 0..windows {
        let batch = heavy_user::window(heavy_user::T0_MS, w);
        sightings += batch.len() as u64;
        heavy_user::record_window(&store, w, &batch)?;
    }
    store.checkpoint(end_ms)?;
    let elapsed = started.elapsed();
    let stats = store.stats()?;
    let instances: u64 = stats.days.iter().map(|d| d.instances).sum();
    drop(store);
    let on_disk = openzone_core::store::dir_size(dir.path());
    println!("sightings            {sightings}");
    println!("scan instances       {instances}");
    println!(
        "ingest               {:.2} s, {:.0} sightings/s (with hourly checkpoints)",
        elapsed.as_secs_f64(),
        sightings as f64 / elapsed.as_secs_f64()
    );
    println!(
        "bytes on disk        {on_disk} ({:.2} MiB)",
        on_disk as f64 / 1048576.0
    );
    println!(
        "bytes per instance   {:.1} on disk, {:.1} in records",
        on_disk as f64 / instances as f64,
        stats.record_bytes as f64 / instances as f64
    );
    println!(
        "peak memory (VmHWM)  {:.1} MiB (process before the store: {:.1} MiB)",
        heavy_user::peak_rss_kib() as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    Ok(())
}
