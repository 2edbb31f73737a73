//! Which peers to read over GATT, and when.
//!
//! iPhones in the background advertise no payload; the engine reads it from their GATT characteristic.
//! Connections are slow and cost battery on both phones, so reads are rationed:
//! - a peer address → payload cache, valid until this phone's next rotation (addresses and payloads
//!   change together, so a cached payload stays right while its address is seen);
//! - one connection at a time, each given 10 seconds;
//! - at most a few reads per scan window;
//! - a peer whose read failed waits before the next try, twice as long after each failure.

use std::collections::{HashMap, VecDeque};

use crate::platform::PeerId;
use crate::protocol::Payload;

/// How GATT reads are rationed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GattPolicy {
    /// Seconds a read may take before it counts as failed.
    pub timeout_secs: u32,
    /// Reads started per scan window, at most.
    pub max_reads_per_window: u32,
    /// Seconds a peer waits after its first failure; doubled after each further one.
    pub backoff_initial_secs: u32,
    /// The longest wait.
    pub backoff_max_secs: u32,
}

impl Default for GattPolicy {
    fn default() -> Self {
        Self {
            timeout_secs: crate::units::GATT_READ_TIMEOUT_SECS,
            max_reads_per_window: 6,
            backoff_initial_secs: 60,
            backoff_max_secs: 1_800,
        }
    }
}

/// The last signal seen from a peer waiting to be read, recorded with the payload once it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Heard {
    pub(crate) rssi: i8,
    pub(crate) tx_power: Option<i8>,
    pub(crate) wall_ms: u64,
}

#[derive(Debug)]
struct InFlight {
    peer: PeerId,
    deadline_mono: u64,
}

/// The GATT read scheduler's state.
#[derive(Debug, Default)]
pub(crate) struct GattReads {
    policy: GattPolicy,
    cache: HashMap<PeerId, Payload>,
    waiting: VecDeque<PeerId>,
    heard: HashMap<PeerId, Heard>,
    in_flight: Option<InFlight>,
    backoff: HashMap<PeerId, (u32, u64)>,
    reads_this_window: u32,
    pub(crate) succeeded: u64,
    pub(crate) failed: u64,
}

impl GattReads {
    pub(crate) fn new(policy: GattPolicy) -> Self {
        Self {
            policy,
            ..Default::default()
        }
    }

    /// A peer that needs a read was heard: its cached payload if there is one, else it is queued (unless
    /// it is already queued, being read, or waiting after a failure).
    pub(crate) fn needs_read(
        &mut self,
        peer: &PeerId,
        heard: Heard,
        now_mono: u64,
    ) -> Option<Payload> {
        if let Some(payload) = self.cache.get(peer) {
            return Some(*payload);
        }
        self.heard.insert(peer.clone(), heard);
        let busy = self.in_flight.as_ref().is_some_and(|f| &f.peer == peer);
        let backing_off = self
            .backoff
            .get(peer)
            .is_some_and(|(_, until)| now_mono < *until);
        if !busy && !backing_off && !self.waiting.contains(peer) {
            self.waiting.push_back(peer.clone());
        }
        None
    }

    /// The next peer to read, if a read may start now; it is then in flight.
    pub(crate) fn start_next(&mut self, now_mono: u64) -> Option<PeerId> {
        if self.in_flight.is_some() || self.reads_this_window >= self.policy.max_reads_per_window {
            return None;
        }
        while let Some(peer) = self.waiting.pop_front() {
            let backing_off = self
                .backoff
                .get(&peer)
                .is_some_and(|(_, until)| now_mono < *until);
            if backing_off || self.cache.contains_key(&peer) {
                continue;
            }
            self.reads_this_window += 1;
            self.in_flight = Some(InFlight {
                peer: peer.clone(),
                deadline_mono: now_mono + u64::from(self.policy.timeout_secs) * 1000,
            });
            return Some(peer);
        }
        None
    }

    /// A read finished. On success, the payload and the signal it goes with; results for reads that
    /// already timed out are ignored.
    pub(crate) fn done(
        &mut self,
        peer: &PeerId,
        payload: Option<Payload>,
        now_mono: u64,
    ) -> Option<(Payload, Heard)> {
        if self.in_flight.as_ref().is_none_or(|f| &f.peer != peer) {
            return None;
        }
        self.in_flight = None;
        match payload {
            Some(payload) => {
                self.succeeded += 1;
                self.backoff.remove(peer);
                self.cache.insert(peer.clone(), payload);
                let heard = self.heard.remove(peer)?;
                Some((payload, heard))
            }
            None => {
                self.fail(peer.clone(), now_mono);
                None
            }
        }
    }

    fn fail(&mut self, peer: PeerId, now_mono: u64) {
        self.failed += 1;
        let failures = self.backoff.get(&peer).map_or(0, |(n, _)| *n) + 1;
        let wait = u64::from(self.policy.backoff_initial_secs)
            .saturating_mul(1 << (failures - 1).min(16))
            .min(u64::from(self.policy.backoff_max_secs));
        self.backoff
            .insert(peer, (failures, now_mono + wait * 1000));
    }

    /// Fails the read in flight if its time is up; returns whether it did.
    pub(crate) fn check_timeout(&mut self, now_mono: u64) -> bool {
        match &self.in_flight {
            Some(f) if now_mono >= f.deadline_mono => {
                let peer = f.peer.clone();
                self.in_flight = None;
                self.fail(peer, now_mono);
                true
            }
            _ => false,
        }
    }

    /// When the read in flight times out.
    pub(crate) fn deadline(&self) -> Option<u64> {
        self.in_flight.as_ref().map(|f| f.deadline_mono)
    }

    /// A new scan window: the read budget refills.
    pub(crate) fn new_window(&mut self) {
        self.reads_this_window = 0;
    }

    /// This phone rotated: cached payloads may belong to addresses that now mean someone else's next
    /// payload, and old entries must not pile up.
    pub(crate) fn rotated(&mut self, now_mono: u64) {
        self.cache.clear();
        self.heard.clear();
        self.backoff.retain(|_, (_, until)| *until > now_mono);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::bluezone_v3::BluezoneId;

    fn peer(n: u8) -> PeerId {
        PeerId(format!("peer-{n}"))
    }

    fn heard() -> Heard {
        Heard {
            rssi: -60,
            tx_power: None,
            wall_ms: 0,
        }
    }

    fn payload(n: u8) -> Payload {
        Payload::BluezoneV3 {
            id: BluezoneId([n; 12]),
        }
    }

    #[test]
    fn one_read_at_a_time_and_the_result_is_cached() {
        let mut g = GattReads::new(GattPolicy::default());
        assert_eq!(g.needs_read(&peer(1), heard(), 0), None);
        assert_eq!(g.needs_read(&peer(2), heard(), 0), None);
        assert_eq!(g.needs_read(&peer(1), heard(), 0), None, "queued once");
        assert_eq!(g.start_next(0), Some(peer(1)));
        assert_eq!(g.start_next(0), None, "one connection at a time");
        assert_eq!(
            g.done(&peer(1), Some(payload(1)), 500).map(|(p, _)| p),
            Some(payload(1))
        );
        assert_eq!(g.needs_read(&peer(1), heard(), 600), Some(payload(1)));
        assert_eq!(g.start_next(600), Some(peer(2)));
        // A late answer for a read no longer in flight changes nothing.
        assert_eq!(g.done(&peer(1), Some(payload(9)), 700), None);
        g.rotated(1_000);
        assert_eq!(
            g.needs_read(&peer(1), heard(), 1_000),
            None,
            "the cache ends at rotation"
        );
    }

    #[test]
    fn reads_time_out_and_failing_peers_back_off_exponentially() {
        let mut g = GattReads::new(GattPolicy::default());
        g.needs_read(&peer(1), heard(), 0);
        assert_eq!(g.start_next(0), Some(peer(1)));
        assert_eq!(g.deadline(), Some(10_000));
        assert!(!g.check_timeout(9_999));
        assert!(g.check_timeout(10_000));
        assert_eq!(g.failed, 1);
        // Backing off for 60 s.
        g.needs_read(&peer(1), heard(), 20_000);
        assert_eq!(g.start_next(20_000), None);
        g.needs_read(&peer(1), heard(), 70_001);
        assert_eq!(g.start_next(70_001), Some(peer(1)));
        assert_eq!(g.done(&peer(1), None, 71_000), None);
        // Second failure: 120 s.
        g.needs_read(&peer(1), heard(), 71_000 + 119_000);
        assert_eq!(g.start_next(71_000 + 119_000), None);
        g.needs_read(&peer(1), heard(), 71_000 + 120_000);
        assert_eq!(g.start_next(71_000 + 120_000), Some(peer(1)));
        g.done(&peer(1), Some(payload(1)), 200_000);
        assert_eq!(g.succeeded, 1);
    }

    #[test]
    fn reads_per_window_are_capped() {
        let policy = GattPolicy {
            max_reads_per_window: 2,
            ..GattPolicy::default()
        };
        let mut g = GattReads::new(policy);
        for n in 0..5 {
            g.needs_read(&peer(n), heard(), 0);
        }
        for n in 0..2 {
            assert_eq!(g.start_next(0), Some(peer(n)));
            g.done(&peer(n), Some(payload(n)), 1);
        }
        assert_eq!(g.start_next(2), None);
        g.new_window();
        assert_eq!(g.start_next(3), Some(peer(2)));
    }

    #[test]
    fn backoff_is_capped() {
        let mut g = GattReads::new(GattPolicy {
            backoff_initial_secs: 60,
            backoff_max_secs: 300,
            ..GattPolicy::default()
        });
        let mut t = 0;
        for _ in 0..10 {
            t += 1_000_000;
            g.new_window();
            g.needs_read(&peer(1), heard(), t);
            assert_eq!(g.start_next(t), Some(peer(1)));
            g.done(&peer(1), None, t);
        }
        assert_eq!(g.backoff[&peer(1)].1, t + 300_000);
    }
}
