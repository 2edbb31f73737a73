// The QA screen for testers: what the phone hears now (per peer address: RSSI, TX power, how often, what
// kind of advertisement), the identifier on air, the counters, the radio duty of each mode, and the
// radio glue's own numbers. Attenuation of live sightings is not shown: it needs the sender's TX power,
// which en-v1 encrypts in the AEM, and the core computes it only when a published key matches (see
// docs/android.md for the FFI addition that would estimate it).
package org.openzone.app.qa

import org.openzone.app.ble.PlatformScanResult
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.core.EngineCounters
import org.openzone.core.RadioDutyInfo
import org.openzone.core.ScanModeKind

/** What an advertisement looks like, from the platform's own parse of it (labels only: the core decodes). */
enum class SightingKind(val text: T) {
    EN(T.QA_KIND_EN), BLUEZONE(T.QA_KIND_BLUEZONE), IPHONE(T.QA_KIND_IPHONE), OTHER(T.QA_KIND_OTHER);

    companion object {
        private const val SERVICE_UUID = "00004e56-0000-1000-8000-00805f9b34fb"
        private const val BLUEZONE_COMPANY_ID = 0x22B5
        private const val APPLE_COMPANY_ID = 0x004C

        fun of(r: PlatformScanResult): SightingKind = when {
            BLUEZONE_COMPANY_ID in r.manufacturerIds -> BLUEZONE
            r.serviceUuids.any { it.equals(SERVICE_UUID, ignoreCase = true) } -> EN
            APPLE_COMPANY_ID in r.manufacturerIds -> IPHONE
            else -> OTHER
        }
    }
}

/** One peer address heard recently. */
data class LiveSighting(
    val address: String,
    val kind: SightingKind,
    val rssi: Int,
    val txPower: Int?,
    val count: Int,
    val lastSeenMs: Long,
)

/** The live list: the latest per address, the oldest forgotten first. Thread-safe (scan callbacks). */
class LiveSightings(private val capacity: Int = 50, private val maxAgeMs: Long = 5 * 60_000L) {
    private val byAddress = LinkedHashMap<String, LiveSighting>()

    @Synchronized
    fun add(r: PlatformScanResult) {
        val previous = byAddress.remove(r.address)
        byAddress[r.address] = LiveSighting(
            address = r.address,
            kind = SightingKind.of(r),
            rssi = r.rssi,
            txPower = r.txPowerLevel,
            count = (previous?.count ?: 0) + 1,
            lastSeenMs = r.timeMs,
        )
        while (byAddress.size > capacity) byAddress.remove(byAddress.keys.first())
    }

    /** Newest first, without those older than [maxAgeMs]. */
    @Synchronized
    fun snapshot(nowMs: Long): List<LiveSighting> =
        byAddress.values.filter { nowMs - it.lastSeenMs <= maxAgeMs }.sortedByDescending { it.lastSeenMs }

    @Synchronized
    fun clear() = byAddress.clear()
}

/** The radio glue's own numbers (scan limiter, advertiser). */
data class RadioGlueStats(
    val scanStartsDeferred: Long = 0,
    val advertiserStarts: Long = 0,
    val advertising: Boolean = false,
    val advertisingFailure: String? = null,
    val scanResultsFed: Long = 0,
    val scanResultsDropped: Long = 0,
)

/** One row of the live list, ready to show. */
data class QaRow(val address: String, val text: String)

/** The QA screen, ready to show. */
data class QaUi(
    val identifier: String,
    val rows: List<QaRow>,
    val emptyText: String?,
    val attenuationNote: String,
    val counters: String,
    val duty: List<String>,
    val radio: String,
)

/** Builds [QaUi]. */
object QaState {
    fun of(
        currentGattValue: ByteArray?,
        live: List<LiveSighting>,
        counters: EngineCounters,
        duty: List<RadioDutyInfo>,
        radio: RadioGlueStats,
        nowMs: Long,
        texts: Texts,
    ): QaUi = QaUi(
        identifier = currentGattValue?.let(::identifierText) ?: texts(T.QA_NO_IDENTIFIER),
        rows = live.map { s ->
            QaRow(
                address = s.address,
                text = texts(
                    T.QA_ROW,
                    "kind" to texts(s.kind.text),
                    "rssi" to s.rssi,
                    "tx" to (s.txPower?.let { "$it dBm" } ?: texts(T.QA_TX_NONE)),
                    "count" to s.count,
                    "age" to ((nowMs - s.lastSeenMs).coerceAtLeast(0) / 1000),
                ),
            )
        },
        emptyText = if (live.isEmpty()) texts(T.QA_NOTHING_HEARD) else null,
        attenuationNote = texts(T.QA_ATTENUATION_NOTE),
        counters = texts(
            T.QA_COUNTERS,
            "scans" to counters.scans,
            "rotations" to counters.rotations,
            "sightings" to counters.sightings,
            "today" to counters.sightingsToday,
            "ok" to counters.gattReadsOk,
            "failed" to counters.gattReadsFailed,
        ),
        duty = duty.map { d ->
            texts(
                T.QA_DUTY_ROW,
                "mode" to texts(modeText(d.mode)),
                "scan" to texts.language.percent(d.scanning),
                "advertise" to texts.language.percent(d.advertising),
                "total" to texts.language.percent(d.total),
            )
        },
        radio = texts(
            T.QA_RADIO,
            "deferred" to radio.scanStartsDeferred,
            "restarts" to radio.advertiserStarts,
            "failure" to (radio.advertisingFailure ?: "—"),
        ),
    )

    fun modeText(mode: ScanModeKind): T = when (mode) {
        ScanModeKind.BACKGROUND -> T.MODE_BACKGROUND
        ScanModeKind.FOREGROUND -> T.MODE_FOREGROUND
        ScanModeKind.QA -> T.MODE_QA
    }

    /** The value on air: en-v1's RPI and AEM (20 bytes) or a Bluezone ID (12), in hex, for comparing with
     *  what another phone's QA screen or `openzone` on a laptop hears. Shown on screen only, never exported. */
    fun identifierText(value: ByteArray): String {
        val hex = value.joinToString("") { "%02x".format(it) }
        return if (value.size == 20) "RPI ${hex.substring(0, 32)} · AEM ${hex.substring(32)}" else "ID $hex"
    }
}
