// Downloading published keys: when (WorkManager's periodic work and its constraints), what a result means
// for WorkManager (success, retry with backoff, failure), and when to notify: once per day that becomes at
// risk, never again for the same day, never for a day that was already at risk before.
package org.openzone.app.sync

import java.time.LocalDate
import kotlin.random.Random
import org.openzone.app.prefs.AppPreferences
import org.openzone.core.DayExposure
import org.openzone.core.OpenZoneEngineInterface
import org.openzone.core.OpenZoneException

/** The periodic work request, described without WorkManager types. */
data class SyncSchedule(
    val uniqueName: String,
    val periodMinutes: Long,
    val flexMinutes: Long,
    /** Delay of the first run: spreads a school's phones over the period so the key server sees no spike. */
    val initialDelayMinutes: Long,
    val requiresNetwork: Boolean,
    val requiresBatteryNotLow: Boolean,
    /** Exponential backoff after a retry, from this. */
    val backoffMinutes: Long,
)

/** What a sync run tells WorkManager. */
enum class SyncDecision { SUCCESS, RETRY, FAILURE }

/** The outcome of one run. */
data class SyncResult(
    val decision: SyncDecision,
    /** Days newly at risk: notify the user (empty: stay quiet). */
    val newlyAtRisk: List<LocalDate>,
    /** The reason of a retry or failure, for logs (no personal data: the core's messages carry none). */
    val reason: String? = null,
)

/** The scheduling policy. */
object SyncPolicy {
    const val UNIQUE_NAME = "openzone-sync"

    /** Exports are published a few times a day; every 6 hours finds a new batch within a school half-day. */
    const val PERIOD_MINUTES = 6 * 60L

    /** WorkManager may run it in the last hour of each period, batching it with other apps' work. */
    const val FLEX_MINUTES = 60L

    /** After a network failure: 15 minutes, doubling (WorkManager caps backoff at 5 hours). */
    const val BACKOFF_MINUTES = 15L

    /** Attempts after which a failing run stops retrying until the next period. */
    const val MAX_ATTEMPTS = 5

    fun schedule(random: Random = Random.Default) = SyncSchedule(
        uniqueName = UNIQUE_NAME,
        periodMinutes = PERIOD_MINUTES,
        flexMinutes = FLEX_MINUTES,
        initialDelayMinutes = random.nextLong(0, PERIOD_MINUTES),
        requiresNetwork = true,
        requiresBatteryNotLow = true,
        backoffMinutes = BACKOFF_MINUTES,
    )

    /** What an error means for the run: network trouble is retried, the rest waits for the next period. */
    fun decide(error: OpenZoneException?, attempt: Int): SyncDecision = when (error) {
        null -> SyncDecision.SUCCESS
        is OpenZoneException.Network, is OpenZoneException.Platform ->
            if (attempt + 1 < MAX_ATTEMPTS) SyncDecision.RETRY else SyncDecision.FAILURE
        // Untrusted data, storage, configuration: retrying at once changes nothing.
        else -> SyncDecision.FAILURE
    }
}

/** Which at-risk days are new to the user; remembers the notified ones in the preferences. */
class AtRiskNotifier(private val prefs: AppPreferences) {
    /** The at-risk days of [days] within the watch period not notified before; marks them notified. */
    fun newlyAtRisk(days: List<DayExposure>, today: LocalDate): List<LocalDate> {
        val window = today.minusDays(WATCH_DAYS)
        val atRisk = days.filter { it.atRisk }
            .mapNotNull { runCatching { LocalDate.parse(it.date) }.getOrNull() }
            .filter { !it.isBefore(window) && !it.isAfter(today) }
        val notified = prefs.notifiedAtRiskDays
        val fresh = atRisk.filter { it.toString() !in notified }.distinct().sorted()
        // Forget days out of the window, so the set stays small.
        prefs.notifiedAtRiskDays = (notified.filter { runCatching { !LocalDate.parse(it).isBefore(window) }
            .getOrDefault(false) } + fresh.map { it.toString() }).toSet()
        return fresh
    }

    private companion object {
        const val WATCH_DAYS = 14L
    }
}

/** One sync run: the core downloads and checks the exports; this decides what WorkManager and the user
 *  hear. */
class SyncRunner(
    private val engine: OpenZoneEngineInterface,
    private val prefs: AppPreferences,
) {
    private val notifier = AtRiskNotifier(prefs)

    suspend fun run(today: LocalDate, attempt: Int): SyncResult = try {
        val days = engine.sync()
        prefs.lastSyncDate = today.toString()
        SyncResult(SyncDecision.SUCCESS, notifier.newlyAtRisk(days, today))
    } catch (e: OpenZoneException) {
        SyncResult(SyncPolicy.decide(e, attempt), emptyList(), "${e::class.simpleName}: ${e.message}")
    }
}
