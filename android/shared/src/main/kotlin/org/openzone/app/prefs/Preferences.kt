// The few values the shell keeps outside the core's store: onboarding and consent, the language, QA mode,
// and the last sync (which at-risk days were notified is the core's to remember). Android keeps them in
// SharedPreferences; tests in memory.
package org.openzone.app.prefs

import java.util.concurrent.ConcurrentHashMap

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

/** Typed access to the shell's preferences. */
class AppPreferences(private val store: KeyValueStore) {
    var languageTag: String?
        get() = store.getString(LANGUAGE)
        set(v) = store.putString(LANGUAGE, v)

    /** The user agreed in onboarding; the service and sync run only after that. */
    var consentGiven: Boolean
        get() = store.getString(CONSENT) == "1"
        set(v) = store.putString(CONSENT, if (v) "1" else null)

    var onboardingDone: Boolean
        get() = store.getString(ONBOARDING) == "1"
        set(v) = store.putString(ONBOARDING, if (v) "1" else null)

    /** The user turned protection off in Settings (the service is not restarted at boot then). */
    var protectionPaused: Boolean
        get() = store.getString(PAUSED) == "1"
        set(v) = store.putString(PAUSED, if (v) "1" else null)

    var qaMode: Boolean
        get() = store.getString(QA) == "1"
        set(v) = store.putString(QA, if (v) "1" else null)

    /** The last successful sync, `YYYY-MM-DD`. */
    var lastSyncDate: String?
        get() = store.getString(LAST_SYNC)
        set(v) = store.putString(LAST_SYNC, v)

    /** Forgets what describes the user's exposure (after "delete my data"). */
    fun forgetExposure() {
        lastSyncDate = null
    }

    private companion object {
        const val LANGUAGE = "language"
        const val CONSENT = "consent"
        const val ONBOARDING = "onboarding_done"
        const val PAUSED = "protection_paused"
        const val QA = "qa_mode"
        const val LAST_SYNC = "last_sync"
    }
}
