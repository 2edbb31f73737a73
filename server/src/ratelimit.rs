//! Rate limits on failed code attempts: a token bucket per client and one for everyone.
//!
//! Guessing codes is the one attack on the upload: 10^8 codes, of which a few dozen are valid at a time.
//! Each attempt takes a token from the client's bucket and from the global bucket before the code is
//! looked at (so parallel requests cannot all slip through) and gives it back unless the code turned out
//! unknown, used or expired. An empty bucket answers 429 with `Retry-After`.
//!
//! Clients are told apart by IP address (IPv6 by /64, which one subscriber usually gets). Behind a proxy
//! or CDN every request comes from the proxy: then set `trust_forwarded_for` so that the first address
//! of `X-Forwarded-For` counts, and rely on the global bucket against many addresses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::error::ServerError;

/// Sizes and refill rates of the buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Failed attempts one client may make in a row.
    pub per_client_burst: f64,
    /// Failed attempts one client regains per hour.
    pub per_client_per_hour: f64,
    /// Failed attempts everyone together may make in a row.
    pub global_burst: f64,
    /// Failed attempts everyone together regains per hour.
    pub global_per_hour: f64,
}

impl Default for RateLimits {
    /// 10 in a row and 10 an hour per client; 100 in a row and 600 an hour for everyone (with 100 valid
    /// codes outstanding, a guess succeeds once in 10^6 tries: about one success in 70 days at full rate).
    fn default() -> Self {
        Self {
            per_client_burst: 10.0,
            per_client_per_hour: 10.0,
            global_burst: 100.0,
            global_per_hour: 600.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_ms: u64,
}

impl Bucket {
    fn full(burst: f64, now_ms: u64) -> Self {
        Self {
            tokens: burst,
            updated_ms: now_ms,
        }
    }

    fn refill(&mut self, burst: f64, per_hour: f64, now_ms: u64) {
        let elapsed_h = now_ms.saturating_sub(self.updated_ms) as f64 / 3_600_000.0;
        self.tokens = (self.tokens + elapsed_h * per_hour).min(burst);
        self.updated_ms = now_ms.max(self.updated_ms);
    }

    /// Seconds until one token is back.
    fn wait_secs(&self, per_hour: f64) -> u64 {
        if per_hour <= 0.0 {
            return 3_600;
        }
        ((1.0 - self.tokens).max(0.0) * 3_600.0 / per_hour).ceil() as u64 + 1
    }
}

/// Clients kept before full buckets are forgotten.
const MAX_CLIENTS: usize = 100_000;

/// The buckets.
#[derive(Debug)]
pub(crate) struct FailedAttempts {
    limits: RateLimits,
    state: Mutex<(HashMap<IpAddr, Bucket>, Option<Bucket>)>,
}

impl FailedAttempts {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            state: Mutex::new((HashMap::new(), None)),
        }
    }

    /// The buckets; a panic elsewhere while holding them leaves counts that are still usable.
    fn state(&self) -> std::sync::MutexGuard<'_, (HashMap<IpAddr, Bucket>, Option<Bucket>)> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes one token from the client's bucket and the global one, or says how long to wait.
    pub fn acquire(&self, client: IpAddr, now_ms: u64) -> Result<(), ServerError> {
        let l = self.limits;
        let mut state = self.state();
        let (clients, global) = &mut *state;
        let global = global.get_or_insert_with(|| Bucket::full(l.global_burst, now_ms));
        global.refill(l.global_burst, l.global_per_hour, now_ms);
        if clients.len() >= MAX_CLIENTS {
            clients.retain(|_, b| {
                b.refill(l.per_client_burst, l.per_client_per_hour, now_ms);
                b.tokens < l.per_client_burst
            });
        }
        let bucket = clients
            .entry(client_key(client))
            .or_insert_with(|| Bucket::full(l.per_client_burst, now_ms));
        bucket.refill(l.per_client_burst, l.per_client_per_hour, now_ms);
        if bucket.tokens < 1.0 {
            return Err(ServerError::RateLimited {
                retry_after_secs: bucket.wait_secs(l.per_client_per_hour),
            });
        }
        if global.tokens < 1.0 {
            return Err(ServerError::RateLimited {
                retry_after_secs: global.wait_secs(l.global_per_hour),
            });
        }
        bucket.tokens -= 1.0;
        global.tokens -= 1.0;
        Ok(())
    }

    /// Gives back the token of an attempt that did not fail on its code.
    pub fn refund(&self, client: IpAddr) {
        let l = self.limits;
        let mut state = self.state();
        let (clients, global) = &mut *state;
        if let Some(b) = clients.get_mut(&client_key(client)) {
            b.tokens = (b.tokens + 1.0).min(l.per_client_burst);
        }
        if let Some(g) = global {
            g.tokens = (g.tokens + 1.0).min(l.global_burst);
        }
    }
}

/// IPv4 addresses as they are; IPv6 addresses by their /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    fn limits() -> RateLimits {
        RateLimits {
            per_client_burst: 3.0,
            per_client_per_hour: 60.0,
            global_burst: 5.0,
            global_per_hour: 3_600.0,
        }
    }

    #[test]
    fn a_client_is_stopped_after_its_burst_and_refilled_over_time() {
        let limiter = FailedAttempts::new(limits());
        for _ in 0..3 {
            limiter.acquire(A, 0).unwrap();
        }
        let Err(ServerError::RateLimited { retry_after_secs }) = limiter.acquire(A, 0) else {
            panic!("the fourth failure in a row must be refused");
        };
        // 60 an hour: one token a minute.
        assert!((60..=62).contains(&retry_after_secs), "{retry_after_secs}");
        // Another client is not affected.
        limiter.acquire(B, 0).unwrap();
        // A minute later, one more attempt.
        limiter.acquire(A, 60_000).unwrap();
        assert!(limiter.acquire(A, 60_000).is_err());
    }

    #[test]
    fn successful_attempts_do_not_count() {
        let limiter = FailedAttempts::new(limits());
        for _ in 0..100 {
            limiter.acquire(A, 0).unwrap();
            limiter.refund(A);
        }
        limiter.acquire(A, 0).unwrap();
    }

    #[test]
    fn the_global_bucket_stops_many_clients() {
        let limiter = FailedAttempts::new(limits());
        for i in 0..5u8 {
            limiter
                .acquire(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, i)), 0)
                .unwrap();
        }
        assert!(matches!(
            limiter.acquire(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 99)), 0),
            Err(ServerError::RateLimited { .. })
        ));
        // 3600 an hour: one a second.
        limiter
            .acquire(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 99)), 1_000)
            .unwrap();
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let limiter = FailedAttempts::new(limits());
        for last in 1..=3u16 {
            let ip: IpAddr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last).into();
            limiter.acquire(ip, 0).unwrap();
        }
        let same_64: IpAddr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9).into();
        assert!(limiter.acquire(same_64, 0).is_err());
        let other_64: IpAddr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1).into();
        limiter.acquire(other_64, 0).unwrap();
    }
}
