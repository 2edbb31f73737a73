// CoreBluetooth's advertisement dictionaries and states, reshaped into the core's arguments.

import CoreBluetooth
import OpenZoneCore
import XCTest
@testable import OpenZone

final class AdvertisementMappingTests: XCTestCase {
    private let service16 = CBUUID(string: "4E56")
    private let gattService = CBUUID(string: OpenZoneUUIDs.gattService)

    func testAnAndroidPhoneAdvertisingItsPayloadMapsToServiceData() throws {
        let fields = AdvertisementMapping.fields(
            advertisementData: [
                CBAdvertisementDataServiceUUIDsKey: [service16],
                CBAdvertisementDataServiceDataKey: [service16: payload(7)],
                CBAdvertisementDataTxPowerLevelKey: NSNumber(value: -8),
                CBAdvertisementDataIsConnectable: NSNumber(value: false),
            ],
            rssi: NSNumber(value: -61))
        XCTAssertEqual(fields, AdvertisementFields(
            serviceUuids: ["00004E56-0000-1000-8000-00805F9B34FB"],
            serviceData: ["00004E56-0000-1000-8000-00805F9B34FB": payload(7)],
            manufacturerData: [:], rssi: -61, txPower: -8))
    }

    func testAForegroundIPhoneShowsItsGattService() throws {
        let fields = AdvertisementMapping.fields(
            advertisementData: [CBAdvertisementDataServiceUUIDsKey: [gattService]], rssi: NSNumber(value: -70))
        XCTAssertEqual(fields.serviceUuids, [OpenZoneUUIDs.gattService])
        XCTAssertTrue(fields.serviceData.isEmpty)
        XCTAssertNil(fields.txPower)
    }

    func testABackgroundIPhoneSeenThroughTheOverflowAreaListsItsServiceOnce() throws {
        let fields = AdvertisementMapping.fields(
            advertisementData: [
                CBAdvertisementDataServiceUUIDsKey: [gattService],
                CBAdvertisementDataOverflowServiceUUIDsKey: [gattService, service16],
            ],
            rssi: NSNumber(value: -80))
        XCTAssertEqual(fields.serviceUuids, [OpenZoneUUIDs.gattService, OpenZoneUUIDs.service16])
    }

    func testManufacturerDataIsSplitIntoCompanyAndTheRest() throws {
        // Bluezone's company 0x22B5 goes on air little-endian: B5 22, then the 12-byte identifier.
        let identifier = Data((1...12).map { UInt8($0) })
        let fields = AdvertisementMapping.fields(
            advertisementData: [CBAdvertisementDataManufacturerDataKey: Data([0xB5, 0x22]) + identifier],
            rssi: NSNumber(value: -50))
        XCTAssertEqual(fields.manufacturerData, [0x22B5: identifier])

        XCTAssertNil(AdvertisementMapping.splitManufacturerData(Data([0x4C])))
        let empty = try XCTUnwrap(AdvertisementMapping.splitManufacturerData(Data([0x4C, 0x00])))
        XCTAssertEqual(empty.0, 0x004C)
        XCTAssertEqual(empty.1, Data())
    }

    func testManufacturerDataFromASliceIsReadFromItsStart() throws {
        let whole = Data([0xFF, 0xFF, 0x4C, 0x00, 0x01, 0x02])
        let slice = whole[2...]
        let (company, rest) = try XCTUnwrap(AdvertisementMapping.splitManufacturerData(slice))
        XCTAssertEqual(company, 0x004C)
        XCTAssertEqual(rest, Data([0x01, 0x02]))
    }

    func testAnUnavailableRssiGoesToTheCoreAsReported() {
        // CoreBluetooth's 127 ("not available"): the core's rule keeps the sighting without a signal strength.
        let unknown = protocolConstants().rssiUnknown
        XCTAssertEqual(AdvertisementMapping.fields(
            advertisementData: [CBAdvertisementDataServiceDataKey: [service16: payload(1)]],
            rssi: NSNumber(value: Int(unknown))).rssi, unknown)
        XCTAssertEqual(AdvertisementMapping.keptPeer(rssi: NSNumber(value: Int(unknown))).rssi, unknown)
    }

    func testSignalsPassThroughAndOnlyWhatNoByteCarriesIsUnknown() {
        XCTAssertEqual(AdvertisementMapping.signal(NSNumber(value: -128)), -128)
        XCTAssertEqual(AdvertisementMapping.signal(NSNumber(value: -200)), protocolConstants().rssiUnknown)
        XCTAssertEqual(AdvertisementMapping.fields(
            advertisementData: [CBAdvertisementDataTxPowerLevelKey: NSNumber(value: 300)],
            rssi: NSNumber(value: -40)).txPower, 127, "TX power is clamped to a byte")
    }

    func testAKeptPeerIsAnOpenZoneIPhoneWithoutPayload() {
        XCTAssertEqual(AdvertisementMapping.keptPeer(rssi: NSNumber(value: -66)), AdvertisementFields(
            serviceUuids: [OpenZoneUUIDs.gattService], serviceData: [:], manufacturerData: [:], rssi: -66,
            txPower: nil))
    }

    func testUUIDsWidenAndShortenOnTheBluetoothBase() {
        XCTAssertEqual(BluetoothUUIDs.fullString(CBUUID(string: "4E56")), "00004E56-0000-1000-8000-00805F9B34FB")
        XCTAssertEqual(BluetoothUUIDs.fullString(CBUUID(string: "12345678")), "12345678-0000-1000-8000-00805F9B34FB")
        XCTAssertEqual(BluetoothUUIDs.fullString(gattService), OpenZoneUUIDs.gattService)

        XCTAssertEqual(BluetoothUUIDs.coreBluetoothString("00004e56-0000-1000-8000-00805f9b34fb"), "4E56")
        XCTAssertEqual(BluetoothUUIDs.coreBluetoothString("00004e56-73f5-4bc4-a12f-17d1ad07a667"),
                       OpenZoneUUIDs.gattService)
        XCTAssertNil(BluetoothUUIDs.coreBluetoothString("4E56"))
        XCTAssertNil(BluetoothUUIDs.coreBluetoothString("not a uuid"))
    }

    func testTheEnginesFilterBecomesServicesToScanFor() {
        // What the core's ScanFilter::default() sends: both services, and manufacturer ids iOS cannot use.
        let filter = ScanFilterSpec(
            serviceUuids: ["00004e56-0000-1000-8000-00805f9b34fb", "00004e56-73f5-4bc4-a12f-17d1ad07a667",
                           "00004e56-0000-1000-8000-00805f9b34fb", "garbage"],
            manufacturerIds: [0x004C, 0x22B5])
        XCTAssertEqual(AdvertisementMapping.scanServices(filter).map(\.uuidString),
                       ["4E56", OpenZoneUUIDs.gattService])
    }

    func testManagerStatesBecomeEngineInputs() {
        let cases: [(BluetoothRole, CBManagerState, CBManagerAuthorization, [RadioEvent])] = [
            (.central, .poweredOn, .allowedAlways,
             [.permission(.scan, granted: true), .permission(.connect, granted: true), .bluetooth(on: true)]),
            (.peripheral, .poweredOff, .allowedAlways,
             [.permission(.advertise, granted: true), .bluetooth(on: false)]),
            (.central, .unauthorized, .denied,
             [.permission(.scan, granted: false), .permission(.connect, granted: false)]),
            (.peripheral, .unsupported, .allowedAlways,
             [.permission(.advertise, granted: true), .bluetooth(on: false)]),
            (.central, .resetting, .allowedAlways,
             [.permission(.scan, granted: true), .permission(.connect, granted: true)]),
            (.central, .unknown, .notDetermined, []),
        ]
        for (role, state, authorization, expected) in cases {
            XCTAssertEqual(BluetoothStateMapping.events(role: role, state: state, authorization: authorization),
                           expected, "\(role), state \(state.rawValue), authorization \(authorization.rawValue)")
        }
    }

    func testTheSystemScanKeepsRunningBetweenWindowsOnlyInTheBackground() {
        XCTAssertTrue(ScanPolicy.keepsSystemScanBetweenWindows(foreground: false))
        XCTAssertFalse(ScanPolicy.keepsSystemScanBetweenWindows(foreground: true))
        XCTAssertTrue(ScanPolicy.allowsDuplicates(foreground: true))
        XCTAssertFalse(ScanPolicy.allowsDuplicates(foreground: false))
    }

    func testReadsAreServedFromTheOffsetAndRefusedWithoutPayload() {
        let value = payload(3)
        XCTAssertEqual(GattServing.answer(value: value, offset: 0).0, value)
        XCTAssertEqual(GattServing.answer(value: value, offset: 0).1, .success)
        XCTAssertEqual(GattServing.answer(value: value, offset: 18).0, Data([3, 3]))
        XCTAssertEqual(GattServing.answer(value: value, offset: 20).0, Data())
        XCTAssertEqual(GattServing.answer(value: value, offset: 21).1, .invalidOffset)
        XCTAssertEqual(GattServing.answer(value: nil, offset: 0).1, .readNotPermitted)
    }

    func testPeerNamesChangeWhenAKeptPeersValueChanges() {
        var book = PeerBook()
        let id = UUID()
        XCTAssertEqual(book.peer(for: id), id.uuidString)
        XCTAssertFalse(book.valueSeen(payload(1), from: id), "the first value is no change")
        XCTAssertFalse(book.valueSeen(payload(1), from: id))
        XCTAssertTrue(book.valueSeen(payload(2), from: id))
        XCTAssertEqual(book.peer(for: id), "\(id.uuidString)#1")
        XCTAssertEqual(PeerBook.identifier(of: book.peer(for: id)), id)
        XCTAssertEqual(PeerBook.identifier(of: id.uuidString), id)
        XCTAssertNil(PeerBook.identifier(of: "peer-1"))

        book.valueRead(payload(3), from: id)
        XCTAssertEqual(book.peer(for: id), "\(id.uuidString)#1", "a value the phone read renames nothing")
        book.disconnected(id)
        XCTAssertFalse(book.valueSeen(payload(9), from: id))
        XCTAssertEqual(book.peer(for: id), "\(id.uuidString)#1", "the generation survives a reconnection")
    }
}
