// The phone through the generated Swift bindings on a Mac: two phones on the simulated air exchange
// payloads, one releases its keys after consenting, a signed export is built, the other finds the day and
// its listener hears of it once; the protocol constants come from the core; errors are typed. The same flow
// as the Kotlin and Python suites, which run on Linux in CI.
import Foundation
import OpenZoneCore
import XCTest

final class ShiftedClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var offsetMs: Int64 = 0
    private func realMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    /// From now on the clock reads `date`, and runs on from there.
    func set(to date: Date) { lock.lock(); offsetMs = Int64(date.timeIntervalSince1970 * 1000) - realMs(); lock.unlock() }
    func shift(byMs ms: Int64) { lock.lock(); offsetMs += ms; lock.unlock() }
    func nowMs() -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return UInt64(realMs() + offsetMs)
    }
}

final class Recorder: PhoneListener, @unchecked Sendable {
    private let lock = NSLock()
    private var recordedStates: [EngineState] = []
    private var recordedDays: [String] = []
    var states: [EngineState] { lock.lock(); defer { lock.unlock() }; return recordedStates }
    var daysAtRisk: [String] { lock.lock(); defer { lock.unlock() }; return recordedDays }
    func stateChanged(state: EngineState) { lock.lock(); recordedStates.append(state); lock.unlock() }
    func sightingsRecorded(today: UInt64) {}
    func dayAtRisk(day: DayExposure) { lock.lock(); recordedDays.append(day.date); lock.unlock() }
    func presenceWarning(warning: PresenceWarningInfo) {}
    func syncProgress(done: UInt32, total: UInt32) {}
    func error(message: String) {}
}

final class PhoneTests: XCTestCase {
    private func settings(_ dir: URL, key: Data = Data(repeating: 0x11, count: 32), exportKeys: [ExportPublicKey] = []) -> PhoneSettings {
        PhoneSettings(
            dataDir: dir.path, dataKey: key, scheme: .enV1,
            device: DeviceModel(manufacturer: "Apple", device: "iPhone14,5", model: "iPhone 13"),
            riskConfigJson: nil, keyServerUrl: nil, exportKeys: exportKeys, uploadSealingKeys: [])
    }

    private func tempDir() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func testTwoPhonesExchangeAndTheExposureIsFound() async throws {
        let dir = tempDir()
        let signing = try generateSigningKey()
        // Both phones' clock reads 10:00 UTC today at first, so that the encounters stay on one day.
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        let clock = ShiftedClock()
        clock.set(to: try XCTUnwrap(utc.date(bySettingHour: 10, minute: 0, second: 0, of: Date())))
        let air = SimulatedAir(seed: 7)
        let aliceRadio = air.addPhone(x: 0, y: 0, iosBackground: false)
        let bobRadio = air.addPhone(x: 1, y: 0, iosBackground: true)
        let listener = Recorder()
        let bobListener = Recorder()
        let alice = try OpenZonePhone(settings: settings(dir.appendingPathComponent("alice")), platform: aliceRadio.platform(), listener: listener, clock: clock)
        let bob = try OpenZonePhone(
            settings: settings(dir.appendingPathComponent("bob"), exportKeys: [ExportPublicKey(keyId: "310", version: "v1", pem: signing.publicPem)]),
            platform: bobRadio.platform(), listener: bobListener, clock: clock)
        air.connect(radio: aliceRadio, phone: alice)
        air.connect(radio: bobRadio, phone: bob)
        for phone in [alice, bob] { phone.setQaMode(on: true); phone.start() }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            air.step(rounds: 1)
            try await Task.sleep(nanoseconds: 20_000_000)
            if alice.counters().gattReadsOk >= 1 && bob.counters().sightings >= 20 { break }
        }
        XCTAssertGreaterThanOrEqual(bob.counters().sightings, 20)
        XCTAssertGreaterThanOrEqual(alice.counters().gattReadsOk, 1)
        // Five more scan windows 5 minutes apart, each credited with those minutes: a day at risk.
        for _ in 0..<5 {
            clock.shift(byMs: 5 * 60 * 1000)
            let before = bob.counters().sightings
            let windowEnds = Date().addingTimeInterval(20)
            while bob.counters().sightings == before && Date() < windowEnds {
                air.step(rounds: 1)
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            XCTAssertGreaterThan(bob.counters().sightings, before)
        }
        XCTAssertFalse(listener.states.isEmpty)
        XCTAssertThrowsError(try alice.releaseKeys(consent: false, onsetDate: nil)) { error in
            guard case OpenZoneError.ConsentRequired = error else { return XCTFail("\(error)") }
        }
        let before = alice.currentGattValue()
        let keys = try alice.releaseKeys(consent: true, onsetDate: nil)
        XCTAssertEqual(keys.count, 1)
        XCTAssertNotEqual(before, alice.currentGattValue())
        let zip = try buildSignedExport(keys: keys, privatePem: signing.privatePem, keyId: "310", version: "v1")
        clock.shift(byMs: 3 * 3600 * 1000)
        let summary = try await bob.processExport(zip: zip)
        XCTAssertEqual(summary.keysMatched, 1)
        XCTAssertEqual(summary.days.count, 1)
        XCTAssertTrue(summary.days.allSatisfy(\.atRisk))
        XCTAssertEqual(summary.newlyAtRisk, summary.days.map(\.date))
        let again = try await bob.processExport(zip: zip)
        XCTAssertTrue(again.alreadyProcessed)
        // The notification policy is the core's: the listener hears of the day once.
        XCTAssertEqual(bobListener.daysAtRisk, summary.newlyAtRisk)
        XCTAssertTrue(try alice.exposureDays().isEmpty)
        alice.stop(); bob.stop()
    }

    func testTheConstantsComeFromTheCore() {
        let constants = protocolConstants()
        XCTAssertEqual(constants.enIntervalSecs * constants.enIntervalsPerDay, 86_400)
        XCTAssertGreaterThan(constants.retentionDays, constants.infectiousDaysBeforeOnset)
        XCTAssertGreaterThan(constants.codeDigits, 0)
    }

    func testBadInputsAreTypedErrors() async throws {
        let dir = tempDir()
        let radio = SimulatedAir(seed: 1).addPhone(x: 0, y: 0, iosBackground: false)
        XCTAssertThrowsError(try OpenZonePhone(settings: settings(dir.appendingPathComponent("a"), key: Data(count: 5)), platform: radio.platform(), listener: nil, clock: nil)) { error in
            guard case OpenZoneError.InvalidInput = error else { return XCTFail("\(error)") }
        }
        let phone = try OpenZonePhone(settings: settings(dir.appendingPathComponent("b")), platform: radio.platform(), listener: nil, clock: nil)
        do {
            _ = try await phone.processExport(zip: Data([1, 2, 3]))
            XCTFail("a garbage export was accepted")
        } catch OpenZoneError.UntrustedData {
        }
        XCTAssertThrowsError(try phone.deleteAllData(newDataKey: Data(count: 3))) { error in
            guard case OpenZoneError.InvalidInput = error else { return XCTFail("\(error)") }
        }
        try phone.deleteAllData(newDataKey: Data(repeating: 0x22, count: 32))
        phone.stop()
    }
}
