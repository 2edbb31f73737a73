// "I tested positive": the form (the health officer's one-time code, the onset date or "no symptoms", the
// user's consent) and the report through the core, whose errors become what the user can do about them.
package org.openzone.app.positive

import java.time.LocalDate
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.core.OpenZoneException
import org.openzone.core.OpenZonePhoneInterface
import org.openzone.core.protocolConstants

/** What the user typed and ticked. */
data class PositiveReportInput(
    val code: String = "",
    val onsetDate: LocalDate? = null,
    val noSymptoms: Boolean = false,
    val consent: Boolean = false,
)

/** The fields that can be wrong. */
enum class Field { CODE, ONSET_DATE, CONSENT }

/** What is wrong with a field. */
enum class Problem(val text: T) {
    CODE_FORMAT(T.ERR_CODE_FORMAT),
    DATE_MISSING(T.ERR_DATE_MISSING),
    DATE_IN_FUTURE(T.ERR_DATE_FUTURE),
    DATE_TOO_OLD(T.ERR_DATE_TOO_OLD),
    CONSENT_MISSING(T.ERR_CONSENT),
}

/** A checked report, ready for `OpenZonePhone.reportPositive`. */
data class Submission(val code: String, val onsetDate: String?, val consent: Boolean)

/** The result of checking the form. */
sealed interface Validation {
    data class Valid(val submission: Submission) : Validation
    data class Invalid(val problems: Map<Field, Problem>) : Validation
}

/** Checks the form against today's date. */
object PositiveReportForm {
    /** Digits of a code (the key server issues them). */
    val CODE_LENGTH = protocolConstants().codeDigits.toInt()

    /** What the code field takes: the digits, and room for a space or dash between pairs of them. */
    val MAX_INPUT_LENGTH = CODE_LENGTH * 3 / 2

    /** The onset date may be at most this many days back (the keys the phone keeps). */
    val MAX_ONSET_DAYS = protocolConstants().retentionDays.toLong()

    /** The code without the spaces and dashes people type when reading it aloud. */
    fun normalizeCode(code: String): String = code.filterNot { it == ' ' || it == '-' }

    fun validate(input: PositiveReportInput, today: LocalDate): Validation {
        val problems = mutableMapOf<Field, Problem>()
        val code = normalizeCode(input.code)
        if (code.length != CODE_LENGTH || !code.all { it in '0'..'9' }) problems[Field.CODE] = Problem.CODE_FORMAT
        if (!input.noSymptoms) {
            val onset = input.onsetDate
            when {
                onset == null -> problems[Field.ONSET_DATE] = Problem.DATE_MISSING
                onset.isAfter(today) -> problems[Field.ONSET_DATE] = Problem.DATE_IN_FUTURE
                onset.isBefore(today.minusDays(MAX_ONSET_DAYS)) -> problems[Field.ONSET_DATE] = Problem.DATE_TOO_OLD
            }
        }
        if (!input.consent) problems[Field.CONSENT] = Problem.CONSENT_MISSING
        if (problems.isNotEmpty()) return Validation.Invalid(problems)
        val onset = if (input.noSymptoms) null else input.onsetDate?.toString()
        return Validation.Valid(Submission(code, onset, consent = true))
    }

    /** The message for a problem, in the user's language. */
    fun message(problem: Problem, texts: Texts): String =
        texts(problem.text, "days" to MAX_ONSET_DAYS)
}

/** How sending went. */
sealed interface ReportOutcome {
    data class Sent(val keys: UInt, val message: String) : ReportOutcome
    /** [retry]: the same code may work again later (a network problem). */
    data class Failed(val message: String, val retry: Boolean) : ReportOutcome
}

/** Sends a checked report through the core. */
object PositiveReporter {
    /** [keyServerConfigured]: whether this build has a key server (a build without one cannot report). */
    suspend fun send(
        phone: OpenZonePhoneInterface,
        submission: Submission,
        texts: Texts,
        keyServerConfigured: Boolean,
    ): ReportOutcome =
        if (!keyServerConfigured) {
            ReportOutcome.Failed(texts(T.POS_ERR_NOT_CONFIGURED), retry = false)
        } else try {
            val keys = phone.reportPositive(submission.code, submission.onsetDate, submission.consent)
            ReportOutcome.Sent(keys, texts(T.POS_SENT, "count" to keys))
        } catch (e: OpenZoneException) {
            outcome(e, texts)
        }

    /** The user's side of a core error. */
    fun outcome(e: OpenZoneException, texts: Texts): ReportOutcome.Failed = when (e) {
        // The key server refusing a code comes as Network too: asking for a new code is in the message.
        is OpenZoneException.Network -> ReportOutcome.Failed(texts(T.POS_ERR_NETWORK), retry = true)
        else -> ReportOutcome.Failed(texts(T.POS_ERR_OTHER, "reason" to e.message.orEmpty()), retry = false)
    }
}
