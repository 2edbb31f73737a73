// The peripheral over a fake peripheral manager, and IOSBlePlatform's hand-off from the engine's calls to
// the Bluetooth queue.

import CoreBluetooth
import OpenZoneCore
import XCTest
@testable import OpenZone

final class PeripheralControllerTests: XCTestCase {
    private var phone: RecordingRadioInput!
    private var manager: FakePeripheralManager!
    private var peripheral: PeripheralController!
    private let service = CBUUID(string: OpenZoneUUIDs.gattService)
    private let characteristic = CBUUID(string: OpenZoneUUIDs.gattCharacteristic)

    override func setUp() {
        super.setUp()
        phone = RecordingRadioInput()
        manager = FakePeripheralManager()
        peripheral = PeripheralController(status: RadioStatus())
        peripheral.phone = phone
        peripheral.activate(with: manager)
    }

    func testAdvertisingPublishesTheServiceOnceAndAdvertisesOnlyItsUUID() throws {
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(1))
        XCTAssertEqual(manager.added.count, 1)
        let published = try XCTUnwrap(manager.added.first)
        XCTAssertEqual(published.uuid, service)
        let gatt = try XCTUnwrap(published.characteristics?.first)
        XCTAssertEqual(gatt.uuid, characteristic)
        XCTAssertEqual(gatt.properties, [.read, .notify])
        XCTAssertNil(gatt.value, "a dynamic value: every read asks the phone")
        XCTAssertEqual(manager.advertised.count, 1)
        let advertised = try XCTUnwrap(manager.advertised.first)
        XCTAssertEqual(advertised[CBAdvertisementDataServiceUUIDsKey] as? [CBUUID], [service])
        XCTAssertNil(advertised[CBAdvertisementDataLocalNameKey], "no name: it would identify the owner")

        // A rotation stops and starts again: the service stays, advertising restarts.
        peripheral.stopAdvertising()
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(2))
        XCTAssertEqual(manager.added.count, 1)
        XCTAssertEqual(manager.stops, 1)
        XCTAssertEqual(manager.advertised.count, 2)
    }

    func testNothingGoesOnAirBeforeBluetoothIsOn() {
        manager.state = .unknown
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(1))
        XCTAssertTrue(manager.added.isEmpty)
        manager.state = .poweredOn
        peripheral.didUpdateState(.poweredOn, authorization: .allowedAlways)
        XCTAssertEqual(manager.added.count, 1)
        XCTAssertEqual(manager.advertised.count, 1)
        XCTAssertEqual(phone.events, [.permission(.advertise, granted: true), .bluetooth(on: true)])
    }

    func testAfterBluetoothWasOffTheServiceIsPublishedAgain() {
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(1))
        manager.state = .poweredOff
        peripheral.didUpdateState(.poweredOff, authorization: .allowedAlways)
        manager.state = .poweredOn
        peripheral.didUpdateState(.poweredOn, authorization: .allowedAlways)
        XCTAssertEqual(manager.added.count, 2)
        XCTAssertEqual(manager.advertised.count, 2)
    }

    func testReadsAreAnsweredWithTheEnginesCurrentValue() {
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(1))
        phone.gattValue = payload(4)
        let request = FakeReadRequest()
        peripheral.didReceiveRead(request)
        XCTAssertEqual(request.value, payload(4))
        XCTAssertEqual(manager.responses, [.success])

        let tail = FakeReadRequest(offset: 16)
        peripheral.didReceiveRead(tail)
        XCTAssertEqual(tail.value, Data([4, 4, 4, 4]))
    }

    func testReadsAreRefusedWhileTheEngineHasNothingOnAir() {
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(1))
        phone.gattValue = nil
        let request = FakeReadRequest()
        peripheral.didReceiveRead(request)
        XCTAssertNil(request.value)
        XCTAssertEqual(manager.responses, [.readNotPermitted])

        peripheral.didReceiveRead(FakeReadRequest(characteristic: "2A00"))
        XCTAssertEqual(manager.responses.last, .attributeNotFound)
    }

    func testSubscribersHearOfEachNewPayloadOnce() {
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(1))
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(1))
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(2))
        XCTAssertEqual(manager.updates, [payload(1), payload(2)])
    }

    func testANotificationThatDidNotFitIsSentWhenIOSIsReady() {
        manager.acceptsUpdates = false
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(3))
        XCTAssertTrue(manager.updates.isEmpty)
        manager.acceptsUpdates = true
        peripheral.isReadyToUpdateSubscribers()
        XCTAssertEqual(manager.updates, [payload(3)])
    }

    func testASubscriberIsHandedToTheCentralToConnectBack() {
        var adopted: [UUID] = []
        peripheral.onSubscribe = { adopted.append($0) }
        let id = UUID()
        peripheral.didSubscribe(central: id)
        XCTAssertEqual(adopted, [id])
        XCTAssertEqual(peripheral.diagnostics().subscribers, 1)
        peripheral.didUnsubscribe(central: id)
        XCTAssertEqual(peripheral.diagnostics().subscribers, 0)
    }

    func testAdvertisingFailuresShowOnTheQAScreen() {
        peripheral.startAdvertising(service: service, characteristic: characteristic, value: payload(1))
        peripheral.didStartAdvertising(error: NSError(domain: CBErrorDomain, code: CBError.Code.unknown.rawValue))
        XCTAssertFalse(peripheral.diagnostics().advertising)
        XCTAssertNotNil(peripheral.diagnostics().lastError)
    }
}

final class IOSBlePlatformTests: XCTestCase {
    private var queue: DispatchQueue!
    private var phone: RecordingRadioInput!
    private var centralManager: FakeCentralManager!
    private var peripheralManager: FakePeripheralManager!
    private var status: RadioStatus!
    private var platform: IOSBlePlatform!

    override func setUp() {
        super.setUp()
        queue = DispatchQueue(label: "test.bluetooth")
        phone = RecordingRadioInput()
        centralManager = FakeCentralManager()
        peripheralManager = FakePeripheralManager()
        status = RadioStatus()
        let central = CentralController(scheduler: QueueScheduler(queue: queue), status: status)
        let peripheral = PeripheralController(status: status)
        central.activate(on: queue) { _ in self.centralManager }
        peripheral.activate(on: queue) { _ in self.peripheralManager }
        platform = IOSBlePlatform(queue: queue, central: central, peripheral: peripheral, status: status)
        platform.attach(phone: phone)
    }

    /// Waits until the queue ran what was handed to it.
    private func drain() {
        queue.sync {}
    }

    private func plan(_ value: Data) -> AdvertisementPlan {
        AdvertisementPlan(
            raw: Data(), serviceUuids: ["00004e56-0000-1000-8000-00805f9b34fb"],
            serviceData: ["00004e56-0000-1000-8000-00805f9b34fb": value], manufacturerData: [:], gattValue: value,
            gattServiceUuid: "00004e56-73f5-4bc4-a12f-17d1ad07a667",
            gattCharacteristicUuid: "00004e56-73f5-4bc4-a12f-17d1ad07a689")
    }

    func testTheEnginesCallsReachTheRadioOnTheQueue() throws {
        try platform.startAdvertising(plan: plan(payload(1)))
        try platform.startScanning(filter: ScanFilterSpec(
            serviceUuids: ["00004e56-0000-1000-8000-00805f9b34fb", "00004e56-73f5-4bc4-a12f-17d1ad07a667"],
            manufacturerIds: [0x004C]))
        drain()
        XCTAssertEqual(peripheralManager.added.first?.uuid, CBUUID(string: OpenZoneUUIDs.gattService))
        XCTAssertEqual(centralManager.calls.last, .scan(["4E56", OpenZoneUUIDs.gattService], duplicates: false))
        platform.stopAdvertising()
        platform.stopScanning()
        drain()
        XCTAssertEqual(peripheralManager.stops, 1)
    }

    func testAReadIsReportedLaterNeverFromInsideTheCall() throws {
        let unknown = UUID().uuidString
        // With the queue held, readGatt must still return: it only hands the work over.
        queue.suspend()
        try platform.readGatt(peer: unknown)
        XCTAssertTrue(phone.readsDone.isEmpty, "readGatt returned before anything ran")
        queue.resume()
        drain()
        XCTAssertEqual(phone.readsDone.map(\.peer), [unknown])
    }

    func testAPlanWithBadUUIDsIsRefused() {
        var bad = plan(payload(1))
        bad.gattServiceUuid = "nonsense"
        XCTAssertThrowsError(try platform.startAdvertising(plan: bad)) { error in
            guard case RadioError.Refused = error else { return XCTFail("\(error)") }
        }
    }

    func testAFilterWithoutServicesIsRefused() {
        XCTAssertThrowsError(try platform.startScanning(filter: ScanFilterSpec(serviceUuids: [], manufacturerIds: [0x004C])))
    }

    func testADeviceWithoutBluetoothLERefusesEverything() {
        status.update(role: .central, state: .unsupported)
        XCTAssertThrowsError(try platform.readGatt(peer: UUID().uuidString))
        XCTAssertThrowsError(try platform.startAdvertising(plan: plan(payload(1))))
    }
}
