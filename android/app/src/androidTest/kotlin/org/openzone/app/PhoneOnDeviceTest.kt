// On a device: the native library of this ABI loads through JNA (arm64-v8a, armeabi-v7a on 32-bit phones,
// x86_64 on emulators), calls cross both ways (the core calls a Kotlin BlePlatform from its threads), and
// the bindings run without checksums (uniffi's checksum calls crash on 32-bit ARM). The library is the
// app's own, built without the test support (no simulated air): one phone hears the other's advertisement
// as the scanner hands it over.
package org.openzone.app

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.openzone.core.AdvertisementPlan
import org.openzone.core.BlePlatform
import org.openzone.core.EngineState
import org.openzone.core.OpenZonePhone
import org.openzone.core.ScanFilterSpec

@RunWith(AndroidJUnit4::class)
class PhoneOnDeviceTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext

    /** A radio that keeps the last plan the core asked it to advertise. */
    private class PlanRecorder : BlePlatform {
        @Volatile var plan: AdvertisementPlan? = null
        override fun startAdvertising(plan: AdvertisementPlan) {
            this.plan = plan
        }
        override fun stopAdvertising() {}
        override fun startScanning(filter: ScanFilterSpec) {}
        override fun stopScanning() {}
        override fun readGatt(peer: String) {}
    }

    @Test
    fun onePhoneHearsTheOthersAdvertisement() {
        val aliceRadio = PlanRecorder()
        val alice = OpenZonePhone(deviceSettings(context, "phone-test-a", 7), aliceRadio, null, null)
        val bob = OpenZonePhone(deviceSettings(context, "phone-test-b", 7), PlanRecorder(), null, null)
        listOf(alice, bob).forEach { it.setQaMode(true); it.start() }
        val plan = aliceRadio.plan
        assertNotNull("start advertises at once", plan)
        bob.advertisementSeen("5A:11:22:33:44:55", plan!!.raw, -63, null)
        assertEquals(1uL, bob.counters().sightings)
        assertTrue(alice.state() is EngineState.Running)
        listOf(alice, bob).forEach { it.stop(); it.destroy() }
    }
}
