//! A child process for the store's crash and bad-condition tests: it does one store job and reports on
//! stdout, one line at a time, so the parent test can kill it, starve it of disk or drop its privileges.
//!
//! ```text
//! store-child ingest DIR FIRST_SEQ     record and checkpoint batches forever; "ack SEQ" after each checkpoint
//! store-child fill DIR BALLAST         ingest until the disk is full, then free BALLAST, reopen and verify
//! store-child open DIR                 open the store and print "ok" or "error: MESSAGE"
//! ```

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use openzone_tests::store_fixture::{check_acked, open_store, sightings, BATCH};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("ingest") if args.len() == 4 => {
            ingest(Path::new(&args[2]), args[3].parse().unwrap_or(0))
        }
        Some("fill") if args.len() == 4 => fill(Path::new(&args[2]), Path::new(&args[3])),
        Some("open") if args.len() == 3 => match open_store(Path::new(&args[2])) {
            Ok(_) => {
                println!("ok");
                Ok(())
            }
            Err(e) => {
                println!("error: {e}");
                Ok(())
            }
        },
        _ => {
            Err("usage: store-child ingest DIR FIRST_SEQ | fill DIR BALLAST | open DIR".to_owned())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store-child: {e}");
            ExitCode::FAILURE
        }
    }
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

fn fill(dir: &Path, ballast: &Path) -> Result<(), String> {
    let mut acked = None;
    let mut seq = 0;
    {
        let store = open_store(dir).map_err(|e| format!("first open: {e}"))?;
        loop {
            let batch = sightings(seq, BATCH);
            let result = store
                .record(&batch)
                .and_then(|()| store.checkpoint(batch[0].time_ms));
            match result {
                Ok(()) => {
                    seq += BATCH;
                    acked = Some(seq - 1);
                }
                Err(e) => {
                    say(&format!("full after {seq} sightings: {e}"));
                    break;
                }
            }
            if seq > 5_000_000 {
                return Err("the disk never filled up".into());
            }
        }
    }
    std::fs::remove_file(ballast).map_err(|e| format!("cannot free the ballast: {e}"))?;
    let store = open_store(dir).map_err(|e| format!("reopen after freeing space: {e}"))?;
    let acked = acked.ok_or("nothing was acknowledged before the disk filled")?;
    check_acked(&store, acked)?;
    // And the store works again.
    store
        .record(&sightings(seq, BATCH))
        .map_err(|e| e.to_string())?;
    store.checkpoint(0).map_err(|e| e.to_string())?;
    say(&format!("verified {} acknowledged sightings", acked + 1));
    Ok(())
}
