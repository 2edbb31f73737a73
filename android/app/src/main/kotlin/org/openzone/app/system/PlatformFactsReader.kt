// Reads the phone's state into the plain PlatformFacts the shared code works with.
package org.openzone.app.system

import android.bluetooth.BluetoothManager
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import android.os.Build
import android.os.PowerManager
import androidx.core.app.NotificationManagerCompat
import androidx.core.content.ContextCompat
import androidx.core.location.LocationManagerCompat
import org.openzone.app.platform.Permissions
import org.openzone.app.platform.PlatformFacts

object PlatformFactsReader {
    private val all = listOf(
        Permissions.BLUETOOTH_SCAN, Permissions.BLUETOOTH_ADVERTISE, Permissions.BLUETOOTH_CONNECT,
        Permissions.ACCESS_FINE_LOCATION, Permissions.ACCESS_COARSE_LOCATION, Permissions.POST_NOTIFICATIONS,
    )

    fun granted(context: Context, permission: String): Boolean =
        ContextCompat.checkSelfPermission(context, permission) == PackageManager.PERMISSION_GRANTED

    fun read(context: Context): PlatformFacts {
        val adapter = context.getSystemService(BluetoothManager::class.java)?.adapter
        val location = context.getSystemService(LocationManager::class.java)
        val power = context.getSystemService(PowerManager::class.java)
        return PlatformFacts(
            sdkInt = Build.VERSION.SDK_INT,
            bluetoothOn = adapter?.isEnabled == true,
            granted = all.filter { granted(context, it) }.toSet(),
            locationServicesOn = location == null || LocationManagerCompat.isLocationEnabled(location),
            advertisingSupported = adapter == null || !adapter.isEnabled || adapter.isMultipleAdvertisementSupported,
            batteryOptimizationIgnored = power?.isIgnoringBatteryOptimizations(context.packageName) == true,
            notificationsAllowed = NotificationManagerCompat.from(context).areNotificationsEnabled(),
        )
    }
}
