//! Rate limits on what can be guessed: one-time codes, officers' passwords, session tokens.
//!
//! Each client (an IP address; IPv6 by its /64, which one subscriber usually gets) has a token bucket of
//! failures: an attempt takes a token *before* it is checked, so that parallel requests cannot all slip
//! through, and gets it back unless it failed. An empty bucket answers 429 with `Retry-After`.
//!
//! Codes: 10^8 codes, of which a few dozen are valid at a time. Per-client limits come first. A global
//! budget counts failed code checks from everyone, and a valid code never waits behind it (the failing
//! of others must not block a real report, as it did when every attempt took a global token first).
//! While that budget is spent (an attack from many addresses), only clients with a full bucket (no recent
//! failure) get a check, and a failure then empties the client's bucket: each attacking address gets one
//! guess per refill of its whole bucket (an hour at the defaults) instead of a burst and a refill, while
//! a phone that has not failed recently is served at once.
//!
//! Sign-in: failures count per client and per officer name, so that many addresses guessing one
//! officer's password are stopped too (that officer then waits, the others do not). Bearer tokens:
//! failures count per client.
//!
//! The buckets live in this process. Replicas sharing a database each take a share of the global budget
//! ([`RateLimits::shared_by`], `openzone serve --replicas N`); per-client buckets hold as configured when
//! the load balancer keeps a client on one replica, and allow up to N times as much when it does not
//! (`docs/keyserver.md`, "Rate limits across replicas").

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::error::ServerError;

/// Limits on failed code attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Failed attempts one client may make in a row.
    pub per_client_burst: f64,
    /// Failed attempts one client regains per hour.
    pub per_client_per_hour: f64,
    /// Failed attempts everyone together may make in a row before only clients without recent failures
    /// get a check.
    pub global_burst: f64,
    /// Failed attempts everyone together regains per hour.
    pub global_per_hour: f64,
}

impl Default for RateLimits {
    /// 10 in a row and 10 an hour per client; 100 in a row and 600 an hour for everyone (with 100 valid
    /// codes outstanding, a guess succeeds once in 10^6 tries).
    fn default() -> Self {
        Self {
            per_client_burst: 10.0,
            per_client_per_hour: 10.0,
            global_burst: 100.0,
            global_per_hour: 600.0,
        }
    }
}

impl RateLimits {
    /// One replica's limits when `replicas` replicas share the load: each gets its share of the global
    /// budget, so that together they allow what one server would. Per-client limits stay (a client's
    /// requests go to one replica when the load balancer keeps them there).
    pub fn shared_by(self, replicas: u32) -> Self {
        let n = f64::from(replicas.max(1));
        Self {
            global_burst: self.global_burst / n,
            global_per_hour: self.global_per_hour / n,
            ..self
        }
    }
}

/// Limits on failed sign-ins and bearer checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignInLimits {
    /// Failed sign-ins or bearer checks one client may make in a row.
    pub per_client_burst: f64,
    /// Failures one client regains per hour.
    pub per_client_per_hour: f64,
    /// Failed sign-ins for one officer name in a row, from any address.
    pub per_officer_burst: f64,
    /// Failures one officer name regains per hour.
    pub per_officer_per_hour: f64,
}

impl Default for SignInLimits {
    /// 10 in a row and 10 an hour, per client and per officer.
    fn default() -> Self {
        Self {
            per_client_burst: 10.0,
            per_client_per_hour: 10.0,
            per_officer_burst: 10.0,
            per_officer_per_hour: 10.0,
        }
    }
}

/// A bucket's size and refill.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rate {
    burst: f64,
    per_hour: f64,
}

impl Rate {
    /// Seconds until `tokens` have grown to `wanted`.
    fn wait_secs(self, tokens: f64, wanted: f64) -> u64 {
        if self.per_hour <= 0.0 {
            return 3_600;
        }
        ((wanted - tokens).max(0.0) * 3_600.0 / self.per_hour).ceil() as u64 + 1
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_ms: u64,
}

impl Bucket {
    fn refill(&mut self, rate: Rate, now_ms: u64) {
        let elapsed_h = now_ms.saturating_sub(self.updated_ms) as f64 / 3_600_000.0;
        self.tokens = (self.tokens + elapsed_h * rate.per_hour).min(rate.burst);
        self.updated_ms = now_ms.max(self.updated_ms);
    }

    fn is_full(&self, rate: Rate) -> bool {
        self.tokens >= rate.burst
    }
}

/// Keys kept before full buckets are forgotten (a full bucket is what a new key gets anyway).
const MAX_KEYS: usize = 100_000;

/// Failure buckets by key.
#[derive(Debug)]
struct Buckets<K> {
    rate: Rate,
    map: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(rate: Rate) -> Self {
        Self {
            rate,
            map: HashMap::new(),
        }
    }

    /// The key's bucket, refilled to `now_ms`.
    fn bucket(&mut self, key: &K, now_ms: u64) -> &mut Bucket {
        let rate = self.rate;
        if self.map.len() >= MAX_KEYS && !self.map.contains_key(key) {
            self.map.retain(|_, b| {
                b.refill(rate, now_ms);
                !b.is_full(rate)
            });
        }
        let bucket = self.map.entry(key.clone()).or_insert(Bucket {
            tokens: rate.burst,
            updated_ms: now_ms,
        });
        bucket.refill(rate, now_ms);
        bucket
    }

    /// Takes a token, or says how many seconds until there is one.
    fn take(&mut self, key: &K, now_ms: u64) -> Result<(), u64> {
        let rate = self.rate;
        let bucket = self.bucket(key, now_ms);
        if bucket.tokens < 1.0 {
            return Err(rate.wait_secs(bucket.tokens, 1.0));
        }
        bucket.tokens -= 1.0;
        Ok(())
    }

    /// Gives back the token of an attempt that did not fail.
    fn give_back(&mut self, key: &K) {
        let burst = self.rate.burst;
        if let Some(b) = self.map.get_mut(key) {
            b.tokens = (b.tokens + 1.0).min(burst);
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

fn limited(retry_after_secs: u64) -> ServerError {
    ServerError::RateLimited { retry_after_secs }
}

/// Buckets that a panic elsewhere left locked still hold usable counts.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug)]
struct CodeState {
    clients: Buckets<IpAddr>,
    /// May fall below zero (to minus its burst) while an attack goes on, so that it lasts as long.
    global: Bucket,
}

/// Failed code attempts: per client first, then the global budget (see the module's doc).
#[derive(Debug)]
pub(crate) struct CodeAttempts {
    global_rate: Rate,
    state: Mutex<CodeState>,
}

impl CodeAttempts {
    pub fn new(limits: RateLimits) -> Self {
        let client_rate = Rate {
            burst: limits.per_client_burst,
            per_hour: limits.per_client_per_hour,
        };
        let global_rate = Rate {
            burst: limits.global_burst,
            per_hour: limits.global_per_hour,
        };
        Self {
            global_rate,
            state: Mutex::new(CodeState {
                clients: Buckets::new(client_rate),
                global: Bucket {
                    tokens: limits.global_burst,
                    updated_ms: 0,
                },
            }),
        }
    }

    /// Takes a token from the client before its code is checked, or says how long to wait.
    pub fn acquire(&self, client: IpAddr, now_ms: u64) -> Result<(), ServerError> {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let global_rate = self.global_rate;
        state.global.refill(global_rate, now_ms);
        let key = client_key(client);
        let rate = state.clients.rate;
        let bucket = state.clients.bucket(&key, now_ms);
        // Under attack only clients without a recent failure (a full bucket) get a check.
        let under_attack = state.global.tokens < 1.0;
        let needed = if under_attack { rate.burst } else { 1.0 };
        if bucket.tokens < needed {
            let wait = rate.wait_secs(bucket.tokens, needed);
            return Err(limited(if under_attack {
                wait.min(global_rate.wait_secs(state.global.tokens, 1.0))
            } else {
                wait
            }));
        }
        bucket.tokens -= 1.0;
        Ok(())
    }

    /// Settles an attempt [`acquire`](Self::acquire) let through: a failed code costs the client its
    /// token and the global budget one; anything else gives the token back.
    pub fn settle(&self, client: IpAddr, now_ms: u64, failed_code: bool) {
        let mut state = lock(&self.state);
        let key = client_key(client);
        if failed_code {
            let rate = self.global_rate;
            state.global.refill(rate, now_ms);
            state.global.tokens = (state.global.tokens - 1.0).max(-rate.burst);
            if state.global.tokens < 1.0 {
                // Under attack a failure costs the client its whole bucket: its next check waits until
                // the bucket is full again (an hour at the defaults), not one refill.
                state.clients.bucket(&key, now_ms).tokens = 0.0;
            }
        } else {
            state.clients.give_back(&key);
        }
    }
}

/// Limits on posts to visitor-log inboxes, per client (every post counts, not only failures: a post
/// costs the server storage for 14 days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InboxLimits {
    /// Posts one client may make in a row.
    pub per_client_burst: f64,
    /// Posts one client regains per hour.
    pub per_client_per_hour: f64,
}

impl Default for InboxLimits {
    /// 600 in a row and 3,000 an hour per client: a guard's device at a gate of a large school (or
    /// the parents behind one mobile operator's address) in the morning rush.
    fn default() -> Self {
        Self {
            per_client_burst: 600.0,
            per_client_per_hour: 3_000.0,
        }
    }
}

/// Posts to visitor-log inboxes, per client.
#[derive(Debug)]
pub(crate) struct InboxPosts {
    clients: Mutex<Buckets<IpAddr>>,
}

impl InboxPosts {
    pub fn new(limits: InboxLimits) -> Self {
        Self {
            clients: Mutex::new(Buckets::new(Rate {
                burst: limits.per_client_burst,
                per_hour: limits.per_client_per_hour,
            })),
        }
    }

    /// Takes a token for one post, or says how long to wait.
    pub fn acquire(&self, client: IpAddr, now_ms: u64) -> Result<(), ServerError> {
        lock(&self.clients)
            .take(&client_key(client), now_ms)
            .map_err(limited)
    }
}

/// Failed sign-ins (per client and per officer name) and failed session-token checks (per client, in
/// buckets of their own: an expired token a health system keeps sending does not stop its sign-in).
#[derive(Debug)]
pub(crate) struct Guesses {
    state: Mutex<GuessState>,
}

#[derive(Debug)]
struct GuessState {
    sign_in_clients: Buckets<IpAddr>,
    officers: Buckets<String>,
    token_clients: Buckets<IpAddr>,
}

impl Guesses {
    pub fn new(limits: SignInLimits) -> Self {
        let per_client = Rate {
            burst: limits.per_client_burst,
            per_hour: limits.per_client_per_hour,
        };
        Self {
            state: Mutex::new(GuessState {
                sign_in_clients: Buckets::new(per_client),
                officers: Buckets::new(Rate {
                    burst: limits.per_officer_burst,
                    per_hour: limits.per_officer_per_hour,
                }),
                token_clients: Buckets::new(per_client),
            }),
        }
    }

    /// Takes a token from the client and, for a sign-in (`officer` given), from the officer name; for a
    /// session-token check (`None`), from the client's token bucket. Or says how long to wait, taking
    /// nothing.
    pub fn acquire(
        &self,
        client: IpAddr,
        officer: Option<&str>,
        now_ms: u64,
    ) -> Result<(), ServerError> {
        let mut state = lock(&self.state);
        let key = client_key(client);
        let Some(name) = officer else {
            return state.token_clients.take(&key, now_ms).map_err(limited);
        };
        state.sign_in_clients.take(&key, now_ms).map_err(limited)?;
        if let Err(wait) = state.officers.take(&name.to_owned(), now_ms) {
            state.sign_in_clients.give_back(&key);
            return Err(limited(wait));
        }
        Ok(())
    }

    /// Gives back what [`acquire`](Self::acquire) took, for an attempt that succeeded.
    pub fn succeeded(&self, client: IpAddr, officer: Option<&str>) {
        let mut state = lock(&self.state);
        let key = client_key(client);
        match officer {
            Some(name) => {
                state.sign_in_clients.give_back(&key);
                state.officers.give_back(&name.to_owned());
            }
            None => state.token_clients.give_back(&key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_share_the_global_budget() {
        let one = RateLimits::default();
        let third = one.shared_by(3);
        assert_eq!(third.global_burst * 3.0, one.global_burst);
        assert_eq!(third.global_per_hour * 3.0, one.global_per_hour);
        assert_eq!(third.per_client_burst, one.per_client_burst);
        assert_eq!(one.shared_by(0), one);
    }
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    fn limits() -> RateLimits {
        RateLimits {
            per_client_burst: 3.0,
            per_client_per_hour: 60.0,
            global_burst: 5.0,
            global_per_hour: 3_600.0,
        }
    }

    fn ip(i: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
    }

    /// One failed attempt.
    fn fail(limiter: &CodeAttempts, client: IpAddr, now_ms: u64) -> Result<(), ServerError> {
        limiter.acquire(client, now_ms)?;
        limiter.settle(client, now_ms, true);
        Ok(())
    }

    #[test]
    fn a_client_is_stopped_after_its_burst_and_refilled_over_time() {
        let limiter = CodeAttempts::new(limits());
        for _ in 0..3 {
            fail(&limiter, A, 1).unwrap();
        }
        let Err(ServerError::RateLimited { retry_after_secs }) = limiter.acquire(A, 1) else {
            panic!("the fourth failure in a row must be refused");
        };
        // 60 an hour: one token a minute.
        assert!((60..=62).contains(&retry_after_secs), "{retry_after_secs}");
        fail(&limiter, B, 1).unwrap();
        fail(&limiter, A, 60_001).unwrap();
        assert!(limiter.acquire(A, 60_001).is_err());
    }

    #[test]
    fn successful_attempts_do_not_count() {
        let limiter = CodeAttempts::new(limits());
        for _ in 0..100 {
            limiter.acquire(A, 1).unwrap();
            limiter.settle(A, 1, false);
        }
        fail(&limiter, A, 1).unwrap();
    }

    #[test]
    fn a_spent_global_budget_stops_failing_clients_but_not_fresh_ones() {
        let limiter = CodeAttempts::new(limits());
        // Five clients fail once each: the global budget of five is spent.
        for i in 0..5 {
            fail(&limiter, ip(i), 1).unwrap();
        }
        // A client that failed before is refused; one that did not is checked, as often as it succeeds.
        assert!(matches!(
            limiter.acquire(ip(0), 1),
            Err(ServerError::RateLimited { .. })
        ));
        for _ in 0..10 {
            limiter.acquire(ip(99), 1).unwrap();
            limiter.settle(ip(99), 1, false);
        }
        // A fresh attacker gets one guess, then waits for its whole bucket.
        fail(&limiter, ip(100), 1).unwrap();
        assert!(limiter.acquire(ip(100), 1).is_err());
        // 3600 an hour: one a second; after it the budget is positive again.
        fail(&limiter, ip(0), 60_000).unwrap();
    }

    #[test]
    fn under_attack_a_failure_costs_the_whole_bucket() {
        // A global budget that refills slowly: the attack lasts.
        let limiter = CodeAttempts::new(RateLimits {
            per_client_burst: 3.0,
            per_client_per_hour: 60.0,
            global_burst: 2.0,
            global_per_hour: 1.0,
        });
        fail(&limiter, ip(1), 1).unwrap();
        fail(&limiter, ip(2), 1).unwrap();
        // The budget is spent: a fresh address gets one guess, then waits for its whole bucket (3 min).
        fail(&limiter, ip(3), 1).unwrap();
        let Err(ServerError::RateLimited { retry_after_secs }) = limiter.acquire(ip(3), 1) else {
            panic!("a second guess under attack must be refused");
        };
        assert!(
            (180..=182).contains(&retry_after_secs),
            "{retry_after_secs}"
        );
        assert!(
            limiter.acquire(ip(3), 120_001).is_err(),
            "two minutes refill two of three"
        );
        fail(&limiter, ip(3), 180_001).unwrap();
        // A phone with a valid code is checked all along.
        limiter.acquire(ip(9), 180_001).unwrap();
        limiter.settle(ip(9), 180_001, false);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let limiter = CodeAttempts::new(limits());
        for last in 1..=3u16 {
            let ip: IpAddr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last).into();
            fail(&limiter, ip, 1).unwrap();
        }
        let same_64: IpAddr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9).into();
        assert!(limiter.acquire(same_64, 1).is_err());
        let other_64: IpAddr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1).into();
        limiter.acquire(other_64, 1).unwrap();
    }

    #[test]
    fn sign_in_guesses_count_per_client_and_per_officer() {
        let guesses = Guesses::new(SignInLimits {
            per_client_burst: 2.0,
            per_client_per_hour: 1.0,
            per_officer_burst: 3.0,
            per_officer_per_hour: 1.0,
        });
        guesses.acquire(A, Some("lan"), 0).unwrap();
        guesses.acquire(A, Some("lan"), 0).unwrap();
        assert!(guesses.acquire(A, Some("minh"), 0).is_err(), "client spent");
        guesses.acquire(B, Some("lan"), 0).unwrap();
        // Lan's three are spent: another address is refused for Lan, not for Minh, and a refusal takes
        // nothing from the client.
        assert!(guesses.acquire(ip(7), Some("lan"), 0).is_err());
        guesses.acquire(ip(7), Some("minh"), 0).unwrap();
        // Token checks have buckets of their own: A can still check a token, twice.
        guesses.acquire(A, None, 0).unwrap();
        guesses.acquire(A, None, 0).unwrap();
        assert!(guesses.acquire(A, None, 0).is_err());
        // A success gives both back.
        guesses.succeeded(B, Some("lan"));
        guesses.acquire(ip(8), Some("lan"), 0).unwrap();
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A client tries a code, which fails or not; time moves on by the given milliseconds first.
        Try {
            client: u32,
            fails: bool,
            after_ms: u64,
        },
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        proptest::collection::vec(
            (
                0..6u32,
                any::<bool>(),
                prop_oneof![Just(0u64), 0..120_000u64],
            )
                .prop_map(|(client, fails, after_ms)| Op::Try {
                    client,
                    fails,
                    after_ms,
                }),
            1..300,
        )
    }

    proptest! {
        #[test]
        fn code_attempt_invariants(ops in ops(), burst in 1u8..6, global in 1u8..10) {
            let limits = RateLimits {
                per_client_burst: f64::from(burst),
                per_client_per_hour: 30.0,
                global_burst: f64::from(global),
                global_per_hour: 60.0,
            };
            let limiter = CodeAttempts::new(limits);
            let mut now = 1_000u64;
            // Each client's failures accepted so far, and whether it never failed (a full bucket).
            let mut failures: HashMap<u32, u64> = HashMap::new();
            for Op::Try { client, fails, after_ms } in ops {
                now += after_ms;
                let full_before = {
                    let mut state = lock(&limiter.state);
                    let rate = state.clients.rate;
                    state.clients.bucket(&ip(client), now).is_full(rate)
                };
                match limiter.acquire(ip(client), now) {
                    Ok(()) => {
                        limiter.settle(ip(client), now, fails);
                        if fails {
                            *failures.entry(client).or_default() += 1;
                        }
                    }
                    Err(ServerError::RateLimited { retry_after_secs }) => {
                        // A client with no failure left in its bucket is never refused.
                        prop_assert!(!full_before);
                        prop_assert!(retry_after_secs >= 1);
                    }
                    Err(other) => prop_assert!(false, "{other}"),
                }
                let state = lock(&limiter.state);
                for bucket in state.clients.map.values() {
                    prop_assert!(bucket.tokens >= 0.0 && bucket.tokens <= limits.per_client_burst);
                }
                prop_assert!(state.global.tokens >= -limits.global_burst);
                prop_assert!(state.global.tokens <= limits.global_burst);
                // No client failed more often than its burst and its refill allow.
                let hours = (now - 1_000) as f64 / 3_600_000.0;
                for n in failures.values() {
                    prop_assert!(*n as f64 <= limits.per_client_burst + hours * limits.per_client_per_hour + 1e-9);
                }
            }
        }

        #[test]
        fn successes_never_cost_anything(n in 1usize..200, burst in 1u8..5) {
            let limiter = CodeAttempts::new(RateLimits {
                per_client_burst: f64::from(burst),
                per_client_per_hour: 0.0,
                global_burst: 1.0,
                global_per_hour: 0.0,
            });
            for _ in 0..n {
                prop_assert!(limiter.acquire(A, 5).is_ok());
                limiter.settle(A, 5, false);
            }
            let state = lock(&limiter.state);
            prop_assert_eq!(state.global.tokens, 1.0);
            prop_assert_eq!(state.clients.map[&A].tokens, f64::from(burst));
        }

        #[test]
        fn guesses_never_exceed_either_budget(
            tries in proptest::collection::vec((0..4u32, 0..3u8, any::<bool>()), 1..200),
        ) {
            let limits = SignInLimits {
                per_client_burst: 3.0,
                per_client_per_hour: 0.0,
                per_officer_burst: 4.0,
                per_officer_per_hour: 0.0,
            };
            let guesses = Guesses::new(limits);
            let names = ["lan", "minh", "hoa"];
            let mut per_client: HashMap<u32, f64> = HashMap::new();
            let mut per_officer: HashMap<u8, f64> = HashMap::new();
            for (client, officer, succeeds) in tries {
                let name = names[usize::from(officer)];
                if guesses.acquire(ip(client), Some(name), 0).is_ok() {
                    if succeeds {
                        guesses.succeeded(ip(client), Some(name));
                    } else {
                        *per_client.entry(client).or_default() += 1.0;
                        *per_officer.entry(officer).or_default() += 1.0;
                    }
                }
            }
            prop_assert!(per_client.values().all(|n| *n <= limits.per_client_burst));
            prop_assert!(per_officer.values().all(|n| *n <= limits.per_officer_burst));
        }
    }
}
