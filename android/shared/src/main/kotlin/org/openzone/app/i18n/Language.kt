// The app's languages and how each formats dates, numbers and placeholders. Vietnamese is the default: the
// app is for Vietnamese schools; English is for teachers and parents who prefer it, and for testers.
package org.openzone.app.i18n

import java.time.LocalDate
import java.time.format.DateTimeFormatter
import java.util.Locale
import org.openzone.core.protocolConstants

/** A language the app speaks; [tag] is the BCP 47 tag stored in the preferences. */
enum class Language(val tag: String, val locale: Locale, private val datePattern: String) {
    VI("vi", Locale.forLanguageTag("vi-VN"), "dd/MM/yyyy"),
    EN("en", Locale.forLanguageTag("en-GB"), "d MMM yyyy");

    private val dates: DateTimeFormatter by lazy { DateTimeFormatter.ofPattern(datePattern, locale) }

    /** A calendar date as people of this language write it. */
    fun date(date: LocalDate): String = dates.format(date)

    /** A share (0 to 1) as a percentage with one decimal, with this language's decimal separator. */
    fun percent(share: Double): String = String.format(locale, "%.1f%%", share * 100)

    companion object {
        /** The language when none was chosen. */
        val DEFAULT = VI

        /** The language of a stored tag, or the default for an unknown or missing one. */
        fun fromTag(tag: String?): Language = entries.firstOrNull { it.tag == tag } ?: DEFAULT
    }
}

/** The texts of one language: `texts(T.KEY, "name" to value)` fills `{name}` placeholders, and every text's
 *  `{retention}` (days the phone keeps encounters) and `{digits}` (of a one-time code) come from the core. */
class Texts(val language: Language) {
    operator fun invoke(key: T, vararg args: Pair<String, Any>): String {
        var text = Strings.table(language).getValue(key)
        for ((name, value) in args.asList() + protocolNumbers) text = text.replace("{$name}", value.toString())
        return text
    }

    /** A date in this language. */
    fun date(date: LocalDate): String = language.date(date)

    private companion object {
        val protocolNumbers: List<Pair<String, Any>> by lazy {
            val c = protocolConstants()
            listOf("retention" to c.retentionDays, "digits" to c.codeDigits)
        }
    }
}
