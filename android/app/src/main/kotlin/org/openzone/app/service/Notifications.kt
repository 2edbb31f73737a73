// Two channels: the service's notice (minimum importance: no sound, no status-bar icon on most phones, still
// in the shade as Android requires for a foreground service) and exposure alerts (default importance: a
// sound, once per day that becomes at risk).
package org.openzone.app.service

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.os.Build
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import org.openzone.app.MainActivity
import org.openzone.app.R
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts

object Notifications {
    const val SERVICE_ID = 1
    const val AT_RISK_ID = 2
    private const val CHANNEL_SERVICE = "service"
    private const val CHANNEL_ALERTS = "alerts"

    fun createChannels(context: Context) {
        if (Build.VERSION.SDK_INT < 26) return
        val manager = context.getSystemService(NotificationManager::class.java) ?: return
        manager.createNotificationChannel(
            NotificationChannel(CHANNEL_SERVICE, context.getString(R.string.channel_service_name), NotificationManager.IMPORTANCE_MIN)
                .apply {
                    description = context.getString(R.string.channel_service_description)
                    setShowBadge(false)
                },
        )
        manager.createNotificationChannel(
            NotificationChannel(CHANNEL_ALERTS, context.getString(R.string.channel_alerts_name), NotificationManager.IMPORTANCE_DEFAULT)
                .apply { description = context.getString(R.string.channel_alerts_description) },
        )
    }

    private fun openApp(context: Context, screen: String?): PendingIntent = PendingIntent.getActivity(
        context,
        screen.hashCode(),
        Intent(context, MainActivity::class.java).apply {
            flags = Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_CLEAR_TOP
            screen?.let { putExtra(MainActivity.EXTRA_SCREEN, it) }
        },
        PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
    )

    fun service(context: Context, texts: Texts): Notification =
        NotificationCompat.Builder(context, CHANNEL_SERVICE)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(texts(T.NOTIF_SERVICE_TITLE))
            .setContentText(texts(T.NOTIF_SERVICE_TEXT))
            .setContentIntent(openApp(context, null))
            .setOngoing(true)
            .setSilent(true)
            .setPriority(NotificationCompat.PRIORITY_MIN)
            .setCategory(NotificationCompat.CATEGORY_SERVICE)
            .build()

    /** The at-risk alert; says nothing about when or whom (the app shows that). */
    fun atRisk(context: Context, texts: Texts) {
        val notification = NotificationCompat.Builder(context, CHANNEL_ALERTS)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(texts(T.NOTIF_AT_RISK_TITLE))
            .setContentText(texts(T.NOTIF_AT_RISK_TEXT))
            .setStyle(NotificationCompat.BigTextStyle().bigText(texts(T.NOTIF_AT_RISK_TEXT)))
            .setContentIntent(openApp(context, MainActivity.SCREEN_EXPOSURE))
            .setAutoCancel(true)
            .setVisibility(NotificationCompat.VISIBILITY_PRIVATE)
            .setPriority(NotificationCompat.PRIORITY_DEFAULT)
            .build()
        val manager = NotificationManagerCompat.from(context)
        if (manager.areNotificationsEnabled()) {
            try {
                manager.notify(AT_RISK_ID, notification)
            } catch (e: SecurityException) {
                // POST_NOTIFICATIONS revoked between the check and the call: the exposure screen still shows it.
            }
        }
    }
}
