// The exposure result screen: per day, at risk or not, and what to do next and whom to call. The core
// decides which days are at risk (the health authority's risk configuration); this only words it and
// counts the days of watchfulness (the core's retention period) from the last risky day.
package org.openzone.app.exposure

import java.time.LocalDate
import kotlin.math.roundToInt
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.core.DayExposure
import org.openzone.core.Proximity
import org.openzone.core.protocolConstants

/** Whom to call, set for each deployment (the school's health officer is configured by the school). */
data class HealthContacts(
    val hotline: String = MINISTRY_OF_HEALTH_HOTLINE,
    val schoolHealthOfficer: String? = null,
) {
    companion object {
        /** The Vietnamese Ministry of Health's hotline. */
        const val MINISTRY_OF_HEALTH_HOTLINE = "1900 9095"
    }
}

/** How worried the screen is. */
enum class RiskLevel { NONE, LOW, AT_RISK }

/** One day of the list. */
data class DayRow(
    val date: LocalDate,
    val dateText: String,
    val atRisk: Boolean,
    val riskText: String,
    val minutesText: String,
    val closenessText: String,
    val estimatedNote: String?,
)

/** A contact line: who, and the number to dial. */
data class ContactRow(val label: String, val phone: String)

/** The screen, ready to show. */
data class ExposureUi(
    val level: RiskLevel,
    val headline: String,
    val detail: String,
    /** Newest first. */
    val days: List<DayRow>,
    val nextSteps: List<String>,
    val contacts: List<ContactRow>,
)

/** Builds [ExposureUi]. */
object ExposureState {
    /** Days a contact is watched for, and the days the result screen looks back: the days the phone keeps
     *  what it heard. */
    val WATCH_DAYS = protocolConstants().retentionDays.toLong()

    fun of(days: List<DayExposure>, today: LocalDate, contacts: HealthContacts, texts: Texts): ExposureUi {
        val recent = days
            .mapNotNull { d -> runCatching { LocalDate.parse(d.date) }.getOrNull()?.let { it to d } }
            .filter { (date, _) -> !date.isBefore(today.minusDays(WATCH_DAYS)) && !date.isAfter(today) }
            .sortedByDescending { it.first }
        val rows = recent.map { (date, d) -> row(date, d, texts) }
        val lastRisky = recent.firstOrNull { it.second.atRisk }?.first
        val level = when {
            lastRisky != null -> RiskLevel.AT_RISK
            recent.isNotEmpty() -> RiskLevel.LOW
            else -> RiskLevel.NONE
        }
        val steps = when (level) {
            RiskLevel.AT_RISK -> listOf(
                texts(T.EXP_STEP_WATCH, "date" to texts.date(lastRisky!!.plusDays(WATCH_DAYS))),
                texts(T.EXP_STEP_TELL_SCHOOL),
                texts(T.EXP_STEP_SYMPTOMS),
                texts(T.EXP_STEP_PRIVATE),
            )
            else -> listOf(texts(T.EXP_STEP_KEEP_ON), texts(T.EXP_STEP_SYMPTOMS))
        }
        val contactRows = buildList {
            contacts.schoolHealthOfficer?.let { add(ContactRow(texts(T.CONTACT_SCHOOL), it)) }
            add(ContactRow(texts(T.CONTACT_HOTLINE), contacts.hotline))
        }
        return ExposureUi(
            level = level,
            headline = texts(
                when (level) {
                    RiskLevel.AT_RISK -> T.EXP_AT_RISK_HEADLINE
                    RiskLevel.LOW -> T.EXP_LOW_HEADLINE
                    RiskLevel.NONE -> T.EXP_NONE_HEADLINE
                },
            ),
            detail = when (level) {
                RiskLevel.AT_RISK -> texts(T.EXP_AT_RISK_DETAIL, "date" to texts.date(lastRisky!!))
                RiskLevel.LOW -> texts(T.EXP_LOW_DETAIL)
                RiskLevel.NONE -> texts(T.EXP_NONE_DETAIL)
            },
            days = rows,
            nextSteps = steps,
            contacts = contactRows,
        )
    }

    private fun row(date: LocalDate, d: DayExposure, texts: Texts) = DayRow(
        date = date,
        dateText = texts.date(date),
        atRisk = d.atRisk,
        riskText = texts(if (d.atRisk) T.EXP_DAY_AT_RISK else T.EXP_DAY_LOW),
        // At least one minute: a day in the list had some contact.
        minutesText = texts(T.EXP_DAY_MINUTES, "minutes" to d.weightedMinutes.roundToInt().coerceAtLeast(1)),
        closenessText = texts(closeness(d.closest)),
        estimatedNote = if (d.estimated) texts(T.EXP_DAY_ESTIMATED) else null,
    )

    /** The attenuation band in words (bands of signal loss, not metres: the screen promises no distance). */
    fun closeness(p: Proximity): T = when (p) {
        Proximity.IMMEDIATE -> T.PROX_IMMEDIATE
        Proximity.NEAR -> T.PROX_NEAR
        Proximity.MEDIUM -> T.PROX_MEDIUM
        Proximity.FAR -> T.PROX_FAR
    }
}
