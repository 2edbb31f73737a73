// Stand-ins for the radio, the phone and the notification center, recording what they were asked.

import CoreBluetooth
import Foundation
import OpenZoneCore
@testable import OpenZone

/// The phone as the Bluetooth controllers see it.
final class RecordingRadioInput: PhoneRadioInput {
    struct Seen: Equatable {
        let peer: String
        let fields: AdvertisementFields
    }

    struct ReadDone: Equatable {
        let peer: String
        let value: Data?
        let error: String?
    }

    private(set) var seen: [Seen] = []
    private(set) var readsDone: [ReadDone] = []
    private(set) var events: [RadioEvent] = []
    var gattValue: Data?

    func advertisementSeenFields(peer: String, serviceUuids: [String], serviceData: [String: Data],
                                 manufacturerData: [UInt16: Data], rssi: Int8, txPower: Int8?) {
        seen.append(Seen(peer: peer, fields: AdvertisementFields(
            serviceUuids: serviceUuids, serviceData: serviceData, manufacturerData: manufacturerData,
            rssi: rssi, txPower: txPower)))
    }

    func gattReadDone(peer: String, value: Data?, error: String?) {
        readsDone.append(ReadDone(peer: peer, value: value, error: error))
    }

    func setBluetoothEnabled(on: Bool) {
        events.append(.bluetooth(on: on))
    }

    func setPermission(permission: PermissionKind, granted: Bool) {
        events.append(.permission(permission, granted: granted))
    }

    func currentGattValue() -> Data? {
        gattValue
    }
}

/// Another phone, as CoreBluetooth shows it.
final class FakeLink: PeripheralLink {
    enum Call: Equatable {
        case discoverServices
        case discoverCharacteristics
        case read
        case notify(Bool)
        case readRSSI
    }

    let identifier: UUID
    var state: CBPeripheralState = .disconnected
    var services: [CBService]?
    private(set) var calls: [Call] = []
    let characteristic: CBMutableCharacteristic

    /// A phone publishing OpenZone's service; `notifies` is what an OpenZone iPhone's characteristic does.
    init(identifier: UUID = UUID(), notifies: Bool = true) {
        self.identifier = identifier
        characteristic = CBMutableCharacteristic(
            type: CBUUID(string: OpenZoneUUIDs.gattCharacteristic),
            properties: notifies ? [.read, .notify] : [.read], value: nil, permissions: [.readable])
        let service = CBMutableService(type: CBUUID(string: OpenZoneUUIDs.gattService), primary: true)
        service.characteristics = [characteristic]
        services = [service]
    }

    var service: CBService {
        services![0]
    }

    func discoverServices(_ serviceUUIDs: [CBUUID]?) {
        calls.append(.discoverServices)
    }

    func discoverCharacteristics(_ characteristicUUIDs: [CBUUID]?, for service: CBService) {
        calls.append(.discoverCharacteristics)
    }

    func readValue(for characteristic: CBCharacteristic) {
        calls.append(.read)
    }

    func setNotifyValue(_ enabled: Bool, for characteristic: CBCharacteristic) {
        calls.append(.notify(enabled))
    }

    func readRSSI() {
        calls.append(.readRSSI)
    }

    func clearCalls() {
        calls = []
    }
}

final class FakeCentralManager: CentralManaging {
    enum Call: Equatable {
        case scan([String], duplicates: Bool)
        case stopScan
        case connect(UUID)
        case cancel(UUID)
    }

    var state: CBManagerState = .poweredOn
    private(set) var calls: [Call] = []
    var known: [UUID: PeripheralLink] = [:]

    func scanForPeripherals(withServices services: [CBUUID], allowDuplicates: Bool) {
        calls.append(.scan(services.map(\.uuidString), duplicates: allowDuplicates))
    }

    func stopScan() {
        calls.append(.stopScan)
    }

    func connect(_ peripheral: PeripheralLink) {
        calls.append(.connect(peripheral.identifier))
    }

    func cancelConnection(_ peripheral: PeripheralLink) {
        calls.append(.cancel(peripheral.identifier))
    }

    func retrievePeripherals(withIdentifiers identifiers: [UUID]) -> [PeripheralLink] {
        identifiers.compactMap { known[$0] }
    }

    func clearCalls() {
        calls = []
    }
}

final class FakePeripheralManager: PeripheralManaging {
    var state: CBManagerState = .poweredOn
    var isAdvertising = false
    var acceptsUpdates = true
    private(set) var added: [CBMutableService] = []
    private(set) var advertised: [[String: Any]] = []
    private(set) var stops = 0
    private(set) var responses: [CBATTError.Code] = []
    private(set) var updates: [Data] = []

    func add(_ service: CBMutableService) {
        added.append(service)
    }

    func startAdvertising(_ advertisementData: [String: Any]?) {
        advertised.append(advertisementData ?? [:])
        isAdvertising = true
    }

    func stopAdvertising() {
        stops += 1
        isAdvertising = false
    }

    func respond(to request: ATTReadRequest, withResult result: CBATTError.Code) {
        responses.append(result)
    }

    func updateValue(_ value: Data, for characteristic: CBMutableCharacteristic) -> Bool {
        guard acceptsUpdates else { return false }
        updates.append(value)
        return true
    }
}

final class FakeReadRequest: ATTReadRequest {
    let characteristicUUID: CBUUID
    let offset: Int
    var value: Data?

    init(characteristic: String = OpenZoneUUIDs.gattCharacteristic, offset: Int = 0) {
        characteristicUUID = CBUUID(string: characteristic)
        self.offset = offset
    }
}

/// Time run by hand: `fire` runs what is due.
final class ManualScheduler: Scheduling {
    final class Work: ScheduledWork {
        let delay: TimeInterval
        let block: () -> Void
        private(set) var cancelled = false

        init(delay: TimeInterval, block: @escaping () -> Void) {
            self.delay = delay
            self.block = block
        }

        func cancel() {
            cancelled = true
        }
    }

    private(set) var pending: [Work] = []

    @discardableResult
    func after(_ delay: TimeInterval, _ work: @escaping () -> Void) -> ScheduledWork {
        let item = Work(delay: delay, block: work)
        pending.append(item)
        return item
    }

    /// Runs every pending, uncancelled work scheduled with exactly `delay` (in order).
    func fire(delay: TimeInterval) {
        let due = pending.filter { $0.delay == delay && !$0.cancelled }
        pending.removeAll { $0.delay == delay }
        due.forEach { $0.block() }
    }

    func count(delay: TimeInterval) -> Int {
        pending.filter { $0.delay == delay && !$0.cancelled }.count
    }
}

/// The phone as the screens see it.
final class FakePhoneControl: PhoneControl {
    var engineState: EngineState = .running(mode: .foreground)
    var engineCounters = EngineCounters(
        scans: 3, rotations: 2, sightings: 40, sightingsToday: 12, gattReadsOk: 5, gattReadsFailed: 1)
    var duty = [RadioDutyInfo(mode: .background, scanning: 0.015, advertising: 0.006, total: 0.021)]
    var gattValue: Data? = Data(repeating: 0xAB, count: 20)
    var days: [DayExposure] = []
    var daysError: Error?
    var syncResult: Result<SyncSummary, Error> = .success(summary())
    var reportResult: Result<UInt32, Error> = .success(14)
    var deleteError: Error?
    private(set) var qaModes: [Bool] = []
    private(set) var reports: [(code: String, onset: String?, consent: Bool)] = []
    /// The data keys `deleteAllData` was given.
    private(set) var newDataKeys: [Data] = []
    private(set) var syncs = 0

    func state() -> EngineState { engineState }
    func counters() -> EngineCounters { engineCounters }
    func radioDuty() -> [RadioDutyInfo] { duty }
    func currentGattValue() -> Data? { gattValue }

    func exposureDays() throws -> [DayExposure] {
        if let daysError { throw daysError }
        return days
    }

    func setQaMode(on: Bool) {
        qaModes.append(on)
    }

    func deleteAllData(newDataKey: Data) throws {
        if let deleteError { throw deleteError }
        newDataKeys.append(newDataKey)
    }

    func sync() async throws -> SyncSummary {
        syncs += 1
        return try syncResult.get()
    }

    func reportPositive(code: String, onsetDate: String?, consent: Bool) async throws -> UInt32 {
        reports.append((code, onsetDate, consent))
        return try reportResult.get()
    }
}

/// Records the days it was asked to notify of (from the core's thread).
final class RecordingNotifier: RiskNotifying, @unchecked Sendable {
    private let lock = NSLock()
    private var days: [String] = []

    func notifyAtRisk(day: DayExposure) {
        lock.lock(); days.append(day.date); lock.unlock()
    }

    var notified: [String] { lock.lock(); defer { lock.unlock() }; return days }
}

/// UserDefaults of their own, so tests do not see each other's preferences or the app's.
func freshPreferences(_ name: String = UUID().uuidString) -> AppPreferences {
    let suite = "org.openzone.tests.\(name)"
    let defaults = UserDefaults(suiteName: suite)!
    defaults.removePersistentDomain(forName: suite)
    return AppPreferences(defaults: defaults)
}

func day(_ date: String, atRisk: Bool, minutes: Double = 20, closest: Proximity = .near,
         estimated: Bool = false) -> DayExposure {
    DayExposure(date: date, atRisk: atRisk, weightedMinutes: minutes, closest: closest, estimated: estimated)
}

/// What a sync reports: `days` and those of them `newlyAtRisk`, one export checked.
func summary(_ days: [DayExposure] = [], newlyAtRisk: [String] = []) -> SyncSummary {
    SyncSummary(days: days, newlyAtRisk: newlyAtRisk, exportsChecked: 1, exportsRejected: 0, exportsFailed: 0,
                bytesDownloaded: 1_024, regionsNotPublished: [])
}

/// 20 bytes of en-v1 payload (RPI || AEM).
func payload(_ byte: UInt8) -> Data {
    Data(repeating: byte, count: 20)
}
