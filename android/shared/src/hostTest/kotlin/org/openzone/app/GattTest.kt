package org.openzone.app

import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.openzone.app.ble.GattCommand
import org.openzone.app.ble.GattReadQueue
import org.openzone.app.ble.GattServerResponder
import org.openzone.app.ble.GattStatus

private const val CHARACTERISTIC = "00004e56-73f5-4bc4-a12f-17d1ad07a689"

val gattTests: List<HostTest> = listOf(
    "every failure reports once to the core and closes the connection" to {
        val platform = RecordingPlatform()
        val e = startedPhone(platform)
        val queue = GattReadQueue(e)
        val now = System.currentTimeMillis()
        val (a, _) = queue.begin("peer-a", now)
        assertEquals(listOf(GattCommand.Close), a.onConnectionStateChange(133, false))
        assertTrue(a.done)
        assertTrue(a.onConnectionStateChange(0, false).isEmpty())
        val (b, _) = queue.begin("peer-b", now)
        b.onConnectionStateChange(GattStatus.SUCCESS, true)
        assertEquals(listOf(GattCommand.Close), b.onServicesDiscovered(GattStatus.SUCCESS, hasCharacteristic = false))
        val (c, _) = queue.begin("peer-c", now)
        c.onConnectionStateChange(GattStatus.SUCCESS, true)
        c.onServicesDiscovered(GattStatus.SUCCESS, true)
        assertEquals(listOf(GattCommand.Close), c.onCharacteristicRead(GattStatus.READ_NOT_PERMITTED, null))
        val (d, _) = queue.begin("peer-d", now)
        assertEquals(listOf(GattCommand.Close), d.onCallRefused("connectGatt"))
        // A session that hangs is closed when its deadline passes, or when the next read begins.
        val (hung, _) = queue.begin("peer-e", now)
        hung.onConnectionStateChange(GattStatus.SUCCESS, true)
        val (_, stale) = queue.begin("peer-f", now + 1)
        assertEquals(listOf(GattCommand.Close), stale)
        val f = queue.current!!
        assertEquals(listOf(GattCommand.Close), queue.onDeadline(f))
        assertTrue(queue.onDeadline(f).isEmpty())
        // None of these were reads the core asked for: it ignores them and counts nothing.
        assertEquals(0uL, e.counters().gattReadsOk)
        e.stop()
        e.destroy()
    },
    "the server answers reads with the current value, from the offset asked" to {
        val value = ByteArray(20) { it.toByte() }
        val ok = GattServerResponder.respond(CHARACTERISTIC.uppercase(), CHARACTERISTIC, 0, value)
        assertEquals(GattStatus.SUCCESS, ok.status)
        assertTrue(ok.value!!.contentEquals(value))
        val rest = GattServerResponder.respond(CHARACTERISTIC, CHARACTERISTIC, 18, value)
        assertTrue(rest.value!!.contentEquals(byteArrayOf(18, 19)))
        assertEquals(GattStatus.SUCCESS, GattServerResponder.respond(CHARACTERISTIC, CHARACTERISTIC, 20, value).status)
        assertEquals(GattStatus.INVALID_OFFSET, GattServerResponder.respond(CHARACTERISTIC, CHARACTERISTIC, 21, value).status)
        assertEquals(GattStatus.FAILURE, GattServerResponder.respond(CHARACTERISTIC, CHARACTERISTIC, 0, null).status)
        assertEquals(
            GattStatus.READ_NOT_PERMITTED,
            GattServerResponder.respond("00002a00-0000-1000-8000-00805f9b34fb", CHARACTERISTIC, 0, value).status,
        )
    },
    "the server serves the engine's value and changes it at rotation" to {
        val e = startedPhone()
        val plan = e.currentAdvertisement()!!
        assertEquals(CHARACTERISTIC, plan.gattCharacteristicUuid.lowercase())
        assertEquals("00004e56-73f5-4bc4-a12f-17d1ad07a667", plan.gattServiceUuid.lowercase())
        val first = GattServerResponder.respond(CHARACTERISTIC, plan.gattCharacteristicUuid, 0, e.currentGattValue())
        e.releaseKeys(true, null)
        val second = GattServerResponder.respond(CHARACTERISTIC, plan.gattCharacteristicUuid, 0, e.currentGattValue())
        assertEquals(20, first.value!!.size)
        assertTrue(!first.value.contentEquals(second.value!!))
        e.stop()
        e.destroy()
    },
)
