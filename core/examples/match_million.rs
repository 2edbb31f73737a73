//! Peak memory of matching a 1,000,000-key export against the 14-day heavy-user store, in a process that
//! does nothing else: `cargo run --release -p openzone-core --example match_million`.
//!
//! The export is built first into a file by a child run of this program (`build FILE`), so that the
//! measuring process never held the keys as structs; then it is read, verified and matched from the file.
#![allow(missing_docs)]

#[path = "../benches/support/heavy_user.rs"]
#[allow(dead_code)]
mod heavy_user;

use std::time::Instant;

use openzone_core::export::signing::SigningKey;
use openzone_core::export::{Export, ExportBuilder};
use openzone_core::matching::{match_export, HeardIndex, MatchContext};
use openzone_core::risk::calibration::CalibrationTable;

const KEYS: u32 = 1_000_000;

fn peak_rss_mib() -> f64 {
    heavy_user::peak_rss_kib() as f64 / 1024.0
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn build(path: &str) -> Result<()> {
    let (signer, _) = SigningKey::generate("bench", "v1")?;
    let zip = ExportBuilder {
        keys: heavy_user::published_keys(KEYS)?,
        batch_num: 1,
        batch_size: 1,
        ..Default::default()
    }
    .build_zip(&signer)?;
    std::fs::write(path, zip)?;
    std::fs::write(format!("{path}.pem"), signer.verification_key().to_pem())?;
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("build") {
        return build(&args[2]);
    }
    let dir = tempfile::tempdir()?;
    let zip_path = dir.path().join("export.zip");
    let zip = zip_path.to_string_lossy().into_owned();
    let status = std::process::Command::new(std::env::current_exe()?)
        .args(["build", &zip])
        .status()?;
    if !status.success() {
        return Err("building the export failed".into());
    }
    let store_dir = dir.path().join("store");
    let store = heavy_user::filled_store(&store_dir)?;
    let before = peak_rss_mib();
    let started = Instant::now();
    let index = HeardIndex::new(store.scan_instances(0, u64::MAX)?);
    let pem = std::fs::read_to_string(format!("{zip}.pem"))?;
    let export = Export::from_zip_file(&zip_path)?;
    let key = openzone_core::export::signing::VerificationKey::from_pem("bench", "v1", &pem)?;
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
