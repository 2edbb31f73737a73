// On a device: the installed app declares what docs/android.md says (permissions with their limits, the
// service's types), as Android parsed the manifest.
package org.openzone.app

import android.content.ComponentName
import android.content.pm.PackageInfo
import android.content.pm.PackageManager
import android.content.pm.ServiceInfo
import android.os.Build
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.openzone.app.service.OpenZoneService

@RunWith(AndroidJUnit4::class)
class ManifestTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext

    @Suppress("DEPRECATION")
    private fun info(): PackageInfo =
        context.packageManager.getPackageInfo(context.packageName, PackageManager.GET_PERMISSIONS)

    @Test
    fun requestsTheRadioPermissionsOfThisVersion() {
        val requested = info().requestedPermissions!!.toSet()
        if (Build.VERSION.SDK_INT >= 31) {
            assertTrue("android.permission.BLUETOOTH_SCAN" in requested)
            assertTrue("android.permission.BLUETOOTH_ADVERTISE" in requested)
            assertTrue("android.permission.BLUETOOTH_CONNECT" in requested)
            // maxSdkVersion 30: Android drops location from the requested set on 12+.
            assertFalse("android.permission.ACCESS_FINE_LOCATION" in requested)
            val flags = info().requestedPermissionsFlags!!
            val scan = info().requestedPermissions!!.indexOf("android.permission.BLUETOOTH_SCAN")
            assertTrue("neverForLocation", flags[scan] and PackageInfo.REQUESTED_PERMISSION_NEVER_FOR_LOCATION != 0)
        } else {
            assertTrue("android.permission.ACCESS_FINE_LOCATION" in requested)
            assertTrue("android.permission.BLUETOOTH_ADMIN" in requested)
        }
        assertTrue("android.permission.RECEIVE_BOOT_COMPLETED" in requested)
        assertTrue("android.permission.REQUEST_IGNORE_BATTERY_OPTIMIZATIONS" in requested)
    }

    @Test
    fun theServiceIsAConnectedDeviceForegroundService() {
        if (Build.VERSION.SDK_INT < 29) return
        val service = context.packageManager.getServiceInfo(ComponentName(context, OpenZoneService::class.java), 0)
        assertEquals(
            ServiceInfo.FOREGROUND_SERVICE_TYPE_CONNECTED_DEVICE,
            service.foregroundServiceType and ServiceInfo.FOREGROUND_SERVICE_TYPE_CONNECTED_DEVICE,
        )
        assertFalse(service.exported)
    }
}
