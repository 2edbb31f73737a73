// On a phone with Bluetooth on (skipped elsewhere): the engine drives the real advertiser, scanner and GATT
// server through AndroidBlePlatform without the radio refusing. Two phones side by side running this test
// hear each other (sightings > 0): run it on both at once (README).
package org.openzone.app

import android.Manifest
import android.bluetooth.BluetoothManager
import android.os.Build
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import androidx.test.rule.GrantPermissionRule
import java.io.File
import org.junit.Assert.assertTrue
import org.junit.Assume.assumeTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.openzone.app.radio.AndroidBlePlatform
import org.openzone.core.DeviceModel
import org.openzone.core.EngineSettings
import org.openzone.core.EngineState
import org.openzone.core.IdentifierScheme
import org.openzone.core.OpenZoneEngine

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
        val engine = OpenZoneEngine(
            EngineSettings(
                dataDir = File(context.cacheDir, "ble-test-${System.nanoTime()}").path,
                dataKey = ByteArray(32) { 3 },
                scheme = IdentifierScheme.EN_V1,
                device = DeviceModel(Build.MANUFACTURER, Build.DEVICE, Build.MODEL),
                riskConfigJson = null,
                keyServerUrl = null,
                exportKeys = emptyList(),
            ),
            radio, null, null,
        )
        radio.attach(engine)
        engine.setQaMode(true)
        engine.start()
        val deadline = System.currentTimeMillis() + 30_000
        while (System.currentTimeMillis() < deadline && !radio.stats().advertising) Thread.sleep(100)
        assertTrue("advertising confirmed by Android: ${radio.stats()}", radio.stats().advertising)
        assertTrue("${engine.state()}", engine.state() is EngineState.Running)
        // Another phone running this test nearby is heard within the 30 s.
        while (System.currentTimeMillis() < deadline) Thread.sleep(500)
        android.util.Log.i("OpenZoneTest", "counters after 30 s: ${engine.counters()} ${radio.stats()}")
        engine.stop()
        radio.shutdown()
        engine.destroy()
    }
}
