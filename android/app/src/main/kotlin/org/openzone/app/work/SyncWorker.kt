// The periodic download of published keys (WorkManager): the core syncs and checks the exports, and its
// listener (PhoneEvents, in OpenZoneApp) posts the notification of each day newly at risk while it does;
// the shared SyncRunner decides success, retry or failure.
package org.openzone.app.work

import android.content.Context
import android.util.Log
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.openzone.app.AppConfig
import org.openzone.app.OpenZoneApp
import org.openzone.app.sync.SyncDecision
import org.openzone.app.sync.SyncPolicy
import org.openzone.app.sync.SyncRunner

class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val app = applicationContext as OpenZoneApp
        if (!app.prefs.consentGiven || AppConfig.keyServerUrl == null) return Result.success()
        // Opening the store reads the disk: not on the worker's default dispatcher's caller.
        val phone = withContext(Dispatchers.IO) { app.phone }
        // The core's days are UTC days, as its exposure windows are.
        val result = SyncRunner(phone, app.prefs).run(LocalDate.now(ZoneOffset.UTC), runAttemptCount)
        // Counts only: whether the user is at risk stays out of the log.
        result.summary?.let {
            Log.i(OpenZoneApp.TAG, "sync: ${it.exportsChecked} exports checked, ${it.exportsRejected} rejected, " +
                "${it.exportsFailed} to retry")
        }
        result.reason?.let { Log.w(OpenZoneApp.TAG, "sync: $it") }
        return when (result.decision) {
            SyncDecision.SUCCESS -> Result.success()
            SyncDecision.RETRY -> Result.retry()
            SyncDecision.FAILURE -> Result.failure()
        }
    }
}

/** Enqueues the periodic sync with the shared policy's period, constraints and backoff. */
object SyncScheduler {
    fun schedule(context: Context) {
        val s = SyncPolicy.schedule()
        val constraints = Constraints.Builder()
            .setRequiredNetworkType(if (s.requiresNetwork) NetworkType.CONNECTED else NetworkType.NOT_REQUIRED)
            .setRequiresBatteryNotLow(s.requiresBatteryNotLow)
            .build()
        val request = PeriodicWorkRequestBuilder<SyncWorker>(s.periodMinutes, TimeUnit.MINUTES, s.flexMinutes, TimeUnit.MINUTES)
            .setConstraints(constraints)
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, s.backoffMinutes, TimeUnit.MINUTES)
            .setInitialDelay(s.initialDelayMinutes, TimeUnit.MINUTES)
            .build()
        // KEEP: a phone keeps its random place in the period across app starts and reboots.
        WorkManager.getInstance(context).enqueueUniquePeriodicWork(s.uniqueName, ExistingPeriodicWorkPolicy.KEEP, request)
    }

    fun cancel(context: Context) {
        WorkManager.getInstance(context).cancelUniqueWork(SyncPolicy.UNIQUE_NAME)
    }
}
