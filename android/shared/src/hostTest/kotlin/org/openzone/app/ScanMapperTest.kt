package org.openzone.app

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.openzone.app.ble.FilterDescriptor
import org.openzone.app.ble.GattCommand
import org.openzone.app.ble.GattReadQueue
import org.openzone.app.ble.GattStatus
import org.openzone.app.ble.PlatformScanResult
import org.openzone.app.ble.ScanFilterPlan
import org.openzone.app.ble.ScanRecordMapper
import org.openzone.app.qa.LiveSightings
import org.openzone.app.qa.SightingKind
import org.openzone.core.protocolConstants

/** Android pads ScanRecord.getBytes() to 62 bytes (advertisement and scan response). */
private fun padded(raw: ByteArray) = raw + ByteArray(62 - raw.size)

/** An iPhone app in the background: Apple's manufacturer data, overflow type, a 16-byte bitmap. */
private val iphoneOverflow = byteArrayOf(0x02, 0x01, 0x1A, 0x14, 0xFF.toByte(), 0x4C, 0x00, 0x01) + ByteArray(16)

val scanMapperTests: List<HostTest> = listOf(
    "a scan result of another phone's advertisement becomes a sighting in the core" to {
        val alicePlatform = RecordingPlatform()
        val alice = startedPhone(alicePlatform)
        val plan = alicePlatform.plans.last()
        assertEquals(31, plan.raw.size)
        val bobPlatform = RecordingPlatform()
        val bob = startedPhone(bobPlatform)
        val live = LiveSightings()
        val mapper = ScanRecordMapper(bob, live::add)
        val result = PlatformScanResult(
            address = "5A:11:22:33:44:55", bytes = padded(plan.raw), rssi = -63, txPowerLevel = null,
            radioTxPower = ScanRecordMapper.TX_POWER_NOT_PRESENT,
            serviceUuids = plan.serviceUuids,
        )
        assertTrue(mapper.onScanResult(result))
        assertEquals(1uL, bob.counters().sightings)
        mapper.onBatchScanResults(listOf(result, result))
        assertEquals(3uL, bob.counters().sightings)
        assertEquals(SightingKind.EN, live.snapshot(System.currentTimeMillis()).single().kind)
        assertEquals(3, live.snapshot(System.currentTimeMillis()).single().count)
        // Its own advertisement, heard back, is not a sighting.
        ScanRecordMapper(alice).onScanResult(result)
        assertEquals(0uL, alice.counters().sightings)
        for (e in listOf(alice, bob)) { e.stop(); e.destroy() }
    },
    "an unknown RSSI still records a sighting: the core's rule, not the shell's" to {
        val alicePlatform = RecordingPlatform()
        val alice = startedPhone(alicePlatform)
        val bob = startedPhone()
        val unknown = protocolConstants().rssiUnknown.toInt()
        val result = PlatformScanResult("5A:11:22:33:44:55", padded(alicePlatform.plans.last().raw), unknown, null)
        assertTrue(ScanRecordMapper(bob).onScanResult(result))
        assertEquals(1uL, bob.counters().sightings)
        for (e in listOf(alice, bob)) { e.stop(); e.destroy() }
    },
    "results that are not OpenZone's or have no bytes record nothing" to {
        val bob = startedPhone()
        val mapper = ScanRecordMapper(bob)
        assertFalse(mapper.onScanResult(PlatformScanResult("AA", null, -50, null)))
        assertFalse(mapper.onScanResult(PlatformScanResult("AA", ByteArray(0), -50, null)))
        assertTrue(mapper.onScanResult(PlatformScanResult("AA", padded(byteArrayOf(0x02, 0x01, 0x06)), -50, null)))
        assertTrue(mapper.onScanResult(PlatformScanResult("AA", byteArrayOf(0x05, 0x01), -50, null)))
        assertEquals(0uL, bob.counters().sightings)
        assertEquals(2L, mapper.dropped)
        bob.stop()
        bob.destroy()
    },
    "RSSI passes through as Android reports it; TX power comes from the record, else the radio" to {
        val unknown = protocolConstants().rssiUnknown
        assertEquals((-60).toByte(), ScanRecordMapper.rssi(-60))
        assertEquals(unknown, ScanRecordMapper.rssi(unknown.toInt()))
        assertEquals((-128).toByte(), ScanRecordMapper.rssi(-128))
        // Only what no signed byte carries is the core's "unknown" without asking it.
        assertEquals(unknown, ScanRecordMapper.rssi(300))
        assertEquals(unknown, ScanRecordMapper.rssi(-200))
        val absent = ScanRecordMapper.TX_POWER_NOT_PRESENT
        fun tx(level: Int?, radio: Int?) = ScanRecordMapper.txPower(PlatformScanResult("a", null, 0, level, radio))
        assertEquals((-8).toByte(), tx(-8, absent))
        assertEquals(5.toByte(), tx(null, 5))
        assertNull(tx(null, absent))
        assertNull(tx(Int.MIN_VALUE, null))
        assertEquals(3.toByte(), tx(Int.MIN_VALUE, 3))
    },
    "an iPhone in the background is read over GATT through the read queue" to {
        val alice = startedPhone()
        val bobPlatform = RecordingPlatform()
        val bob = startedPhone(bobPlatform)
        val peer = "4C:00:00:00:00:01"
        ScanRecordMapper(bob).onScanResult(PlatformScanResult(peer, padded(iphoneOverflow), -55, null,
            manufacturerIds = listOf(0x004C)))
        assertEquals(0uL, bob.counters().sightings, "nothing to record before the read")
        assertTrue(waitUntil { bobPlatform.gattRequests.contains(peer) }, "the phone asked for a read")
        val queue = GattReadQueue(bob)
        val (session, stale) = queue.begin(peer, System.currentTimeMillis())
        assertTrue(stale.isEmpty())
        assertEquals(listOf(GattCommand.DiscoverServices), session.onConnectionStateChange(GattStatus.SUCCESS, true))
        assertEquals(listOf(GattCommand.ReadCharacteristic), session.onServicesDiscovered(GattStatus.SUCCESS, true))
        assertEquals(listOf(GattCommand.Close), session.onCharacteristicRead(GattStatus.SUCCESS, alice.currentGattValue()))
        assertEquals(1uL, bob.counters().gattReadsOk)
        assertEquals(1uL, bob.counters().sightings)
        // Android's late disconnect callback reports nothing more.
        assertTrue(session.onConnectionStateChange(GattStatus.SUCCESS, false).isEmpty())
        assertEquals(1uL, bob.counters().gattReadsOk)
        for (e in listOf(alice, bob)) { e.stop(); e.destroy() }
    },
    "the core's scan filter becomes Android filters, Apple's on the overflow type byte" to {
        val platform = RecordingPlatform()
        val e = startedPhone(platform)
        assertTrue(waitUntil { platform.filters.isNotEmpty() }, "the engine's task starts the first scan")
        val filters = ScanFilterPlan.filters(platform.filters.first())
        assertTrue(FilterDescriptor(serviceUuid = "00004e56-0000-1000-8000-00805f9b34fb") in filters, "$filters")
        assertTrue(FilterDescriptor(serviceUuid = "00004e56-73f5-4bc4-a12f-17d1ad07a667") in filters, "$filters")
        val apple = filters.single { it.manufacturerId == 0x004C }
        assertTrue(apple.manufacturerData!!.contentEquals(byteArrayOf(0x01)))
        assertTrue(apple.manufacturerDataMask!!.contentEquals(byteArrayOf(0xFF.toByte())))
        assertEquals(null, filters.single { it.manufacturerId == 0x22B5 }.manufacturerData)
        assertEquals(4, filters.size)
        e.stop()
        e.destroy()
    },
)
