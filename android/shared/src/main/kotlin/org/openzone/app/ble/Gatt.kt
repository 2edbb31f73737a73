// GATT, both sides. Client: the core asks to read an iPhone's characteristic (one at a time, rationed by
// its GATT policy); a session walks Android's callbacks (connect, discover services, read) and reports
// exactly once to `phone.gattReadDone`, and always closes the BluetoothGatt (Android has few client slots,
// and a leaked one blocks later connections until Bluetooth restarts). Server: peers read the
// characteristic, answered with `phone.currentGattValue()`.
package org.openzone.app.ble

import org.openzone.core.OpenZonePhoneInterface
import org.openzone.core.protocolConstants

/** Android's BluetoothGatt status codes used here. */
object GattStatus {
    const val SUCCESS = 0
    const val READ_NOT_PERMITTED = 2
    const val INVALID_OFFSET = 7
    const val FAILURE = 257
}

/** What the Android layer must do with the BluetoothGatt of a session. */
sealed interface GattCommand {
    data object DiscoverServices : GattCommand
    data object ReadCharacteristic : GattCommand
    /** `disconnect()` then `close()`. */
    data object Close : GattCommand
}

/** One read of one peer. Not thread-safe: Android's GATT callbacks for one connection are serialised. */
class GattReadSession(
    val peer: String,
    private val phone: OpenZonePhoneInterface,
    val startedMs: Long,
) {
    private enum class Step { CONNECTING, DISCOVERING, READING, DONE }

    private var step = Step.CONNECTING

    val done: Boolean get() = step == Step.DONE

    /** `onConnectionStateChange`. */
    fun onConnectionStateChange(status: Int, connected: Boolean): List<GattCommand> = when {
        step == Step.DONE -> emptyList()
        connected && status == GattStatus.SUCCESS && step == Step.CONNECTING -> {
            step = Step.DISCOVERING
            listOf(GattCommand.DiscoverServices)
        }
        connected -> emptyList()
        else -> finish(null, "disconnected (status $status)")
    }

    /** `onServicesDiscovered`; [hasCharacteristic]: the OpenZone service and characteristic were found. */
    fun onServicesDiscovered(status: Int, hasCharacteristic: Boolean): List<GattCommand> = when {
        step != Step.DISCOVERING -> emptyList()
        status != GattStatus.SUCCESS -> finish(null, "service discovery failed (status $status)")
        !hasCharacteristic -> finish(null, "the peer has no OpenZone characteristic")
        else -> {
            step = Step.READING
            listOf(GattCommand.ReadCharacteristic)
        }
    }

    /** `onCharacteristicRead`. */
    fun onCharacteristicRead(status: Int, value: ByteArray?): List<GattCommand> = when {
        step != Step.READING -> emptyList()
        status == GattStatus.SUCCESS && value != null -> finish(value, null)
        else -> finish(null, "read failed (status $status)")
    }

    /** `readCharacteristic` or `discoverServices` returned false, or connectGatt returned null. */
    fun onCallRefused(what: String): List<GattCommand> = finish(null, "$what was refused")

    /** The shell's own deadline passed (the core has given up already; this frees the connection). */
    fun onTimeout(): List<GattCommand> = finish(null, "timed out")

    private fun finish(value: ByteArray?, error: String?): List<GattCommand> {
        if (step == Step.DONE) return emptyList()
        step = Step.DONE
        phone.gattReadDone(peer, value, error)
        return listOf(GattCommand.Close)
    }
}

/** Hands the core's read requests to sessions: one at a time, a late session closed when a new one
 *  starts, and each given [timeoutMs] (a little more than the core's own read timeout, which decides the
 *  read's fate). */
class GattReadQueue(
    private val phone: OpenZonePhoneInterface,
    val timeoutMs: Long = (protocolConstants().gattReadTimeoutSecs.toLong() + MARGIN_SECS) * 1_000,
) {
    @Volatile var current: GattReadSession? = null
        private set

    /** A new read of [peer]; returns the session, and the commands to close a stale one. */
    @Synchronized
    fun begin(peer: String, nowMs: Long): Pair<GattReadSession, List<GattCommand>> {
        val stale = current?.takeUnless { it.done }?.onTimeout().orEmpty()
        val session = GattReadSession(peer, phone, nowMs)
        current = session
        return session to stale
    }

    /** The session's deadline passed: end it if it is still the current one and not done. */
    @Synchronized
    fun onDeadline(session: GattReadSession): List<GattCommand> =
        if (current === session && !session.done) session.onTimeout() else emptyList()

    private companion object {
        /** Lets the core's timeout fire first, so its record of the read is the one that counts. */
        const val MARGIN_SECS = 2L
    }
}

/** The GATT server's answer to a read request. */
data class GattResponse(val status: Int, val value: ByteArray?)

/** Answers read requests. */
object GattServerResponder {
    /** A read of [characteristicUuid] at [offset]: the current value, or a failure status. */
    fun respond(characteristicUuid: String, expectedUuid: String, offset: Int, value: ByteArray?): GattResponse =
        when {
            !characteristicUuid.equals(expectedUuid, ignoreCase = true) ->
                GattResponse(GattStatus.READ_NOT_PERMITTED, null)
            // Not advertising (stopped, rotating): nothing to serve.
            value == null -> GattResponse(GattStatus.FAILURE, null)
            offset < 0 || offset > value.size -> GattResponse(GattStatus.INVALID_OFFSET, null)
            // Long reads (an MTU smaller than the value) come back with the offset of the rest.
            else -> GattResponse(GattStatus.SUCCESS, value.copyOfRange(offset, value.size))
        }
}
