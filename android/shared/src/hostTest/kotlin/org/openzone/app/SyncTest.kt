package org.openzone.app

import java.time.LocalDate
import kotlin.random.Random
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.openzone.app.prefs.AppPreferences
import org.openzone.app.prefs.InMemoryKeyValueStore
import org.openzone.app.sync.SyncDecision
import org.openzone.app.sync.SyncPolicy
import org.openzone.app.sync.SyncRunner
import org.openzone.core.OpenZoneException

private val today = LocalDate.of(2025, 11, 20)

val syncTests: List<HostTest> = listOf(
    "sync runs every 6 hours on a network, not on a low battery, spread over the period" to {
        val s = SyncPolicy.schedule(Random(1))
        assertEquals(360L, s.periodMinutes)
        assertTrue(s.flexMinutes in 5..s.periodMinutes, "WorkManager's flex must be at least 5 minutes")
        assertTrue(s.periodMinutes >= 15, "WorkManager's minimum period")
        assertTrue(s.requiresNetwork && s.requiresBatteryNotLow)
        assertEquals(15L, s.backoffMinutes)
        val delays = (1..50).map { SyncPolicy.schedule(Random(it)).initialDelayMinutes }
        assertTrue(delays.all { it in 0 until s.periodMinutes })
        assertTrue(delays.toSet().size > 10, "phones do not all start together")
    },
    "network trouble is retried a few times; other errors wait for the next period" to {
        assertEquals(SyncDecision.SUCCESS, SyncPolicy.decide(null, 0))
        assertEquals(SyncDecision.RETRY, SyncPolicy.decide(OpenZoneException.Network("down"), 0))
        assertEquals(SyncDecision.FAILURE, SyncPolicy.decide(OpenZoneException.Network("down"), SyncPolicy.MAX_ATTEMPTS - 1))
        assertEquals(SyncDecision.FAILURE, SyncPolicy.decide(OpenZoneException.UntrustedData("bad signature"), 0))
        assertEquals(SyncDecision.FAILURE, SyncPolicy.decide(OpenZoneException.Storage("disk full"), 0))
        assertEquals(SyncDecision.FAILURE, SyncPolicy.decide(OpenZoneException.InvalidInput("no server"), 0))
    },
    "a sync without a key server fails for good; a refusing server is retried" to {
        val prefs = AppPreferences(InMemoryKeyValueStore())
        val alone = phone(tempDir(), RecordingPlatform())
        val failed = runBlocking { SyncRunner(alone, prefs).run(today, 0) }
        assertEquals(SyncDecision.FAILURE, failed.decision)
        assertTrue(failed.reason!!.startsWith("InvalidInput"), failed.reason)
        assertEquals(null, prefs.lastSyncDate)
        alone.destroy()
        val refusing = refusingKeyServer(403)
        try {
            val e = phone(tempDir(), RecordingPlatform(), keyServerUrl = "http://127.0.0.1:${refusing.address.port}")
            val result = runBlocking { SyncRunner(e, prefs).run(today, 0) }
            assertEquals(SyncDecision.RETRY, result.decision, result.reason)
            assertEquals(null, result.summary)
            e.destroy()
        } finally {
            refusing.stop(0)
        }
    },
)
