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
            phone.setQaMode(on: qaMode)
        }
    }
    @Published private(set) var deletion: Deletion = .idle

    private let phone: PhoneControl
    private let preferences: AppPreferences
    private let strings: Strings
    /// Puts a new data key in the Keychain in place of the old one, and returns it.
    private let replaceDataKey: () throws -> Data
    /// Set while the switch reflects a change made elsewhere (which must not be applied again).
    private var reflecting = false
    /// Applies protection on or off (PhoneHost.setProtection: the phone's radio and CoreBluetooth).
    var onProtectionChanged: ((Bool) -> Void)?
    /// Called after the data was deleted (the other screens reload).
    var onDeletedData: (() -> Void)?

    init(phone: PhoneControl, preferences: AppPreferences, strings: Strings,
         replaceDataKey: @escaping () throws -> Data) {
        self.phone = phone
        self.preferences = preferences
        self.strings = strings
        self.replaceDataKey = replaceDataKey
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

    /// Deletes everything the phone recorded and its keys (the core rotates to a fresh identifier); the
    /// emptied store is sealed from now on under a new data key. Should the deletion fail after the key
    /// was replaced, the store no longer opens with it and the next launch offers to start afresh.
    func confirmDeletion() {
        guard deletion == .confirming else { return }
        do {
            try phone.deleteAllData(newDataKey: try replaceDataKey())
            deletion = .done
            onDeletedData?()
        } catch {
            deletion = .failed(ErrorText.message(error))
        }
    }
}
