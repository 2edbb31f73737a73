//! A child process for the store's crash and bad-condition tests: it does one store job and reports on
//! stdout, one line at a time, so the parent test can kill it, starve it of disk or drop its privileges.
//!
//! ```text
//! store-child ingest DIR FIRST_SEQ        record and checkpoint batches forever; "ack SEQ" after each checkpoint
//! store-child fill DIR BALLAST RESERVE    ingest until the disk is full (RESERVE: the store's reserve in
//!                                         bytes, 0 to let sled itself hit the full disk), close the store,
//!                                         free BALLAST and print "acked LAST"
//! store-child verify DIR LAST             check that sightings 0..=LAST are all in the store
//! store-child open DIR                    open the store and print "ok" or "error: MESSAGE"
//! ```

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use openzone_core::store::StoreConfig;
use openzone_tests::child;
use openzone_tests::store_fixture::{check_acked, open_store, open_store_with, sightings, BATCH};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let number = |i: usize| {
        arg(i)
            .parse::<u64>()
            .map_err(|_| format!("{:?} is not a number", arg(i)))
    };
    let result = match (arg(1), args.len()) {
        ("ingest", 4) => number(3).and_then(|first| ingest(Path::new(arg(2)), first)),
        ("fill", 5) => number(4).and_then(|reserve| fill(Path::new(arg(2)), Path::new(arg(3)), reserve)),
        ("verify", 4) => number(3).and_then(|last| verify(Path::new(arg(2)), last)),
        ("open", 3) => {
            match open_store(Path::new(arg(2))) {
                Ok(_) => say("ok"),
                Err(e) => say(&format!("error: {e}")),
            }
            Ok(())
        }
        _ => Err("usage: store-child ingest DIR FIRST_SEQ | fill DIR BALLAST RESERVE | verify DIR LAST | open DIR".to_owned()),
    };
    child::exit_code("store-child", result)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The parent may have gone; nothing useful to do about it here.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn ingest(dir: &Path, first_seq: u64) -> Result<(), String> {
    let store = open_store(dir).map_err(|e| e.to_string())?;
    say("opened");
    let mut seq = first_seq;
    loop {
        let batch = sightings(seq, BATCH);
        store.record(&batch).map_err(|e| e.to_string())?;
        seq += BATCH;
        store
            .checkpoint(batch[0].time_ms)
            .map_err(|e| e.to_string())?;
        say(&format!("ack {}", seq - 1));
    }
}

fn fill(dir: &Path, ballast: &Path, reserve_bytes: u64) -> Result<(), String> {
    let config = StoreConfig {
        reserve_bytes,
        ..StoreConfig::default()
    };
    let mut acked = None;
    let mut seq = 0;
    {
        let store = open_store_with(dir, config).map_err(|e| format!("first open: {e}"))?;
        loop {
            let batch = sightings(seq, BATCH);
            let result = store
                .record(&batch)
                .and_then(|()| store.checkpoint(batch[0].time_ms));
            seq += BATCH;
            match result {
                Ok(()) => acked = Some(seq - 1),
                Err(e) => {
                    say(&format!("full after {seq} sightings: {e}"));
                    break;
                }
            }
            if seq > 5_000_000 {
                return Err("the disk never filled up".into());
            }
        }
        // Dropping the store must not hang, whatever state the full disk left sled in.
    }
    say("closed");
    std::fs::remove_file(ballast).map_err(|e| format!("cannot free the ballast: {e}"))?;
    let acked = acked.ok_or("nothing was acknowledged before the disk filled")?;
    // The parent verifies in a fresh process, as after the app restarts.
    say(&format!("acked {acked}"));
    Ok(())
}

fn verify(dir: &Path, last: u64) -> Result<(), String> {
    let store = open_store(dir).map_err(|e| format!("reopen after freeing space: {e}"))?;
    check_acked(&store, last)?;
    // And the store works again.
    store
        .record(&sightings(last + 1, BATCH))
        .map_err(|e| e.to_string())?;
    store.checkpoint(0).map_err(|e| e.to_string())?;
    say(&format!("verified {} acknowledged sightings", last + 1));
    Ok(())
}
