// Android silently stops delivering results to an app that starts more than 5 scans in 30 seconds (the
// scan "succeeds" and nothing is ever reported), and downgrades a scan running longer than 30 minutes to
// opportunistic. The core's duty cycles stay far below 5 starts per 30 s, but Bluetooth toggles,
// permission changes and mode switches each restart the scan; the controller keeps the starts under the
// limit by deferring the one that would break it, and restarts long scans (QA mode) before 30 minutes.
package org.openzone.app.ble

/** A sliding window of scan starts: at most [maxStarts] in any [windowMs]. */
class ScanStartLimiter(
    private val maxStarts: Int = ANDROID_MAX_STARTS,
    private val windowMs: Long = ANDROID_WINDOW_MS,
) {
    private val starts = ArrayDeque<Long>()

    /** Milliseconds to wait before a start at [nowMs] is allowed (0: now). */
    fun delayBeforeStart(nowMs: Long): Long {
        prune(nowMs)
        if (starts.size < maxStarts) return 0
        // The oldest start leaves the window at oldest + windowMs; one more millisecond to be safe.
        return starts.first() + windowMs + 1 - nowMs
    }

    fun recordStart(nowMs: Long) {
        prune(nowMs)
        starts.addLast(nowMs)
    }

    private fun prune(nowMs: Long) {
        while (starts.isNotEmpty() && nowMs - starts.first() >= windowMs + 1) starts.removeFirst()
    }

    companion object {
        /** Android's limit (GattService's NUM_SCAN_DURATIONS_KEPT) in its window (EXCESSIVE_SCANNING_PERIOD_MS). */
        const val ANDROID_MAX_STARTS = 5
        const val ANDROID_WINDOW_MS = 30_000L
    }
}

/** What the Android layer must do with BluetoothLeScanner and its Handler. */
sealed interface ScanAction {
    /** `startScan(filters, settings, callback)`. */
    data object Start : ScanAction
    /** `stopScan(callback)`. */
    data object Stop : ScanAction
    /** `stopScan` then `startScan` (a long scan before Android downgrades it). */
    data object Restart : ScanAction
    /** Post a timer; call [ScanController.onTimer] at [atMs]. */
    data class StartLater(val atMs: Long) : ScanAction
    /** Remove the pending timer. */
    data object CancelPending : ScanAction
    data object None : ScanAction
}

/** The scanner's state between the engine's requests and Android's limits. Not thread-safe: the Android
 *  layer calls it on one thread (its BLE handler). */
class ScanController(
    private val limiter: ScanStartLimiter = ScanStartLimiter(),
    private val maxScanMs: Long = MAX_SCAN_MS,
) {
    private sealed interface State {
        data object Idle : State
        data class Pending(val atMs: Long) : State
        data class Scanning(val sinceMs: Long) : State
    }

    private var state: State = State.Idle

    /** Starts that had to wait for the limiter (for the QA screen). */
    var deferred: Long = 0
        private set

    val scanning: Boolean get() = state is State.Scanning

    /** The engine asked to scan. */
    fun onStartRequested(nowMs: Long): ScanAction = when (state) {
        is State.Scanning, is State.Pending -> ScanAction.None
        State.Idle -> tryStart(nowMs)
    }

    /** The engine asked to stop. */
    fun onStopRequested(): ScanAction = when (state) {
        is State.Scanning -> ScanAction.Stop.also { state = State.Idle }
        is State.Pending -> ScanAction.CancelPending.also { state = State.Idle }
        State.Idle -> ScanAction.None
    }

    /** The timer fired: a deferred start, or the check of a long scan. */
    fun onTimer(nowMs: Long): ScanAction = when (val s = state) {
        is State.Pending -> if (nowMs >= s.atMs) tryStart(nowMs) else ScanAction.StartLater(s.atMs)
        is State.Scanning ->
            if (nowMs - s.sinceMs >= maxScanMs && limiter.delayBeforeStart(nowMs) == 0L) {
                limiter.recordStart(nowMs)
                state = State.Scanning(nowMs)
                ScanAction.Restart
            } else {
                ScanAction.None
            }
        State.Idle -> ScanAction.None
    }

    /** When [onTimer] should next run: a deferred start, or the restart of a long scan; null: no timer. */
    fun nextTimerMs(): Long? = when (val s = state) {
        is State.Pending -> s.atMs
        is State.Scanning -> s.sinceMs + maxScanMs
        State.Idle -> null
    }

    /** Android refused the start (`onScanFailed`): back to idle, so the next request starts again. */
    fun onStartFailed() {
        state = State.Idle
    }

    private fun tryStart(nowMs: Long): ScanAction {
        val delay = limiter.delayBeforeStart(nowMs)
        return if (delay == 0L) {
            limiter.recordStart(nowMs)
            state = State.Scanning(nowMs)
            ScanAction.Start
        } else {
            deferred++
            state = State.Pending(nowMs + delay)
            ScanAction.StartLater(nowMs + delay)
        }
    }

    companion object {
        /** Under Android's 30 minutes, after which a scan is downgraded to opportunistic. */
        const val MAX_SCAN_MS = 25 * 60_000L
    }
}
