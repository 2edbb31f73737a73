// The central role: scanning for OpenZone phones, reading the GATT payload of those the engine asks for, and
// keeping iPhones connected so that both apps stay awake and in touch in the background.
//
// Everything runs on the one Bluetooth queue (the managers' delegate queue). The engine is called from
// here, on that queue, in answer to CoreBluetooth's callbacks; the engine calls in only through
// IOSBlePlatform, which hops onto the queue asynchronously, so neither side ever waits for the other.
//
// - Scanning: the engine opens and closes scan windows; CoreBluetooth scans for the services the engine's
//   filter lists (in the background iOS requires services, coalesces duplicates, and scans rarely). Each
//   window restarts the system scan, so peripherals reported once are reported again. Between windows the
//   system scan keeps running in the background (ScanPolicy): it is what wakes a suspended app.
// - Discoveries go through AdvertisementMapping to `advertisementSeenFields`; the core decides what they
//   mean and, for iPhones without a payload on air, asks for a read.
// - Reads: connect, discover the service and characteristic, read, `gattReadDone`; the engine owns the
//   policy (which peers, how many, timeouts, back-off). The connection is then closed, unless the peer is
//   kept (below).
// - Keep-alive (docs/ios.md): an iPhone whose characteristic notifies is another OpenZone iPhone; up to
//   `maxKeptPeers` stay connected and subscribed. Every `heartbeatSeconds` the characteristic is read:
//   the read wakes the peer's app and the answer wakes this one, so both keep running in the background.
//   At each scan window kept peers are announced to the engine with the RSSI of the connection, and when a
//   kept peer's value changes (it rotated) it gets a new name (PeerBook) so the engine reads it again.
//   A peer that subscribes to this phone's characteristic is connected back ("adopted"), which is how an
//   iPhone that never saw the other's advertisement still learns of it.
// - State restoration: the manager has a restore identifier; after iOS relaunches the app for a Bluetooth
//   event, connected peripherals and the scan come back through `willRestoreState`.

import CoreBluetooth
import Foundation
import OpenZoneCore

final class CentralController: NSObject {
    /// The system manager's options: a restore identifier fixed across launches, so that iOS can hand the
    /// manager's state back after it ended the app, and no system alert when Bluetooth is off (the Status
    /// screen says so).
    static var managerOptions: [String: Any] {
        [
            CBCentralManagerOptionRestoreIdentifierKey: "org.openzone.app.central",
            CBCentralManagerOptionShowPowerAlertKey: false,
        ]
    }

    private struct PendingRead {
        let peer: String
        let timeout: ScheduledWork
    }

    private let scheduler: Scheduling
    private let policy: KeepAlivePolicy
    private let status: RadioStatus
    /// What the QA screen lists.
    let live: LiveSightings
    private let gattService = CBUUID(string: OpenZoneUUIDs.gattService)
    private let gattCharacteristic = CBUUID(string: OpenZoneUUIDs.gattCharacteristic)

    /// The phone, held weakly: the phone holds the platform, which holds this controller.
    weak var phone: PhoneRadioInput?
    private(set) var manager: CentralManaging?

    private var links: [UUID: PeripheralLink] = [:]
    private var characteristics: [UUID: CBCharacteristic] = [:]
    private var pendingReads: [UUID: PendingRead] = [:]
    /// Peers subscribed to, or being subscribed to.
    private var keeping: Set<UUID> = []
    /// Peers connected and subscribed: the keep-alive's.
    private(set) var kept: Set<UUID> = []
    /// Peers connected back after they subscribed to this phone, to announce once subscribed.
    private var adopting: Set<UUID> = []
    private var restored: [UUID] = []
    private var heartbeats: [UUID: ScheduledWork] = [:]
    /// Peers whose RSSI was asked for, to announce to the engine when it comes.
    private var rssiWanted: Set<UUID> = []
    private var peers = PeerBook()
    /// The engine's open scan window, if any.
    private var window: [CBUUID]?
    /// What the system scan runs with, if it should run.
    private var systemScan: [CBUUID]?
    private var lastServices: [CBUUID]?
    private var foreground = false
    /// The user turned protection off: no scan, no connection, whatever the app's state.
    private var paused = false

    init(scheduler: Scheduling, status: RadioStatus, policy: KeepAlivePolicy = KeepAlivePolicy(),
         live: LiveSightings = LiveSightings()) {
        self.scheduler = scheduler
        self.status = status
        self.policy = policy
        self.live = live
        super.init()
    }

    /// Creates the manager (on the Bluetooth queue, so that its first callbacks find it set).
    func activate(on queue: DispatchQueue, _ make: (CentralController) -> CentralManaging) {
        queue.sync {
            if manager == nil {
                manager = make(self)
            }
        }
    }

    /// For tests: a manager already made.
    func activate(with manager: CentralManaging) {
        self.manager = manager
    }

    private var poweredOn: Bool {
        manager?.state == .poweredOn
    }

    // MARK: The engine's requests (through IOSBlePlatform, on the queue)

    /// The engine opened a scan window.
    func startScanning(services: [CBUUID]) {
        window = services
        lastServices = services
        runSystemScan(services)
        pruneLinks()
        for id in kept {
            announceKept(id)
            scheduleHeartbeat(id)
        }
    }

    /// The engine closed its scan window.
    func stopScanning() {
        window = nil
        guard !ScanPolicy.keepsSystemScanBetweenWindows(foreground: foreground) else { return }
        stopSystemScan()
    }

    /// The engine wants `peer`'s payload.
    func read(peer: String) {
        guard let id = PeerBook.identifier(of: peer) else {
            return fail(peer, "not a Bluetooth peer name")
        }
        guard let manager, poweredOn else {
            return fail(peer, "Bluetooth is not on")
        }
        if let previous = pendingReads.removeValue(forKey: id) {
            previous.timeout.cancel()
            fail(previous.peer, "replaced by a newer read")
        }
        guard let link = links[id] ?? manager.retrievePeripherals(withIdentifiers: [id]).first else {
            return fail(peer, "the phone is no longer known to Bluetooth")
        }
        remember(link)
        let timeout = scheduler.after(policy.connectTimeoutSeconds) { [weak self] in
            self?.readTimedOut(id)
        }
        pendingReads[id] = PendingRead(peer: peer, timeout: timeout)
        switch link.state {
        case .connected:
            if let characteristic = characteristics[id] {
                link.readValue(for: characteristic)
            } else {
                link.discoverServices([gattService])
            }
        case .connecting:
            break
        default:
            manager.connect(link)
        }
    }

    /// The app went to the foreground or the background.
    func setForeground(_ isForeground: Bool) {
        foreground = isForeground
        if isForeground {
            if window == nil {
                stopSystemScan()
            }
        } else {
            // Leaving the screen: the scan must be running before iOS suspends the app, or nothing would
            // wake it; and the keep-alive must be going.
            if !paused, systemScan == nil, let services = lastServices {
                runSystemScan(services)
            }
            for id in kept {
                scheduleHeartbeat(id)
            }
        }
    }

    /// The user turned protection off (true) or on again. Off, the scan stops and every connection is
    /// closed, even in the background; the engine, stopped too, asks for nothing until it starts again.
    func setPaused(_ isPaused: Bool) {
        paused = isPaused
        guard isPaused else { return }
        window = nil
        stopSystemScan()
        for (id, link) in links {
            if link.state != .disconnected {
                manager?.cancelConnection(link)
            }
            dropLink(id, reason: "protection was turned off")
        }
        live.clear()
    }

    /// A central subscribed to this phone's characteristic (PeripheralController): connect back to it as
    /// a peripheral, so that this phone reads it too.
    func adopt(_ id: UUID) {
        guard !paused, let manager, poweredOn, !keeping.contains(id), keeping.count < policy.maxKeptPeers else {
            return
        }
        if let link = links[id], link.state != .disconnected {
            return
        }
        guard let link = links[id] ?? manager.retrievePeripherals(withIdentifiers: [id]).first else {
            return
        }
        remember(link)
        adopting.insert(id)
        manager.connect(link)
        scheduler.after(policy.connectTimeoutSeconds) { [weak self] in
            self?.adoptionTimedOut(id)
        }
    }

    /// For the QA screen.
    func diagnostics() -> CentralDiagnostics {
        CentralDiagnostics(
            scanning: systemScan != nil, windowOpen: window != nil, keptPeers: kept.count,
            pendingReads: pendingReads.count, knownPeripherals: links.count)
    }

    // MARK: CoreBluetooth's callbacks (on the queue; the delegate methods below forward here)

    func didUpdateState(_ state: CBManagerState, authorization: CBManagerAuthorization) {
        status.update(role: .central, state: state)
        phone?.apply(BluetoothStateMapping.events(role: .central, state: state, authorization: authorization))
        switch state {
        case .poweredOn:
            if let services = systemScan {
                runSystemScan(services)
            }
            let toRestore = restored
            restored = []
            for id in toRestore {
                if let link = links[id], link.state == .connected {
                    adopting.insert(id)
                    link.discoverServices([gattService])
                }
            }
        case .unknown:
            break
        default:
            // Off, resetting, unauthorized: every connection is gone.
            for id in Array(links.keys) {
                dropLink(id, reason: "Bluetooth turned off")
            }
        }
    }

    func willRestore(peripherals: [PeripheralLink], scanServices: [CBUUID]?) {
        if let scanServices, !scanServices.isEmpty {
            systemScan = scanServices
            lastServices = scanServices
        }
        for link in peripherals {
            remember(link)
            restored.append(link.identifier)
        }
    }

    func didDiscover(_ link: PeripheralLink, advertisementData: [String: Any], rssi: NSNumber) {
        remember(link)
        guard let fields = AdvertisementMapping.fields(advertisementData: advertisementData, rssi: rssi) else {
            return
        }
        live.add(peer: link.identifier, fields: fields)
        phone?.seen(fields, peer: peers.peer(for: link.identifier))
    }

    func didConnect(_ link: PeripheralLink) {
        link.discoverServices([gattService])
    }

    func didFailToConnect(_ link: PeripheralLink, error: Error?) {
        dropLink(link.identifier, reason: error?.localizedDescription ?? "the connection failed")
    }

    func didDisconnect(_ link: PeripheralLink, error: Error?) {
        dropLink(link.identifier, reason: error?.localizedDescription ?? "disconnected")
    }

    func didDiscoverServices(_ link: PeripheralLink, error: Error?) {
        guard error == nil, let service = link.services?.first(where: { $0.uuid == gattService }) else {
            return giveUp(link, reason: error?.localizedDescription ?? "the phone has no OpenZone service")
        }
        link.discoverCharacteristics([gattCharacteristic], for: service)
    }

    func didDiscoverCharacteristics(_ link: PeripheralLink, service: CBService, error: Error?) {
        let id = link.identifier
        guard error == nil,
              let characteristic = service.characteristics?.first(where: { $0.uuid == gattCharacteristic })
        else {
            return giveUp(link, reason: error?.localizedDescription ?? "the phone has no OpenZone payload")
        }
        characteristics[id] = characteristic
        if pendingReads[id] != nil {
            link.readValue(for: characteristic)
        }
        if !keeping.contains(id), keeping.count < policy.maxKeptPeers,
           characteristic.properties.contains(.notify) {
            // An OpenZone iPhone: keep it.
            keeping.insert(id)
            link.setNotifyValue(true, for: characteristic)
        } else if !keeping.contains(id), pendingReads[id] == nil {
            adopting.remove(id)
            manager?.cancelConnection(link)
        }
    }

    func didUpdateNotificationState(_ link: PeripheralLink, notifying: Bool, error: Error?) {
        let id = link.identifier
        guard error == nil, notifying else {
            keeping.remove(id)
            kept.remove(id)
            adopting.remove(id)
            if pendingReads[id] == nil {
                manager?.cancelConnection(link)
            }
            return
        }
        kept.insert(id)
        scheduleHeartbeat(id)
        if adopting.remove(id) != nil || window != nil {
            announceKept(id)
        }
    }

    /// A read's answer, a keep-alive read's answer, or a notification: CoreBluetooth does not tell them
    /// apart. While the engine waits for a read, whatever comes is the peer's current payload either way.
    func didUpdateValue(_ link: PeripheralLink, characteristic: CBCharacteristic, error: Error?) {
        guard characteristic.uuid == gattCharacteristic else { return }
        let id = link.identifier
        let value = error == nil ? characteristic.value : nil
        if let pending = pendingReads.removeValue(forKey: id) {
            pending.timeout.cancel()
            if let value {
                peers.valueRead(value, from: id)
            }
            phone?.gattReadDone(
                peer: pending.peer, value: value,
                error: value == nil ? (error?.localizedDescription ?? "the phone returned no value") : nil)
            if keeping.contains(id) {
                scheduleHeartbeat(id)
            } else {
                manager?.cancelConnection(link)
            }
            return
        }
        guard kept.contains(id) else { return }
        if let value, peers.valueSeen(value, from: id) {
            // The peer rotated: announce it under its new name, so that the engine reads the new payload.
            announceKept(id)
        }
        scheduleHeartbeat(id)
    }

    func didReadRSSI(_ link: PeripheralLink, rssi: NSNumber, error: Error?) {
        let id = link.identifier
        guard rssiWanted.remove(id) != nil, error == nil,
              let fields = AdvertisementMapping.keptPeer(rssi: rssi) else { return }
        live.add(peer: id, fields: fields)
        phone?.seen(fields, peer: peers.peer(for: id))
    }

    func didModifyServices(_ link: PeripheralLink, invalidated: [CBService]) {
        let id = link.identifier
        guard invalidated.contains(where: { $0.uuid == gattService }) else { return }
        // The peer's app republished its service (it restarted): subscribe again.
        characteristics[id] = nil
        if kept.remove(id) != nil || keeping.remove(id) != nil {
            adopting.insert(id)
            link.discoverServices([gattService])
        }
    }

    // MARK: Internals

    private func remember(_ link: PeripheralLink) {
        links[link.identifier] = link
        (link as? CBPeripheral)?.delegate = self
    }

    private func fail(_ peer: String, _ reason: String) {
        phone?.gattReadDone(peer: peer, value: nil, error: reason)
    }

    private func runSystemScan(_ services: [CBUUID]) {
        guard !paused else { return }
        systemScan = services
        guard let manager, poweredOn else { return }
        // A new scan reports again the peripherals iOS coalesced into one report during the last one.
        manager.stopScan()
        manager.scanForPeripherals(
            withServices: services, allowDuplicates: ScanPolicy.allowsDuplicates(foreground: foreground))
    }

    private func stopSystemScan() {
        guard systemScan != nil else { return }
        systemScan = nil
        if let manager, poweredOn {
            manager.stopScan()
        }
    }

    private func announceKept(_ id: UUID) {
        guard let link = links[id], link.state == .connected else { return }
        rssiWanted.insert(id)
        link.readRSSI()
    }

    private func scheduleHeartbeat(_ id: UUID) {
        guard heartbeats[id] == nil else { return }
        heartbeats[id] = scheduler.after(policy.heartbeatSeconds) { [weak self] in
            self?.heartbeat(id)
        }
    }

    private func heartbeat(_ id: UUID) {
        heartbeats[id] = nil
        guard kept.contains(id), pendingReads[id] == nil, let link = links[id], link.state == .connected,
              let characteristic = characteristics[id] else { return }
        link.readValue(for: characteristic)
    }

    private func readTimedOut(_ id: UUID) {
        guard let pending = pendingReads.removeValue(forKey: id) else { return }
        fail(pending.peer, "the read timed out")
        if !keeping.contains(id), let link = links[id] {
            manager?.cancelConnection(link)
        }
    }

    private func adoptionTimedOut(_ id: UUID) {
        guard adopting.contains(id), !keeping.contains(id), pendingReads[id] == nil else { return }
        adopting.remove(id)
        if let link = links[id] {
            manager?.cancelConnection(link)
        }
    }

    /// The read (if any) fails and the connection is closed, unless the peer is kept.
    private func giveUp(_ link: PeripheralLink, reason: String) {
        let id = link.identifier
        if let pending = pendingReads.removeValue(forKey: id) {
            pending.timeout.cancel()
            fail(pending.peer, reason)
        }
        adopting.remove(id)
        if !keeping.contains(id) {
            manager?.cancelConnection(link)
        }
    }

    /// The connection to `id` is gone: its read fails and it is forgotten.
    private func dropLink(_ id: UUID, reason: String) {
        if let pending = pendingReads.removeValue(forKey: id) {
            pending.timeout.cancel()
            fail(pending.peer, reason)
        }
        heartbeats.removeValue(forKey: id)?.cancel()
        kept.remove(id)
        keeping.remove(id)
        adopting.remove(id)
        rssiWanted.remove(id)
        characteristics[id] = nil
        links[id] = nil
        peers.disconnected(id)
    }

    /// Forgets peripherals neither connected nor awaited (a read can still find them again through
    /// `retrievePeripherals`).
    private func pruneLinks() {
        for (id, link) in links where link.state == .disconnected && pendingReads[id] == nil
            && !adopting.contains(id) && !restored.contains(id) {
            links[id] = nil
            characteristics[id] = nil
        }
    }
}

/// The central's side of the QA screen's Bluetooth diagnostics.
struct CentralDiagnostics: Equatable {
    var scanning: Bool
    var windowOpen: Bool
    var keptPeers: Int
    var pendingReads: Int
    var knownPeripherals: Int
}

// MARK: - CoreBluetooth delegates: one line each, into the handlers above.

extension CentralController: CBCentralManagerDelegate {
    func centralManagerDidUpdateState(_ central: CBCentralManager) {
        didUpdateState(central.state, authorization: CBManager.authorization)
    }

    func centralManager(_ central: CBCentralManager, willRestoreState dict: [String: Any]) {
        willRestore(
            peripherals: dict[CBCentralManagerRestoredStatePeripheralsKey] as? [CBPeripheral] ?? [],
            scanServices: dict[CBCentralManagerRestoredStateScanServicesKey] as? [CBUUID])
    }

    func centralManager(_ central: CBCentralManager, didDiscover peripheral: CBPeripheral,
                        advertisementData: [String: Any], rssi RSSI: NSNumber) {
        didDiscover(peripheral, advertisementData: advertisementData, rssi: RSSI)
    }

    func centralManager(_ central: CBCentralManager, didConnect peripheral: CBPeripheral) {
        didConnect(peripheral)
    }

    func centralManager(_ central: CBCentralManager, didFailToConnect peripheral: CBPeripheral, error: Error?) {
        didFailToConnect(peripheral, error: error)
    }

    func centralManager(_ central: CBCentralManager, didDisconnectPeripheral peripheral: CBPeripheral,
                        error: Error?) {
        didDisconnect(peripheral, error: error)
    }
}

extension CentralController: CBPeripheralDelegate {
    func peripheral(_ peripheral: CBPeripheral, didDiscoverServices error: Error?) {
        didDiscoverServices(peripheral, error: error)
    }

    func peripheral(_ peripheral: CBPeripheral, didDiscoverCharacteristicsFor service: CBService,
                    error: Error?) {
        didDiscoverCharacteristics(peripheral, service: service, error: error)
    }

    func peripheral(_ peripheral: CBPeripheral, didUpdateNotificationStateFor characteristic: CBCharacteristic,
                    error: Error?) {
        didUpdateNotificationState(peripheral, notifying: characteristic.isNotifying, error: error)
    }

    func peripheral(_ peripheral: CBPeripheral, didUpdateValueFor characteristic: CBCharacteristic,
                    error: Error?) {
        didUpdateValue(peripheral, characteristic: characteristic, error: error)
    }

    func peripheral(_ peripheral: CBPeripheral, didReadRSSI RSSI: NSNumber, error: Error?) {
        didReadRSSI(peripheral, rssi: RSSI, error: error)
    }

    func peripheral(_ peripheral: CBPeripheral, didModifyServices invalidatedServices: [CBService]) {
        didModifyServices(peripheral, invalidated: invalidatedServices)
    }
}
