package org.openzone.app

import java.util.UUID
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue
import org.openzone.app.ble.AdvertiseAction
import org.openzone.app.ble.AdvertiseFailure
import org.openzone.app.ble.AdvertisePlanMapper
import org.openzone.app.ble.AdvertiseSpec
import org.openzone.app.ble.AdvertiserController
import org.openzone.core.IdentifierScheme

private fun spec(n: Int) = AdvertiseSpec(listOf(UUID(0, n.toLong())), emptyList(), emptyList(), 31)

val advertisingTests: List<HostTest> = listOf(
    "the core's en-v1 plan fits a legacy advertisement exactly, Flags included" to {
        val platform = RecordingPlatform()
        val e = startedPhone(platform)
        val plan = e.currentAdvertisement()!!
        val s = AdvertisePlanMapper.toSpec(plan)
        assertEquals(plan.raw.size, s.legacyBytes)
        assertTrue(s.legacyBytes <= AdvertiseSpec.LEGACY_MAX_BYTES)
        assertEquals(listOf(UUID.fromString("00004e56-0000-1000-8000-00805f9b34fb")), s.serviceUuids)
        assertEquals(20, s.serviceData.single().second.size)
        assertTrue(s.serviceData.single().second.contentEquals(e.currentGattValue()!!))
        assertTrue(s.manufacturerData.isEmpty())
        assertTrue(s.connectable)
        assertEquals(AdvertiseSpec.ADVERTISE_MODE_BALANCED, s.mode)
        assertEquals(AdvertiseSpec.ADVERTISE_TX_POWER_LOW, s.txPowerLevel)
        e.stop()
        e.destroy()
    },
    "the Bluezone plan puts its ID in manufacturer data 0x22B5" to {
        val e = startedPhone(RecordingPlatform(), scheme = IdentifierScheme.BLUEZONE_V3)
        val plan = e.currentAdvertisement()!!
        val s = AdvertisePlanMapper.toSpec(plan)
        assertEquals(plan.raw.size, s.legacyBytes)
        assertEquals(0x22B5, s.manufacturerData.single().first)
        assertEquals(12, s.manufacturerData.single().second.size)
        e.stop()
        e.destroy()
    },
    "16-bit UUIDs are recognised on the base UUID" to {
        assertTrue(AdvertisePlanMapper.isShort(UUID.fromString("00004e56-0000-1000-8000-00805f9b34fb")))
        assertFalse(AdvertisePlanMapper.isShort(UUID.fromString("00004e56-73f5-4bc4-a12f-17d1ad07a667")))
        assertFalse(AdvertisePlanMapper.isShort(UUID.fromString("12344e56-0000-1000-8000-00805f9b34fb")))
    },
    "each rotation stops the old advertisement and starts the new one (a new address)" to {
        val platform = RecordingPlatform()
        val e = startedPhone(platform)
        val c = AdvertiserController()
        val first = c.onStartRequested(AdvertisePlanMapper.toSpec(platform.plans.last()))
        assertEquals(1, (first.single() as AdvertiseAction.Start).generation, "nothing to stop the first time")
        c.onStarted(1)
        assertTrue(c.advertising)
        // A same-day key release rotates at once: the core stops and starts advertising.
        val before = platform.calls.size
        e.releaseKeys(true, null)
        // (The engine's task may start a scan in between: only the advertising calls matter here.)
        assertEquals(
            listOf("stopAdvertising", "startAdvertising"),
            platform.calls.drop(before).filter { it.endsWith("Advertising") },
        )
        assertNotEquals(platform.plans[0].gattValue.toList(), platform.plans.last().gattValue.toList())
        val actions = c.onStartRequested(AdvertisePlanMapper.toSpec(platform.plans.last()))
        assertEquals(AdvertiseAction.Stop, actions[0])
        assertEquals(2, (actions[1] as AdvertiseAction.Start).generation)
        assertFalse(c.advertising, "until Android confirms the new one")
        c.onStarted(1)
        assertFalse(c.advertising, "a late callback of the replaced advertisement changes nothing")
        c.onStarted(2)
        assertTrue(c.advertising)
        assertEquals(2L, c.starts)
        e.stop()
        e.destroy()
    },
    "transient failures are retried with backoff, others wait for the next rotation" to {
        val c = AdvertiserController(retryInitialMs = 1_000, retryMaxMs = 4_000)
        c.onStartRequested(spec(1))
        assertEquals(listOf(AdvertiseAction.RetryLater(1, 1_000)), c.onFailed(1, AdvertiseFailure.TOO_MANY_ADVERTISERS.code))
        assertEquals("too many advertisers", c.lastFailure)
        val retry = c.onRetryTimer(1)
        assertEquals(2, (retry.single() as AdvertiseAction.Start).generation)
        assertEquals(listOf(AdvertiseAction.RetryLater(2, 2_000)), c.onFailed(2, AdvertiseFailure.INTERNAL_ERROR.code))
        c.onRetryTimer(2)
        assertEquals(listOf(AdvertiseAction.RetryLater(3, 4_000)), c.onFailed(3, AdvertiseFailure.INTERNAL_ERROR.code))
        c.onRetryTimer(3)
        assertEquals(listOf(AdvertiseAction.RetryLater(4, 4_000)), c.onFailed(4, AdvertiseFailure.INTERNAL_ERROR.code), "capped")
        assertTrue(c.onRetryTimer(3).isEmpty(), "a stale timer does nothing")
        val restart = c.onFailed(4, AdvertiseFailure.ALREADY_STARTED.code)
        assertEquals(AdvertiseAction.Stop, restart[0])
        assertTrue(restart[1] is AdvertiseAction.Start)
        val g = (restart[1] as AdvertiseAction.Start).generation
        assertTrue(c.onFailed(g, AdvertiseFailure.DATA_TOO_LARGE.code).isEmpty())
        assertTrue(c.onFailed(g, AdvertiseFailure.FEATURE_UNSUPPORTED.code).isEmpty())
        assertEquals(listOf(AdvertiseAction.Stop), c.onStopRequested())
        assertTrue(c.onStopRequested().isEmpty())
        assertTrue(c.onRetryTimer(g).isEmpty(), "nothing restarts after a stop")
    },
)
