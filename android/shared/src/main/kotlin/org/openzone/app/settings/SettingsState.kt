// The settings screen: language, protection on/off, QA mode, and "delete my data" with a confirmation.
package org.openzone.app.settings

import org.openzone.app.i18n.Language
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.app.keys.DataKeyStore
import org.openzone.app.prefs.AppPreferences
import org.openzone.core.OpenZonePhoneInterface

/** Where the deletion stands. */
sealed interface Deletion {
    data object Idle : Deletion
    data object Confirming : Deletion
    data object Done : Deletion
    data class Failed(val reason: String) : Deletion
}

/** The screen, ready to show. */
data class SettingsUi(
    val language: Language,
    val languages: List<Pair<Language, String>>,
    val protectionOn: Boolean,
    val qaMode: Boolean,
    val deletion: Deletion,
    /** The text for the deletion state: the question, the confirmation, or the failure. */
    val deletionText: String?,
)

/** The settings' state and actions; the Android layer applies the effects (restart service, locale). */
class SettingsState(private val prefs: AppPreferences) {
    var deletion: Deletion = Deletion.Idle
        private set

    val language: Language get() = Language.fromTag(prefs.languageTag)

    fun setLanguage(language: Language) {
        prefs.languageTag = language.tag
    }

    fun setProtection(on: Boolean) {
        prefs.protectionPaused = !on
    }

    fun setQaMode(phone: OpenZonePhoneInterface, on: Boolean) {
        prefs.qaMode = on
        phone.setQaMode(on)
    }

    fun requestDeletion() {
        deletion = Deletion.Confirming
    }

    fun cancelDeletion() {
        deletion = Deletion.Idle
    }

    /** Deletes the core's store (encounters, keys, results) and the shell's record of the user's exposure;
     *  the store is sealed from now on under a new data key from [keys]. */
    fun confirmDeletion(phone: OpenZonePhoneInterface, keys: DataKeyStore) {
        if (deletion != Deletion.Confirming) return
        deletion = try {
            phone.deleteAllData(keys.replace())
            prefs.forgetExposure()
            Deletion.Done
        } catch (e: Exception) {
            // The core's errors, and the Keystore's (a new key could not be made or written).
            Deletion.Failed(e.message ?: e::class.simpleName.orEmpty())
        }
    }

    fun ui(): SettingsUi {
        val texts = Texts(language)
        return SettingsUi(
            language = language,
            languages = listOf(Language.VI to texts(T.LANG_VI), Language.EN to texts(T.LANG_EN)),
            protectionOn = !prefs.protectionPaused,
            qaMode = prefs.qaMode,
            deletion = deletion,
            deletionText = when (val d = deletion) {
                Deletion.Idle -> null
                Deletion.Confirming -> texts(T.SET_DELETE_CONFIRM)
                Deletion.Done -> texts(T.SET_DELETED)
                is Deletion.Failed -> texts(T.SET_DELETE_FAILED, "reason" to d.reason)
            },
        )
    }
}
