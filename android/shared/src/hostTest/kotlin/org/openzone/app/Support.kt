// What the tests share: phone settings, temporary directories, a BlePlatform implemented in Kotlin that
// records what the core asks of the radio, the Keystore wrapper's format in software, and waiting for the
// core's threads.
package org.openzone.app

import java.io.File
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.openzone.app.keys.KeyWrapper
import org.openzone.core.AdvertisementPlan
import org.openzone.core.BlePlatform
import org.openzone.core.DeviceModel
import org.openzone.core.ExportPublicKey
import org.openzone.core.IdentifierScheme
import org.openzone.core.OpenZonePhone
import org.openzone.core.PhoneSettings
import org.openzone.core.RadioException
import org.openzone.core.ScanFilterSpec
import org.openzone.core.WallClock

fun tempDir(): File = Files.createTempDirectory("openzone-android-host").toFile().also { it.deleteOnExit() }

fun settings(
    dir: File,
    key: ByteArray = ByteArray(32) { 0x11 },
    scheme: IdentifierScheme = IdentifierScheme.EN_V1,
    keyServerUrl: String? = null,
    exportKeys: List<ExportPublicKey> = listOf(),
) = PhoneSettings(
    dataDir = dir.path,
    dataKey = key,
    scheme = scheme,
    device = DeviceModel(manufacturer = "Xiaomi", device = "lavender", model = "Redmi Note 7"),
    riskConfigJson = null,
    keyServerUrl = keyServerUrl,
    exportKeys = exportKeys,
    uploadSealingKeys = listOf(),
)

/** A radio in Kotlin: records the core's requests; refuses when told to. */
class RecordingPlatform(private val refuseAdvertising: String? = null) : BlePlatform {
    val calls = CopyOnWriteArrayList<String>()
    val plans = CopyOnWriteArrayList<AdvertisementPlan>()
    val filters = CopyOnWriteArrayList<ScanFilterSpec>()
    val gattRequests = CopyOnWriteArrayList<String>()

    override fun startAdvertising(plan: AdvertisementPlan) {
        calls.add("startAdvertising")
        refuseAdvertising?.let { throw RadioException.Refused(it) }
        plans.add(plan)
    }

    override fun stopAdvertising() {
        calls.add("stopAdvertising")
    }

    override fun startScanning(filter: ScanFilterSpec) {
        calls.add("startScanning")
        filters.add(filter)
    }

    override fun stopScanning() {
        calls.add("stopScanning")
    }

    override fun readGatt(peer: String) {
        // Answered later by the test, never from inside this call (the core is mid-step).
        calls.add("readGatt")
        gattRequests.add(peer)
    }
}

/** The Android Keystore wrapper's format with a software AES-GCM key: IV (12) || ciphertext || tag. */
class SoftwareWrapper : KeyWrapper {
    var key: SecretKey = newKey()
    var resets = 0
    private fun newKey() = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    override fun wrap(plain: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, key) }
        return cipher.iv + cipher.doFinal(plain)
    }
    override fun unwrap(wrapped: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped, 0, 12))
        return cipher.doFinal(wrapped, 12, wrapped.size - 12)
    }
    override fun reset() { resets++; key = newKey() }
}

class ShiftedClock : WallClock {
    @Volatile var offsetMs = 0L
    override fun nowMs(): ULong = (System.currentTimeMillis() + offsetMs).toULong()
}

fun phone(dir: File, platform: BlePlatform, keyServerUrl: String? = null, clock: WallClock? = null,
          scheme: IdentifierScheme = IdentifierScheme.EN_V1): OpenZonePhone =
    OpenZonePhone(settings(dir, keyServerUrl = keyServerUrl, scheme = scheme), platform, null, clock)

/** A phone in a fresh directory on [platform], started. */
fun startedPhone(platform: BlePlatform = RecordingPlatform(), scheme: IdentifierScheme = IdentifierScheme.EN_V1): OpenZonePhone =
    phone(tempDir(), platform, scheme = scheme).also { it.start() }

/** Waits up to [timeoutMs] for [condition]; returns whether it came true. */
fun waitUntil(timeoutMs: Long = 5_000, condition: () -> Boolean): Boolean {
    val deadline = System.currentTimeMillis() + timeoutMs
    while (System.currentTimeMillis() < deadline) {
        if (condition()) return true
        Thread.sleep(10)
    }
    return condition()
}

fun ByteArray.hex(): String = joinToString("") { "%02x".format(it) }

/** A local HTTP server answering every request with [status], as a key server refusing a code would. */
fun refusingKeyServer(status: Int): com.sun.net.httpserver.HttpServer {
    val server = com.sun.net.httpserver.HttpServer.create(java.net.InetSocketAddress("127.0.0.1", 0), 0)
    server.createContext("/") { exchange ->
        val body = """{"error":"refused"}""".toByteArray()
        exchange.sendResponseHeaders(status, body.size.toLong())
        exchange.responseBody.use { it.write(body) }
    }
    server.start()
    return server
}
