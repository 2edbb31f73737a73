// The shell's mapping against the real core (the XCFramework, on the simulator): what CoreBluetooth hands
// over, reshaped by AdvertisementMapping, is what the core's decoder records or reads over GATT; and the
// UUIDs the shell scans and reads with are the ones the core puts in its plans and filters.

import CoreBluetooth
import OpenZoneCore
import XCTest
@testable import OpenZone

/// A BlePlatform recording the core's calls (they come from the core's threads).
private final class RecordingPlatform: BlePlatform, @unchecked Sendable {
    private let lock = NSLock()
    private var plans: [AdvertisementPlan] = []
    private var filters: [ScanFilterSpec] = []
    private var reads: [String] = []
    var onRead: ((String) -> Void)?

    func startAdvertising(plan: AdvertisementPlan) throws {
        lock.lock(); plans.append(plan); lock.unlock()
    }

    func stopAdvertising() {}

    func startScanning(filter: ScanFilterSpec) throws {
        lock.lock(); filters.append(filter); lock.unlock()
    }

    func stopScanning() {}

    func readGatt(peer: String) throws {
        lock.lock(); reads.append(peer); lock.unlock()
        onRead?(peer)
    }

    var lastPlan: AdvertisementPlan? { lock.lock(); defer { lock.unlock() }; return plans.last }
    var lastFilter: ScanFilterSpec? { lock.lock(); defer { lock.unlock() }; return filters.last }
}

final class PhoneIntegrationTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
        try super.tearDownWithError()
    }

    private func makePhone(_ platform: RecordingPlatform) throws -> OpenZonePhone {
        let settings = PhoneSettings(
            dataDir: directory.path, dataKey: Data(repeating: 0x42, count: 32), scheme: .enV1,
            device: DeviceModel(manufacturer: "Apple", device: "iPhone14,5", model: "iPhone14,5"),
            riskConfigJson: nil, keyServerUrl: nil, exportKeys: [], uploadSealingKeys: [])
        return try OpenZonePhone(settings: settings, platform: platform, listener: nil, clock: nil)
    }

    func testThePlansAndFiltersCarryTheUUIDsTheShellUses() throws {
        let platform = RecordingPlatform()
        let phone = try makePhone(platform)
        phone.start()
        defer { phone.stop() }
        let plan = try XCTUnwrap(platform.lastPlan, "start advertises at once")
        XCTAssertEqual(plan.gattServiceUuid.uppercased(), OpenZoneUUIDs.gattService)
        XCTAssertEqual(plan.gattCharacteristicUuid.uppercased(), OpenZoneUUIDs.gattCharacteristic)
        XCTAssertEqual(plan.gattValue.count, 20, "RPI || AEM")
        XCTAssertEqual(phone.currentGattValue(), plan.gattValue)

        let deadline = Date().addingTimeInterval(5)
        while platform.lastFilter == nil && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        let filter = try XCTUnwrap(platform.lastFilter, "the phone opens a scan window")
        XCTAssertEqual(AdvertisementMapping.scanServices(filter).map(\.uuidString), ["4E56", OpenZoneUUIDs.gattService])
    }

    func testAnAndroidAdvertisementMappedFromCoreBluetoothIsRecorded() throws {
        let platform = RecordingPlatform()
        let phone = try makePhone(platform)
        phone.start()
        defer { phone.stop() }
        let service16 = CBUUID(string: "4E56")
        let fields = AdvertisementMapping.fields(
            advertisementData: [
                CBAdvertisementDataServiceUUIDsKey: [service16],
                CBAdvertisementDataServiceDataKey: [service16: payload(0x5A)],
            ],
            rssi: NSNumber(value: -60))
        phone.seen(fields, peer: UUID().uuidString)
        XCTAssertEqual(phone.counters().sightings, 1)
    }

    func testAnIPhoneWithoutPayloadIsReadOverGattAndRecorded() throws {
        let platform = RecordingPlatform()
        let asked = expectation(description: "the phone asks for a GATT read")
        var askedPeer: String?
        platform.onRead = { peer in
            askedPeer = peer
            asked.fulfill()
        }
        let phone = try makePhone(platform)
        phone.start()
        defer { phone.stop() }
        let peer = UUID().uuidString
        let fields = AdvertisementMapping.fields(
            advertisementData: [CBAdvertisementDataServiceUUIDsKey: [CBUUID(string: OpenZoneUUIDs.gattService)]],
            rssi: NSNumber(value: -65))
        phone.seen(fields, peer: peer)
        XCTAssertEqual(phone.counters().sightings, 0, "nothing to record before the read")
        wait(for: [asked], timeout: 5)
        XCTAssertEqual(askedPeer, peer)

        phone.gattReadDone(peer: peer, value: payload(0x33), error: nil)
        XCTAssertEqual(phone.counters().sightings, 1)
        XCTAssertEqual(phone.counters().gattReadsOk, 1)
    }

    func testAKeptPeerAnnouncementIsReadLikeAnyIPhone() throws {
        let platform = RecordingPlatform()
        let asked = expectation(description: "the phone asks for a GATT read")
        platform.onRead = { _ in asked.fulfill() }
        let phone = try makePhone(platform)
        phone.start()
        defer { phone.stop() }
        phone.seen(AdvertisementMapping.keptPeer(rssi: NSNumber(value: -55)), peer: UUID().uuidString)
        wait(for: [asked], timeout: 5)
    }
}
