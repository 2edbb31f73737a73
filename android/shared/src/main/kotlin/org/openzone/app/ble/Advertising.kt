// Advertising: the core's AdvertisementPlan as Android's AdvertiseData, and the restart policy. The core
// calls stopAdvertising then startAdvertising at each rotation (10 to 20 minutes apart, and at UTC
// midnight); the shell stops the old advertising set and starts a new one, because a new advertising
// instance gets a new random address on Android: the address then changes together with the identifier,
// so a listener cannot link the old identifier to the new one through an unchanged address.
//
// Android reports the result of a start later, in AdvertiseCallback; the controller keeps generations so
// that a late callback of a replaced advertisement changes nothing, and retries transient failures.
package org.openzone.app.ble

import java.util.UUID
import org.openzone.core.AdvertisementPlan

/** Android's AdvertiseData and settings, described without Android types. */
class AdvertiseSpec(
    val serviceUuids: List<UUID>,
    val serviceData: List<Pair<UUID, ByteArray>>,
    val manufacturerData: List<Pair<Int, ByteArray>>,
    /** Bytes on air in a legacy advertisement, Flags included. */
    val legacyBytes: Int,
) {
    /** Connectable: iPhones and Androids without the service data read the GATT characteristic. */
    val connectable: Boolean = true

    /** Android's ADVERTISE_TX_POWER_LOW (about -15 dBm): a classroom, not a hall; the core's calibration
     *  announces the phone's real level in the encrypted metadata. */
    val txPowerLevel: Int = ADVERTISE_TX_POWER_LOW

    /** Android's ADVERTISE_MODE_BALANCED, an advertising interval of about 250 ms: within the 200-270 ms the
     *  exposure-notification specification asks for, and the interval the core's radio duty assumes. */
    val mode: Int = ADVERTISE_MODE_BALANCED

    companion object {
        const val ADVERTISE_MODE_BALANCED = 1
        const val ADVERTISE_TX_POWER_LOW = 1
        /** A legacy advertisement's payload. */
        const val LEGACY_MAX_BYTES = 31
        /** The Flags field Android adds to connectable advertisements. */
        const val FLAGS_BYTES = 3
    }
}

/** Maps a plan. */
object AdvertisePlanMapper {
    /** The Bluetooth base UUID, `0000xxxx-0000-1000-8000-00805F9B34FB` with xxxx = 0. */
    private val BASE_UUID: UUID = UUID.fromString("00000000-0000-1000-8000-00805f9b34fb")

    /** Whether a UUID is a 16-bit one on the Bluetooth base UUID (two bytes on air instead of sixteen). */
    fun isShort(uuid: UUID): Boolean =
        uuid.leastSignificantBits == BASE_UUID.leastSignificantBits &&
            (uuid.mostSignificantBits and 0xFFFF_FFFFL) == (BASE_UUID.mostSignificantBits and 0xFFFF_FFFFL) &&
            (uuid.mostSignificantBits ushr 48) == 0L

    fun toSpec(plan: AdvertisementPlan): AdvertiseSpec {
        val uuids = plan.serviceUuids.map(UUID::fromString)
        val serviceData = plan.serviceData.entries.sortedBy { it.key }.map { UUID.fromString(it.key) to it.value }
        val manufacturer = plan.manufacturerData.entries.sortedBy { it.key }.map { it.key.toInt() to it.value }
        var size = AdvertiseSpec.FLAGS_BYTES
        if (uuids.isNotEmpty()) size += 2 + uuids.sumOf { if (isShort(it)) 2L else 16L }.toInt()
        for ((uuid, data) in serviceData) size += 2 + (if (isShort(uuid)) 2 else 16) + data.size
        for ((_, data) in manufacturer) size += 2 + 2 + data.size
        return AdvertiseSpec(uuids, serviceData, manufacturer, size)
    }
}

/** What the Android layer must do with BluetoothLeAdvertiser. */
sealed interface AdvertiseAction {
    /** `startAdvertising(settings, data, callback)` with a new callback tagged [generation]. */
    data class Start(val spec: AdvertiseSpec, val generation: Int) : AdvertiseAction
    /** `stopAdvertising(callback)` of the current callback. */
    data object Stop : AdvertiseAction
    /** Post a timer; call [AdvertiserController.onRetryTimer] with [generation] after [delayMs]. */
    data class RetryLater(val generation: Int, val delayMs: Long) : AdvertiseAction
}

/** Android's AdvertiseCallback failure codes, and how the shell words them. */
enum class AdvertiseFailure(val code: Int, val text: String) {
    DATA_TOO_LARGE(1, "data too large"),
    TOO_MANY_ADVERTISERS(2, "too many advertisers"),
    ALREADY_STARTED(3, "already started"),
    INTERNAL_ERROR(4, "internal error"),
    FEATURE_UNSUPPORTED(5, "advertising not supported");

    companion object {
        /** The failure with [code], or null for a code this list does not know. */
        fun of(code: Int): AdvertiseFailure? = entries.firstOrNull { it.code == code }

        /** The wording of [code], also of a code this list does not know. */
        fun describe(code: Int): String = of(code)?.text ?: "error $code"
    }
}

/** The advertiser's state. Not thread-safe: called on the BLE handler's thread. */
class AdvertiserController(
    private val retryInitialMs: Long = 2_000,
    private val retryMaxMs: Long = 60_000,
) {
    private var generation = 0
    private var spec: AdvertiseSpec? = null
    private var failures = 0

    /** Whether Android confirmed the current advertisement. */
    var advertising: Boolean = false
        private set

    /** Starts since creation (each rotation is one). */
    var starts: Long = 0
        private set

    /** The last failure, for the QA screen and diagnostics. */
    var lastFailure: String? = null
        private set

    /** The core asked to advertise [next]: stop what is on air, start the new one. */
    fun onStartRequested(next: AdvertiseSpec): List<AdvertiseAction> {
        val actions = mutableListOf<AdvertiseAction>()
        if (spec != null) actions += AdvertiseAction.Stop
        spec = next
        failures = 0
        advertising = false
        generation++
        starts++
        actions += AdvertiseAction.Start(next, generation)
        return actions
    }

    /** The core asked to stop. */
    fun onStopRequested(): List<AdvertiseAction> {
        if (spec == null) return emptyList()
        spec = null
        advertising = false
        generation++
        return listOf(AdvertiseAction.Stop)
    }

    /** `onStartSuccess` of the callback tagged [gen]. */
    fun onStarted(gen: Int) {
        if (gen == generation) {
            advertising = true
            failures = 0
            lastFailure = null
        }
    }

    /** `onStartFailure` of the callback tagged [gen]: retry what can pass later, give up on the rest. */
    fun onFailed(gen: Int, code: Int): List<AdvertiseAction> {
        if (gen != generation) return emptyList()
        advertising = false
        lastFailure = AdvertiseFailure.describe(code)
        return when (AdvertiseFailure.of(code)) {
            // The stack still holds the replaced advertisement: stop it and start again at once.
            AdvertiseFailure.ALREADY_STARTED -> {
                val current = spec ?: return emptyList()
                generation++
                listOf(AdvertiseAction.Stop, AdvertiseAction.Start(current, generation))
            }
            AdvertiseFailure.TOO_MANY_ADVERTISERS, AdvertiseFailure.INTERNAL_ERROR -> {
                val delay = (retryInitialMs shl failures.coerceAtMost(10)).coerceAtMost(retryMaxMs)
                failures++
                listOf(AdvertiseAction.RetryLater(generation, delay))
            }
            // Too large or unsupported: retrying cannot help; the next rotation tries again.
            else -> emptyList()
        }
    }

    /** The retry timer tagged [gen] fired. */
    fun onRetryTimer(gen: Int): List<AdvertiseAction> {
        val current = spec
        if (gen != generation || current == null || advertising) return emptyList()
        generation++
        return listOf(AdvertiseAction.Start(current, generation))
    }
}
