package org.openzone.app

import java.io.File
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.openzone.app.events.PhoneEvents
import org.openzone.core.ExportPublicKey
import org.openzone.core.OpenZonePhone
import org.openzone.core.SimulatedAir
import org.openzone.core.buildSignedExport
import org.openzone.core.generateSigningKey

val phoneEventsTests: List<HostTest> = listOf(
    "the at-risk notification is posted once per day the core announces, across restarts" to {
        val dir = tempDir()
        val signing = generateSigningKey()
        // Both phones' clock reads 10:00 UTC today at first, so that the encounters stay on one day.
        val today = LocalDate.now(ZoneOffset.UTC)
        val clock = ShiftedClock()
        clock.offsetMs = today.atTime(10, 0).toInstant(ZoneOffset.UTC).toEpochMilli() - System.currentTimeMillis()
        val air = SimulatedAir(7uL)
        val aliceRadio = air.addPhone(0.0, 0.0, false)
        val bobRadio = air.addPhone(1.0, 0.0, true)
        val exportKey = ExportPublicKey("310", "v1", signing.publicPem)
        val bobSettings = settings(File(dir, "bob"), exportKeys = listOf(exportKey))
        val posted = CopyOnWriteArrayList<String>()
        val alice = OpenZonePhone(settings(File(dir, "alice")), aliceRadio.platform(), null, clock)
        var bob = OpenZonePhone(bobSettings, bobRadio.platform(), PhoneEvents({ posted.add(it.date) }), clock)
        air.connect(aliceRadio, alice)
        air.connect(bobRadio, bob)
        for (p in listOf(alice, bob)) { p.setQaMode(true); p.start() }
        // Bob hears Alice in scan windows 5 minutes apart, each credited with those minutes.
        fun hearAlice(windows: Int) = repeat(windows) {
            val before = bob.counters().sightings
            val heard = waitUntil(20_000) { air.step(1u); bob.counters().sightings > before }
            assertTrue(heard, "${bob.counters()}")
            clock.offsetMs += 5 * 60 * 1000L
        }
        hearAlice(6)
        val first = buildSignedExport(alice.releaseKeys(true, null), signing.privatePem, "310", "v1")
        // Alice rotated to a fresh key on release: Bob hears that one too, on the same day.
        hearAlice(2)
        val second = buildSignedExport(alice.releaseKeys(true, null), signing.privatePem, "310", "v1")
        clock.offsetMs += 3 * 3600 * 1000L

        val found = runBlocking { bob.processExport(first) }
        val day = today.toString()
        assertEquals(listOf(day), found.newlyAtRisk, "$found")
        assertEquals(listOf(day), posted.toList(), "the listener posted what the summary reports")

        // After a restart, more exposure on the same day is no news: the core remembers the day was told.
        bob.stop()
        bob.destroy()
        bob = OpenZonePhone(bobSettings, bobRadio.platform(), PhoneEvents({ posted.add(it.date) }), clock)
        val more = runBlocking { bob.processExport(second) }
        assertTrue(more.keysMatched > 0uL, "$more")
        assertEquals(listOf(day), more.days.map { it.date })
        assertEquals(emptyList(), more.newlyAtRisk)
        assertEquals(listOf(day), posted.toList(), "one notification for the day")
        alice.stop()
        for (p in listOf(alice, bob)) p.destroy()
    },
)
