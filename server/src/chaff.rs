//! Answering chaff: phones send fake uploads at random times (`openzone_wire::keyserver::wire::FakeUpload`)
//! so that an upload on the wire does not mean a report. The server drops them and answers like an
//! accepted upload, after a delay drawn from the durations of the last real accepted uploads, so the time
//! to answer does not tell them apart either.
//!
//! The Corona-Warn-App answers fakes after a Poisson delay around a moving average of real durations
//! (cwa-server, `FakeDelayManager`); drawing from the recent durations themselves matches their whole
//! distribution, not only its mean. Until real uploads have been seen, the window holds a spread of
//! typical durations (a flushed sled transaction: milliseconds to a few hundred), replaced as real ones
//! arrive.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// Real durations remembered: enough for a stable distribution, recent enough to follow the load.
pub(crate) const WINDOW: usize = 512;

/// Durations the window starts with, in milliseconds.
const PRIOR_MS: [u64; 16] = [4, 5, 6, 8, 10, 12, 15, 18, 22, 27, 33, 40, 50, 65, 90, 150];

/// The durations of recent real uploads, to draw fake answers' delays from.
#[derive(Debug)]
pub(crate) struct FakeDelays(Mutex<VecDeque<Duration>>);

impl Default for FakeDelays {
    fn default() -> Self {
        Self(Mutex::new(
            PRIOR_MS
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
        ))
    }
}

impl FakeDelays {
    fn window(&self) -> std::sync::MutexGuard<'_, VecDeque<Duration>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Remembers how long a real accepted upload took to answer.
    pub fn observe(&self, took: Duration) {
        let mut window = self.window();
        if window.len() >= WINDOW {
            window.pop_front();
        }
        window.push_back(took);
    }

    /// A delay for a fake answer: one of the remembered durations, picked by `random` (uniform over
    /// `u64`; the server passes operating-system randomness, tests a seeded generator).
    pub fn draw(&self, random: u64) -> Duration {
        let window = self.window();
        if window.is_empty() {
            return Duration::ZERO;
        }
        window[(random % window.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openzone_wire::seeded::SplitMix64;

    /// Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical distribution
    /// functions.
    fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let (mut i, mut j, mut d) = (0, 0, 0.0f64);
        while i < a.len() && j < b.len() {
            let x = a[i].min(b[j]);
            while i < a.len() && a[i] <= x {
                i += 1;
            }
            while j < b.len() && b[j] <= x {
                j += 1;
            }
            d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
        }
        d
    }

    /// Real upload durations: log-normal around 20 ms, as a loaded disk gives.
    fn real_durations(rng: &mut SplitMix64, n: usize) -> Vec<Duration> {
        (0..n)
            .map(|_| Duration::from_micros((20_000.0 * (0.8 * rng.normal()).exp()) as u64))
            .collect()
    }

    #[test]
    fn fake_delays_follow_the_distribution_of_real_answers() {
        let mut rng = SplitMix64::new(11);
        let delays = FakeDelays::default();
        // More real uploads than the window holds: only the recent ones count.
        for took in real_durations(&mut rng, 3 * WINDOW) {
            delays.observe(took);
        }
        let real: Vec<f64> = real_durations(&mut rng, 2_000)
            .iter()
            .map(Duration::as_secs_f64)
            .collect();
        let fake: Vec<f64> = (0..2_000)
            .map(|_| delays.draw(rng.next_u64()).as_secs_f64())
            .collect();
        // Critical value at alpha = 0.001 for two samples of 2000: 1.95 * sqrt(2 / 2000).
        let critical = 1.95 * (2.0f64 / 2_000.0).sqrt();
        let d = ks_statistic(&real, &fake);
        assert!(
            d < critical,
            "fake delays differ from real durations: D = {d}"
        );
        // A constant delay (or none at all) is told apart at once.
        let constant = vec![0.020; 2_000];
        assert!(ks_statistic(&real, &constant) > critical);
    }

    #[test]
    fn the_window_follows_a_change_of_load() {
        let delays = FakeDelays::default();
        for _ in 0..WINDOW {
            delays.observe(Duration::from_millis(500));
        }
        let mut rng = SplitMix64::new(5);
        assert!((0..1_000).all(|_| delays.draw(rng.next_u64()) == Duration::from_millis(500)));
    }

    #[test]
    fn before_any_real_upload_delays_are_spread() {
        let delays = FakeDelays::default();
        let mut rng = SplitMix64::new(1);
        let drawn: std::collections::HashSet<Duration> =
            (0..500).map(|_| delays.draw(rng.next_u64())).collect();
        assert_eq!(drawn.len(), PRIOR_MS.len());
    }
}
