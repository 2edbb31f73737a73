// Thin protocols over the CoreBluetooth objects the controllers drive, so that tests can stand in for the
// radio: CBPeripheral conforms as it is; the managers are wrapped, because their methods take concrete
// CBPeripheral and CBATTRequest objects that tests cannot create. Also the timer the controllers use, so
// that tests run time by hand.

import CoreBluetooth
import Foundation

/// A remote peripheral (another phone's GATT server).
protocol PeripheralLink: AnyObject {
    var identifier: UUID { get }
    var state: CBPeripheralState { get }
    var services: [CBService]? { get }
    func discoverServices(_ serviceUUIDs: [CBUUID]?)
    func discoverCharacteristics(_ characteristicUUIDs: [CBUUID]?, for service: CBService)
    func readValue(for characteristic: CBCharacteristic)
    func setNotifyValue(_ enabled: Bool, for characteristic: CBCharacteristic)
    func readRSSI()
}

extension CBPeripheral: PeripheralLink {}

/// The central manager: scanning and connections.
protocol CentralManaging: AnyObject {
    var state: CBManagerState { get }
    func scanForPeripherals(withServices services: [CBUUID], allowDuplicates: Bool)
    func stopScan()
    func connect(_ peripheral: PeripheralLink)
    func cancelConnection(_ peripheral: PeripheralLink)
    func retrievePeripherals(withIdentifiers identifiers: [UUID]) -> [PeripheralLink]
}

final class SystemCentralManager: CentralManaging {
    let manager: CBCentralManager

    init(_ manager: CBCentralManager) {
        self.manager = manager
    }

    var state: CBManagerState { manager.state }

    func scanForPeripherals(withServices services: [CBUUID], allowDuplicates: Bool) {
        manager.scanForPeripherals(
            withServices: services,
            options: [CBCentralManagerScanOptionAllowDuplicatesKey: allowDuplicates])
    }

    func stopScan() {
        manager.stopScan()
    }

    func connect(_ peripheral: PeripheralLink) {
        guard let peripheral = peripheral as? CBPeripheral else { return }
        manager.connect(peripheral, options: nil)
    }

    func cancelConnection(_ peripheral: PeripheralLink) {
        guard let peripheral = peripheral as? CBPeripheral else { return }
        manager.cancelPeripheralConnection(peripheral)
    }

    func retrievePeripherals(withIdentifiers identifiers: [UUID]) -> [PeripheralLink] {
        manager.retrievePeripherals(withIdentifiers: identifiers)
    }
}

/// A read request from a central (a peer reading this phone's payload).
protocol ATTReadRequest: AnyObject {
    var characteristicUUID: CBUUID { get }
    var offset: Int { get }
    var value: Data? { get set }
}

extension CBATTRequest: ATTReadRequest {
    var characteristicUUID: CBUUID { characteristic.uuid }
}

/// The peripheral manager: the published GATT service and advertising.
protocol PeripheralManaging: AnyObject {
    var state: CBManagerState { get }
    var isAdvertising: Bool { get }
    func add(_ service: CBMutableService)
    func startAdvertising(_ advertisementData: [String: Any]?)
    func stopAdvertising()
    func respond(to request: ATTReadRequest, withResult result: CBATTError.Code)
    /// Notifies subscribed centrals; `false` when the transmit queue is full (retry on
    /// `peripheralManagerIsReady(toUpdateSubscribers:)`).
    func updateValue(_ value: Data, for characteristic: CBMutableCharacteristic) -> Bool
}

final class SystemPeripheralManager: PeripheralManaging {
    let manager: CBPeripheralManager

    init(_ manager: CBPeripheralManager) {
        self.manager = manager
    }

    var state: CBManagerState { manager.state }
    var isAdvertising: Bool { manager.isAdvertising }

    func add(_ service: CBMutableService) {
        manager.add(service)
    }

    func startAdvertising(_ advertisementData: [String: Any]?) {
        manager.startAdvertising(advertisementData)
    }

    func stopAdvertising() {
        manager.stopAdvertising()
    }

    func respond(to request: ATTReadRequest, withResult result: CBATTError.Code) {
        guard let request = request as? CBATTRequest else { return }
        manager.respond(to: request, withResult: result)
    }

    func updateValue(_ value: Data, for characteristic: CBMutableCharacteristic) -> Bool {
        manager.updateValue(value, for: characteristic, onSubscribedCentrals: nil)
    }
}

/// Work to run later on the Bluetooth queue, cancellable.
protocol Scheduling: AnyObject {
    @discardableResult
    func after(_ delay: TimeInterval, _ work: @escaping () -> Void) -> ScheduledWork
}

protocol ScheduledWork: AnyObject {
    func cancel()
}

extension DispatchWorkItem: ScheduledWork {}

/// Timers on a dispatch queue. They fire only while the app runs: a suspended app's timers wait until
/// something (a Bluetooth event) wakes it.
final class QueueScheduler: Scheduling {
    private let queue: DispatchQueue

    init(queue: DispatchQueue) {
        self.queue = queue
    }

    @discardableResult
    func after(_ delay: TimeInterval, _ work: @escaping () -> Void) -> ScheduledWork {
        let item = DispatchWorkItem(block: work)
        queue.asyncAfter(deadline: .now() + delay, execute: item)
        return item
    }
}
