// What the screens show, read from the core's phone and the device off the main thread once a second while the
// app is visible (and at once after an action).
package org.openzone.app.ui

import android.os.Build
import java.time.LocalDate
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.openzone.app.OpenZoneApp
import org.openzone.app.i18n.Language
import org.openzone.app.platform.PhoneInputs
import org.openzone.app.platform.PlatformFacts
import org.openzone.app.qa.LiveSighting
import org.openzone.app.qa.RadioGlueStats
import org.openzone.app.system.PlatformFactsReader
import org.openzone.core.DayExposure
import org.openzone.core.EngineCounters
import org.openzone.core.EngineState
import org.openzone.core.OpenZoneException
import org.openzone.core.RadioDutyInfo

/** One reading of everything the screens need. */
data class Snapshot(
    val language: Language,
    val onboardingDone: Boolean,
    val protectionOn: Boolean,
    val qaMode: Boolean,
    val facts: PlatformFacts,
    val state: EngineState,
    val counters: EngineCounters,
    val days: List<DayExposure>,
    val lastSync: LocalDate?,
    val gattValue: ByteArray?,
    val duty: List<RadioDutyInfo>,
    val radio: RadioGlueStats,
    val live: List<LiveSighting>,
)

class UiModel(private val app: OpenZoneApp, private val scope: CoroutineScope) {
    private val flow = MutableStateFlow<Snapshot?>(null)
    val snapshot: StateFlow<Snapshot?> = flow

    /** Runs while the activity is started. */
    suspend fun refreshLoop() {
        while (true) {
            refreshNow()
            delay(1_000)
        }
    }

    fun refresh() {
        scope.launch { refreshNow() }
    }

    private suspend fun refreshNow() {
        flow.value = withContext(Dispatchers.Default) { read() }
    }

    private fun read(): Snapshot {
        val prefs = app.prefs
        val facts = PlatformFactsReader.read(app)
        val phone = app.phone
        // Permissions granted in the app (or in Settings) reach the phone without waiting for the service.
        PhoneInputs.apply(phone, facts)
        val days = try {
            phone.exposureDays()
        } catch (e: OpenZoneException) {
            emptyList()
        }
        return Snapshot(
            language = Language.fromTag(prefs.languageTag),
            onboardingDone = prefs.onboardingDone,
            protectionOn = !prefs.protectionPaused,
            qaMode = prefs.qaMode,
            facts = facts,
            state = phone.state(),
            counters = phone.counters(),
            days = days,
            lastSync = prefs.lastSyncDate?.let { runCatching { LocalDate.parse(it) }.getOrNull() },
            gattValue = if (prefs.qaMode) phone.currentGattValue() else null,
            duty = phone.radioDuty(),
            radio = app.radio.stats(),
            live = app.radio.live.snapshot(System.currentTimeMillis()),
        )
    }

    companion object {
        val abi: String get() = Build.SUPPORTED_ABIS.firstOrNull().orEmpty()
    }
}
