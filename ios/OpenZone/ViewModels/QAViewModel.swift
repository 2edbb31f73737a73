// The QA screen, for testers, as on Android: the identifier on air (on screen only), what the phone hears
// now, the counters, the radio duty of each mode, the Bluetooth side of the shell, and a diagnostics export
// that holds states and counts only: no keys, no identifiers (this phone's or others'), no payloads, no
// exposure results.

import CoreBluetooth
import Foundation
import OpenZoneCore

/// One row of the live list, ready to show.
struct QARow: Equatable, Identifiable {
    let sighting: LiveSighting
    /// Seconds since it was last heard.
    let age: Int

    var id: UUID { sighting.peer }
}

@MainActor
final class QAViewModel: ObservableObject {
    @Published private(set) var identifier: String? = nil
    @Published private(set) var rows: [QARow] = []
    @Published private(set) var state: EngineState
    @Published private(set) var counters: EngineCounters
    @Published private(set) var duty: [RadioDutyInfo]
    @Published private(set) var bluetooth: BluetoothDiagnostics? = nil

    private let phone: PhoneControl
    private let bluetoothDiagnostics: () -> BluetoothDiagnostics?
    private let live: () -> [LiveSighting]
    private let device: DeviceModel
    private let appVersion: String
    private let systemVersion: String

    init(phone: PhoneControl, bluetooth: @escaping () -> BluetoothDiagnostics?,
         live: @escaping () -> [LiveSighting], device: DeviceModel, appVersion: String, systemVersion: String) {
        self.phone = phone
        self.bluetoothDiagnostics = bluetooth
        self.live = live
        self.device = device
        self.appVersion = appVersion
        self.systemVersion = systemVersion
        state = phone.state()
        counters = phone.counters()
        duty = phone.radioDuty()
        identifier = phone.currentGattValue().map(QAViewModel.identifierText)
    }

    func refresh(now: Date = Date()) {
        identifier = phone.currentGattValue().map(QAViewModel.identifierText)
        state = phone.state()
        counters = phone.counters()
        duty = phone.radioDuty()
        bluetooth = bluetoothDiagnostics()
        rows = live().map { sighting in
            QARow(sighting: sighting, age: max(0, Int(now.timeIntervalSince(sighting.lastSeen))))
        }
    }

    /// The value on air: en-v1's RPI and AEM (20 bytes) or a Bluezone ID (12), in hex, for comparing with
    /// what another phone's QA screen or `openzone` on a laptop hears. Shown on screen only, never exported.
    nonisolated static func identifierText(_ value: Data) -> String {
        let hex = value.map { String(format: "%02x", $0) }.joined()
        guard value.count == 20 else { return "ID \(hex)" }
        return "RPI \(hex.prefix(32)) · AEM \(hex.dropFirst(32))"
    }

    /// The diagnostics export (the Android app's format, `openzone-diagnostics-1`), as JSON.
    func diagnosticsReport(now: Date = Date()) -> String {
        refresh(now: now)
        var report: [String: Any] = [
            "format": "openzone-diagnostics-1",
            "app": ["version": appVersion],
            "phone": ["system": "iOS \(systemVersion)", "manufacturer": device.manufacturer, "model": device.model],
            "time": ISO8601DateFormatter().string(from: now),
            "state": Self.stateJSON(state),
            "counters": [
                "scans": counters.scans,
                "rotations": counters.rotations,
                "sightings": counters.sightings,
                "sightings_today": counters.sightingsToday,
                "gatt_reads_ok": counters.gattReadsOk,
                "gatt_reads_failed": counters.gattReadsFailed,
            ],
            "radio_duty": duty.map { info -> [String: Any] in
                ["mode": Self.modeName(info.mode), "scanning": info.scanning, "advertising": info.advertising,
                 "total": info.total]
            },
            "peers_heard_recently": rows.count,
        ]
        if let bluetooth {
            var shell: [String: Any] = [
                "authorization": Self.authorizationName(bluetooth.authorization),
                "scanning": bluetooth.central.scanning,
                "window_open": bluetooth.central.windowOpen,
                "kept_peers": bluetooth.central.keptPeers,
                "pending_reads": bluetooth.central.pendingReads,
                "known_peripherals": bluetooth.central.knownPeripherals,
                "service_published": bluetooth.peripheral.published,
                "advertising": bluetooth.peripheral.advertising,
                "subscribers": bluetooth.peripheral.subscribers,
            ]
            shell["advertising_failure"] = bluetooth.peripheral.lastError
            report["bluetooth"] = shell
        }
        guard let data = try? JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    nonisolated static func stateJSON(_ state: EngineState) -> [String: String] {
        switch state {
        case .stopped: return ["state": "stopped"]
        case .running(let mode): return ["state": "running", "mode": modeName(mode)]
        case .bluetoothOff: return ["state": "bluetooth_off"]
        case .permissionMissing(let permission): return ["state": "permission_missing", "permission": "\(permission)"]
        case .failing(let message): return ["state": "failing", "message": message]
        }
    }

    nonisolated static func modeName(_ mode: ScanModeKind) -> String {
        switch mode {
        case .background: return "background"
        case .foreground: return "foreground"
        case .qa: return "qa"
        }
    }

    nonisolated static func modeText(_ mode: ScanModeKind) -> L10nKey {
        switch mode {
        case .background: return .modeBackground
        case .foreground: return .modeForeground
        case .qa: return .modeQa
        }
    }

    nonisolated static func authorizationName(_ authorization: CBManagerAuthorization) -> String {
        switch authorization {
        case .allowedAlways: return "allowed"
        case .denied: return "denied"
        case .restricted: return "restricted"
        case .notDetermined: return "not_determined"
        @unknown default: return "unknown"
        }
    }
}
