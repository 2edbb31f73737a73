//! Crash safety: a child process ingests sightings and checkpoints; the test kills it with SIGKILL at a
//! random moment, many times, and after each kill the store must open, hold no damaged record, and hold
//! every sighting acknowledged before the last completed checkpoint.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::process::Command;
use std::time::{Duration, Instant};

use openzone_core::seeded::SplitMix64;
use openzone_tests::child::Reporting;

use openzone_tests::store_fixture::{check_ranges, open_store};

const ROUNDS: usize = 30;

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(0x9E37_79B9)
        });
    println!("crash test seed {seed} (replay with CRASH_SEED={seed})");
    // The seed is printed so that a failure can be replayed.
    let mut rng = SplitMix64::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut acked_ranges: Vec<(u64, u64)> = Vec::new();
    let mut kills_mid_ingest = 0;

    for round in 0..ROUNDS {
        let first = round as u64 * 1_000_000;
        let mut child = Reporting::spawn(Command::new(env!("CARGO_BIN_EXE_store-child")).args([
            "ingest",
            dir.path().to_str().unwrap(),
            &first.to_string(),
        ]));
        // Wait until the child has the store open, then let it run for a random while.
        assert_eq!(
            child.lines.recv_timeout(Duration::from_secs(30)).unwrap().0,
            "opened",
            "round {round}"
        );
        let run_for = Duration::from_millis(5 + rng.next_u64() % 400);
        let started = Instant::now();
        while started.elapsed() < run_for {
            std::thread::sleep(Duration::from_millis(1));
        }
        let (_, ended_on_its_own) = child.kill();
        assert!(
            !ended_on_its_own,
            "round {round}: the child ended on its own"
        );
        let last_ack = child
            .lines
            .try_iter()
            .filter_map(|(line, _)| {
                line.strip_prefix("ack ")
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .last();
        if let Some(last) = last_ack {
            acked_ranges.push((first, last));
            kills_mid_ingest += 1;
        }

        let opened = Instant::now();
        let store = open_store(dir.path()).unwrap_or_else(|e| {
            panic!("round {round} (seed {seed}): the store does not open: {e}")
        });
        check_ranges(&store, &acked_ranges)
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): {e}"));
        println!(
            "round {round}: killed after {run_for:?}, last ack {last_ack:?}, checked in {:?}",
            opened.elapsed()
        );
    }
    assert!(
        kills_mid_ingest >= ROUNDS / 2,
        "only {kills_mid_ingest} of {ROUNDS} kills happened after a checkpoint; the test did not exercise crashes"
    );
}
