// What the shell asks of the phone, as protocols, so that tests can stand in for it. OpenZonePhone (the
// generated binding) conforms as it is: each requirement repeats one of its methods' signatures.

import Foundation
import OpenZoneCore

/// The phone as the radio controllers see it: what they report, and the value they serve.
protocol PhoneRadioInput: AnyObject {
    func advertisementSeenFields(peer: String, serviceUuids: [String], serviceData: [String: Data],
                                 manufacturerData: [UInt16: Data], rssi: Int8, txPower: Int8?)
    func gattReadDone(peer: String, value: Data?, error: String?)
    func setBluetoothEnabled(on: Bool)
    func setPermission(permission: PermissionKind, granted: Bool)
    func currentGattValue() -> Data?
}

/// The phone as the screens and the background sync see it.
protocol PhoneControl: AnyObject {
    func state() -> EngineState
    func counters() -> EngineCounters
    func radioDuty() -> [RadioDutyInfo]
    func currentGattValue() -> Data?
    func exposureDays() throws -> [DayExposure]
    func setQaMode(on: Bool)
    func deleteAllData(newDataKey: Data) throws
    func sync() async throws -> SyncSummary
    func reportPositive(code: String, onsetDate: String?, consent: Bool) async throws -> UInt32
}

extension OpenZonePhone: PhoneRadioInput {}
extension OpenZonePhone: PhoneControl {}

extension PhoneRadioInput {
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
