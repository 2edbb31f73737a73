// The iPhone-to-iPhone keep-alive's pure parts: how often, how many, and which peer name the engine sees.
// The strategy itself is described in docs/ios.md ("Keeping iPhones in touch") and driven by
// CentralController.
//
// The engine keys what it learned over GATT by peer: a peer → payload cache valid until this phone's next
// rotation, on the premise that a phone's address and payload change together (core/src/engine/gatt.rs).
// A kept connection breaks that premise: the connection outlives the peer's rotations, so its CoreBluetooth
// identifier stays while its payload changes. PeerBook restores it: when a kept peer's value changes, the
// peer gets a new name (`<identifier>#<n>`), which the engine treats as a new phone to read.

import Foundation
import OpenZoneCore

struct KeepAlivePolicy: Equatable {
    /// Seconds between keep-alive reads of a kept peer. Under the ~10 s iOS lets a woken app run, so that
    /// each read's answer (which wakes this app) comes before the app is suspended again, and each read
    /// (which wakes the peer's app) keeps the peer awake too.
    var heartbeatSeconds: TimeInterval = 8
    /// iPhones kept connected at most (each costs a connection on both phones).
    var maxKeptPeers = 8
    /// A connection attempt for a read is abandoned after this: CoreBluetooth never times out a connect.
    /// A little longer than the core's own read timeout, which decides the read's fate.
    var connectTimeoutSeconds = TimeInterval(protocolConstants().gattReadTimeoutSecs) + 2
}

/// The engine's names for CoreBluetooth peripherals.
struct PeerBook {
    private var generations: [UUID: Int] = [:]
    private var lastValues: [UUID: Data] = [:]

    /// The engine's name for the peripheral `id` now.
    func peer(for id: UUID) -> String {
        let generation = generations[id, default: 0]
        return generation == 0 ? id.uuidString : "\(id.uuidString)#\(generation)"
    }

    /// The peripheral behind an engine peer name.
    static func identifier(of peer: String) -> UUID? {
        let base = peer.split(separator: "#", maxSplits: 1).first.map(String.init) ?? peer
        return UUID(uuidString: base)
    }

    /// A value read or notified by `id`. Returns whether the peer's payload changed since the last value
    /// seen (it rotated): the peer then has a new name.
    @discardableResult
    mutating func valueSeen(_ value: Data, from id: UUID) -> Bool {
        defer { lastValues[id] = value }
        guard let last = lastValues[id], last != value else { return false }
        generations[id, default: 0] += 1
        return true
    }

    /// A value the engine asked for: the peer's payload now, under the name the engine read it by.
    mutating func valueRead(_ value: Data, from id: UUID) {
        lastValues[id] = value
    }

    /// The connection to `id` ended: its last value means nothing any more. The generation stays, so that
    /// a reconnection is not mistaken for a peer the engine already knows.
    mutating func disconnected(_ id: UUID) {
        lastValues[id] = nil
    }
}
