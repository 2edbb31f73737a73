// The few values the shell keeps outside the core's store: onboarding and consent, the language, QA mode,
// and the last sync (which at-risk days were notified is the core's to remember). Android keeps them in
// SharedPreferences; tests in memory.
package org.openzone.app.prefs

import java.util.concurrent.ConcurrentHashMap
import kotlin.properties.ReadWriteProperty
import kotlin.reflect.KProperty

/** A small key-value store. */
interface KeyValueStore {
    fun getString(key: String): String?
    fun putString(key: String, value: String?)
}

/** In memory, for tests. */
class InMemoryKeyValueStore : KeyValueStore {
    private val values = ConcurrentHashMap<String, String>()
    override fun getString(key: String): String? = values[key]
    override fun putString(key: String, value: String?) {
        if (value == null) values.remove(key) else values[key] = value
    }
}

/** Typed access to the shell's preferences, each under the store key beside it (renaming a key forgets its
 *  value on phones that kept one). */
class AppPreferences(private val store: KeyValueStore) {
    var languageTag: String? by text("language")

    /** The user agreed in onboarding; the service and sync run only after that. */
    var consentGiven: Boolean by flag("consent")

    var onboardingDone: Boolean by flag("onboarding_done")

    /** The user turned protection off in Settings (the service is not restarted at boot then). */
    var protectionPaused: Boolean by flag("protection_paused")

    var qaMode: Boolean by flag("qa_mode")

    /** The last successful sync, `YYYY-MM-DD`. */
    var lastSyncDate: String? by text("last_sync")

    /** A string kept under [key]; null removes it. */
    private fun text(key: String) = object : ReadWriteProperty<Any?, String?> {
        override fun getValue(thisRef: Any?, property: KProperty<*>): String? = store.getString(key)
        override fun setValue(thisRef: Any?, property: KProperty<*>, value: String?) = store.putString(key, value)
    }

    /** A yes/no kept under [key] as "1", or absent for no. */
    private fun flag(key: String) = object : ReadWriteProperty<Any?, Boolean> {
        override fun getValue(thisRef: Any?, property: KProperty<*>): Boolean = store.getString(key) == "1"
        override fun setValue(thisRef: Any?, property: KProperty<*>, value: Boolean) =
            store.putString(key, if (value) "1" else null)
    }

    /** Forgets what describes the user's exposure (after "delete my data"). */
    fun forgetExposure() {
        lastSyncDate = null
    }
}
