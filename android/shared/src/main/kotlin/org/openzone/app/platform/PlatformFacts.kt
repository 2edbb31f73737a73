// What the Android shell knows about the device and tells the core: Bluetooth on or off, and which of the
// radio's permissions it holds, translated per Android version (12+ has the Nearby devices permissions;
// 11 and older scan under the location permission, and advertise and connect under install-time ones).
package org.openzone.app.platform

import org.openzone.core.OpenZonePhoneInterface
import org.openzone.core.PermissionKind

/** Android API levels the shell branches on. */
object Sdk {
    /** Android 10: fine location needed for BLE scans; foreground-service types exist. */
    const val Q = 29
    /** Android 11: the last version where BLE scanning needs the location permission. */
    const val R = 30
    /** Android 12: BLUETOOTH_SCAN / ADVERTISE / CONNECT. */
    const val S = 31
    /** Android 13: POST_NOTIFICATIONS. */
    const val TIRAMISU = 33
    /** Android 14: foreground-service types are checked against their permissions. */
    const val UPSIDE_DOWN_CAKE = 34
}

/** Android permission names (strings, so that this file needs no Android import). */
object Permissions {
    private const val ANDROID = "android.permission."
    const val BLUETOOTH_SCAN = ANDROID + "BLUETOOTH_SCAN"
    const val BLUETOOTH_ADVERTISE = ANDROID + "BLUETOOTH_ADVERTISE"
    const val BLUETOOTH_CONNECT = ANDROID + "BLUETOOTH_CONNECT"
    const val ACCESS_FINE_LOCATION = ANDROID + "ACCESS_FINE_LOCATION"
    const val ACCESS_COARSE_LOCATION = ANDROID + "ACCESS_COARSE_LOCATION"
    const val POST_NOTIFICATIONS = ANDROID + "POST_NOTIFICATIONS"

    /** The runtime permissions the radio needs on this Android version. */
    fun radio(sdkInt: Int): List<String> =
        if (sdkInt >= Sdk.S) listOf(BLUETOOTH_SCAN, BLUETOOTH_ADVERTISE, BLUETOOTH_CONNECT)
        else listOf(ACCESS_FINE_LOCATION, ACCESS_COARSE_LOCATION)
}

/** The phone's state as the shell reads it from Android. */
data class PlatformFacts(
    val sdkInt: Int,
    val bluetoothOn: Boolean,
    /** Granted runtime permissions, by Android name. */
    val granted: Set<String>,
    /** Android 11 and older: the Location switch (scans return nothing while it is off). */
    val locationServicesOn: Boolean = true,
    /** Whether the phone can advertise at all (`BluetoothAdapter.isMultipleAdvertisementSupported`). */
    val advertisingSupported: Boolean = true,
    val batteryOptimizationIgnored: Boolean = false,
    val notificationsAllowed: Boolean = true,
) {
    private fun has(p: String) = p in granted

    /** Whether the engine may scan. */
    val canScan: Boolean
        get() = if (sdkInt >= Sdk.S) has(Permissions.BLUETOOTH_SCAN) else has(Permissions.ACCESS_FINE_LOCATION)

    /** Whether the engine may advertise (install-time BLUETOOTH_ADMIN before Android 12). */
    val canAdvertise: Boolean get() = sdkInt < Sdk.S || has(Permissions.BLUETOOTH_ADVERTISE)

    /** Whether the engine may connect for GATT reads (install-time BLUETOOTH before Android 12). */
    val canConnect: Boolean get() = sdkInt < Sdk.S || has(Permissions.BLUETOOTH_CONNECT)

    /** Whether scanning needs the location permission and switch here. */
    val scanNeedsLocation: Boolean get() = sdkInt < Sdk.S

    /** Whether every runtime permission of the radio is granted (the service may start). */
    val radioPermissionsGranted: Boolean get() = canScan && canAdvertise && canConnect
}

/** Tells the phone what the shell knows, each time it may have changed (service start, app resume,
 *  Bluetooth broadcast). Its radio engine ignores calls that change nothing. */
object PhoneInputs {
    fun apply(phone: OpenZonePhoneInterface, facts: PlatformFacts) {
        phone.setBluetoothEnabled(facts.bluetoothOn)
        phone.setPermission(PermissionKind.SCAN, facts.canScan)
        phone.setPermission(PermissionKind.ADVERTISE, facts.canAdvertise)
        phone.setPermission(PermissionKind.CONNECT, facts.canConnect)
    }
}
