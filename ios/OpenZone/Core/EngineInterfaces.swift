// What the shell asks of the engine, as protocols, so that tests can stand in for it. OpenZoneEngine (the
// generated binding) conforms as it is: each requirement repeats one of its methods' signatures.

import Foundation
import OpenZoneCore

/// The engine as the radio controllers see it: what they report, and the value they serve.
protocol EngineRadioInput: AnyObject {
    func advertisementSeenFields(peer: String, serviceUuids: [String], serviceData: [String: Data],
                                 manufacturerData: [UInt16: Data], rssi: Int8, txPower: Int8?)
    func gattReadDone(peer: String, value: Data?, error: String?)
    func setBluetoothEnabled(on: Bool)
    func setPermission(permission: PermissionKind, granted: Bool)
    func currentGattValue() -> Data?
}

/// The engine as the screens and the background sync see it.
protocol EngineControl: AnyObject {
    func state() -> EngineState
    func counters() -> EngineCounters
    func radioDuty() -> [RadioDutyInfo]
    func currentGattValue() -> Data?
    func exposureDays() throws -> [DayExposure]
    func setQaMode(on: Bool)
    func deleteAllData() throws
    func sync() async throws -> [DayExposure]
    func reportPositive(code: String, onsetDate: String?, consent: Bool) async throws -> UInt32
}

extension OpenZoneEngine: EngineRadioInput {}
extension OpenZoneEngine: EngineControl {}

extension EngineRadioInput {
    /// Reports an advertisement (or a kept peer) under `peer`.
    func seen(_ fields: AdvertisementFields, peer: String) {
        advertisementSeenFields(
            peer: peer, serviceUuids: fields.serviceUuids, serviceData: fields.serviceData,
            manufacturerData: fields.manufacturerData, rssi: fields.rssi, txPower: fields.txPower)
    }

    /// Applies a manager's state.
    func apply(_ events: [RadioEvent]) {
        for event in events {
            switch event {
            case .bluetooth(let on):
                setBluetoothEnabled(on: on)
            case .permission(let kind, let granted):
                setPermission(permission: kind, granted: granted)
            }
        }
    }
}
