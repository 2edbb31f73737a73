// What the phone tells the app, on the core's threads. The one callback the app acts on is the exposure
// notification: which days to notify of is the core's rule (once per day that becomes at risk, remembered
// across restarts, whichever sync or export found it); the shell only posts what `dayAtRisk` hands it.
package org.openzone.app.events

import org.openzone.core.DayExposure
import org.openzone.core.EngineState
import org.openzone.core.PhoneListener
import org.openzone.core.PresenceWarningInfo

/**
 * The app's [PhoneListener]. [notifyAtRisk] posts the at-risk notification: it runs on the core's thread
 * before the core records the day as told, so it posts at once rather than queueing work a dying process
 * could lose (a crash in between repeats a notification rather than losing one). [log] receives the core's
 * error messages (they carry no personal data).
 */
class PhoneEvents(
    private val notifyAtRisk: (DayExposure) -> Unit,
    private val log: (String) -> Unit = {},
    private val notifyPresence: (PresenceWarningInfo) -> Unit = {},
) : PhoneListener {
    override fun dayAtRisk(day: DayExposure) {
        notifyAtRisk(day)
    }

    // A check-in overlapped a confirmed case (once per check-in and day, the core's rule). The app has no
    // check-in screens yet; [notifyPresence] is where their notification goes.
    override fun presenceWarning(warning: PresenceWarningInfo) {
        notifyPresence(warning)
    }

    override fun error(message: String) {
        log(message)
    }

    // The screens read the radio's state and counters once a second while visible (UiModel), and syncs
    // run in the background worker, where nobody watches a progress bar.
    override fun stateChanged(state: EngineState) {}

    override fun sightingsRecorded(today: ULong) {}

    override fun syncProgress(done: UInt, total: UInt) {}
}
