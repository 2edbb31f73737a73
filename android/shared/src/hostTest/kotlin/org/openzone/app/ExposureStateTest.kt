package org.openzone.app

import java.io.File
import java.time.LocalDate
import java.time.ZoneOffset
import kotlin.test.assertEquals
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.openzone.app.exposure.ExposureState
import org.openzone.app.exposure.HealthContacts
import org.openzone.app.exposure.RiskLevel
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.T
import org.openzone.app.i18n.Texts
import org.openzone.core.DayExposure
import org.openzone.core.ExportPublicKey
import org.openzone.core.OpenZonePhone
import org.openzone.core.Proximity
import org.openzone.core.SimulatedAir
import org.openzone.core.buildSignedExport
import org.openzone.core.generateSigningKey

private val today = LocalDate.of(2025, 11, 20)
private fun day(date: LocalDate, atRisk: Boolean, minutes: Double = 20.0, closest: Proximity = Proximity.NEAR,
                estimated: Boolean = false) = DayExposure(date.toString(), atRisk, minutes, closest, estimated)

val exposureTests: List<HostTest> = listOf(
    "no exposure: nothing to worry about, keep the app on" to {
        val ui = ExposureState.of(emptyList(), today, HealthContacts(), Texts(Language.VI))
        assertEquals(RiskLevel.NONE, ui.level)
        assertTrue(ui.days.isEmpty())
        assertEquals(Texts(Language.VI)(T.EXP_NONE_HEADLINE), ui.headline)
        assertEquals("1900 9095", ui.contacts.single().phone)
    },
    "low-risk days are listed without alarm" to {
        val ui = ExposureState.of(listOf(day(today.minusDays(2), false, 4.4)), today, HealthContacts(), Texts(Language.EN))
        assertEquals(RiskLevel.LOW, ui.level)
        assertEquals("About 4 minutes", ui.days.single().minutesText)
        assertEquals("Low risk", ui.days.single().riskText)
    },
    "an at-risk day says what to do until the watch period after it ends, and whom to call" to {
        val texts = Texts(Language.VI)
        val days = listOf(
            day(today.minusDays(5), true, 31.6, Proximity.IMMEDIATE),
            day(today.minusDays(3), false, 2.0, Proximity.FAR, estimated = true),
            day(today.minusDays(ExposureState.WATCH_DAYS + 1), true), // older than the watch period: dropped
        )
        val ui = ExposureState.of(days, today, HealthContacts(schoolHealthOfficer = "0912 345 678"), texts)
        assertEquals(RiskLevel.AT_RISK, ui.level)
        assertEquals(listOf(today.minusDays(3), today.minusDays(5)), ui.days.map { it.date }, "newest first")
        assertEquals("Khoảng 32 phút", ui.days[1].minutesText)
        assertEquals(texts(T.PROX_IMMEDIATE), ui.days[1].closenessText)
        assertEquals(texts(T.EXP_DAY_ESTIMATED), ui.days[0].estimatedNote)
        assertNull(ui.days[1].estimatedNote)
        val watchEnds = today.minusDays(5).plusDays(ExposureState.WATCH_DAYS)
        assertEquals(texts(T.EXP_STEP_WATCH, "date" to texts.date(watchEnds)), ui.nextSteps.first())
        assertTrue(ui.detail.contains(texts.date(today.minusDays(5))))
        assertEquals(listOf("0912 345 678", "1900 9095"), ui.contacts.map { it.phone })
    },
    "every proximity band has words in both languages" to {
        for (p in Proximity.entries) for (lang in Language.entries) {
            assertTrue(Texts(lang)(ExposureState.closeness(p)).isNotBlank())
        }
    },
    "a real exposure found by the core shows on the screen" to {
        val dir = tempDir()
        val signing = generateSigningKey()
        val clock = ShiftedClock()
        val air = SimulatedAir(11uL)
        val alicePhone = air.addPhone(0.0, 0.0, false)
        val bobPhone = air.addPhone(0.5, 0.0, false)
        val alice = OpenZonePhone(settings(File(dir, "alice")), alicePhone.platform(), null, clock)
        val bob = OpenZonePhone(
            settings(File(dir, "bob"), exportKeys = listOf(ExportPublicKey("310", "v1", signing.publicPem))),
            bobPhone.platform(), null, clock,
        )
        air.connect(alicePhone, alice)
        air.connect(bobPhone, bob)
        for (e in listOf(alice, bob)) { e.setQaMode(true); e.start() }
        assertTrue(waitUntil(20_000) { air.step(1u); bob.counters().sightings >= 20uL }, "${bob.counters()}")
        val zip = buildSignedExport(alice.releaseKeys(true, null), signing.privatePem, "310", "v1")
        clock.offsetMs = 3 * 3600 * 1000L
        runBlocking { bob.processExport(zip) }
        val now = java.time.Instant.now().plusMillis(clock.offsetMs).atZone(ZoneOffset.UTC).toLocalDate()
        val ui = ExposureState.of(bob.exposureDays(), now, HealthContacts(), Texts(Language.VI))
        assertNotEquals(RiskLevel.NONE, ui.level)
        assertEquals(LocalDate.now(ZoneOffset.UTC), ui.days.single().date)
        for (e in listOf(alice, bob)) { e.stop(); e.destroy() }
    },
)
