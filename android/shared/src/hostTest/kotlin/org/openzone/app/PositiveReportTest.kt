package org.openzone.app

import java.time.LocalDate
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.app.positive.Field
import org.openzone.app.positive.PositiveReportForm
import org.openzone.app.positive.PositiveReportInput
import org.openzone.app.positive.PositiveReporter
import org.openzone.app.positive.Problem
import org.openzone.app.positive.ReportOutcome
import org.openzone.app.positive.Submission
import org.openzone.app.positive.Validation

private val today = LocalDate.of(2025, 11, 20)

/** A code of [digits] digits, `123...`. */
private fun digits(n: Int) = (1..n).joinToString("") { (it % 10).toString() }
private val code = digits(PositiveReportForm.CODE_LENGTH)
private val good =
    PositiveReportInput(code = code.chunked(4).joinToString(" "), onsetDate = today.minusDays(3), consent = true)

private fun problems(input: PositiveReportInput) =
    (PositiveReportForm.validate(input, today) as Validation.Invalid).problems

val positiveReportTests: List<HostTest> = listOf(
    "a good report is valid, the code without spaces or dashes" to {
        assertEquals(
            Validation.Valid(Submission(code, "2025-11-17", consent = true)),
            PositiveReportForm.validate(good, today),
        )
        assertEquals(
            Validation.Valid(Submission(code, null, consent = true)),
            PositiveReportForm.validate(
                good.copy(code = code.chunked(4).joinToString("-"), onsetDate = null, noSymptoms = true), today,
            ),
        )
    },
    "codes must have exactly the core's number of digits" to {
        val n = PositiveReportForm.CODE_LENGTH
        val fullWidth = code.map { '０' + (it - '0') }.joinToString("")
        val spacedShort = digits(n - 1).chunked(2).joinToString(" ")
        for (bad in listOf("", digits(n - 1), digits(n + 1), digits(n - 1) + "a", fullWidth, spacedShort)) {
            assertEquals(mapOf(Field.CODE to Problem.CODE_FORMAT), problems(good.copy(code = bad)), bad)
        }
    },
    "the onset date is needed unless no symptoms, not in the future, within the days the phone keeps" to {
        val oldest = today.minusDays(PositiveReportForm.MAX_ONSET_DAYS)
        assertEquals(Problem.DATE_MISSING, problems(good.copy(onsetDate = null))[Field.ONSET_DATE])
        assertEquals(Problem.DATE_IN_FUTURE, problems(good.copy(onsetDate = today.plusDays(1)))[Field.ONSET_DATE])
        assertEquals(Problem.DATE_TOO_OLD, problems(good.copy(onsetDate = oldest.minusDays(1)))[Field.ONSET_DATE])
        assertTrue(PositiveReportForm.validate(good.copy(onsetDate = today), today) is Validation.Valid)
        assertTrue(PositiveReportForm.validate(good.copy(onsetDate = oldest), today) is Validation.Valid)
    },
    "consent is required, and every problem is reported at once" to {
        val all = problems(PositiveReportInput())
        assertEquals(setOf(Field.CODE, Field.ONSET_DATE, Field.CONSENT), all.keys)
        for (p in Problem.entries) for (lang in Language.entries) {
            val text = PositiveReportForm.message(p, Texts(lang))
            assertTrue(text.isNotBlank() && !text.contains("{"), text)
        }
    },
    "without a key server the report says so without calling it" to {
        val e = phone(tempDir(), RecordingPlatform())
        val outcome = runBlocking {
            PositiveReporter.send(e, Submission(code, null, true), Texts(Language.EN), keyServerConfigured = false)
        }
        assertEquals(ReportOutcome.Failed(Texts(Language.EN)(T.POS_ERR_NOT_CONFIGURED), retry = false), outcome)
        e.destroy()
    },
    "a key server that refuses the code gives a retryable network message" to {
        val server = refusingKeyServer(403)
        try {
            val e = phone(tempDir(), RecordingPlatform(), keyServerUrl = "http://127.0.0.1:${server.address.port}")
            // The core reports only keys the phone broadcast: it must have run.
            e.start()
            val outcome = runBlocking {
                PositiveReporter.send(e, Submission(code, "2025-11-17", true), Texts(Language.VI), true)
            }
            assertEquals(ReportOutcome.Failed(Texts(Language.VI)(T.POS_ERR_NETWORK), retry = true), outcome)
            e.stop()
            e.destroy()
        } finally {
            server.stop(0)
        }
    },
)
