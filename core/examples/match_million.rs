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
use openzone_core::export::{Export, ExportBuilder, ExportKey, ReportType};
use openzone_core::matching::{match_export, HeardIndex, MatchContext};
use openzone_core::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use openzone_core::risk::calibration::CalibrationTable;
use openzone_core::store::{DataKey, Store, StoreConfig};

const T0_MS: u64 = 1_793_491_200_000;
const KEYS: u32 = 1_000_000;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn build(path: &str) -> Result<()> {
    let (signer, pem) = SigningKey::generate("bench", "v1")?;
    let first_day = (T0_MS / 86_400_000) as u32;
    let keys = (0..KEYS)
        .map(|i| {
            let mut tek = [0u8; 16];
            tek[..4].copy_from_slice(&i.to_le_bytes());
            tek[4..8].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
            Ok(ExportKey {
                key: ExposureKey::new(
                    TemporaryExposureKey::from_bytes(tek),
                    (first_day + i % 14) * 144,
                    144,
                )?,
                transmission_risk_level: Some(6),
                report_type: ReportType::ConfirmedTest,
                days_since_onset: Some(0),
            })
        })
        .collect::<std::result::Result<Vec<_>, openzone_core::Error>>()?;
    let zip = ExportBuilder {
        keys,
        batch_num: 1,
        batch_size: 1,
        ..Default::default()
    }
    .build_zip(&signer)?;
    std::fs::write(path, zip)?;
    std::fs::write(format!("{path}.pem"), signer.verification_key().to_pem())?;
    let _ = pem;
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
    let store = Store::open(
        &store_dir,
        &DataKey::from_bytes([7; 32]),
        StoreConfig::default(),
        T0_MS,
    )?;
    for w in 0..heavy_user::WINDOWS_PER_DAY * heavy_user::DAYS {
        store.record(&heavy_user::window(T0_MS, w))?;
    }
    store.checkpoint(T0_MS)?;
    let before = peak_rss_mib();
    let started = Instant::now();
    let index = HeardIndex::new(store.scan_instances(0, u64::MAX)?);
    let pem = std::fs::read_to_string(format!("{zip}.pem"))?;
    let export = Export::from_zip_file(&zip_path)?;
    let key = openzone_core::export::signing::VerificationKey::from_pem("bench", "v1", &pem)?;
    let verified = export.verify(&[key])?;
    let table = CalibrationTable::builtin();
    let ctx = MatchContext::new(
        T0_MS + 15 * 86_400_000,
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
