//! Matching a 1,000,000-key export against a heavy user's 14 days, as a process that does nothing else.
//!
//! - `match_million`: peak memory of reading, verifying and matching the export from a file (the export is
//!   built first by a child run of this program, `build FILE`, so that the measuring process never held
//!   the keys as structs).
//! - `match_million prepare DIR`: writes what `scripts/bench-match` times `openzone match` on: a signed
//!   1,000,000-key export (`DIR/export.zip`, `DIR/export.pub.pem`) with keys spread over the heavy user's
//!   days, and the store of a heavy user who scans every 5 minutes around the clock and hears 20 phones
//!   each time (`DIR/store`, data key in `DIR/data.key`).
//! - `match_million bare DIR`: the floor for the same export: HKDF for the RPIK, 144 AES blocks and one
//!   probe per key, nothing else; prints the seconds of that loop alone.
#![allow(missing_docs)]

#[path = "../benches/support/floor.rs"]
mod floor;
#[path = "../benches/support/heavy_user.rs"]
#[allow(dead_code)]
mod heavy_user;

use std::path::Path;
use std::time::Instant;

use openzone_core::export::signing::{SigningKey, VerificationKey};
use openzone_core::export::{Export, ExportBuilder};
use openzone_core::matching::{match_export, HeardIndex, MatchContext};
use openzone_core::protocol::Payload;
use openzone_core::risk::calibration::CalibrationTable;
use openzone_core::time::{Clock, SystemClock};

const KEYS: u32 = 1_000_000;

fn peak_rss_mib() -> f64 {
    heavy_user::peak_rss_kib() as f64 / 1024.0
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Writes the signed export of keys spread over the 14 days from `first_day` to `path`, and its public
/// key to `pem_path`.
fn build(path: &Path, pem_path: &Path, first_day: u32) -> Result<()> {
    let (signer, _) = SigningKey::generate("bench", "v1")?;
    let zip = ExportBuilder::one_file(heavy_user::published_keys_from(KEYS, first_day)?)
        .build_zip(&signer)?;
    std::fs::write(path, zip)?;
    std::fs::write(pem_path, signer.verification_key().to_pem())?;
    Ok(())
}

/// The heavy user's 14 days end today, so that `openzone match`, on the real clock, keeps them all.
fn prepare(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let today = (SystemClock.now_ms() / 86_400_000) as u32;
    let first_day = today + 1 - heavy_user::DAYS as u32;
    build(
        &dir.join("export.zip"),
        &dir.join("export.pub.pem"),
        first_day,
    )?;
    let t0_ms = u64::from(first_day) * 86_400_000;
    drop(heavy_user::AROUND_THE_CLOCK.filled_store(&dir.join("store"), t0_ms)?);
    std::fs::write(dir.join("data.key"), hex::encode(heavy_user::DATA_KEY))?;
    Ok(())
}

/// CPU time of this process so far (user and system, from /proc; 0 where there is none): on a loaded
/// machine it is steadier than the wall clock.
fn cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, in clock ticks of 1/100 s (USER_HZ on Linux).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks: u64 =
                fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

fn bare(dir: &Path) -> Result<()> {
    let export = Export::from_zip_file(&dir.join("export.zip"))?;
    let teks: Vec<[u8; 16]> = export
        .keys()
        .filter_map(|k| k.ok().map(|k| *k.key.tek.as_bytes()))
        .collect();
    let store = heavy_user::open_store(&dir.join("store"))?;
    let mut heard: Vec<[u8; 16]> = store
        .scan_instances(0, u64::MAX)?
        .into_iter()
        .filter_map(|i| match i.payload {
            Payload::EnV1 { rpi, .. } => Some(rpi.0),
            Payload::BluezoneV3 { .. } => None,
        })
        .collect();
    heard.sort_unstable();
    let salt = floor::empty_salt();
    let (started, cpu_before) = (Instant::now(), cpu_seconds());
    let hits = floor::bare_derivation_probing(&salt, teks.iter(), &heard);
    let (elapsed, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu_before);
    println!("keys {} heard {} hits {hits}", teks.len(), heard.len());
    println!("bare derivation seconds {elapsed:.3} cpu {cpu:.2}");
    Ok(())
}

fn peak_memory() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let zip_path = dir.path().join("export.zip");
    let pem_path = dir.path().join("export.pub.pem");
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("build")
        .arg(&zip_path)
        .arg(&pem_path)
        .arg(((heavy_user::T0_MS / 86_400_000) as u32).to_string())
        .status()?;
    if !status.success() {
        return Err("building the export failed".into());
    }
    let store = heavy_user::filled_store(&dir.path().join("store"))?;
    let before = peak_rss_mib();
    let started = Instant::now();
    let index = HeardIndex::new(store.scan_instances(0, u64::MAX)?);
    let pem = std::fs::read_to_string(&pem_path)?;
    let export = Export::from_zip_file(&zip_path)?;
    let key = VerificationKey::from_pem("bench", "v1", &pem)?;
    let verified = export.verify(&[key])?;
    let table = CalibrationTable::builtin();
    let ctx = MatchContext::new(
        heavy_user::T0_MS + 15 * 86_400_000,
        table.fleet(),
        table.fleet().tx_power_dbm,
    );
    let outcome = match_export(&index, &verified, &ctx);
    let elapsed = started.elapsed().as_secs_f64();
    println!("keys processed        {}", outcome.keys_processed);
    println!(
        "index                 {} scan instances, {:.1} MiB",
        index.len(),
        index.memory_bytes() as f64 / 1048576.0
    );
    println!(
        "read + verify + match {elapsed:.2} s on {} threads",
        rayon::current_num_threads()
    );
    println!(
        "peak memory (VmHWM)   {:.1} MiB (before reading the export: {before:.1} MiB)",
        peak_rss_mib()
    );
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[1..] {
        ["build", zip, pem, first_day] => build(Path::new(zip), Path::new(pem), first_day.parse()?),
        ["prepare", dir] => prepare(Path::new(dir)),
        ["bare", dir] => bare(Path::new(dir)),
        [] => peak_memory(),
        _ => Err("usage: match_million [prepare DIR | bare DIR]".into()),
    }
}
