// The process: one engine (the store admits one), shared by the foreground service, the UI and the sync
// worker, opened on first use with the data key from the Android Keystore.
package org.openzone.app

import android.app.Application
import android.util.Log
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import java.io.File
import java.util.concurrent.Executors
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import org.openzone.app.keys.DataKey
import org.openzone.app.keys.DataKeyStore
import org.openzone.app.keys.StoreOpener
import org.openzone.app.prefs.AppPreferences
import org.openzone.app.radio.AndroidBlePlatform
import org.openzone.app.service.Notifications
import org.openzone.app.system.KeystoreKeyWrapper
import org.openzone.app.system.LanguageSync
import org.openzone.app.system.SharedPreferencesStore
import org.openzone.core.EngineListener
import org.openzone.core.EngineState
import org.openzone.core.OpenZoneEngine

class OpenZoneApp : Application() {
    lateinit var prefs: AppPreferences
        private set

    /** The radio the engine drives. */
    val radio: AndroidBlePlatform by lazy { AndroidBlePlatform(this) }

    /** What the engine reports, for the UI. */
    val events = EngineEvents()

    /** Work off the main thread that must run in order (engine start/stop, inputs). */
    val background = Executors.newSingleThreadExecutor { r -> Thread(r, "openzone-app") }

    private val engineLazy = lazy { openEngine() }

    /** The engine; opening it reads the store, so call it off the main thread the first time. */
    val engine: OpenZoneEngine by engineLazy

    /** The engine if it was opened already (never opens it). */
    fun engineIfOpen(): OpenZoneEngine? = if (engineLazy.isInitialized()) engine else null

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
        background.execute { engineIfOpen()?.setForeground(foreground) }
    }

    private fun openEngine(): OpenZoneEngine {
        val storeDir = File(noBackupFilesDir, "store")
        val keys = DataKeyStore(File(noBackupFilesDir, "data-key.bin"), KeystoreKeyWrapper())
        val (engine, key) = StoreOpener.open(keys, wipe = { storeDir.deleteRecursively() }) { bytes ->
            OpenZoneEngine(AppConfig.engineSettings(storeDir, bytes), radio, events, null)
        }
        if (key is DataKey.Replaced) Log.w(TAG, "started over with a new data key: ${key.reason}")
        radio.attach(engine)
        return engine
    }

    companion object {
        const val TAG = "OpenZone"
    }
}

/** The engine's callbacks (on the core's threads) as state flows the UI collects. */
class EngineEvents : EngineListener {
    private val stateFlow = MutableStateFlow<EngineState>(EngineState.Stopped)
    private val sightingsFlow = MutableStateFlow(0uL)
    private val errorFlow = MutableStateFlow<String?>(null)

    val state: StateFlow<EngineState> = stateFlow
    val sightingsToday: StateFlow<ULong> = sightingsFlow
    /** The last error the core reported (full disk, damaged store), for the QA screen and logs. */
    val lastError: StateFlow<String?> = errorFlow

    override fun stateChanged(state: EngineState) {
        stateFlow.value = state
    }

    override fun sightingsRecorded(today: ULong) {
        sightingsFlow.value = today
    }

    override fun error(message: String) {
        Log.w(OpenZoneApp.TAG, "core: $message")
        errorFlow.value = message
    }
}
