// The central's flows over fake CoreBluetooth objects: discoveries into the engine, the engine's GATT read
// through connect → discover → read → gattReadDone, failures and timeouts, the scan's windows, and the
// iPhone-to-iPhone keep-alive.

import CoreBluetooth
import OpenZoneCore
import XCTest
@testable import OpenZone

final class CentralControllerTests: XCTestCase {
    private var phone: RecordingRadioInput!
    private var manager: FakeCentralManager!
    private var scheduler: ManualScheduler!
    private var central: CentralController!
    private let policy = KeepAlivePolicy()
    private let services = [CBUUID(string: "4E56"), CBUUID(string: OpenZoneUUIDs.gattService)]

    override func setUp() {
        super.setUp()
        phone = RecordingRadioInput()
        manager = FakeCentralManager()
        scheduler = ManualScheduler()
        central = CentralController(scheduler: scheduler, status: RadioStatus(), policy: policy)
        central.phone = phone
        central.activate(with: manager)
    }

    /// The engine asks to read `link`, a phone CoreBluetooth knows from an earlier session.
    @discardableResult
    private func readKnownPhone(_ link: FakeLink = FakeLink()) -> FakeLink {
        manager.known[link.identifier] = link
        central.read(peer: link.identifier.uuidString)
        return link
    }

    /// Exactly one read was reported to the engine, and it failed.
    private func assertOneFailedRead(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(phone.readsDone.count, 1, file: file, line: line)
        XCTAssertNil(phone.readsDone.first?.value, file: file, line: line)
    }

    // MARK: Discoveries

    func testADiscoveryGoesToTheEngineUnderThePeripheralsIdentifier() {
        let link = FakeLink()
        central.didDiscover(
            link, advertisementData: [CBAdvertisementDataServiceUUIDsKey: [CBUUID(string: OpenZoneUUIDs.gattService)]],
            rssi: NSNumber(value: -58))
        XCTAssertEqual(phone.seen, [RecordingRadioInput.Seen(
            peer: link.identifier.uuidString,
            fields: AdvertisementFields(serviceUuids: [OpenZoneUUIDs.gattService], serviceData: [:],
                                        manufacturerData: [:], rssi: -58, txPower: nil))])
    }

    func testADiscoveryIsListedForTheQAScreen() {
        let link = FakeLink()
        central.didDiscover(
            link, advertisementData: [CBAdvertisementDataServiceDataKey: [CBUUID(string: "4E56"): payload(2)]],
            rssi: NSNumber(value: -66))
        XCTAssertEqual(central.live.snapshot().map(\.peer), [link.identifier])
        XCTAssertEqual(central.live.snapshot().first?.kind, .en)
    }

    func testADiscoveryWithoutRssiStillReachesThePhone() {
        // The core's rule for RSSI 127 ("not available"): presence without a signal strength.
        let unknown = protocolConstants().rssiUnknown
        central.didDiscover(FakeLink(), advertisementData: [:], rssi: NSNumber(value: Int(unknown)))
        XCTAssertEqual(phone.seen.map(\.fields.rssi), [unknown])
    }

    // MARK: The engine's reads

    func testAReadConnectsDiscoversReadsReportsAndDisconnects() {
        let link = FakeLink(notifies: false)
        central.didDiscover(link, advertisementData: [:], rssi: NSNumber(value: -60))
        central.read(peer: link.identifier.uuidString)
        XCTAssertEqual(manager.calls, [.connect(link.identifier)])
        XCTAssertTrue(phone.readsDone.isEmpty, "nothing is reported before CoreBluetooth answers")

        link.state = .connected
        central.didConnect(link)
        XCTAssertEqual(link.calls, [.discoverServices])
        central.didDiscoverServices(link, error: nil)
        XCTAssertEqual(link.calls.last, .discoverCharacteristics)
        central.didDiscoverCharacteristics(link, service: link.service, error: nil)
        XCTAssertEqual(link.calls.last, .read)

        link.characteristic.value = payload(9)
        central.didUpdateValue(link, characteristic: link.characteristic, error: nil)
        XCTAssertEqual(phone.readsDone, [RecordingRadioInput.ReadDone(
            peer: link.identifier.uuidString, value: payload(9), error: nil)])
        XCTAssertEqual(manager.calls.last, .cancel(link.identifier), "a phone that is not kept is let go")
        XCTAssertEqual(scheduler.count(delay: policy.connectTimeoutSeconds), 0, "the timeout was cancelled")
    }

    func testAReadOfAPhoneNotSeenInThisSessionRetrievesItFromCoreBluetooth() {
        let link = readKnownPhone()
        XCTAssertEqual(manager.calls, [.connect(link.identifier)])
    }

    func testAReadOfAnUnknownPhoneFailsAtOnce() {
        let id = UUID()
        central.read(peer: id.uuidString)
        central.read(peer: "not-a-uuid")
        XCTAssertEqual(phone.readsDone.map(\.peer), [id.uuidString, "not-a-uuid"])
        XCTAssertTrue(phone.readsDone.allSatisfy { $0.value == nil && $0.error != nil })
        XCTAssertTrue(manager.calls.isEmpty)
    }

    func testAReadWithBluetoothOffFails() {
        manager.state = .poweredOff
        readKnownPhone()
        assertOneFailedRead()
    }

    func testAFailedConnectionFailsTheRead() {
        let link = readKnownPhone()
        central.didFailToConnect(link, error: nil)
        assertOneFailedRead()
        XCTAssertNotNil(phone.readsDone[0].error)
    }

    func testAPhoneWithoutOurServiceFailsTheRead() {
        let link = FakeLink()
        link.services = []
        readKnownPhone(link)
        link.state = .connected
        central.didConnect(link)
        central.didDiscoverServices(link, error: nil)
        assertOneFailedRead()
        XCTAssertEqual(manager.calls.last, .cancel(link.identifier))
    }

    func testAConnectionThatNeverCompletesIsAbandoned() {
        let link = readKnownPhone()
        scheduler.fire(delay: policy.connectTimeoutSeconds)
        XCTAssertEqual(phone.readsDone.count, 1)
        XCTAssertEqual(phone.readsDone[0].error, "the read timed out")
        XCTAssertEqual(manager.calls.last, .cancel(link.identifier))
        // A late answer after the timeout is not reported twice.
        link.characteristic.value = payload(1)
        central.didUpdateValue(link, characteristic: link.characteristic, error: nil)
        XCTAssertEqual(phone.readsDone.count, 1)
    }

    func testADisconnectionDuringAReadFailsIt() {
        let link = readKnownPhone()
        link.state = .connected
        central.didConnect(link)
        link.state = .disconnected
        central.didDisconnect(link, error: nil)
        assertOneFailedRead()
    }

    func testBluetoothTurningOffFailsReadsAndTellsTheEngine() {
        readKnownPhone()
        manager.state = .poweredOff
        central.didUpdateState(.poweredOff, authorization: .allowedAlways)
        XCTAssertEqual(phone.readsDone.count, 1)
        XCTAssertTrue(phone.events.contains(.bluetooth(on: false)))
    }

    // MARK: Scanning

    func testEachWindowRestartsTheScanSoCoalescedPeersAreReportedAgain() {
        central.startScanning(services: services)
        XCTAssertEqual(manager.calls, [.stopScan, .scan(["4E56", OpenZoneUUIDs.gattService], duplicates: false)])
    }

    func testInTheBackgroundTheSystemScanOutlivesTheWindow() {
        central.setForeground(false)
        central.startScanning(services: services)
        manager.clearCalls()
        central.stopScanning()
        XCTAssertTrue(manager.calls.isEmpty, "the scan is what wakes a suspended app")
        XCTAssertTrue(central.diagnostics().scanning)
    }

    func testInTheForegroundTheWindowEndsTheScan() {
        central.setForeground(true)
        central.startScanning(services: services)
        XCTAssertEqual(manager.calls.last, .scan(["4E56", OpenZoneUUIDs.gattService], duplicates: true))
        central.stopScanning()
        XCTAssertEqual(manager.calls.last, .stopScan)
        XCTAssertFalse(central.diagnostics().scanning)
    }

    func testLeavingTheScreenBetweenWindowsStartsTheScanAgain() {
        central.setForeground(true)
        central.startScanning(services: services)
        central.stopScanning()
        manager.clearCalls()
        central.setForeground(false)
        XCTAssertEqual(manager.calls, [.stopScan, .scan(["4E56", OpenZoneUUIDs.gattService], duplicates: false)])
    }

    func testTheScanStartsWhenBluetoothComesOn() {
        manager.state = .poweredOff
        central.startScanning(services: services)
        XCTAssertTrue(manager.calls.isEmpty)
        manager.state = .poweredOn
        central.didUpdateState(.poweredOn, authorization: .allowedAlways)
        XCTAssertEqual(manager.calls.last, .scan(["4E56", OpenZoneUUIDs.gattService], duplicates: false))
        XCTAssertEqual(phone.events, [.permission(.scan, granted: true), .permission(.connect, granted: true),
                                       .bluetooth(on: true)])
    }

    // MARK: Keep-alive

    /// The engine reads `link`, just discovered: it connects and finds our service and characteristic.
    private func readUpToTheCharacteristic(_ link: FakeLink) {
        central.didDiscover(link, advertisementData: [:], rssi: NSNumber(value: -60))
        central.read(peer: link.identifier.uuidString)
        link.state = .connected
        central.didConnect(link)
        central.didDiscoverServices(link, error: nil)
        central.didDiscoverCharacteristics(link, service: link.service, error: nil)
    }

    /// Reads an iPhone (whose characteristic notifies) for the engine, which keeps it.
    private func keptIPhone() -> FakeLink {
        let link = FakeLink(notifies: true)
        readUpToTheCharacteristic(link)
        XCTAssertTrue(link.calls.contains(.notify(true)), "an OpenZone iPhone is subscribed to")
        link.characteristic.value = payload(1)
        central.didUpdateValue(link, characteristic: link.characteristic, error: nil)
        central.didUpdateNotificationState(link, notifying: true, error: nil)
        return link
    }

    func testAnIPhoneReadForTheEngineIsKeptConnected() {
        let link = keptIPhone()
        XCTAssertEqual(phone.readsDone.map(\.value), [payload(1)])
        XCTAssertFalse(manager.calls.contains(.cancel(link.identifier)))
        XCTAssertEqual(central.kept, [link.identifier])
    }

    func testTheHeartbeatReadsAKeptPeerAgainAndAgain() {
        let link = keptIPhone()
        link.clearCalls()
        XCTAssertEqual(scheduler.count(delay: policy.heartbeatSeconds), 1)
        scheduler.fire(delay: policy.heartbeatSeconds)
        XCTAssertEqual(link.calls, [.read], "the read wakes the peer's app")
        // Its answer (which wakes this app) schedules the next one.
        central.didUpdateValue(link, characteristic: link.characteristic, error: nil)
        XCTAssertEqual(scheduler.count(delay: policy.heartbeatSeconds), 1)
        XCTAssertEqual(phone.readsDone.count, 1, "keep-alive answers are not the phone's reads")
    }

    func testKeptPeersAreAnnouncedAtEachWindowWithTheConnectionsRssi() {
        let link = keptIPhone()
        link.clearCalls()
        central.startScanning(services: services)
        XCTAssertEqual(link.calls, [.readRSSI])
        central.didReadRSSI(link, rssi: NSNumber(value: -55), error: nil)
        XCTAssertEqual(phone.seen.last, RecordingRadioInput.Seen(
            peer: link.identifier.uuidString, fields: AdvertisementMapping.keptPeer(rssi: NSNumber(value: -55))))
        // An RSSI nobody asked for is not a sighting.
        let count = phone.seen.count
        central.didReadRSSI(link, rssi: NSNumber(value: -50), error: nil)
        XCTAssertEqual(phone.seen.count, count)
    }

    func testAKeptPeerThatRotatedIsAnnouncedUnderANewName() {
        let link = keptIPhone()
        link.clearCalls()
        link.characteristic.value = payload(2)
        central.didUpdateValue(link, characteristic: link.characteristic, error: nil)
        XCTAssertEqual(link.calls, [.readRSSI])
        central.didReadRSSI(link, rssi: NSNumber(value: -57), error: nil)
        XCTAssertEqual(phone.seen.last?.peer, "\(link.identifier.uuidString)#1")

        // The engine reads the new name over the kept connection, without connecting again.
        manager.clearCalls()
        link.clearCalls()
        central.read(peer: "\(link.identifier.uuidString)#1")
        XCTAssertTrue(manager.calls.isEmpty)
        XCTAssertEqual(link.calls, [.read])
        central.didUpdateValue(link, characteristic: link.characteristic, error: nil)
        XCTAssertEqual(phone.readsDone.last, RecordingRadioInput.ReadDone(
            peer: "\(link.identifier.uuidString)#1", value: payload(2), error: nil))
    }

    func testAtMostMaxKeptPeersAreKept() {
        let small = KeepAlivePolicy(
            heartbeatSeconds: policy.heartbeatSeconds, maxKeptPeers: 1, connectTimeoutSeconds: policy.connectTimeoutSeconds)
        central = CentralController(scheduler: scheduler, status: RadioStatus(), policy: small)
        central.phone = phone
        central.activate(with: manager)
        let first = keptIPhone()
        let second = FakeLink(notifies: true)
        readUpToTheCharacteristic(second)
        XCTAssertFalse(second.calls.contains(.notify(true)))
        second.characteristic.value = payload(5)
        central.didUpdateValue(second, characteristic: second.characteristic, error: nil)
        XCTAssertEqual(manager.calls.last, .cancel(second.identifier))
        XCTAssertEqual(central.kept, [first.identifier])
    }

    func testAPhoneThatSubscribedToUsIsConnectedBackAndAnnounced() {
        let link = FakeLink(notifies: true)
        manager.known[link.identifier] = link
        central.adopt(link.identifier)
        XCTAssertEqual(manager.calls, [.connect(link.identifier)])
        link.state = .connected
        central.didConnect(link)
        central.didDiscoverServices(link, error: nil)
        central.didDiscoverCharacteristics(link, service: link.service, error: nil)
        central.didUpdateNotificationState(link, notifying: true, error: nil)
        XCTAssertEqual(link.calls.last, .readRSSI)
        central.didReadRSSI(link, rssi: NSNumber(value: -62), error: nil)
        XCTAssertEqual(phone.seen.last?.peer, link.identifier.uuidString)
        XCTAssertEqual(phone.seen.last?.fields.serviceUuids, [OpenZoneUUIDs.gattService])
    }

    func testAnAdoptionThatNeverConnectsIsCancelled() {
        let link = FakeLink(notifies: true)
        manager.known[link.identifier] = link
        central.adopt(link.identifier)
        scheduler.fire(delay: policy.connectTimeoutSeconds)
        XCTAssertEqual(manager.calls.last, .cancel(link.identifier))
    }

    func testAKeptPeerThatGoesAwayIsForgotten() {
        let link = keptIPhone()
        link.state = .disconnected
        central.didDisconnect(link, error: nil)
        XCTAssertTrue(central.kept.isEmpty)
        XCTAssertEqual(scheduler.count(delay: policy.heartbeatSeconds), 0)
    }

    func testTurningProtectionOffStopsTheScanAndLetsKeptPeersGo() {
        let link = keptIPhone()
        central.setForeground(false)
        central.startScanning(services: services)
        manager.clearCalls()
        central.setPaused(true)
        XCTAssertTrue(manager.calls.contains(.stopScan))
        XCTAssertTrue(manager.calls.contains(.cancel(link.identifier)))
        XCTAssertTrue(central.kept.isEmpty)
        XCTAssertTrue(central.live.snapshot().isEmpty)
        manager.clearCalls()
        central.setForeground(false)
        let other = FakeLink()
        manager.known[other.identifier] = other
        central.adopt(other.identifier)
        XCTAssertTrue(manager.calls.isEmpty, "nothing runs while protection is off, even in the background")
        XCTAssertFalse(central.diagnostics().scanning)

        central.setPaused(false)
        central.startScanning(services: services)
        XCTAssertEqual(manager.calls.last, .scan(["4E56", OpenZoneUUIDs.gattService], duplicates: false))
    }

    func testRestoredConnectionsAreSubscribedAgainOnceBluetoothIsOn() {
        let link = FakeLink(notifies: true)
        link.state = .connected
        central.willRestore(peripherals: [link], scanServices: services)
        XCTAssertTrue(link.calls.isEmpty, "nothing is sent before the manager is powered on")
        central.didUpdateState(.poweredOn, authorization: .allowedAlways)
        XCTAssertEqual(link.calls, [.discoverServices])
        XCTAssertEqual(manager.calls.last, .scan(["4E56", OpenZoneUUIDs.gattService], duplicates: false),
                       "the restored scan runs again")
    }
}
