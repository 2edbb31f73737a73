// The foreground service that keeps the phone's radio running: type connectedDevice, a quiet persistent
// notification, restarted by Android if the process dies (START_STICKY), after boot and after updates
// (StartReceiver). It starts the radio, tells the phone about Bluetooth and permissions, and stops the
// radio on the way out. Why a foreground service, and why these types: docs/android.md.
package org.openzone.app.service

import android.app.Service
import android.bluetooth.BluetoothAdapter
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.ServiceInfo
import android.location.LocationManager
import android.os.Build
import android.os.IBinder
import android.util.Log
import androidx.core.app.ServiceCompat
import androidx.core.content.ContextCompat
import org.openzone.app.OpenZoneApp
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.Texts
import org.openzone.app.platform.Permissions
import org.openzone.app.platform.PhoneInputs
import org.openzone.app.system.PlatformFactsReader

class OpenZoneService : Service() {
    private val app get() = application as OpenZoneApp

    private val receiver = object : BroadcastReceiver() {
        override fun onReceive(context: Context, intent: Intent) {
            if (intent.action == BluetoothAdapter.ACTION_STATE_CHANGED) {
                val state = intent.getIntExtra(BluetoothAdapter.EXTRA_STATE, BluetoothAdapter.ERROR)
                app.radio.bluetoothChanged(state == BluetoothAdapter.STATE_ON)
            }
            refreshInputs()
        }
    }

    override fun onCreate() {
        super.onCreate()
        if (!enterForeground()) {
            stopSelf()
            return
        }
        val filter = IntentFilter(BluetoothAdapter.ACTION_STATE_CHANGED).apply {
            addAction(LocationManager.MODE_CHANGED_ACTION)
        }
        ContextCompat.registerReceiver(this, receiver, filter, ContextCompat.RECEIVER_NOT_EXPORTED)
        app.background.execute {
            val phone = app.phone
            PhoneInputs.apply(phone, PlatformFactsReader.read(this))
            phone.setQaMode(app.prefs.qaMode)
            phone.start()
        }
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        refreshInputs()
        return START_STICKY
    }

    override fun onDestroy() {
        runCatching { unregisterReceiver(receiver) }
        app.background.execute {
            app.phoneIfOpen()?.stop()
            app.radio.shutdown()
        }
        super.onDestroy()
    }

    override fun onBind(intent: Intent?): IBinder? = null

    private fun refreshInputs() {
        app.background.execute { app.phoneIfOpen()?.let { PhoneInputs.apply(it, PlatformFactsReader.read(this)) } }
    }

    /** startForeground with this version's type; false when Android refuses (a permission is missing). */
    private fun enterForeground(): Boolean {
        val texts = Texts(Language.fromTag(app.prefs.languageTag))
        return try {
            ServiceCompat.startForeground(this, Notifications.SERVICE_ID, Notifications.service(this, texts), serviceType())
            true
        } catch (e: RuntimeException) {
            // SecurityException (Android 14: no Bluetooth permission for connectedDevice) or
            // ForegroundServiceStartNotAllowedException (Android 12+: started from the background).
            Log.w(OpenZoneApp.TAG, "cannot run in the foreground: $e")
            false
        }
    }

    /**
     * connectedDevice everywhere it exists. On Android 10 and 11 also location, when it is granted: there, a
     * foreground service receives BLE scan results with the screen off and the app in the background only
     * with location access "while in use", which a foreground service has only if its type includes
     * location. Android 12+ scans under BLUETOOTH_SCAN (neverForLocation) and needs no location type.
     * The type is always passed explicitly: without it Android 14 would check the manifest's types, location
     * included.
     */
    private fun serviceType(): Int {
        if (Build.VERSION.SDK_INT < 29) return 0
        var type = ServiceInfo.FOREGROUND_SERVICE_TYPE_CONNECTED_DEVICE
        if (Build.VERSION.SDK_INT <= 30 && PlatformFactsReader.granted(this, Permissions.ACCESS_FINE_LOCATION)) {
            type = type or ServiceInfo.FOREGROUND_SERVICE_TYPE_LOCATION
        }
        return type
    }

    companion object {
        /** Starts protection (from the app in front, or from StartReceiver). */
        fun start(context: Context) {
            ContextCompat.startForegroundService(context, Intent(context, OpenZoneService::class.java))
        }

        /** Stops protection (Settings). */
        fun stop(context: Context) {
            context.stopService(Intent(context, OpenZoneService::class.java))
        }

        /** Whether protection should run: the user agreed, did not pause it, and the radio may work. */
        fun shouldRun(app: OpenZoneApp): Boolean =
            app.prefs.consentGiven && app.prefs.onboardingDone && !app.prefs.protectionPaused &&
                PlatformFactsReader.read(app).radioPermissionsGranted
    }
}
