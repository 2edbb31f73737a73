// The Status screen, as on Android: is protection working, and if not the one thing to fix; a piece of
// advice that does not stop protection (notifications off); when the phone last checked with the key
// server, and a button to check now.

import Foundation
import OpenZoneCore

/// How a radio state is shown.
struct StatusDisplay: Equatable {
    /// What the user can do about it, a button.
    enum Fix: Equatable {
        /// Protection was turned off in Settings.
        case startProtection
        /// The Bluetooth permission was refused: the app's page in Settings has the switch.
        case bluetoothPermission
    }

    /// A recommendation that does not stop protection now.
    enum Advice: Equatable {
        case notifications
    }

    /// Whether the phone both sends and hears codes.
    var protected: Bool
    var headline: L10nKey
    var detail: L10nKey
    /// Fills the detail's count (encounters today) while running.
    var count: UInt64? = nil
    var fix: Fix? = nil
    var advice: Advice? = nil

    static func of(_ state: EngineState, sightingsToday: UInt64, notificationsAllowed: Bool) -> StatusDisplay {
        switch state {
        case .running(let mode):
            return StatusDisplay(
                protected: true, headline: .statusProtected,
                detail: mode == .qa ? .statusRunningQaDetail : .statusRunningDetail, count: sightingsToday,
                advice: notificationsAllowed ? nil : .notifications)
        case .stopped:
            return StatusDisplay(
                protected: false, headline: .statusNotProtected, detail: .statusStoppedDetail, fix: .startProtection)
        case .bluetoothOff:
            // iOS offers apps no way to the Bluetooth switch; the text says where it is.
            return StatusDisplay(protected: false, headline: .statusNotProtected, detail: .statusBluetoothOffDetail)
        case .permissionMissing:
            // One Bluetooth permission covers scanning, advertising and connecting on iOS.
            return StatusDisplay(
                protected: false, headline: .statusNotProtected, detail: .statusPermissionDetail,
                fix: .bluetoothPermission)
        case .failing:
            // The platform's own message is English and technical: the QA screen shows it, not this one.
            return StatusDisplay(protected: false, headline: .statusNotProtected, detail: .statusFailingDetail)
        }
    }
}

@MainActor
final class StatusViewModel: ObservableObject {
    @Published private(set) var display: StatusDisplay
    @Published private(set) var lastSync: Date? = nil
    @Published private(set) var syncing = false
    @Published private(set) var lastOutcome: SyncOutcome? = nil

    private let phone: PhoneControl
    private let sync: SyncCoordinator
    private var sightingsToday: UInt64
    private var notificationsAllowed = true
    /// "Turn on protection" (PhoneHost.setProtection).
    var onStartProtection: (() -> Void)?

    init(phone: PhoneControl, sync: SyncCoordinator) {
        self.phone = phone
        self.sync = sync
        sightingsToday = phone.counters().sightingsToday
        display = StatusDisplay.of(phone.state(), sightingsToday: sightingsToday, notificationsAllowed: true)
        lastSync = sync.lastSync
    }

    /// Reads the phone again (the app came to the foreground, or its listener said something changed).
    func refresh() {
        sightingsToday = phone.counters().sightingsToday
        lastSync = sync.lastSync
        update()
    }

    /// The phone's listener reported a finished scan window.
    func sightingsRecorded(today: UInt64) {
        sightingsToday = today
        update()
    }

    /// Whether the user lets the app post notifications (read when the app comes to the foreground).
    func setNotificationsAllowed(_ allowed: Bool) {
        notificationsAllowed = allowed
        update()
    }

    func startProtection() {
        onStartProtection?()
        refresh()
    }

    /// "Check now": downloads published keys and matches them, as the background task does.
    func checkNow() async {
        guard !syncing else { return }
        syncing = true
        lastOutcome = await sync.run()
        syncing = false
        lastSync = sync.lastSync
    }

    private func update() {
        display = StatusDisplay.of(
            phone.state(), sightingsToday: sightingsToday, notificationsAllowed: notificationsAllowed)
    }
}
