//! The engine: what runs all day on a phone or a QA laptop. It rotates the identifier, decides when to
//! advertise and scan, takes what the radio heard into the store, and asks for GATT reads from iPhones in
//! the background, never touching a radio itself except through the [`BlePlatform`](crate::platform::BlePlatform) boundary.
//!
//! Two layers:
//! - [`EngineCore`]: the state machine. Every call carries the time ([`Now`]: UTC wall clock for the
//!   protocol, a monotonic clock for scheduling, so a user changing the clock cannot stall scanning), and
//!   [`EngineCore::poll`] returns when it must run next. The simulation drives it on virtual time.
//! - [`Engine`]: the same machine on tokio, for phones and the `openzone run` command, with an
//!   [`EngineHandle`] the platform reports to.
//!
//! Scheduling ([`schedule`]): duty cycles by mode and what they cost. Rotation: see `rotation.rs`. GATT
//! reads: `gatt`.

mod gatt;
mod machine;
mod rotation;
pub mod schedule;

use std::sync::{Arc, Mutex, MutexGuard, Weak};

pub use gatt::GattPolicy;
pub use machine::EngineCore;
pub use rotation::release_key_in_use;
pub use schedule::{RadioDuty, ScanMode, Schedules};

use crate::error::Error;
use crate::platform::{EngineInput, PeerId, Permission, PlatformError, Reception};
use crate::protocol::SchemeId;
use crate::time::Clock;
use crate::wire::Error as WireError;

/// The time of a call: the wall clock for the protocol and a monotonic clock for scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// UTC unix milliseconds; may jump when the user sets the clock.
    pub wall_ms: u64,
    /// Milliseconds on a clock that never jumps (since any fixed origin).
    pub mono_ms: u64,
}

/// How an engine behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The identifier scheme spoken (en-v1 by default).
    pub scheme: SchemeId,
    /// This phone's calibrated TX power, announced in en-v1 metadata.
    pub tx_power_dbm: i8,
    /// Scanning duty cycles by mode, and advertising's pace.
    pub schedules: Schedules,
    /// en-v1 rotations come a random 10 to 20 minutes apart.
    pub rotation_min_secs: u32,
    /// See `rotation_min_secs`.
    pub rotation_max_secs: u32,
    /// How GATT reads of iPhones are rationed.
    pub gatt: GattPolicy,
    /// A checkpoint comes at most this many seconds after the first sighting it has not written: what
    /// the operating system killing the app can lose. Without new sightings, one comes once a day.
    pub checkpoint_every_secs: u32,
    /// Slots per day of bluezone-v3 keys.
    pub bluezone_slots_per_day: u32,
    /// Seed of the scheduling jitter; `None` draws one from the system (set it for reproducible
    /// simulations).
    pub jitter_seed: Option<u64>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            scheme: SchemeId::EnV1,
            tx_power_dbm: -25,
            schedules: Schedules::default(),
            rotation_min_secs: 600,
            rotation_max_secs: 1_200,
            gatt: GattPolicy::default(),
            checkpoint_every_secs: crate::units::CHECKPOINT_PERIOD_SECS,
            bluezone_slots_per_day: crate::protocol::bluezone_v3::DEFAULT_SLOTS_PER_DAY,
            jitter_seed: None,
        }
    }
}

impl EngineConfig {
    /// Checks the values make sense together.
    pub fn check(&self) -> Result<(), Error> {
        self.schedules.check()?;
        if self.rotation_min_secs == 0 || self.rotation_min_secs > self.rotation_max_secs {
            return Err(WireError::InvalidConfig(
                "the rotation interval needs 0 < min <= max seconds".into(),
            )
            .into());
        }
        if self.checkpoint_every_secs == 0 || self.gatt.timeout_secs == 0 {
            return Err(WireError::InvalidConfig(
                "checkpoint and GATT timeout intervals must be positive".into(),
            )
            .into());
        }
        Ok(())
    }

    /// The radio duty of each mode.
    pub fn duties(&self) -> [RadioDuty; 3] {
        [ScanMode::Background, ScanMode::Foreground, ScanMode::Qa].map(|m| self.schedules.duty(m))
    }
}

/// What the engine is doing, for the UI: when it is not working, the one thing to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineStatus {
    /// Not started, or stopped.
    Stopped,
    /// Advertising and scanning in this mode.
    Running(ScanMode),
    /// Bluetooth is off: turn it on.
    BluetoothOff,
    /// A permission is missing: grant it.
    PermissionMissing(Permission),
    /// The platform refused to advertise or scan (the message says what it said).
    Failing(String),
}

/// Counters, for the QA screen and the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct EngineStats {
    /// Scan windows run.
    pub scans: u64,
    /// Identifier rotations.
    pub rotations: u64,
    /// Sightings recorded.
    pub sightings: u64,
    /// Sightings recorded today (UTC).
    pub sightings_today: u64,
    /// Advertisements that were not OpenZone's or could not be decoded.
    pub undecodable: u64,
    /// GATT reads that returned a payload.
    pub gatt_reads_ok: u64,
    /// GATT reads that failed or timed out.
    pub gatt_reads_failed: u64,
    /// GATT reads that timed out.
    pub gatt_timeouts: u64,
    /// Times the wall clock was set.
    pub clock_changes: u64,
    /// The current scan mode.
    #[serde(skip)]
    pub mode: Option<ScanMode>,
}

struct Shared {
    core: Mutex<EngineCore>,
    wake: tokio::sync::Notify,
    clock: Arc<dyn Clock>,
    /// tokio's clock, so that tests on paused time drive the engine too.
    origin: tokio::time::Instant,
}

impl Shared {
    fn now(&self) -> Now {
        Now {
            wall_ms: self.clock.now_ms(),
            mono_ms: self
                .clock
                .monotonic_ms()
                .unwrap_or_else(|| self.origin.elapsed().as_millis() as u64),
        }
    }

    /// One step of the machine at the current time; a due checkpoint runs after the machine's lock is
    /// released, so that the store's flush to disk never holds up the radio's callbacks.
    fn step(&self) -> (Now, Option<u64>) {
        let now = self.now();
        let (next, checkpoint) = {
            let mut core = self.core();
            let next = core.poll(now);
            (next, core.take_checkpoint().then(|| core.checkpointer()))
        };
        if let Some(checkpointer) = checkpoint {
            checkpointer.run(now.wall_ms);
        }
        (now, next)
    }

    fn core(&self) -> MutexGuard<'_, EngineCore> {
        // A panic inside the machine is a bug; keep the phone working with the state as it is.
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `f` at the current time and wakes the loop so that it recomputes its deadline.
    fn apply<R>(&self, f: impl FnOnce(&mut EngineCore, Now) -> R) -> R {
        let now = self.now();
        let result = f(&mut self.core(), now);
        self.wake.notify_one();
        result
    }
}

/// The engine on tokio, or stepped by its caller on virtual time. Dropping it stops the radio and its
/// task.
pub struct Engine {
    shared: Arc<Shared>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Wraps a machine; nothing runs until [`start`](Self::start).
    pub fn new(core: EngineCore, clock: Arc<dyn Clock>) -> Self {
        Self {
            shared: Arc::new(Shared {
                core: Mutex::new(core),
                wake: tokio::sync::Notify::new(),
                clock,
                origin: tokio::time::Instant::now(),
            }),
            task: Mutex::new(None),
        }
    }

    /// Starts advertising and scanning, driven by a task on `runtime`.
    pub fn start(&self, runtime: &tokio::runtime::Handle) {
        let mut task = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if task.is_some() {
            return;
        }
        self.shared.apply(|core, now| core.start(now));
        let shared = Arc::clone(&self.shared);
        *task = Some(runtime.spawn(async move {
            loop {
                let (now, next) = shared.step();
                match next {
                    Some(at) => {
                        let delay =
                            std::time::Duration::from_millis(at.saturating_sub(now.mono_ms));
                        tokio::select! {
                            () = tokio::time::sleep(delay) => {}
                            () = shared.wake.notified() => {}
                        }
                    }
                    None => shared.wake.notified().await,
                }
            }
        }));
    }

    /// Starts advertising and scanning without a task: the caller runs [`step`](Self::step) when the
    /// last step asked (a simulation on virtual time, through [`Clock::monotonic_ms`]).
    pub fn start_stepped(&self) {
        self.shared.apply(|core, now| core.start(now));
    }

    /// Runs whatever is due now; returns the monotonic time the engine next needs to run, or `None` while
    /// it is idle. Only for engines started with [`start_stepped`](Self::start_stepped).
    pub fn step(&self) -> Option<u64> {
        self.shared.step().1
    }

    /// Stops the radio and the task, and writes what was recorded.
    pub fn stop(&self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        self.shared.apply(|core, now| core.stop(now));
    }

    /// The handle platforms report to. It does not keep the engine alive.
    pub fn handle(&self) -> EngineHandle {
        EngineHandle(Arc::downgrade(&self.shared))
    }

    /// Runs `f` on the machine at the current time (for reading its state, or for calls without a
    /// dedicated method).
    pub fn with_core<R>(&self, f: impl FnOnce(&mut EngineCore, Now) -> R) -> R {
        self.shared.apply(f)
    }

    /// The current status.
    pub fn status(&self) -> EngineStatus {
        self.shared.core().status().clone()
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        self.shared.core().stats()
    }

    /// Rotates to a new identifier now.
    pub fn rotate_now(&self) {
        self.shared.apply(|core, now| core.rotate_now(now));
    }

    /// QA mode (continuous scanning) on or off.
    pub fn set_qa(&self, qa: bool) {
        self.shared.apply(|core, now| core.set_qa(now, qa));
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The engine's input for platforms: a weak handle, so a platform holding it does not keep the engine
/// alive (no reference cycle between the engine, its platform and this handle).
#[derive(Clone)]
pub struct EngineHandle(Weak<Shared>);

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineHandle(..)")
    }
}

impl EngineHandle {
    fn with(&self, f: impl FnOnce(&mut EngineCore, Now)) {
        if let Some(shared) = self.0.upgrade() {
            shared.apply(f);
        }
    }
}

impl EngineInput for EngineHandle {
    fn advertisement_seen(&self, reception: Reception) {
        self.with(|core, now| core.advertisement_seen(now, reception));
    }

    fn gatt_read_done(&self, peer: PeerId, result: Result<Vec<u8>, PlatformError>) {
        self.with(|core, now| core.gatt_read_done(now, peer, result));
    }

    fn bluetooth_changed(&self, on: bool) {
        self.with(|core, now| core.set_bluetooth(now, on));
    }

    fn foreground_changed(&self, foreground: bool) {
        self.with(|core, now| core.set_foreground(now, foreground));
    }

    fn permission_changed(&self, permission: Permission, granted: bool) {
        self.with(|core, now| core.set_permission(now, permission, granted));
    }

    fn radio_failed(&self, reason: Option<String>) {
        self.with(|core, _| core.radio_failed(reason));
    }
}

#[cfg(test)]
mod tests;
