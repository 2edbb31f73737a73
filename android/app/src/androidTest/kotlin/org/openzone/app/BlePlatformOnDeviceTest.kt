// On a phone with Bluetooth on (skipped elsewhere): the phone drives the real advertiser, scanner and GATT
// server through AndroidBlePlatform without the radio refusing. Two phones side by side running this test
// hear each other (sightings > 0): run it on both at once (README).
package org.openzone.app

import android.Manifest
import android.bluetooth.BluetoothManager
import android.os.Build
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import androidx.test.rule.GrantPermissionRule
import org.junit.Assert.assertTrue
import org.junit.Assume.assumeTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.openzone.app.radio.AndroidBlePlatform
import org.openzone.core.EngineState
import org.openzone.core.OpenZonePhone

@RunWith(AndroidJUnit4::class)
class BlePlatformOnDeviceTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext

    @get:Rule
    val permissions: GrantPermissionRule = if (Build.VERSION.SDK_INT >= 31) {
        GrantPermissionRule.grant(
            Manifest.permission.BLUETOOTH_SCAN, Manifest.permission.BLUETOOTH_ADVERTISE, Manifest.permission.BLUETOOTH_CONNECT,
        )
    } else {
        GrantPermissionRule.grant(Manifest.permission.ACCESS_FINE_LOCATION)
    }

    @Test
    fun theEngineAdvertisesAndScansOnTheRealRadio() {
        val adapter = context.getSystemService(BluetoothManager::class.java)?.adapter
        assumeTrue("Bluetooth is on", adapter?.isEnabled == true)
        val radio = AndroidBlePlatform(context)
        val phone = OpenZonePhone(deviceSettings(context, "ble-test", 3), radio, null, null)
        radio.attach(phone)
        phone.setQaMode(true)
        phone.start()
        val deadline = System.currentTimeMillis() + 30_000
        while (System.currentTimeMillis() < deadline && !radio.stats().advertising) Thread.sleep(100)
        assertTrue("advertising confirmed by Android: ${radio.stats()}", radio.stats().advertising)
        assertTrue("${phone.state()}", phone.state() is EngineState.Running)
        // Another phone running this test nearby is heard within the 30 s.
        while (System.currentTimeMillis() < deadline) Thread.sleep(500)
        android.util.Log.i("OpenZoneTest", "counters after 30 s: ${phone.counters()} ${radio.stats()}")
        phone.stop()
        radio.shutdown()
        phone.destroy()
    }
}
