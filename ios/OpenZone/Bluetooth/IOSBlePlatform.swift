// The core's BlePlatform over CoreBluetooth: the engine's requests, handed to the central and peripheral
// controllers on the Bluetooth queue.
//
// Threading. The engine calls these methods from its own threads while it holds its state lock, and the
// controllers call the engine from the Bluetooth queue. So every method here only hops onto the queue
// with `async` and returns: it never waits for the queue (the queue may be waiting for the engine's lock)
// and never calls the engine (the engine is in the middle of a step, docs/bindings.md). Results come back
// later from CoreBluetooth's callbacks. A method throws only when the radio can never do it (no Bluetooth
// LE on this device); everything else waits for Bluetooth to be on.

import CoreBluetooth
import Foundation
import OpenZoneCore

final class IOSBlePlatform: BlePlatform, @unchecked Sendable {
    let queue: DispatchQueue
    let central: CentralController
    let peripheral: PeripheralController
    private let status: RadioStatus

    init(queue: DispatchQueue, central: CentralController, peripheral: PeripheralController, status: RadioStatus) {
        self.queue = queue
        self.central = central
        self.peripheral = peripheral
        self.status = status
        peripheral.onSubscribe = { [weak central] id in central?.adopt(id) }
    }

    /// The default wiring: one serial queue for both managers and their controllers.
    static func make() -> IOSBlePlatform {
        let queue = DispatchQueue(label: "org.openzone.bluetooth", qos: .utility)
        let status = RadioStatus()
        return IOSBlePlatform(
            queue: queue,
            central: CentralController(scheduler: QueueScheduler(queue: queue), status: status),
            peripheral: PeripheralController(status: status),
            status: status)
    }

    /// Hands the controllers the phone (held weakly: the phone holds this platform).
    func attach(phone: PhoneRadioInput) {
        queue.async { [central, peripheral] in
            central.phone = phone
            peripheral.phone = phone
        }
    }

    /// Creates the CoreBluetooth managers, with their restore identifiers. Creating them shows the
    /// Bluetooth permission prompt the first time, so the app calls this after onboarding, and at every
    /// launch after that (including when iOS relaunches the app in the background to restore them).
    func activateRadio() {
        central.activate(on: queue) { [queue] controller in
            SystemCentralManager(CBCentralManager(
                delegate: controller, queue: queue, options: CentralController.managerOptions))
        }
        peripheral.activate(on: queue) { [queue] controller in
            SystemPeripheralManager(CBPeripheralManager(
                delegate: controller, queue: queue, options: PeripheralController.managerOptions))
        }
    }

    /// The app went to the foreground or the background.
    func setForeground(_ foreground: Bool) {
        queue.async { [central] in central.setForeground(foreground) }
    }

    /// The user turned protection off (true) or on again (with the phone: PhoneHost.setProtection).
    func setPaused(_ paused: Bool) {
        queue.async { [central] in central.setPaused(paused) }
    }

    /// What the phone hears now, for the QA screen (any thread).
    func liveSightings() -> [LiveSighting] {
        central.live.snapshot()
    }

    /// For the QA screen (from the main thread; the queue never waits for it).
    func diagnostics() -> BluetoothDiagnostics {
        queue.sync {
            BluetoothDiagnostics(
                authorization: CBManager.authorization, central: central.diagnostics(),
                peripheral: peripheral.diagnostics())
        }
    }

    // MARK: BlePlatform

    func startAdvertising(plan: AdvertisementPlan) throws {
        try refuseIfUnsupported()
        guard let service = BluetoothUUIDs.cbUUID(plan.gattServiceUuid),
              let characteristic = BluetoothUUIDs.cbUUID(plan.gattCharacteristicUuid) else {
            throw RadioError.Refused(reason: "the plan's GATT UUIDs are not UUIDs")
        }
        let value = plan.gattValue
        queue.async { [peripheral] in
            peripheral.startAdvertising(service: service, characteristic: characteristic, value: value)
        }
    }

    func stopAdvertising() {
        queue.async { [peripheral] in peripheral.stopAdvertising() }
    }

    func startScanning(filter: ScanFilterSpec) throws {
        try refuseIfUnsupported()
        let services = AdvertisementMapping.scanServices(filter)
        guard !services.isEmpty else {
            // Without services iOS would scan for everything, and not at all in the background.
            throw RadioError.Refused(reason: "iOS scans only for listed services, and the filter lists none")
        }
        queue.async { [central] in central.startScanning(services: services) }
    }

    func stopScanning() {
        queue.async { [central] in central.stopScanning() }
    }

    func readGatt(peer: String) throws {
        try refuseIfUnsupported()
        queue.async { [central] in central.read(peer: peer) }
    }

    private func refuseIfUnsupported() throws {
        if status.unsupported {
            throw RadioError.Refused(reason: "this device has no Bluetooth LE")
        }
    }
}

/// What the managers last said, readable from any thread (the engine's, in BlePlatform methods).
final class RadioStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var states: [BluetoothRole: CBManagerState] = [:]

    func update(role: BluetoothRole, state: CBManagerState) {
        lock.lock()
        states[role] = state
        lock.unlock()
    }

    func state(of role: BluetoothRole) -> CBManagerState {
        lock.lock()
        defer { lock.unlock() }
        return states[role] ?? .unknown
    }

    /// The device has no Bluetooth LE (either manager said so).
    var unsupported: Bool {
        state(of: .central) == .unsupported || state(of: .peripheral) == .unsupported
    }
}

/// The QA screen's Bluetooth diagnostics: states and counts, never identifiers or payloads.
struct BluetoothDiagnostics: Equatable {
    var authorization: CBManagerAuthorization
    var central: CentralDiagnostics
    var peripheral: PeripheralDiagnostics
}
