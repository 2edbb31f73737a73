// The peripheral role: the GATT service whose read characteristic returns this phone's current payload,
// and the advertisement of the service's UUID.
//
// What iOS puts on air, and why peers must read over GATT (docs/ios.md):
// - `startAdvertising` takes only a local name and service UUIDs; service data and manufacturer data are
//   ignored, so an iPhone can never advertise its payload the way Android does. It advertises the 128-bit
//   GATT service UUID, and peers read the payload from the characteristic.
// - In the background the service UUID leaves the advertisement for Apple's "overflow area" (manufacturer
//   data 0x004C type 0x01, a bit mask): Android phones see it and read over GATT (the core's policy,
//   `Decoded::NeedsGattRead`); other iPhones see it only while they scan in the foreground.
// - iOS chooses the advertising address and changes it on its own schedule (about every 15 minutes); the
//   app cannot renew it with each payload as Android does.
//
// The characteristic also notifies: when the engine rotates, subscribed iPhones (the keep-alive,
// CentralController) get the new payload at once, and a subscription tells this phone to connect back.
// Runs on the Bluetooth queue, like CentralController.

import CoreBluetooth
import Foundation
import OpenZoneCore

final class PeripheralController: NSObject {
    /// The system manager's options: a restore identifier fixed across launches, so that iOS can hand the
    /// published service back after it ended the app, and no system alert when Bluetooth is off (the Status
    /// screen says so).
    static var managerOptions: [String: Any] {
        [
            CBPeripheralManagerOptionRestoreIdentifierKey: "org.openzone.app.peripheral",
            CBPeripheralManagerOptionShowPowerAlertKey: false,
        ]
    }

    private let status: RadioStatus
    /// The phone, held weakly (see CentralController.phone). Reads are answered with its current value.
    weak var phone: PhoneRadioInput?
    /// Called with the identifier of each central that subscribes (CentralController.adopt).
    var onSubscribe: ((UUID) -> Void)?
    private(set) var manager: PeripheralManaging?

    private var serviceUUID: CBUUID?
    private var characteristicUUID: CBUUID?
    private var characteristic: CBMutableCharacteristic?
    /// The service is in the local GATT database (or being added).
    private var published = false
    private var wantAdvertising = false
    private var advertisingStarted = false
    /// The payload of the engine's latest plan, what subscribers are notified of.
    private var plannedValue: Data?
    private var notifiedValue: Data?
    private var subscribers: Set<UUID> = []
    private var lastError: String?

    init(status: RadioStatus) {
        self.status = status
        super.init()
    }

    /// Creates the manager (on the Bluetooth queue, so that its first callbacks find it set).
    func activate(on queue: DispatchQueue, _ make: (PeripheralController) -> PeripheralManaging) {
        queue.sync {
            if manager == nil {
                manager = make(self)
            }
        }
    }

    /// For tests: a manager already made.
    func activate(with manager: PeripheralManaging) {
        self.manager = manager
    }

    private var poweredOn: Bool {
        manager?.state == .poweredOn
    }

    // MARK: The engine's requests (through IOSBlePlatform, on the queue)

    /// Publishes the service (once) and advertises its UUID; subscribers hear of the new payload.
    func startAdvertising(service: CBUUID, characteristic characteristicUUID: CBUUID, value: Data) {
        if service != serviceUUID || characteristicUUID != self.characteristicUUID {
            published = false
            characteristic = nil
        }
        serviceUUID = service
        self.characteristicUUID = characteristicUUID
        plannedValue = value
        wantAdvertising = true
        apply()
        notifySubscribers()
    }

    /// Stops advertising. The service stays published (a rotation stops and starts again, and kept
    /// connections must survive it); reads are refused while the engine has nothing on air.
    func stopAdvertising() {
        wantAdvertising = false
        if advertisingStarted, let manager, poweredOn {
            manager.stopAdvertising()
        }
        advertisingStarted = false
    }

    /// For the QA screen.
    func diagnostics() -> PeripheralDiagnostics {
        PeripheralDiagnostics(
            published: published, advertising: advertisingStarted, subscribers: subscribers.count,
            lastError: lastError)
    }

    // MARK: CoreBluetooth's callbacks (on the queue; the delegate methods below forward here)

    func didUpdateState(_ state: CBManagerState, authorization: CBManagerAuthorization) {
        status.update(role: .peripheral, state: state)
        phone?.apply(BluetoothStateMapping.events(role: .peripheral, state: state, authorization: authorization))
        switch state {
        case .poweredOn:
            apply()
            notifySubscribers()
        case .unknown:
            break
        default:
            // Below powered on, advertising has stopped and the local database is cleared.
            published = false
            advertisingStarted = false
            characteristic = nil
            notifiedValue = nil
            subscribers = []
        }
    }

    func willRestore(services: [CBMutableService], advertising: Bool) {
        let serviceUUID = CBUUID(string: OpenZoneUUIDs.gattService)
        let characteristicUUID = CBUUID(string: OpenZoneUUIDs.gattCharacteristic)
        guard let service = services.first(where: { $0.uuid == serviceUUID }),
              let found = service.characteristics?.first(where: { $0.uuid == characteristicUUID }),
              let restored = found as? CBMutableCharacteristic else { return }
        self.serviceUUID = serviceUUID
        self.characteristicUUID = characteristicUUID
        characteristic = restored
        published = true
        advertisingStarted = advertising
        for central in restored.subscribedCentrals ?? [] {
            subscribers.insert(central.identifier)
        }
    }

    func didAddService(error: Error?) {
        if let error {
            lastError = "publishing the service failed: \(error.localizedDescription)"
            published = false
            characteristic = nil
        }
    }

    func didStartAdvertising(error: Error?) {
        if let error {
            // The engine cannot hear of it (startAdvertising already returned): the QA screen shows it.
            lastError = "advertising failed: \(error.localizedDescription)"
            advertisingStarted = false
        }
    }

    func didReceiveRead(_ request: ATTReadRequest) {
        guard let manager else { return }
        guard let characteristicUUID, request.characteristicUUID == characteristicUUID else {
            return manager.respond(to: request, withResult: .attributeNotFound)
        }
        let (value, result) = GattServing.answer(value: phone?.currentGattValue(), offset: request.offset)
        request.value = value
        manager.respond(to: request, withResult: result)
    }

    func didSubscribe(central id: UUID) {
        subscribers.insert(id)
        onSubscribe?(id)
    }

    func didUnsubscribe(central id: UUID) {
        subscribers.remove(id)
    }

    func isReadyToUpdateSubscribers() {
        notifySubscribers()
    }

    // MARK: Internals

    private func apply() {
        guard let manager, poweredOn, wantAdvertising, let serviceUUID, let characteristicUUID else { return }
        if !published {
            let characteristic = CBMutableCharacteristic(
                type: characteristicUUID, properties: [.read, .notify], value: nil, permissions: [.readable])
            let service = CBMutableService(type: serviceUUID, primary: true)
            service.characteristics = [characteristic]
            self.characteristic = characteristic
            published = true
            manager.add(service)
        }
        if !advertisingStarted {
            // No local name: a phone's name would identify its owner.
            manager.startAdvertising([CBAdvertisementDataServiceUUIDsKey: [serviceUUID]])
            advertisingStarted = true
        }
    }

    /// Sends the planned payload to subscribers once; if iOS's queue is full, again when it is ready.
    private func notifySubscribers() {
        guard let manager, poweredOn, let characteristic, let value = plannedValue, value != notifiedValue
        else { return }
        if manager.updateValue(value, for: characteristic) {
            notifiedValue = value
        }
    }
}

/// How a read of the payload characteristic is answered.
enum GattServing {
    /// The value from `offset` (long reads come in pieces), or why not: nothing is served while the engine
    /// has no payload on air (stopped, Bluetooth off).
    static func answer(value: Data?, offset: Int) -> (Data?, CBATTError.Code) {
        guard let value else { return (nil, .readNotPermitted) }
        guard offset >= 0, offset <= value.count else { return (nil, .invalidOffset) }
        return (Data(value.dropFirst(offset)), .success)
    }
}

/// The peripheral's side of the QA screen's Bluetooth diagnostics.
struct PeripheralDiagnostics: Equatable {
    var published: Bool
    var advertising: Bool
    var subscribers: Int
    var lastError: String?
}

// MARK: - CoreBluetooth delegate: one line each, into the handlers above.

extension PeripheralController: CBPeripheralManagerDelegate {
    func peripheralManagerDidUpdateState(_ peripheral: CBPeripheralManager) {
        didUpdateState(peripheral.state, authorization: CBManager.authorization)
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, willRestoreState dict: [String: Any]) {
        willRestore(
            services: dict[CBPeripheralManagerRestoredStateServicesKey] as? [CBMutableService] ?? [],
            advertising: dict[CBPeripheralManagerRestoredStateAdvertisementDataKey] != nil)
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, didAdd service: CBService, error: Error?) {
        didAddService(error: error)
    }

    func peripheralManagerDidStartAdvertising(_ peripheral: CBPeripheralManager, error: Error?) {
        didStartAdvertising(error: error)
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, didReceiveRead request: CBATTRequest) {
        didReceiveRead(request)
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, central: CBCentral,
                           didSubscribeTo characteristic: CBCharacteristic) {
        didSubscribe(central: central.identifier)
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, central: CBCentral,
                           didUnsubscribeFrom characteristic: CBCharacteristic) {
        didUnsubscribe(central: central.identifier)
    }

    func peripheralManagerIsReady(toUpdateSubscribers peripheral: CBPeripheralManager) {
        isReadyToUpdateSubscribers()
    }
}
