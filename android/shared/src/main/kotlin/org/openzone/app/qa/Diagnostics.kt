// The diagnostics file testers export from the QA screen and attach to bug reports: the app and phone,
// the engine's state, counters and radio duty, and the radio glue's numbers. Never keys, identifiers, peer
// addresses or exposure results: a test checks the export against the phone's own identifier and keys.
package org.openzone.app.qa

import org.openzone.core.EngineCounters
import org.openzone.core.EngineState
import org.openzone.core.RadioDutyInfo

/** What the file says about the app and the phone. */
data class DiagnosticsContext(
    val appVersion: String,
    val sdkInt: Int,
    val manufacturer: String,
    val model: String,
    val abi: String,
    val timeIso: String,
)

/** Builds the file. */
object Diagnostics {
    fun json(
        context: DiagnosticsContext,
        state: EngineState,
        counters: EngineCounters,
        duty: List<RadioDutyInfo>,
        radio: RadioGlueStats,
        liveCount: Int,
    ): String = Json.obj(
        "format" to "openzone-diagnostics-1",
        "app" to Json.obj("version" to context.appVersion),
        "phone" to Json.obj(
            "sdk" to context.sdkInt,
            "manufacturer" to context.manufacturer,
            "model" to context.model,
            "abi" to context.abi,
        ),
        "time" to context.timeIso,
        "state" to stateJson(state),
        "counters" to Json.obj(
            "scans" to counters.scans.toLong(),
            "rotations" to counters.rotations.toLong(),
            "sightings" to counters.sightings.toLong(),
            "sightings_today" to counters.sightingsToday.toLong(),
            "gatt_reads_ok" to counters.gattReadsOk.toLong(),
            "gatt_reads_failed" to counters.gattReadsFailed.toLong(),
        ),
        "radio_duty" to duty.map {
            Json.obj("mode" to it.mode.name.lowercase(), "scanning" to it.scanning, "advertising" to it.advertising,
                "total" to it.total)
        },
        "radio_glue" to Json.obj(
            "scan_starts_deferred" to radio.scanStartsDeferred,
            "advertiser_starts" to radio.advertiserStarts,
            "advertising" to radio.advertising,
            "advertising_failure" to radio.advertisingFailure,
            "scan_results_fed" to radio.scanResultsFed,
            "scan_results_dropped" to radio.scanResultsDropped,
        ),
        "peers_heard_recently" to liveCount,
    ).text

    private fun stateJson(state: EngineState): JsonText = when (state) {
        is EngineState.Stopped -> Json.obj("state" to "stopped")
        is EngineState.Running -> Json.obj("state" to "running", "mode" to state.mode.name.lowercase())
        is EngineState.BluetoothOff -> Json.obj("state" to "bluetooth_off")
        is EngineState.PermissionMissing ->
            Json.obj("state" to "permission_missing", "permission" to state.permission.name.lowercase())
        is EngineState.Failing -> Json.obj("state" to "failing", "message" to state.message)
    }
}

/** JSON text made by [Json.obj]. */
class JsonText(val text: String) {
    override fun toString() = text
}

/** A minimal JSON writer (objects, arrays, strings, numbers, booleans, null): enough for the file, without
 *  a serialization library in the app. */
object Json {
    fun obj(vararg fields: Pair<String, Any?>): JsonText =
        JsonText(fields.joinToString(",", "{", "}") { (k, v) -> "${string(k)}:${value(v)}" })

    private fun value(v: Any?): String = when (v) {
        null -> "null"
        is JsonText -> v.text
        is String -> string(v)
        is Boolean, is Int, is Long -> v.toString()
        is Double -> if (v.isFinite()) v.toString() else "null"
        is List<*> -> v.joinToString(",", "[", "]") { value(it) }
        else -> string(v.toString())
    }

    fun string(s: String): String = buildString {
        append('"')
        for (c in s) when {
            c == '"' -> append("\\\"")
            c == '\\' -> append("\\\\")
            c == '\n' -> append("\\n")
            c == '\r' -> append("\\r")
            c == '\t' -> append("\\t")
            c < ' ' -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
        append('"')
    }
}
