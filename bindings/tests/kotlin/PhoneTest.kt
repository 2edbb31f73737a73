// The phone through the generated Kotlin bindings on the host JVM: two phones on the simulated air exchange
// payloads, one reports positive, a signed export is built, the other finds the exposed day (awaited from a
// coroutine); listener callbacks arrive from the core's threads; errors are typed.
//
// Run by scripts/test-bindings-kotlin.

import java.io.File
import java.nio.file.Files
import java.time.Instant
import java.time.ZoneOffset
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.system.exitProcess
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.openzone.core.*

const val DAY_MS = 86_400_000L

class ShiftedClock : WallClock {
    @Volatile var offsetMs = 0L
    override fun nowMs(): ULong = (System.currentTimeMillis() + offsetMs).toULong()
}

class Recorder : PhoneListener {
    val states = CopyOnWriteArrayList<EngineState>()
    val threads = CopyOnWriteArrayList<String>()
    val errors = CopyOnWriteArrayList<String>()
    val daysAtRisk = CopyOnWriteArrayList<String>()
    val presenceWarnings = CopyOnWriteArrayList<PresenceWarningInfo>()
    override fun stateChanged(state: EngineState) {
        threads.add(Thread.currentThread().name)
        states.add(state)
    }
    override fun sightingsRecorded(today: ULong) {
        threads.add(Thread.currentThread().name)
    }
    override fun dayAtRisk(day: DayExposure) {
        daysAtRisk.add(day.date)
    }
    override fun presenceWarning(warning: PresenceWarningInfo) {
        presenceWarnings.add(warning)
    }
    override fun syncProgress(done: UInt, total: UInt) {}
    override fun error(message: String) {
        errors.add(message)
    }
}

fun settings(dir: File, key: ByteArray = ByteArray(32) { 0x11 }, exportKeys: List<ExportPublicKey> = listOf()) =
    PhoneSettings(
        dataDir = dir.path,
        dataKey = key,
        scheme = IdentifierScheme.EN_V1,
        device = DeviceModel(manufacturer = "samsung", device = "beyond1", model = "SM-G973F"),
        riskConfigJson = null,
        keyServerUrl = null,
        exportKeys = exportKeys,
        uploadSealingKeys = listOf(),
    )

fun tempDir(): File = Files.createTempDirectory("openzone-kotlin").toFile().also { it.deleteOnExit() }

/** A fresh data directory and one phone's radio, alone in a simulated air seeded with `seed`. */
data class LoneRadio(val dir: File, val air: SimulatedAir, val radio: SimulatedPhone)

fun loneRadio(seed: ULong = 1uL): LoneRadio =
    SimulatedAir(seed).let { LoneRadio(tempDir(), it, it.addPhone(0.0, 0.0, false)) }

fun twoPhonesExchangeAndTheExposureIsFound() {
    val dir = tempDir()
    val signing = generateSigningKey()
    val clock = ShiftedClock()
    // The lesson starts at 08:00 UTC today (virtual time), so that it never runs past midnight.
    val now = System.currentTimeMillis()
    clock.offsetMs = now / DAY_MS * DAY_MS + 8 * 3_600_000L - now
    val air = SimulatedAir(7uL)
    val aliceRadio = air.addPhone(0.0, 0.0, false)
    val bobRadio = air.addPhone(1.0, 0.0, true)
    val listener = Recorder()
    val alice = OpenZonePhone(settings(File(dir, "alice")), aliceRadio.platform(), listener, clock)
    val bobListener = Recorder()
    val bob = OpenZonePhone(
        settings(File(dir, "bob"), exportKeys = listOf(ExportPublicKey("310", "v1", signing.publicPem))),
        bobRadio.platform(), bobListener, clock,
    )
    air.connect(aliceRadio, alice)
    air.connect(bobRadio, bob)
    for (phone in listOf(alice, bob)) {
        phone.setQaMode(true)
        phone.start()
    }
    // A 50-minute lesson side by side: a few seconds of radio, then five minutes later, ten times.
    val deadline = System.currentTimeMillis() + 60_000
    repeat(10) {
        val heard = bob.counters().sightings
        while (System.currentTimeMillis() < deadline && bob.counters().sightings < heard + 2uL) {
            air.step(1u)
            Thread.sleep(20)
        }
        clock.offsetMs += 5 * 60_000L
    }
    while (System.currentTimeMillis() < deadline && alice.counters().gattReadsOk < 1uL) {
        air.step(1u)
        Thread.sleep(20)
    }
    assertTrue(bob.counters().sightings >= 20uL, "bob heard alice: ${bob.counters()}")
    assertTrue(alice.counters().gattReadsOk >= 1uL, "alice read bob's iPhone over GATT: ${alice.counters()}")
    val state = alice.state()
    assertTrue(state is EngineState.Running && state.mode == ScanModeKind.QA, "$state")
    assertTrue(listener.states.any { it is EngineState.Running })
    assertEquals(20, alice.currentGattValue()!!.size)

    val before = alice.currentGattValue()!!.toList()
    assertFailsWith<OpenZoneException.ConsentRequired> { alice.releaseKeys(false, null) }
    val keys = alice.releaseKeys(true, null)
    assertEquals(1, keys.size)
    assertNotEquals(before, alice.currentGattValue()!!.toList())
    val zip = buildSignedExport(keys, signing.privatePem, "310", "v1")
    clock.offsetMs += 3 * 3600 * 1000L
    // Two exports processed concurrently from coroutines: the core runs them off this thread.
    val other = buildSignedExport(listOf(), signing.privatePem, "310", "v1")
    val (summary, empty) = runBlocking {
        listOf(async { bob.processExport(zip) }, async { bob.processExport(other) }).awaitAll()
    }
    assertEquals(1uL, summary.keysMatched)
    assertEquals(0uL, empty.keysMatched)
    val today = Instant.ofEpochMilli(clock.nowMs().toLong()).atZone(ZoneOffset.UTC).toLocalDate().toString()
    assertEquals(listOf(today), summary.days.map { it.date })
    assertTrue(summary.days[0].atRisk, "${summary.days[0]}")
    assertEquals(listOf(today), bob.exposureDays().map { it.date })
    assertEquals(listOf(today), summary.newlyAtRisk)
    assertTrue(runBlocking { bob.processExport(zip) }.alreadyProcessed)
    // The notification policy is the core's: one call for the day, however many exports add to it.
    assertEquals(listOf(today), bobListener.daysAtRisk.toList())
    assertEquals(listOf(), alice.exposureDays())
    alice.stop()
    bob.stop()
}

fun callbacksComeFromTheCoresThreads() {
    val (dir, air, radio) = loneRadio(3uL)
    val listener = Recorder()
    // Background mode: the first 4-second scan window ends on the core's engine task.
    val phone = OpenZonePhone(settings(File(dir, "e")), radio.platform(), listener, null)
    air.connect(radio, phone)
    phone.start()
    val deadline = System.currentTimeMillis() + 8_000
    val caller = Thread.currentThread().name
    // JNA names the native threads it attaches "Thread-N".
    while (System.currentTimeMillis() < deadline && listener.threads.none { it != caller }) {
        Thread.sleep(50)
    }
    assertTrue(listener.threads.any { it != caller }, "callback threads: ${listener.threads.toSet()}")
    phone.stop()
}

fun badInputsAreTypedErrors() {
    val (dir, _, radio) = loneRadio()
    val short = assertFailsWith<OpenZoneException.InvalidInput> {
        OpenZonePhone(settings(File(dir, "a"), key = ByteArray(5)), radio.platform(), null, null)
    }
    assertTrue(short.message!!.contains("32 raw bytes"), short.message)
    val phone = OpenZonePhone(settings(File(dir, "b")), radio.platform(), null, null)
    assertFailsWith<OpenZoneException.UntrustedData> { runBlocking { phone.processExport(byteArrayOf(1, 2, 3)) } }
    val stranger = generateSigningKey()
    val unknown = buildSignedExport(listOf(), stranger.privatePem, "999", "v1")
    val err = assertFailsWith<OpenZoneException.UntrustedData> { runBlocking { phone.processExport(unknown) } }
    assertTrue(err.message!!.contains("signature"), err.message)
    assertFailsWith<OpenZoneException.InvalidInput> { phone.releaseKeys(true, "yesterday") }
    phone.stop()
}

fun aWrongDataKeyIsRefused() {
    val (dir, _, radio) = loneRadio()
    val phone = OpenZonePhone(settings(File(dir, "c")), radio.platform(), null, null)
    phone.stop()
    phone.destroy()
    assertFailsWith<OpenZoneException.WrongDataKey> {
        OpenZonePhone(settings(File(dir, "c"), key = ByteArray(32) { 0x22 }), radio.platform(), null, null)
    }
}

fun aRefusingRadioIsReported() {
    val dir = tempDir()
    val radio = object : BlePlatform {
        override fun startAdvertising(plan: AdvertisementPlan) {
            throw RadioException.Refused("advertising is not supported on this phone")
        }
        override fun stopAdvertising() {}
        override fun startScanning(filter: ScanFilterSpec) {}
        override fun stopScanning() {}
        override fun readGatt(peer: String) {}
    }
    val phone = OpenZonePhone(settings(File(dir, "d")), radio, null, null)
    phone.start()
    val deadline = System.currentTimeMillis() + 5_000
    while (System.currentTimeMillis() < deadline && phone.state() !is EngineState.Failing) Thread.sleep(20)
    val state = phone.state()
    assertTrue(state is EngineState.Failing && state.message.contains("not supported"), "$state")
    phone.setBluetoothEnabled(false)
    assertEquals(EngineState.BluetoothOff, phone.state())
    phone.stop()
}

fun checkInOutAndAPresenceWarning() {
    val (dir, _, radio) = loneRadio()
    val signing = generateSigningKey()
    val listener = Recorder()
    val phone = OpenZonePhone(
        settings(File(dir, "e"), exportKeys = listOf(ExportPublicKey("310", "v1", signing.publicPem))),
        radio.platform(), listener, null,
    )
    val now = (System.currentTimeMillis() / 1000).toULong()
    val link = makeClassroomLink("Lớp 9A", now)
    val entry = phone.checkInLink(link, now - 1800uL, null)
    assertEquals("Lớp 9A", entry.description)
    assertTrue(entry.active)
    // Scanned again during the stay: the same stay, extended.
    val again = phone.checkInLink(link, null, 60u)
    assertEquals(entry.id, again.id)
    assertEquals(now + 3600uL, again.departure)
    for (bad in listOf("", "https://zalo.me/g/x", "openzone://checkin?v=2#CAE", link.dropLast(10))) {
        assertFailsWith<OpenZoneException.InvalidInput>(bad) { phone.checkInLink(bad, null, null) }
    }
    assertFailsWith<OpenZoneException.InvalidInput> { phone.checkInLink(link, now + 3600uL, null) }
    assertEquals(listOf(entry.id), phone.checkOut(null, null).map { it.id })
    // Yesterday 10:00 to 10:45 UTC, away from midnight; a case was there from 10:05.
    val lesson = now - now % 86_400uL - 86_400uL + 36_000uL
    phone.editCheckIn(entry.id, lesson, lesson + 2_700uL)
    val pkg = buildWarningPackage(link, lesson + 300uL, lesson + 3_600uL, signing.privatePem, "310", "v1")
    assertEquals(listOf("Lớp 9A"), phone.processWarningPackage(pkg).map { it.description })
    assertEquals(listOf(), phone.processWarningPackage(pkg))
    assertEquals(listOf(entry.id), listener.presenceWarnings.map { it.checkInId })
    assertFailsWith<OpenZoneException.UntrustedData> { phone.processWarningPackage(byteArrayOf(1, 2)) }
    phone.stop()
}

fun theConstantsComeFromTheCore() {
    val c = protocolConstants()
    assertEquals(14u, c.retentionDays)
    assertEquals(8u, c.codeDigits)
    assertEquals(86_400u, c.enIntervalSecs * c.enIntervalsPerDay)
}

// A gate poster that keeps a visitor log (made with `openzone venue create --visitor-log`).
const val GATE = "openzone://checkin?v=1#CAESJggBEhBD4buVbmcgdHLGsOG7nW5nGhBD4buVbmcgdHLGsOG7nW5nGnYIARJggwLMzE153tQw" +
    "AOf2MZoUXXfzWTdlSpfS99iZffmcmxOG9njSK4RTimFOFwDh6t0Tyw8XR01ugDYjtuKwjjuK49Oh83FWct6XpefPi9Skjxvvz53i" +
    "9gaMmUEc96pbtoaAGhCouzKQphm2sGSzQehrluNpIisIARAHGC3CPiIKIORWSkq_PllCnunv5YunRH68wkI7RNZ3SqQyIeGMiy8-"

fun aFamilyDeclaresAndSeesWhatARegistrationWouldSend() {
    val (dir, _, radio) = loneRadio()
    val phone = OpenZonePhone(settings(File(dir, "family")), radio.platform(), null, null)
    assertEquals("0912345678", phone.setPhoneNumber("0912 345 678"))
    phone.addProfile("Nguyễn Thị Lan", null, 1985)
    phone.addProfile("Trần Minh An", "3B", 2016)
    phone.addProfile("Trần Bảo Ngọc", "5A", null)
    assertEquals(3, phone.profiles().size)
    assertTrue(phone.declarationSchemaJson().contains("\"vn-moh-2021\""))
    assertTrue(phone.declarationMissingToday("Trần Minh An"))
    assertEquals("clear", phone.declareAllClear("Nguyễn Thị Lan").result)
    val symptoms = listOf("fever", "cough", "short_breath", "sore_throat", "nausea", "diarrhoea", "skin_bleeding",
        "rash", "taste_smell", "close_contact", "outbreak_area", "travel")
    val answers = symptoms.joinToString(",", "{", "}") { "\"$it\": ${it == "cough"}" }
    val declared = phone.declare("Trần Minh An", answers)
    assertEquals("symptoms", declared.result)
    assertEquals(listOf("cough"), declared.reasons)
    assertFalse(phone.declarationMissingToday("Trần Minh An"))
    val wrong = assertFailsWith<OpenZoneException.InvalidInput> {
        phone.declare("Trần Bảo Ngọc", "{\"temperature\": 50}")
    }
    assertTrue(wrong.message!!.contains("temperature"), wrong.message)
    val entries = phone.visitorRegistration(GATE, listOf("Nguyễn Thị Lan", "Trần Minh An", "Trần Bảo Ngọc"))
    assertEquals(listOf("clear", "symptoms", "none"), entries.map { it.declaration })
    assertTrue(entries.all { it.phone == "0912345678" })
    assertFailsWith<OpenZoneException.ConsentRequired> {
        runBlocking { phone.registerVisit(GATE, listOf("Trần Minh An"), false) }
    }
    assertFailsWith<OpenZoneException.InvalidInput> { phone.visitorRegistration(GATE, listOf("Nobody")) }
    phone.removeProfile("Trần Bảo Ngọc")
    assertEquals(2, phone.profiles().size)
    phone.stop()
}

fun main() {
    val tests = listOf(
        "two phones exchange and the exposure is found" to ::twoPhonesExchangeAndTheExposureIsFound,
        "callbacks come from the core's threads" to ::callbacksComeFromTheCoresThreads,
        "bad inputs are typed errors" to ::badInputsAreTypedErrors,
        "a wrong data key is refused" to ::aWrongDataKeyIsRefused,
        "a refusing radio is reported" to ::aRefusingRadioIsReported,
        "the constants come from the core" to ::theConstantsComeFromTheCore,
        "a family declares and sees what a registration would send" to ::aFamilyDeclaresAndSeesWhatARegistrationWouldSend,
        "check in, out and a presence warning" to ::checkInOutAndAPresenceWarning,
    )
    var failed = 0
    for ((name, test) in tests) {
        try {
            test()
            println("ok     $name")
        } catch (e: Throwable) {
            failed++
            println("FAILED $name: $e")
            e.printStackTrace()
        }
    }
    println("${tests.size - failed} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
