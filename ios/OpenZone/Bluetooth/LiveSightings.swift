// What the phone hears now, per peer, for the QA screen (as the Android app's QA screen shows it): the kind
// of advertisement, RSSI, TX power, how often, how long ago. Labels only: the core decodes and records;
// nothing here is stored or exported (the export counts the peers, nothing more).

import Foundation

/// What an advertisement looks like (a label for testers, from the fields the core receives).
enum SightingKind: Equatable {
    case en
    case bluezone
    case iphone
    case other

    static let bluezoneCompany: UInt16 = 0x22B5

    static func of(_ fields: AdvertisementFields) -> SightingKind {
        if fields.manufacturerData[bluezoneCompany] != nil {
            return .bluezone
        }
        if fields.serviceUuids.contains(OpenZoneUUIDs.service16) || fields.serviceData[OpenZoneUUIDs.service16] != nil {
            return .en
        }
        if fields.serviceUuids.contains(OpenZoneUUIDs.gattService) {
            return .iphone
        }
        return .other
    }

    var text: L10nKey {
        switch self {
        case .en: return .qaKindEn
        case .bluezone: return .qaKindBluezone
        case .iphone: return .qaKindIphone
        case .other: return .qaKindOther
        }
    }
}

/// One peer heard recently.
struct LiveSighting: Equatable {
    let peer: UUID
    let kind: SightingKind
    let rssi: Int8
    let txPower: Int8?
    let count: Int
    let lastSeen: Date
}

/// The latest sighting per peer, the oldest forgotten first. Thread-safe: written on the Bluetooth queue,
/// read on the main thread.
final class LiveSightings: @unchecked Sendable {
    private let lock = NSLock()
    private let capacity: Int
    private let maxAge: TimeInterval
    private var byPeer: [UUID: LiveSighting] = [:]
    private var order: [UUID] = []

    init(capacity: Int = 50, maxAge: TimeInterval = 5 * 60) {
        self.capacity = capacity
        self.maxAge = maxAge
    }

    func add(peer: UUID, fields: AdvertisementFields, at time: Date = Date()) {
        lock.lock()
        defer { lock.unlock() }
        let previous = byPeer[peer]
        byPeer[peer] = LiveSighting(
            peer: peer, kind: SightingKind.of(fields), rssi: fields.rssi, txPower: fields.txPower,
            count: (previous?.count ?? 0) + 1, lastSeen: time)
        order.removeAll { $0 == peer }
        order.append(peer)
        while order.count > capacity {
            byPeer[order.removeFirst()] = nil
        }
    }

    /// Newest first, without those older than the maximum age.
    func snapshot(now: Date = Date()) -> [LiveSighting] {
        lock.lock()
        defer { lock.unlock() }
        return byPeer.values
            .filter { now.timeIntervalSince($0.lastSeen) <= maxAge }
            .sorted { $0.lastSeen > $1.lastSeen }
    }

    func clear() {
        lock.lock()
        byPeer = [:]
        order = []
        lock.unlock()
    }
}
