// After boot and after an update of the app, protection comes back by itself: Android exempts these
// broadcasts from the rule that a background app cannot start a foreground service (Android 12+), and
// connectedDevice is not among the types Android 15 forbids from BOOT_COMPLETED. The periodic sync is
// scheduled again too (WorkManager keeps it across reboots; re-enqueueing with KEEP changes nothing).
package org.openzone.app.service

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import org.openzone.app.OpenZoneApp
import org.openzone.app.work.SyncScheduler

class StartReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action !in ACTIONS) return
        val app = context.applicationContext as OpenZoneApp
        if (!app.prefs.consentGiven) return
        SyncScheduler.schedule(app)
        if (OpenZoneService.shouldRun(app)) OpenZoneService.start(app)
    }

    private companion object {
        val ACTIONS = setOf(
            Intent.ACTION_BOOT_COMPLETED,
            Intent.ACTION_MY_PACKAGE_REPLACED,
            "android.intent.action.QUICKBOOT_POWERON",
        )
    }
}
