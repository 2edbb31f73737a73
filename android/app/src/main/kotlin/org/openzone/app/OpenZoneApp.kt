// The process: one phone (the store admits one), shared by the foreground service, the UI and the sync
// worker, opened on first use with the data key from the Android Keystore. Its listener posts the at-risk
// notification when the core announces a day.
package org.openzone.app

import android.app.Application
import android.util.Log
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import java.io.File
import java.util.concurrent.Executors
import org.openzone.app.events.PhoneEvents
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.Texts
import org.openzone.app.keys.DataKey
import org.openzone.app.keys.DataKeyStore
import org.openzone.app.keys.StoreOpener
import org.openzone.app.prefs.AppPreferences
import org.openzone.app.radio.AndroidBlePlatform
import org.openzone.app.service.Notifications
import org.openzone.app.system.KeystoreKeyWrapper
import org.openzone.app.system.LanguageSync
import org.openzone.app.system.SharedPreferencesStore
import org.openzone.core.OpenZonePhone

class OpenZoneApp : Application() {
    lateinit var prefs: AppPreferences
        private set

    /** The radio the phone drives. */
    val radio: AndroidBlePlatform by lazy { AndroidBlePlatform(this) }

    /** The data key's file, wrapped by the Keystore ("delete my data" replaces the key). */
    val dataKeys: DataKeyStore by lazy { DataKeyStore(File(noBackupFilesDir, "data-key.bin"), KeystoreKeyWrapper()) }

    /** What the phone reports: the at-risk notification (in the app's language), errors to the log. */
    private val events = PhoneEvents(
        notifyAtRisk = { Notifications.atRisk(this, Texts(Language.fromTag(prefs.languageTag))) },
        log = { Log.w(TAG, "core: $it") },
    )

    /** Work off the main thread that must run in order (radio start/stop, inputs). */
    val background = Executors.newSingleThreadExecutor { r -> Thread(r, "openzone-app") }

    private val phoneLazy = lazy { openPhone() }

    /** The phone; opening it reads the store, so call it off the main thread the first time. */
    val phone: OpenZonePhone by phoneLazy

    /** The phone if it was opened already (never opens it). */
    fun phoneIfOpen(): OpenZonePhone? = if (phoneLazy.isInitialized()) phone else null

    override fun onCreate() {
        super.onCreate()
        prefs = AppPreferences(SharedPreferencesStore(getSharedPreferences("openzone", MODE_PRIVATE)))
        LanguageSync.adoptSystemChoice(this, prefs)
        Notifications.createChannels(this)
        // The app in front scans more densely (the core's foreground duty cycle).
        ProcessLifecycleOwner.get().lifecycle.addObserver(object : DefaultLifecycleObserver {
            override fun onStart(owner: LifecycleOwner) = setForeground(true)
            override fun onStop(owner: LifecycleOwner) = setForeground(false)
        })
    }

    private fun setForeground(foreground: Boolean) {
        background.execute { phoneIfOpen()?.setForeground(foreground) }
    }

    private fun openPhone(): OpenZonePhone {
        val storeDir = File(noBackupFilesDir, "store")
        val (phone, key) = StoreOpener.open(dataKeys, wipe = { storeDir.deleteRecursively() }) { bytes ->
            OpenZonePhone(AppConfig.phoneSettings(storeDir, bytes), radio, events, null)
        }
        if (key is DataKey.Replaced) Log.w(TAG, "started over with a new data key: ${key.reason}")
        radio.attach(phone)
        return phone
    }

    companion object {
        const val TAG = "OpenZone"
    }
}
