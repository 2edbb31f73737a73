//! Crash safety: a child process ingests sightings and checkpoints; the test kills it with SIGKILL at a
//! random moment, many times, and after each kill the store must open, hold no damaged record, and hold
//! every sighting acknowledged before the last completed checkpoint.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use openzone_tests::store_fixture::{check_ranges, open_store};

const ROUNDS: usize = 30;

/// A small xorshift generator: the seed is printed so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

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
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut acked_ranges: Vec<(u64, u64)> = Vec::new();
    let mut kills_mid_ingest = 0;

    for round in 0..ROUNDS {
        let first = round as u64 * 1_000_000;
        let mut child = Command::new(env!("CARGO_BIN_EXE_store-child"))
            .args(["ingest", dir.path().to_str().unwrap(), &first.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until the child has the store open, then let it run for a random while.
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(30)).unwrap(),
            "opened",
            "round {round}"
        );
        let run_for = Duration::from_millis(5 + rng.next() % 400);
        let started = Instant::now();
        while started.elapsed() < run_for {
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the child ended on its own: {status}"
        );
        reader.join().unwrap();
        let last_ack = rx
            .try_iter()
            .filter_map(|line| {
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
