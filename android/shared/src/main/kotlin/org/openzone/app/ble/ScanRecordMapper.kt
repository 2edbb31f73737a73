// From Android's ScanResult to the core: the Android layer copies what it needs into a PlatformScanResult
// (no Android type crosses into this file) and the mapper makes the one core call,
// `advertisementSeen(peer, raw, rssi, txPower)`. The core decodes the bytes; nothing is decoded here.
package org.openzone.app.ble

import org.openzone.core.OpenZoneEngineInterface

/** One scan result as Android reported it. */
class PlatformScanResult(
    /** `BluetoothDevice.getAddress()`: the peer's current random address. */
    val address: String,
    /** `ScanRecord.getBytes()`: the advertisement and scan response, zero-padded to 62 bytes on most phones. */
    val bytes: ByteArray?,
    /** `ScanResult.getRssi()`, dBm. */
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

/** Feeds scan results to the engine; [observer] (the QA screen's live list) sees what was fed. */
class ScanRecordMapper(
    private val engine: OpenZoneEngineInterface,
    private val observer: ((PlatformScanResult) -> Unit)? = null,
) {
    @Volatile var fed: Long = 0L
        private set

    @Volatile var dropped: Long = 0L
        private set

    /** One result; returns whether it went to the engine. */
    fun onScanResult(result: PlatformScanResult): Boolean {
        val bytes = result.bytes
        if (bytes == null || bytes.isEmpty() || bytes.size > MAX_RECORD_BYTES) {
            dropped++
            return false
        }
        engine.advertisementSeen(result.address, bytes, rssi(result.rssi), txPower(result))
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

        /** Android reports RSSI in -127..126; the core takes a signed byte. */
        fun rssi(value: Int): Byte = value.coerceIn(-127, 126).toByte()

        /** The TX power of the advertisement's TX Power Level field, else the radio's, when plausible
         *  (the Bluetooth specification's range is -127 to +20 dBm). */
        fun txPower(result: PlatformScanResult): Byte? =
            listOfNotNull(result.txPowerLevel, result.radioTxPower?.takeIf { it != TX_POWER_NOT_PRESENT })
                .firstOrNull { it in -127..20 }
                ?.toByte()
    }
}
