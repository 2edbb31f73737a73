// The status screen: is protection working, and if not, the one thing to fix. The engine's state says what
// blocks the radio; the shell adds what only Android knows (the Location switch on Android 11 and older,
// battery optimisation, notifications), which never stop the engine but can make it useless or silent.
package org.openzone.app.status

import java.time.LocalDate
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.app.platform.PlatformFacts
import org.openzone.core.EngineState
import org.openzone.core.PermissionKind
import org.openzone.core.ScanModeKind

/** What the user can do, each a button the Android layer maps to an intent or a permission request. */
enum class Fix(val label: T) {
    START_PROTECTION(T.FIX_START),
    TURN_ON_BLUETOOTH(T.FIX_BLUETOOTH),
    GRANT_NEARBY_DEVICES(T.FIX_NEARBY),
    GRANT_LOCATION(T.FIX_LOCATION),
    TURN_ON_LOCATION_SERVICES(T.FIX_LOCATION_SERVICES),
    OPEN_BLUETOOTH_SETTINGS(T.FIX_BLUETOOTH_SETTINGS),
    IGNORE_BATTERY_OPTIMIZATION(T.FIX_BATTERY),
    ALLOW_NOTIFICATIONS(T.FIX_NOTIFICATIONS),
}

/** The screen, ready to show. */
data class StatusUi(
    /** Whether the phone is both sending and hearing codes. */
    val protected: Boolean,
    val headline: String,
    val detail: String,
    /** The one thing that stops protection, if any. */
    val fix: Fix?,
    val fixLabel: String?,
    /** A recommendation that does not stop protection now (battery, notifications). */
    val advice: String?,
    val adviceFix: Fix?,
    val adviceLabel: String?,
    val lastSync: String,
)

/** Builds [StatusUi]. */
object StatusState {
    fun of(
        state: EngineState,
        facts: PlatformFacts,
        sightingsToday: ULong,
        lastSync: LocalDate?,
        texts: Texts,
    ): StatusUi {
        val (blocking, detail) = blocking(state, facts, sightingsToday, texts)
        val (adviceFix, advice) = when {
            blocking != null -> null to null
            !facts.batteryOptimizationIgnored -> Fix.IGNORE_BATTERY_OPTIMIZATION to texts(T.ADVICE_BATTERY)
            !facts.notificationsAllowed -> Fix.ALLOW_NOTIFICATIONS to texts(T.ADVICE_NOTIFICATIONS)
            else -> null to null
        }
        // An advertiser that cannot advertise still hears others: partly protected, nothing the user can fix.
        val noAdvertising = blocking == null && !facts.advertisingSupported
        return StatusUi(
            protected = blocking == null,
            headline = texts(if (blocking == null) T.STATUS_PROTECTED else T.STATUS_NOT_PROTECTED),
            detail = if (noAdvertising) "$detail ${texts(T.STATUS_NO_BLE_DETAIL)}" else detail,
            fix = blocking,
            fixLabel = blocking?.let { texts(it.label) },
            advice = advice,
            adviceFix = adviceFix,
            adviceLabel = adviceFix?.let { texts(it.label) },
            lastSync = lastSync?.let { texts(T.STATUS_LAST_SYNC, "date" to texts.date(it)) }
                ?: texts(T.STATUS_NEVER_SYNCED),
        )
    }

    private fun blocking(state: EngineState, facts: PlatformFacts, today: ULong, texts: Texts): Pair<Fix?, String> =
        when (state) {
            // Not started: the service cannot start without Bluetooth permissions (Android 14 refuses a
            // connectedDevice service without them), so a missing one is the thing to fix, not "start".
            is EngineState.Stopped -> when {
                !facts.canScan -> permission(PermissionKind.SCAN, facts, texts)
                !facts.canAdvertise || !facts.canConnect -> permission(PermissionKind.ADVERTISE, facts, texts)
                !facts.bluetoothOn -> Fix.TURN_ON_BLUETOOTH to texts(T.STATUS_BT_OFF_DETAIL)
                else -> Fix.START_PROTECTION to texts(T.STATUS_STOPPED_DETAIL)
            }
            is EngineState.BluetoothOff -> Fix.TURN_ON_BLUETOOTH to texts(T.STATUS_BT_OFF_DETAIL)
            is EngineState.PermissionMissing -> permission(state.permission, facts, texts)
            // The platform's own message is English and technical: the QA screen shows it, not this one.
            is EngineState.Failing -> Fix.OPEN_BLUETOOTH_SETTINGS to texts(T.STATUS_FAILING_DETAIL)
            is EngineState.Running ->
                if (facts.scanNeedsLocation && !facts.locationServicesOn) {
                    Fix.TURN_ON_LOCATION_SERVICES to texts(T.STATUS_LOCATION_OFF_DETAIL)
                } else {
                    val key = if (state.mode == ScanModeKind.QA) T.STATUS_RUNNING_QA_DETAIL else T.STATUS_RUNNING_DETAIL
                    null to texts(key, "count" to today)
                }
        }

    private fun permission(kind: PermissionKind, facts: PlatformFacts, texts: Texts): Pair<Fix, String> =
        if (kind == PermissionKind.SCAN && facts.scanNeedsLocation) {
            Fix.GRANT_LOCATION to texts(T.STATUS_LOCATION_DETAIL)
        } else {
            Fix.GRANT_NEARBY_DEVICES to texts(T.STATUS_NEARBY_DETAIL)
        }
}
