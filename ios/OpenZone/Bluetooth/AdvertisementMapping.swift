// The pure translation between CoreBluetooth's shapes and the core's: advertisement dictionaries into the
// arguments of `OpenZonePhone.advertisementSeenFields`, CBUUIDs into the UUID strings the core parses (and
// back), manager states into the phone's Bluetooth and permission inputs. No radio, no state: tested in
// AdvertisementMappingTests without Bluetooth hardware.
//
// Deciding what an advertisement means (a payload, an iPhone to read over GATT, or nothing) is the core's job
// (`core/src/protocol/payload.rs`); this file only reshapes.

import CoreBluetooth
import Foundation
import OpenZoneCore

/// The UUIDs of OpenZone's Bluetooth protocol as `core/src/protocol/payload.rs` names them. The GATT ones
/// also arrive in every `AdvertisementPlan`; PhoneIntegrationTests checks both agree.
enum OpenZoneUUIDs {
    /// 0x4E56, the 16-bit service whose service data carries en-v1 payloads (Android, and any phone
    /// advertising the full payload).
    static let service16 = "00004E56-0000-1000-8000-00805F9B34FB"
    /// The GATT service an iPhone publishes and advertises (in the overflow area when in the background).
    static let gattService = "00004E56-73F5-4BC4-A12F-17D1AD07A667"
    /// The characteristic whose value is the payload: RPI || AEM (20 bytes) or a Bluezone ID (12 bytes).
    static let gattCharacteristic = "00004E56-73F5-4BC4-A12F-17D1AD07A689"
}

/// The arguments of `OpenZonePhone.advertisementSeenFields`, minus the peer.
struct AdvertisementFields: Equatable {
    var serviceUuids: [String]
    var serviceData: [String: Data]
    var manufacturerData: [UInt16: Data]
    var rssi: Int8
    var txPower: Int8?
}

enum BluetoothUUIDs {
    /// The Bluetooth base UUID's last 96 bits: `xxxxxxxx-0000-1000-8000-00805F9B34FB`.
    static let baseSuffix = "-0000-1000-8000-00805F9B34FB"

    /// A CBUUID as the full 128-bit string the core parses. CoreBluetooth shortens UUIDs on the base UUID
    /// to 16 or 32 bits (`4E56`), which `uuid::Uuid::parse_str` would reject.
    static func fullString(_ uuid: CBUUID) -> String {
        let bytes = [UInt8](uuid.data)
        switch bytes.count {
        case 2, 4:
            let hex = bytes.map { String(format: "%02X", $0) }.joined()
            return String(repeating: "0", count: 8 - hex.count) + hex + baseSuffix
        default:
            return uuid.uuidString.uppercased()
        }
    }

    /// The string CoreBluetooth wants for a UUID the core wrote (lower case, 128 bits): the 16-bit form on
    /// the base UUID, the 128-bit form otherwise; `nil` for text that is no UUID (CBUUID(string:) would
    /// raise an Objective-C exception on it).
    static func coreBluetoothString(_ text: String) -> String? {
        guard let uuid = UUID(uuidString: text) else { return nil }
        let canonical = uuid.uuidString.uppercased()
        if canonical.hasPrefix("0000"), canonical.hasSuffix(baseSuffix) {
            let start = canonical.index(canonical.startIndex, offsetBy: 4)
            let end = canonical.index(canonical.startIndex, offsetBy: 8)
            return String(canonical[start..<end])
        }
        return canonical
    }

    /// `coreBluetoothString` as a CBUUID.
    static func cbUUID(_ text: String) -> CBUUID? {
        coreBluetoothString(text).map { CBUUID(string: $0) }
    }
}

enum AdvertisementMapping {
    /// What `centralManager(_:didDiscover:advertisementData:rssi:)` delivered, as the core's arguments.
    /// The RSSI goes as CoreBluetooth reported it, 127 ("not available") included: the core's rule keeps
    /// such a sighting as proof of presence without a signal strength.
    ///
    /// - Service UUIDs: the advertised ones, then those CoreBluetooth decoded from another iPhone's overflow
    ///   area (`CBAdvertisementDataOverflowServiceUUIDsKey`: how a backgrounded iPhone shows its GATT service
    ///   to an iPhone scanning in the foreground).
    /// - Manufacturer data: CoreBluetooth hands over the whole field, company id first (little-endian); the
    ///   core keys it by company id without those two bytes.
    static func fields(advertisementData: [String: Any], rssi: NSNumber) -> AdvertisementFields {
        var uuids: [String] = []
        let advertised = advertisementData[CBAdvertisementDataServiceUUIDsKey] as? [CBUUID] ?? []
        let overflow = advertisementData[CBAdvertisementDataOverflowServiceUUIDsKey] as? [CBUUID] ?? []
        for uuid in advertised + overflow {
            let text = BluetoothUUIDs.fullString(uuid)
            if !uuids.contains(text) {
                uuids.append(text)
            }
        }
        var serviceData: [String: Data] = [:]
        if let data = advertisementData[CBAdvertisementDataServiceDataKey] as? [CBUUID: Data] {
            for (uuid, value) in data {
                serviceData[BluetoothUUIDs.fullString(uuid)] = Data(value)
            }
        }
        var manufacturer: [UInt16: Data] = [:]
        if let data = advertisementData[CBAdvertisementDataManufacturerDataKey] as? Data,
           let (company, rest) = splitManufacturerData(data) {
            manufacturer[company] = rest
        }
        let txPower = (advertisementData[CBAdvertisementDataTxPowerLevelKey] as? NSNumber)
            .map { Int8(clamping: $0.intValue) }
        return AdvertisementFields(
            serviceUuids: uuids, serviceData: serviceData, manufacturerData: manufacturer,
            rssi: signal(rssi), txPower: txPower)
    }

    /// A connected iPhone kept for the keep-alive, heard at `rssi` over its connection: an OpenZone phone
    /// without a payload on air, which is what the core reads over GATT (or answers from its cache).
    static func keptPeer(rssi: NSNumber) -> AdvertisementFields {
        AdvertisementFields(
            serviceUuids: [OpenZoneUUIDs.gattService], serviceData: [:], manufacturerData: [:],
            rssi: signal(rssi), txPower: nil)
    }

    /// Manufacturer data as company id (little-endian on air) and the bytes after it; `nil` if shorter
    /// than the id.
    static func splitManufacturerData(_ data: Data) -> (UInt16, Data)? {
        let bytes = [UInt8](data)
        guard bytes.count >= 2 else { return nil }
        let company = UInt16(bytes[0]) | (UInt16(bytes[1]) << 8)
        return (company, Data(bytes[2...]))
    }

    /// CoreBluetooth's RSSI in dBm as it reported it: the core decides what is a measurement. Only a value
    /// no signed byte can carry becomes the core's "unknown".
    static func signal(_ rssi: NSNumber) -> Int8 {
        Int8(exactly: rssi.intValue) ?? protocolConstants().rssiUnknown
    }

    /// The services to scan for, in CoreBluetooth's form, from the engine's filter. iOS can filter only by
    /// service (in the background it must); the filter's manufacturer ids (Apple's overflow area,
    /// Bluezone's company) cannot be expressed and iOS never shows Apple's manufacturer data anyway.
    static func scanServices(_ filter: ScanFilterSpec) -> [CBUUID] {
        var seen = Set<String>()
        return filter.serviceUuids.compactMap(BluetoothUUIDs.coreBluetoothString)
            .filter { seen.insert($0).inserted }
            .map { CBUUID(string: $0) }
    }
}

/// What a Bluetooth manager's state means to the engine.
enum RadioEvent: Equatable {
    case bluetooth(on: Bool)
    case permission(PermissionKind, granted: Bool)
}

/// Which manager reported: the central scans and connects, the peripheral advertises. iOS has one
/// Bluetooth permission for both, but each manager reports it.
enum BluetoothRole {
    case central
    case peripheral

    var permissions: [PermissionKind] {
        switch self {
        case .central: return [.scan, .connect]
        case .peripheral: return [.advertise]
        }
    }
}

enum BluetoothStateMapping {
    /// The engine inputs for a manager's state and the app's Bluetooth authorization. `.unknown` and
    /// `.resetting` are transient and say nothing; `.unsupported` (the simulator, old hardware) counts as
    /// Bluetooth off, which is what the user sees either way.
    static func events(role: BluetoothRole, state: CBManagerState,
                       authorization: CBManagerAuthorization) -> [RadioEvent] {
        var events: [RadioEvent] = []
        switch authorization {
        case .allowedAlways:
            events += role.permissions.map { RadioEvent.permission($0, granted: true) }
        case .denied, .restricted:
            events += role.permissions.map { RadioEvent.permission($0, granted: false) }
        case .notDetermined:
            break
        @unknown default:
            break
        }
        switch state {
        case .poweredOn:
            events.append(.bluetooth(on: true))
        case .poweredOff, .unsupported:
            events.append(.bluetooth(on: false))
        case .unauthorized:
            if authorization == .allowedAlways || authorization == .notDetermined {
                events += role.permissions.map { RadioEvent.permission($0, granted: false) }
            }
        case .unknown, .resetting:
            break
        @unknown default:
            break
        }
        return events
    }
}

/// How the system scan follows the engine's scan windows.
enum ScanPolicy {
    /// Whether the system scan keeps running when the engine ends a scan window. In the background it
    /// does: iOS already scans at its own low duty there (the engine's windows cannot make it cheaper), a
    /// discovery is what wakes a suspended app, and a stopped scan would leave the app asleep until
    /// something else woke it. What is heard between windows still goes to the engine, which records it.
    /// In the foreground the engine's duty cycle holds.
    static func keepsSystemScanBetweenWindows(foreground: Bool) -> Bool {
        !foreground
    }

    /// Duplicates (several RSSI samples per window) only in the foreground; iOS ignores the option in the
    /// background, where it reports each peripheral once per scan.
    static func allowsDuplicates(foreground: Bool) -> Bool {
        foreground
    }
}
