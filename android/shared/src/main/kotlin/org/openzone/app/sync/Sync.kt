// Downloading published keys: when (WorkManager's periodic work and its constraints) and what a result
// means for WorkManager (success, retry with backoff, failure). Which days to notify of is the core's
// decision: it calls `PhoneListener.dayAtRisk` once per day during the sync (PhoneEvents posts it).
package org.openzone.app.sync

import java.time.LocalDate
import kotlin.random.Random
import org.openzone.app.prefs.AppPreferences
import org.openzone.core.OpenZoneException
import org.openzone.core.OpenZonePhoneInterface
import org.openzone.core.SyncSummary

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
    /** What the core did, when the sync ran (its days newly at risk were already announced to the
     *  listener). */
    val summary: SyncSummary? = null,
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

/** One sync run: the core downloads and checks the exports (and tells the listener of days newly at
 *  risk); this decides what WorkManager hears. */
class SyncRunner(
    private val phone: OpenZonePhoneInterface,
    private val prefs: AppPreferences,
) {
    suspend fun run(today: LocalDate, attempt: Int): SyncResult = try {
        val summary = phone.sync()
        prefs.lastSyncDate = today.toString()
        SyncResult(SyncDecision.SUCCESS, summary)
    } catch (e: OpenZoneException) {
        SyncResult(SyncPolicy.decide(e, attempt), reason = "${e::class.simpleName}: ${e.message}")
    }
}
