//! What the operating system killing the app can lose: a child process runs a real `Phone` fed a
//! sighting every 200 ms; the test kills it with SIGKILL just before its second checkpoint is due (the
//! worst moment) and checks that every sighting fed more than `CHECKPOINT_PERIOD_SECS` before the kill
//! is in the store.

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use openzone_core::protocol::Payload;
use openzone_core::units::CHECKPOINT_PERIOD_SECS;
use openzone_tests::child::Reporting;

#[test]
fn sigkill_loses_at_most_the_checkpoint_period_of_sightings() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Reporting::spawn(
        Command::new(env!("CARGO_BIN_EXE_phone-child"))
            .arg("feed")
            .arg(dir.path()),
    );
    // A line is received after the child recorded what it reports: the recorded time is no later.
    let fed_at = |(line, at): (String, Instant)| {
        let seq = line.strip_prefix("fed ")?.parse::<u64>().ok()?;
        Some((seq, at))
    };
    let (_, first) = fed_at(child.lines.recv_timeout(Duration::from_secs(60)).unwrap()).unwrap();
    let period = Duration::from_secs(u64::from(CHECKPOINT_PERIOD_SECS));
    // The first checkpoint comes within a period of the first sighting, the second within a period of
    // the next one: killing shortly before 2 periods loses close to a whole period.
    let kill_at = first + 2 * period - Duration::from_secs(2);
    std::thread::sleep(kill_at.saturating_duration_since(Instant::now()));
    let (killed, _) = child.kill();
    let fed: Vec<(u64, Instant)> = child.lines.try_iter().filter_map(fed_at).collect();

    let phone = openzone_tests::phone::open_real_phone(dir.path()).unwrap();
    let stored: HashSet<u64> = phone
        .heard()
        .unwrap()
        .into_iter()
        .filter_map(|instance| match instance.payload {
            Payload::EnV1 { rpi, .. } => Some(u64::from_be_bytes(rpi.0[..8].try_into().unwrap())),
            Payload::BluezoneV3 { .. } => None,
        })
        .collect();
    let lost: Vec<&(u64, Instant)> = fed
        .iter()
        .filter(|(seq, _)| !stored.contains(seq))
        .collect();
    let oldest_lost = lost.iter().map(|(_, at)| killed - *at).max();
    eprintln!(
        "fed {}, stored {}, lost {} (the oldest fed {oldest_lost:?} before the kill)",
        fed.len() + 1,
        stored.len(),
        lost.len()
    );
    assert!(stored.contains(&0), "the first sighting was lost");
    assert!(
        stored.len() >= 100,
        "a checkpoint came before the kill, but only {} sightings survived",
        stored.len()
    );
    // The flush of the checkpoint itself takes a moment: a sighting is durable once it has completed.
    let flush = Duration::from_secs(1);
    if let Some(oldest) = oldest_lost {
        assert!(
            oldest <= period + flush,
            "a sighting fed {oldest:?} before the kill was lost; at most {period:?} may be"
        );
    }
}
