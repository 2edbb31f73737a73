// The in-app language setting and Android 13's per-app language setting kept in step: a choice in either
// place wins, and Android's own texts (notification channel names) follow.
package org.openzone.app.system

import android.app.LocaleManager
import android.content.Context
import android.os.Build
import android.os.LocaleList
import org.openzone.app.i18n.Language
import org.openzone.app.prefs.AppPreferences

object LanguageSync {
    /** At start: a language chosen in Android's settings becomes the app's. */
    fun adoptSystemChoice(context: Context, prefs: AppPreferences) {
        if (Build.VERSION.SDK_INT < 33) return
        val locales = context.getSystemService(LocaleManager::class.java)?.applicationLocales ?: return
        if (locales.isEmpty) return
        val tag = locales[0].language
        if (Language.entries.any { it.tag == tag }) prefs.languageTag = tag
    }

    /** The user chose [language] in the app. */
    fun apply(context: Context, prefs: AppPreferences, language: Language) {
        prefs.languageTag = language.tag
        if (Build.VERSION.SDK_INT >= 33) {
            context.getSystemService(LocaleManager::class.java)?.applicationLocales = LocaleList.forLanguageTags(language.tag)
        }
    }
}
