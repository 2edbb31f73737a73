// The Settings screen, as on Android: language, protection on or off, QA mode, and "delete my data" with a
// confirmation; the way to the QA screen.

import Foundation
import OpenZoneCore

@MainActor
final class SettingsViewModel: ObservableObject {
    /// Where the deletion stands.
    enum Deletion: Equatable {
        case idle
        case confirming
        case done
        case failed(String)
    }

    @Published var language: AppLanguage {
        didSet {
            preferences.language = language
            strings.use(language)
        }
    }
    @Published var protectionOn: Bool {
        didSet {
            guard protectionOn != oldValue, !reflecting else { return }
            onProtectionChanged?(protectionOn)
        }
    }
    @Published var qaMode: Bool {
        didSet {
            preferences.qaMode = qaMode
            engine.setQaMode(on: qaMode)
        }
    }
    @Published private(set) var deletion: Deletion = .idle

    private let engine: EngineControl
    private let preferences: AppPreferences
    private let strings: Strings
    /// Set while the switch reflects a change made elsewhere (which must not be applied again).
    private var reflecting = false
    /// Applies protection on or off (EngineHost.setProtection: the engine and the radio).
    var onProtectionChanged: ((Bool) -> Void)?
    /// Called after the data was deleted (the other screens reload).
    var onDeletedData: (() -> Void)?

    init(engine: EngineControl, preferences: AppPreferences, strings: Strings) {
        self.engine = engine
        self.preferences = preferences
        self.strings = strings
        language = preferences.language
        protectionOn = !preferences.protectionPaused
        qaMode = preferences.qaMode
    }

    /// Protection was turned on from elsewhere (the Status screen's button).
    func protectionChanged(on: Bool) {
        reflecting = true
        protectionOn = on
        reflecting = false
    }

    func requestDeletion() {
        deletion = .confirming
    }

    func cancelDeletion() {
        deletion = .idle
    }

    /// Deletes everything the phone recorded and its keys (the core rotates to a fresh identifier), and
    /// forgets which days the user was notified of.
    func confirmDeletion() {
        guard deletion == .confirming else { return }
        do {
            try engine.deleteAllData()
            preferences.notifiedDays = []
            deletion = .done
            onDeletedData?()
        } catch {
            deletion = .failed(ErrorText.message(error))
        }
    }
}
