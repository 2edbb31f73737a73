//! What the app hears from its phone: one listener for the radio, exposure, sync and errors.

use crate::engine::EngineStatus;
use crate::error::Error;
use crate::risk::DayRisk;

use super::PresenceWarning;

/// How far a sync has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    /// Exports checked (or skipped as bad) so far in this sync.
    pub exports_done: usize,
    /// Exports this sync has to check.
    pub exports_total: usize,
}

/// What the app hears from its [`Phone`](super::Phone). Called from the core's threads: hand UI work to
/// the UI thread, and do not call back into the phone from inside a callback.
pub trait PhoneListener: Send + Sync {
    /// The radio's status changed (running, Bluetooth off, a permission missing, the platform failing).
    fn radio_status_changed(&self, status: &EngineStatus);

    /// A scan window ended; `today` sightings were recorded so far today (UTC).
    fn sightings_recorded(&self, today: u64);

    /// A day became at risk: notify the user. Called once per day, however many exports later add to
    /// it, and never for a day the user was told of before (the phone remembers across restarts).
    fn day_at_risk(&self, day: &DayRisk);

    /// A check-in overlapped a published case's stay on a day at risk: tell the user where and when.
    /// Called once per check-in and day, and never again after a restart. Apps that do no presence
    /// tracing need not listen.
    fn presence_warning(&self, _warning: &PresenceWarning) {}

    /// A sync went one export further.
    fn sync_progress(&self, progress: SyncProgress);

    /// Something went wrong that the user may need to act on (a full disk, a damaged store).
    fn error(&self, error: &Error);
}
