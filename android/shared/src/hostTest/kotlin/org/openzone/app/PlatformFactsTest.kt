package org.openzone.app

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import org.openzone.app.platform.Permissions
import org.openzone.app.platform.PhoneInputs
import org.openzone.app.platform.PlatformFacts
import org.openzone.core.EngineState
import org.openzone.core.PermissionKind

val platformFactsTests: List<HostTest> = listOf(
    "Android 12+ needs the three Nearby devices permissions" to {
        val none = PlatformFacts(sdkInt = 31, bluetoothOn = true, granted = emptySet())
        assertFalse(none.canScan || none.canAdvertise || none.canConnect)
        val all = none.copy(granted = Permissions.radio(31).toSet())
        assertTrue(all.radioPermissionsGranted)
        // Location does not stand in for BLUETOOTH_SCAN on 12+ (the app declares neverForLocation).
        assertFalse(none.copy(granted = setOf(Permissions.ACCESS_FINE_LOCATION)).canScan)
    },
    "Android 11 and older scan under fine location and advertise without a runtime permission" to {
        val none = PlatformFacts(sdkInt = 30, bluetoothOn = true, granted = emptySet())
        assertFalse(none.canScan)
        assertTrue(none.canAdvertise && none.canConnect)
        assertTrue(none.copy(granted = setOf(Permissions.ACCESS_FINE_LOCATION)).radioPermissionsGranted)
        assertEquals(listOf(Permissions.ACCESS_FINE_LOCATION, Permissions.ACCESS_COARSE_LOCATION), Permissions.radio(23))
    },
    "the phone hears Bluetooth and permissions and says what is missing" to {
        val platform = RecordingPlatform()
        val e = startedPhone(platform)
        val granted = PlatformFacts(sdkInt = 34, bluetoothOn = true, granted = Permissions.radio(34).toSet())
        PhoneInputs.apply(e, granted)
        assertTrue(e.state() is EngineState.Running, "${e.state()}")
        PhoneInputs.apply(e, granted.copy(granted = granted.granted - Permissions.BLUETOOTH_ADVERTISE))
        assertEquals(EngineState.PermissionMissing(PermissionKind.ADVERTISE), e.state())
        assertTrue("stopAdvertising" in platform.calls, "the radio stops without the permission")
        PhoneInputs.apply(e, granted.copy(bluetoothOn = false))
        assertEquals(EngineState.BluetoothOff, e.state())
        PhoneInputs.apply(e, granted)
        assertTrue(e.state() is EngineState.Running, "${e.state()}")
        e.stop()
        e.destroy()
    },
)
