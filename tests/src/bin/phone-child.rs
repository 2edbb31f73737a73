//! A child process for the phone's kill test: a real `Phone` (no radio), its engine running on tokio,
//! fed one sighting every 200 ms the way the radio feeds it, each reported on stdout once it is in the
//! phone, so that the parent can kill the process with SIGKILL and check what survived.
//!
//! ```text
//! phone-child feed DIR     "fed SEQ" after sighting SEQ (identifier store_fixture::rpi(SEQ)) is recorded
//! ```

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use openzone_core::protocol::en_v1::Aem;
use openzone_core::protocol::Payload;
use openzone_core::sighting::{Sighting, Source};
use openzone_core::time::{Clock, SystemClock};
use openzone_tests::child;
use openzone_tests::store_fixture::rpi;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.as_slice() {
        [_, cmd, dir] if cmd == "feed" => feed(Path::new(dir)),
        _ => Err("usage: phone-child feed DIR".to_owned()),
    };
    child::exit_code("phone-child", result)
}

fn feed(dir: &Path) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let phone = openzone_tests::phone::open_real_phone(dir).map_err(|e| e.to_string())?;
    phone.start(runtime.handle());
    let mut out = std::io::stdout().lock();
    for seq in 0.. {
        let sighting = Sighting {
            payload: Payload::EnV1 {
                rpi: rpi(seq),
                aem: Aem([1, 2, 3, 4]),
            },
            rssi: -60,
            tx_power: None,
            time_ms: SystemClock.now_ms(),
            source: Source::Advertisement,
        };
        phone
            .record_sightings(&[sighting])
            .map_err(|e| e.to_string())?;
        writeln!(out, "fed {seq}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("the parent is gone: {e}"))?;
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}
