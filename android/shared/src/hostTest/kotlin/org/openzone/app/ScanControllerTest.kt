package org.openzone.app

import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.openzone.app.ble.ScanAction
import org.openzone.app.ble.ScanController
import org.openzone.app.ble.ScanStartLimiter

val scanControllerTests: List<HostTest> = listOf(
    "at most 5 starts in any 30 seconds" to {
        val limiter = ScanStartLimiter()
        for (t in 0L until 5L) {
            assertEquals(0L, limiter.delayBeforeStart(t * 1000))
            limiter.recordStart(t * 1000)
        }
        // The 6th waits until the first has left the window.
        assertEquals(30_001L - 5_000L, limiter.delayBeforeStart(5_000))
        assertEquals(0L, limiter.delayBeforeStart(30_001))
        limiter.recordStart(30_001)
        assertEquals(1_000L, limiter.delayBeforeStart(30_001), "now the second start is the oldest")
    },
    "rapid restarts are deferred, not lost, and a stop cancels the deferred start" to {
        val c = ScanController()
        var now = 0L
        repeat(5) {
            assertEquals(ScanAction.Start, c.onStartRequested(now))
            assertEquals(ScanAction.Stop, c.onStopRequested())
            now += 100
        }
        val later = c.onStartRequested(now)
        assertEquals(ScanAction.StartLater(30_001), later)
        assertEquals(1L, c.deferred)
        assertEquals(30_001L, c.nextTimerMs())
        assertEquals(ScanAction.None, c.onStartRequested(now), "already pending")
        assertEquals(ScanAction.StartLater(30_001), c.onTimer(20_000), "too early: wait on")
        assertEquals(ScanAction.Start, c.onTimer(30_001))
        assertTrue(c.scanning)
        assertEquals(ScanAction.Stop, c.onStopRequested())
        assertTrue(c.onStartRequested(30_100) is ScanAction.StartLater)
        assertEquals(ScanAction.CancelPending, c.onStopRequested())
        assertEquals(ScanAction.None, c.onTimer(40_000), "a cancelled start does not come back")
    },
    "the engine's duty cycles never hit the limiter" to {
        // Foreground: 8 s every 60 s; background: 4 s every 4 to 5 min. A day of foreground scanning.
        val c = ScanController()
        var now = 0L
        repeat(24 * 60) {
            assertEquals(ScanAction.Start, c.onStartRequested(now))
            assertEquals(ScanAction.Stop, c.onStopRequested())
            now += 60_000
        }
        assertEquals(0L, c.deferred)
    },
    "a continuous scan is restarted before Android downgrades it at 30 minutes" to {
        val c = ScanController()
        assertEquals(ScanAction.Start, c.onStartRequested(0))
        assertEquals(ScanController.MAX_SCAN_MS, c.nextTimerMs())
        assertEquals(ScanAction.None, c.onTimer(60_000))
        assertEquals(ScanAction.Restart, c.onTimer(ScanController.MAX_SCAN_MS))
        assertEquals(2 * ScanController.MAX_SCAN_MS, c.nextTimerMs())
        c.onStopRequested()
        assertEquals(null, c.nextTimerMs())
    },
    "a refused start lets the next request start again" to {
        val c = ScanController()
        assertEquals(ScanAction.Start, c.onStartRequested(0))
        c.onStartFailed()
        assertEquals(ScanAction.Start, c.onStartRequested(10))
    },
)
