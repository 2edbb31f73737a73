// The engine through the generated Swift bindings on a Mac: two phones on the simulated air exchange
// payloads, one releases its keys after consenting, a signed export is built, the other finds the day;
// errors are typed. The same flow as the Kotlin and Python suites, which run on Linux in CI.
import Foundation
import OpenZoneCore
import XCTest

final class ShiftedClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var offset: UInt64 = 0
    func shift(byMs ms: UInt64) { lock.lock(); offset += ms; lock.unlock() }
    func nowMs() -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return UInt64(Date().timeIntervalSince1970 * 1000) + offset
    }
}

final class Recorder: EngineListener, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var states: [EngineState] = []
    func stateChanged(state: EngineState) { lock.lock(); states.append(state); lock.unlock() }
    func sightingsRecorded(today: UInt64) {}
    func error(message: String) {}
}

final class EngineTests: XCTestCase {
    private func settings(_ dir: URL, key: Data = Data(repeating: 0x11, count: 32), exportKeys: [ExportPublicKey] = []) -> EngineSettings {
        EngineSettings(
            dataDir: dir.path, dataKey: key, scheme: .enV1,
            device: DeviceModel(manufacturer: "Apple", device: "iPhone14,5", model: "iPhone 13"),
            riskConfigJson: nil, keyServerUrl: nil, exportKeys: exportKeys)
    }

    private func tempDir() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func testTwoPhonesExchangeAndTheExposureIsFound() async throws {
        let dir = tempDir()
        let signing = try generateSigningKey()
        let clock = ShiftedClock()
        let air = SimulatedAir(seed: 7)
        let alicePhone = air.addPhone(x: 0, y: 0, iosBackground: false)
        let bobPhone = air.addPhone(x: 1, y: 0, iosBackground: true)
        let listener = Recorder()
        let alice = try OpenZoneEngine(settings: settings(dir.appendingPathComponent("alice")), platform: alicePhone.platform(), listener: listener, clock: clock)
        let bob = try OpenZoneEngine(
            settings: settings(dir.appendingPathComponent("bob"), exportKeys: [ExportPublicKey(keyId: "310", version: "v1", pem: signing.publicPem)]),
            platform: bobPhone.platform(), listener: nil, clock: clock)
        air.connect(phone: alicePhone, engine: alice)
        air.connect(phone: bobPhone, engine: bob)
        for engine in [alice, bob] { engine.setQaMode(on: true); engine.start() }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            air.step(rounds: 1)
            try await Task.sleep(nanoseconds: 20_000_000)
            if alice.counters().gattReadsOk >= 1 && bob.counters().sightings >= 20 { break }
        }
        XCTAssertGreaterThanOrEqual(bob.counters().sightings, 20)
        XCTAssertGreaterThanOrEqual(alice.counters().gattReadsOk, 1)
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
        let again = try await bob.processExport(zip: zip)
        XCTAssertTrue(again.alreadyProcessed)
        XCTAssertTrue(try alice.exposureDays().isEmpty)
        alice.stop(); bob.stop()
    }

    func testBadInputsAreTypedErrors() async throws {
        let dir = tempDir()
        let phone = SimulatedAir(seed: 1).addPhone(x: 0, y: 0, iosBackground: false)
        XCTAssertThrowsError(try OpenZoneEngine(settings: settings(dir.appendingPathComponent("a"), key: Data(count: 5)), platform: phone.platform(), listener: nil, clock: nil)) { error in
            guard case OpenZoneError.InvalidInput = error else { return XCTFail("\(error)") }
        }
        let engine = try OpenZoneEngine(settings: settings(dir.appendingPathComponent("b")), platform: phone.platform(), listener: nil, clock: nil)
        do {
            _ = try await engine.processExport(zip: Data([1, 2, 3]))
            XCTFail("a garbage export was accepted")
        } catch OpenZoneError.UntrustedData {
        }
        engine.stop()
    }
}
