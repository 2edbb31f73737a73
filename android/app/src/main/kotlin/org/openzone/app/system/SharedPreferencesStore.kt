package org.openzone.app.system

import android.content.SharedPreferences
import org.openzone.app.prefs.KeyValueStore

/** The shell's preferences in SharedPreferences (no-backup: see data_extraction_rules.xml). */
class SharedPreferencesStore(private val prefs: SharedPreferences) : KeyValueStore {
    override fun getString(key: String): String? = prefs.getString(key, null)

    override fun putString(key: String, value: String?) {
        prefs.edit().apply { if (value == null) remove(key) else putString(key, value) }.apply()
    }
}
