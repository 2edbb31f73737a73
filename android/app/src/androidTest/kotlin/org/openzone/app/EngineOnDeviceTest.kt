// On a device: the native library of this ABI loads through JNA (arm64-v8a, armeabi-v7a on 32-bit phones,
// x86_64 on emulators), two engines exchange payloads on the core's simulated air, and the bindings run
// without checksums (uniffi's checksum calls crash on 32-bit ARM).
package org.openzone.app

import android.os.Build
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import java.io.File
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.openzone.core.DeviceModel
import org.openzone.core.EngineSettings
import org.openzone.core.EngineState
import org.openzone.core.IdentifierScheme
import org.openzone.core.OpenZoneEngine
import org.openzone.core.SimulatedAir

@RunWith(AndroidJUnit4::class)
class EngineOnDeviceTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext

    private fun settings(name: String) = EngineSettings(
        dataDir = File(context.cacheDir, "engine-test-$name-${System.nanoTime()}").path,
        dataKey = ByteArray(32) { 7 },
        scheme = IdentifierScheme.EN_V1,
        device = DeviceModel(Build.MANUFACTURER, Build.DEVICE, Build.MODEL),
        riskConfigJson = null,
        keyServerUrl = null,
        exportKeys = emptyList(),
    )

    @Test
    fun twoEnginesHearEachOtherOnTheSimulatedAir() {
        val air = SimulatedAir(5uL)
        val a = air.addPhone(0.0, 0.0, false)
        val b = air.addPhone(1.0, 0.0, false)
        val alice = OpenZoneEngine(settings("a"), a.platform(), null, null)
        val bob = OpenZoneEngine(settings("b"), b.platform(), null, null)
        air.connect(a, alice)
        air.connect(b, bob)
        listOf(alice, bob).forEach { it.setQaMode(true); it.start() }
        val deadline = System.currentTimeMillis() + 20_000
        while (System.currentTimeMillis() < deadline && bob.counters().sightings < 5uL) {
            air.step(1u)
            Thread.sleep(20)
        }
        assertTrue("bob heard alice: ${bob.counters()}", bob.counters().sightings >= 5uL)
        assertTrue(alice.state() is EngineState.Running)
        listOf(alice, bob).forEach { it.stop(); it.destroy() }
    }
}
