package org.openzone.app

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import org.openzone.app.ble.PlatformScanResult
import org.openzone.app.ble.ScanRecordMapper
import org.openzone.app.i18n.Language
import org.openzone.app.i18n.Texts
import org.openzone.app.qa.Diagnostics
import org.openzone.app.qa.DiagnosticsContext
import org.openzone.app.qa.Json
import org.openzone.app.qa.LiveSightings
import org.openzone.app.qa.QaState
import org.openzone.app.qa.RadioGlueStats
import org.openzone.app.qa.SightingKind

private fun result(address: String, t: Long, rssi: Int = -70, manufacturer: List<Int> = emptyList()) =
    PlatformScanResult(address, ByteArray(3), rssi, null, manufacturerIds = manufacturer, timeMs = t)

/** Checks that [text] is one well-formed JSON value (a small recursive-descent reader). */
private fun assertJson(text: String) {
    var i = 0
    fun ws() { while (i < text.length && text[i].isWhitespace()) i++ }
    fun value() {
        ws()
        when (val c = text[i]) {
            '{' -> { i++; ws(); if (text[i] == '}') { i++; return }
                while (true) { ws(); check(text[i] == '"'); value(); ws(); check(text[i++] == ':'); value(); ws()
                    if (text[i] == ',') { i++; continue }; check(text[i++] == '}'); return } }
            '[' -> { i++; ws(); if (text[i] == ']') { i++; return }
                while (true) { value(); ws(); if (text[i] == ',') { i++; continue }; check(text[i++] == ']'); return } }
            '"' -> { i++; while (text[i] != '"') { if (text[i] == '\\') i++; i++ }; i++ }
            else -> { val start = i; while (i < text.length && (text[i].isLetterOrDigit() || text[i] in "-+.")) i++
                check(i > start) { "unexpected '$c' at $start" } }
        }
    }
    value(); ws()
    check(i == text.length) { "trailing text at $i" }
}

val qaTests: List<HostTest> = listOf(
    "the live list keeps the latest per address, newest first, and forgets old ones" to {
        val live = LiveSightings(capacity = 3, maxAgeMs = 10_000)
        live.add(result("a", 1_000))
        live.add(result("b", 2_000, manufacturer = listOf(0x004C)))
        live.add(result("a", 3_000, rssi = -40))
        assertEquals(listOf("a", "b"), live.snapshot(4_000).map { it.address })
        assertEquals(2, live.snapshot(4_000).first().count)
        assertEquals(-40, live.snapshot(4_000).first().rssi)
        assertEquals(SightingKind.IPHONE, live.snapshot(4_000)[1].kind)
        live.add(result("c", 4_000)); live.add(result("d", 5_000))
        assertEquals(listOf("d", "c", "a"), live.snapshot(5_000).map { it.address }, "capacity")
        assertEquals(listOf("d"), live.snapshot(14_500).map { it.address }, "age")
    },
    "the QA screen shows the identifier, live rows, counters and duty of every mode" to {
        val platform = RecordingPlatform()
        val e = startedPhone(platform)
        val texts = Texts(Language.EN)
        val live = LiveSightings()
        live.add(result("5A:00:00:00:00:01", 1_000, rssi = -61, manufacturer = listOf(0x22B5)))
        val ui = QaState.of(e.currentGattValue(), live.snapshot(3_000), e.counters(), e.radioDuty(),
            RadioGlueStats(scanStartsDeferred = 2), 3_000, texts)
        val hex = e.currentGattValue()!!.hex()
        assertEquals("RPI ${hex.take(32)} · AEM ${hex.drop(32)}", ui.identifier)
        assertEquals("Bluezone · RSSI -61 dBm · TX ? · 1× · 2 s ago", ui.rows.single().text)
        assertEquals(3, ui.duty.size)
        assertTrue(ui.duty[0].startsWith("Background: scan 1.5%"), ui.duty[0])
        assertTrue(ui.duty[2].startsWith("QA: scan 100.0%"), ui.duty[2])
        assertTrue(ui.radio.contains("2"))
        assertTrue(ui.attenuationNote.contains("AEM"))
        assertEquals("(not advertising)", QaState.of(null, emptyList(), e.counters(), emptyList(), RadioGlueStats(), 0, texts).identifier)
        e.stop()
        e.destroy()
    },
    "the diagnostics file holds no key, identifier or address" to {
        val platform = RecordingPlatform()
        val e = startedPhone(platform)
        val peer = "5A:AB:CD:EF:01:23"
        val other = startedPhone()
        ScanRecordMapper(e).onScanResult(PlatformScanResult(peer, other.currentAdvertisement()!!.raw, -60, null))
        assertEquals(1uL, e.counters().sightings)
        val onAir = e.currentGattValue()!!
        val keys = e.releaseKeys(true, null)
        assertTrue(keys.isNotEmpty())
        val json = Diagnostics.json(
            DiagnosticsContext("1.0.0", 34, "samsung", "SM-A145F", "arm64-v8a", "2025-11-20T08:00:00Z"),
            e.state(), e.counters(), e.radioDuty(), RadioGlueStats(advertisingFailure = "too many advertisers"), 1,
        )
        assertJson(json)
        val lower = json.lowercase()
        val secrets = keys.map { it.keyData.lowercase() } +
            listOf(onAir, e.currentGattValue()!!, other.currentGattValue()!!).flatMap { listOf(it.hex(), it.hex().take(32)) } +
            listOf(peer.lowercase(), peer.replace(":", "").lowercase(), ByteArray(32) { 0x11 }.hex())
        for (s in secrets) assertFalse(lower.contains(s), "the export contains $s")
        assertFalse(Regex("[0-9a-f]{24,}").containsMatchIn(lower), "no long hex string at all: $json")
        assertTrue(json.contains("\"sightings\":1"))
        assertTrue(json.contains("\"state\":\"running\""))
        for (x in listOf(e, other)) { x.stop(); x.destroy() }
    },
    "JSON strings are escaped" to {
        assertEquals("\"a\\\"b\\\\c\\nd\\u0001\"", Json.string("a\"b\\c\nd\u0001"))
        assertJson(Json.obj("x" to listOf(1, 2.5, null, true, "{not json}"), "y" to Json.obj()).text)
    },
)
