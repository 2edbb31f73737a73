// From Android's ScanResult to the core: the Android layer copies what it needs into a PlatformScanResult
// (no Android type crosses into this file) and the mapper makes the one core call,
// `advertisementSeen(peer, raw, rssi, txPower)`. The core decodes the bytes and applies the one rule for an
// RSSI that is no measurement; nothing is decoded or judged here.
package org.openzone.app.ble

import org.openzone.core.OpenZonePhoneInterface
import org.openzone.core.protocolConstants

/** One scan result as Android reported it. */
class PlatformScanResult(
    /** `BluetoothDevice.getAddress()`: the peer's current random address. */
    val address: String,
    /** `ScanRecord.getBytes()`: the advertisement and scan response, zero-padded to 62 bytes on most phones. */
    val bytes: ByteArray?,
    /** `ScanResult.getRssi()`, dBm (-127 to 126 as Android documents it). */
    val rssi: Int,
    /** `ScanRecord.getTxPowerLevel()` (Int.MIN_VALUE when absent on Android). */
    val txPowerLevel: Int?,
    /** `ScanResult.getTxPower()` on Android 8+ (127, `TX_POWER_NOT_PRESENT`, when absent). */
    val radioTxPower: Int? = null,
    /** `ScanRecord.getServiceUuids()` as strings, for the QA screen's labels only. */
    val serviceUuids: List<String> = emptyList(),
    /** `ScanRecord.getManufacturerSpecificData()` keys, for the QA screen's labels only. */
    val manufacturerIds: List<Int> = emptyList(),
    /** `ScanResult.getTimestampNanos()` converted to wall-clock ms, or the time it arrived. */
    val timeMs: Long = System.currentTimeMillis(),
)

/** Feeds scan results to the phone; [observer] (the QA screen's live list) sees what was fed. */
class ScanRecordMapper(
    private val phone: OpenZonePhoneInterface,
    private val observer: ((PlatformScanResult) -> Unit)? = null,
) {
    @Volatile var fed: Long = 0L
        private set

    @Volatile var dropped: Long = 0L
        private set

    /** One result; returns whether it went to the phone. */
    fun onScanResult(result: PlatformScanResult): Boolean {
        val bytes = result.bytes
        if (bytes == null || bytes.isEmpty() || bytes.size > MAX_RECORD_BYTES) {
            dropped++
            return false
        }
        phone.advertisementSeen(result.address, bytes, rssi(result.rssi), txPower(result))
        fed++
        observer?.invoke(result)
        return true
    }

    /** Batched results (`ScanCallback.onBatchScanResults`), in order. */
    fun onBatchScanResults(results: List<PlatformScanResult>) = results.forEach { onScanResult(it) }

    companion object {
        /** An extended advertising report's longest (what the core accepts). */
        const val MAX_RECORD_BYTES = 1650

        /** Android's `ScanResult.TX_POWER_NOT_PRESENT`. */
        const val TX_POWER_NOT_PRESENT = 127

        /** The RSSI as Android reported it: the core decides what is a measurement. Only a value no signed
         *  byte can carry (Android documents none) becomes the core's "unknown". */
        fun rssi(value: Int): Byte =
            if (value in Byte.MIN_VALUE..Byte.MAX_VALUE) value.toByte() else protocolConstants().rssiUnknown

        /** The TX power of the advertisement's TX Power Level field, else the radio's, when plausible
         *  (the Bluetooth specification's range is -127 to +20 dBm). */
        fun txPower(result: PlatformScanResult): Byte? =
            listOfNotNull(result.txPowerLevel, result.radioTxPower?.takeIf { it != TX_POWER_NOT_PRESENT })
                .firstOrNull { it in -127..20 }
                ?.toByte()
    }
}
