package org.openzone.app

import java.time.LocalDate
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.app.platform.Permissions
import org.openzone.app.platform.PhoneInputs
import org.openzone.app.platform.PlatformFacts
import org.openzone.app.status.Fix
import org.openzone.app.status.StatusState
import org.openzone.core.EngineState
import org.openzone.core.PermissionKind
import org.openzone.core.ScanModeKind

private val vi = Texts(Language.VI)
private val en = Texts(Language.EN)
private val facts12 = PlatformFacts(
    sdkInt = 33, bluetoothOn = true, granted = Permissions.radio(33).toSet(),
    batteryOptimizationIgnored = true, notificationsAllowed = true,
)
private val facts11 = facts12.copy(sdkInt = 30, granted = Permissions.radio(30).toSet())

val statusTests: List<HostTest> = listOf(
    "each radio state gives its one thing to fix" to {
        val cases = listOf(
            EngineState.Stopped to Fix.START_PROTECTION,
            EngineState.BluetoothOff to Fix.TURN_ON_BLUETOOTH,
            EngineState.PermissionMissing(PermissionKind.SCAN) to Fix.GRANT_NEARBY_DEVICES,
            EngineState.PermissionMissing(PermissionKind.ADVERTISE) to Fix.GRANT_NEARBY_DEVICES,
            EngineState.PermissionMissing(PermissionKind.CONNECT) to Fix.GRANT_NEARBY_DEVICES,
            EngineState.Failing("advertising failed: too many advertisers") to Fix.OPEN_BLUETOOTH_SETTINGS,
            EngineState.Running(ScanModeKind.BACKGROUND) to null,
            EngineState.Running(ScanModeKind.FOREGROUND) to null,
            EngineState.Running(ScanModeKind.QA) to null,
        )
        for ((state, fix) in cases) for (texts in listOf(vi, en)) {
            val ui = StatusState.of(state, facts12, 3uL, null, texts)
            assertEquals(fix, ui.fix, "$state")
            assertEquals(fix == null, ui.protected, "$state")
            assertEquals(fix?.let { texts(it.label) }, ui.fixLabel)
            assertTrue(ui.headline.isNotBlank() && ui.detail.isNotBlank())
        }
    },
    "a stopped radio asks first for what would keep the service from starting" to {
        val stopped = EngineState.Stopped
        assertEquals(Fix.GRANT_NEARBY_DEVICES, StatusState.of(stopped, facts12.copy(granted = emptySet()), 0uL, null, vi).fix)
        assertEquals(Fix.GRANT_LOCATION, StatusState.of(stopped, facts11.copy(granted = emptySet()), 0uL, null, vi).fix)
        assertEquals(Fix.TURN_ON_BLUETOOTH, StatusState.of(stopped, facts12.copy(bluetoothOn = false), 0uL, null, vi).fix)
        assertEquals(Fix.START_PROTECTION, StatusState.of(stopped, facts12, 0uL, null, vi).fix)
    },
    "the platform's own message stays off the status screen" to {
        val ui = StatusState.of(EngineState.Failing("GATT server: status 133"), facts12, 0uL, null, en)
        assertFalse(ui.detail.contains("133"))
    },
    "on Android 11 and older a missing scan permission asks for location, and Location off blocks" to {
        val missing = StatusState.of(EngineState.PermissionMissing(PermissionKind.SCAN), facts11, 0uL, null, vi)
        assertEquals(Fix.GRANT_LOCATION, missing.fix)
        val off = StatusState.of(
            EngineState.Running(ScanModeKind.BACKGROUND), facts11.copy(locationServicesOn = false), 0uL, null, vi,
        )
        assertEquals(Fix.TURN_ON_LOCATION_SERVICES, off.fix)
        assertFalse(off.protected)
        // Android 12+ scans without Location on (neverForLocation).
        val on12 = StatusState.of(
            EngineState.Running(ScanModeKind.BACKGROUND), facts12.copy(locationServicesOn = false), 0uL, null, vi,
        )
        assertTrue(on12.protected)
    },
    "battery optimisation and notifications are advice, not blockers" to {
        val running = EngineState.Running(ScanModeKind.BACKGROUND)
        val battery = StatusState.of(running, facts12.copy(batteryOptimizationIgnored = false), 0uL, null, en)
        assertTrue(battery.protected)
        assertEquals(Fix.IGNORE_BATTERY_OPTIMIZATION, battery.adviceFix)
        val silent = StatusState.of(running, facts12.copy(notificationsAllowed = false), 0uL, null, en)
        assertEquals(Fix.ALLOW_NOTIFICATIONS, silent.adviceFix)
        val fine = StatusState.of(running, facts12, 0uL, null, en)
        assertNull(fine.advice)
        // A blocker hides advice: one thing at a time.
        val blocked = StatusState.of(EngineState.BluetoothOff, facts12.copy(notificationsAllowed = false), 0uL, null, en)
        assertNull(blocked.adviceFix)
    },
    "running shows today's encounters and the last sync" to {
        val ui = StatusState.of(
            EngineState.Running(ScanModeKind.BACKGROUND), facts12, 17uL, LocalDate.of(2025, 11, 3), vi,
        )
        assertEquals(vi(T.STATUS_RUNNING_DETAIL, "count" to 17), ui.detail)
        assertEquals("Kiểm tra với máy chủ lần cuối: 03/11/2025", ui.lastSync)
        assertEquals(en(T.STATUS_NEVER_SYNCED), StatusState.of(EngineState.Stopped, facts12, 0uL, null, en).lastSync)
    },
    "a phone that cannot advertise is told so" to {
        val ui = StatusState.of(
            EngineState.Running(ScanModeKind.BACKGROUND), facts12.copy(advertisingSupported = false), 0uL, null, en,
        )
        assertTrue(ui.detail.contains(en(T.STATUS_NO_BLE_DETAIL)))
    },
    "the real engine's states map through the status screen" to {
        val e = phone(tempDir(), RecordingPlatform())
        assertEquals(Fix.START_PROTECTION, StatusState.of(e.state(), facts12, 0uL, null, vi).fix)
        e.start()
        PhoneInputs.apply(e, facts12.copy(granted = emptySet()))
        assertEquals(Fix.GRANT_NEARBY_DEVICES, StatusState.of(e.state(), facts12, 0uL, null, vi).fix)
        PhoneInputs.apply(e, facts12)
        assertTrue(StatusState.of(e.state(), facts12, e.counters().sightingsToday, null, vi).protected)
        e.stop()
        e.destroy()
        val refusing = startedPhone(RecordingPlatform(refuseAdvertising = "advertising is not supported"))
        assertTrue(waitUntil { refusing.state() is EngineState.Failing }, "${refusing.state()}")
        assertEquals(Fix.OPEN_BLUETOOTH_SETTINGS, StatusState.of(refusing.state(), facts12, 0uL, null, vi).fix)
        refusing.stop()
        refusing.destroy()
    },
)
