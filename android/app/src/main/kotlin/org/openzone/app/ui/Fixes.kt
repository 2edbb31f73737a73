// What each status fix does on Android: a permission request or a system settings screen.
package org.openzone.app.ui

import android.annotation.SuppressLint
import android.app.Activity
import android.bluetooth.BluetoothAdapter
import android.content.ActivityNotFoundException
import android.content.Intent
import android.net.Uri
import android.os.Build
import android.provider.Settings
import org.openzone.app.platform.Permissions
import org.openzone.app.service.OpenZoneService
import org.openzone.app.status.Fix

class Fixes(
    private val activity: Activity,
    private val requestPermissions: (List<String>) -> Unit,
) {
    fun handle(fix: Fix) {
        when (fix) {
            Fix.START_PROTECTION -> OpenZoneService.start(activity)
            Fix.TURN_ON_BLUETOOTH -> enableBluetooth()
            Fix.GRANT_NEARBY_DEVICES, Fix.GRANT_LOCATION -> requestPermissions(Permissions.radio(Build.VERSION.SDK_INT))
            Fix.TURN_ON_LOCATION_SERVICES -> open(Intent(Settings.ACTION_LOCATION_SOURCE_SETTINGS))
            Fix.OPEN_BLUETOOTH_SETTINGS -> open(Intent(Settings.ACTION_BLUETOOTH_SETTINGS))
            Fix.IGNORE_BATTERY_OPTIMIZATION -> ignoreBatteryOptimization()
            Fix.ALLOW_NOTIFICATIONS ->
                if (Build.VERSION.SDK_INT >= 33) requestPermissions(listOf(Permissions.POST_NOTIFICATIONS))
                else open(Intent(Settings.ACTION_APP_NOTIFICATION_SETTINGS).putExtra(Settings.EXTRA_APP_PACKAGE, activity.packageName))
        }
    }

    /** Android's own dialog (the permission is checked by the caller's status: only shown when granted). */
    @SuppressLint("MissingPermission")
    private fun enableBluetooth() {
        try {
            activity.startActivity(Intent(BluetoothAdapter.ACTION_REQUEST_ENABLE))
        } catch (e: SecurityException) {
            open(Intent(Settings.ACTION_BLUETOOTH_SETTINGS))
        }
    }

    /**
     * The direct request (one tap) where the phone supports it; some makers remove that dialog, so fall back
     * to the list of apps. Either way the maker's own battery manager may still stop the app: the onboarding
     * shows that maker's steps (dontkillmyapp.com).
     */
    @SuppressLint("BatteryLife")
    fun ignoreBatteryOptimization() {
        val direct = Intent(Settings.ACTION_REQUEST_IGNORE_BATTERY_OPTIMIZATIONS, Uri.parse("package:${activity.packageName}"))
        if (!open(direct)) open(Intent(Settings.ACTION_IGNORE_BATTERY_OPTIMIZATION_SETTINGS))
    }

    fun openAppSettings() {
        open(Intent(Settings.ACTION_APPLICATION_DETAILS_SETTINGS, Uri.parse("package:${activity.packageName}")))
    }

    fun open(intent: Intent): Boolean = try {
        activity.startActivity(intent)
        true
    } catch (e: ActivityNotFoundException) {
        false
    }
}
