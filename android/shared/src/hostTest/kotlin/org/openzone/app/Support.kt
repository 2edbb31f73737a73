// What the tests share: engine settings, temporary directories, a BlePlatform implemented in Kotlin that
// records what the engine asks of the radio, and waiting for the engine's threads.
package org.openzone.app

import java.io.File
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import org.openzone.core.AdvertisementPlan
import org.openzone.core.BlePlatform
import org.openzone.core.DeviceModel
import org.openzone.core.EngineSettings
import org.openzone.core.ExportPublicKey
import org.openzone.core.IdentifierScheme
import org.openzone.core.OpenZoneEngine
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
) = EngineSettings(
    dataDir = dir.path,
    dataKey = key,
    scheme = scheme,
    device = DeviceModel(manufacturer = "Xiaomi", device = "lavender", model = "Redmi Note 7"),
    riskConfigJson = null,
    keyServerUrl = keyServerUrl,
    exportKeys = exportKeys,
)

/** A radio in Kotlin: records the engine's requests; refuses when told to. */
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
        // Answered later by the test, never from inside this call (the engine is mid-step).
        calls.add("readGatt")
        gattRequests.add(peer)
    }
}

class ShiftedClock : WallClock {
    @Volatile var offsetMs = 0L
    override fun nowMs(): ULong = (System.currentTimeMillis() + offsetMs).toULong()
}

fun engine(dir: File, platform: BlePlatform, keyServerUrl: String? = null, clock: WallClock? = null,
           scheme: IdentifierScheme = IdentifierScheme.EN_V1): OpenZoneEngine =
    OpenZoneEngine(settings(dir, keyServerUrl = keyServerUrl, scheme = scheme), platform, null, clock)

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
