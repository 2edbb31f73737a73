// What the app is built with (the key server, the keys that sign its exports and those that seal uploads to
// it), what it remembers between launches (preferences), and which phone it is (for the core's BLE
// calibration).

import Foundation
import OpenZoneCore

enum AppConfig {
    /// The key server (`OpenZoneKeyServerURL` in Info.plist, set in project.yml); none while it is empty.
    static func keyServerURL(bundle: Bundle = .main) -> String? {
        let text = (bundle.object(forInfoDictionaryKey: "OpenZoneKeyServerURL") as? String)?
            .trimmingCharacters(in: .whitespaces) ?? ""
        return text.isEmpty ? nil : text
    }

    /// The school's health officer's number for the Exposure screen (`OpenZoneSchoolHealthOfficer` in
    /// Info.plist, set for each deployment); none while it is empty.
    static func healthContacts(bundle: Bundle = .main) -> HealthContacts {
        let officer = (bundle.object(forInfoDictionaryKey: "OpenZoneSchoolHealthOfficer") as? String)?
            .trimmingCharacters(in: .whitespaces) ?? ""
        return HealthContacts(schoolHealthOfficer: officer.isEmpty ? nil : officer)
    }

    /// The public keys that sign published exports, pinned in the app (`ExportKeys.json`: an array of
    /// `{"keyId", "version", "pem"}`).
    static func exportKeys(bundle: Bundle = .main) -> [ExportPublicKey] {
        guard let url = bundle.url(forResource: "ExportKeys", withExtension: "json"),
              let data = try? Data(contentsOf: url),
              let keys = try? JSONDecoder().decode([PinnedKey].self, from: data) else { return [] }
        return keys.map { ExportPublicKey(keyId: $0.keyId, version: $0.version, pem: $0.pem) }
    }

    /// The key server's X25519 upload sealing keys (base64), pinned in the app (`OpenZoneUploadSealingKeys`
    /// in Info.plist, set in project.yml): the current one, then the next during a rotation. None: the key
    /// the server's `/v1/config` announces is used.
    static func uploadSealingKeys(bundle: Bundle = .main) -> [String] {
        (bundle.object(forInfoDictionaryKey: "OpenZoneUploadSealingKeys") as? [String] ?? [])
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    private struct PinnedKey: Decodable {
        let keyId: String
        let version: String
        let pem: String
    }

    /// This phone for the core's calibration table: `utsname.machine` (`iPhone14,5`), the identifier
    /// Apple's own tables use; the simulator reports the model it simulates.
    static func deviceModel() -> DeviceModel {
        var system = utsname()
        uname(&system)
        let machine = withUnsafeBytes(of: &system.machine) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        let identifier = ProcessInfo.processInfo.environment["SIMULATOR_MODEL_IDENTIFIER"] ?? machine
        return DeviceModel(manufacturer: "Apple", device: identifier, model: identifier)
    }

    /// The app's private directory for the store: Application Support/OpenZone, excluded from backups
    /// (the data key never leaves the phone, so a backup could not be read anyway) and readable after
    /// the first unlock (a relaunch in the background must open it).
    static func dataDirectory(fileManager: FileManager = .default) throws -> URL {
        var url = try fileManager.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("OpenZone", isDirectory: true)
        try fileManager.createDirectory(
            at: url, withIntermediateDirectories: true,
            attributes: [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication])
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try url.setResourceValues(values)
        return url
    }

    /// Whether the app runs as the host of the unit tests (nothing starts then).
    static var isRunningTests: Bool {
        ProcessInfo.processInfo.environment["XCTestConfigurationFilePath"] != nil
    }
}

/// The app's languages; Vietnamese unless the user chose English.
enum AppLanguage: String, CaseIterable, Identifiable {
    case vietnamese = "vi"
    case english = "en"

    var id: String { rawValue }
}

/// What the app remembers between launches, in UserDefaults.
final class AppPreferences {
    private let defaults: UserDefaults

    init(defaults: UserDefaults = .standard) {
        self.defaults = defaults
    }

    private enum Key {
        static let onboarded = "onboardingDone"
        static let language = "language"
        static let lastSync = "lastSync"
        static let protectionPaused = "protectionPaused"
        static let qaMode = "qaMode"
    }

    /// The user finished onboarding (and agreed): the radio starts at every launch.
    var onboardingDone: Bool {
        get { defaults.bool(forKey: Key.onboarded) }
        set { defaults.set(newValue, forKey: Key.onboarded) }
    }

    var language: AppLanguage {
        get { defaults.string(forKey: Key.language).flatMap(AppLanguage.init(rawValue:)) ?? .vietnamese }
        set { defaults.set(newValue.rawValue, forKey: Key.language) }
    }

    /// The user turned protection off in Settings.
    var protectionPaused: Bool {
        get { defaults.bool(forKey: Key.protectionPaused) }
        set { defaults.set(newValue, forKey: Key.protectionPaused) }
    }

    /// Continuous scanning for testers.
    var qaMode: Bool {
        get { defaults.bool(forKey: Key.qaMode) }
        set { defaults.set(newValue, forKey: Key.qaMode) }
    }

    var lastSync: Date? {
        get { defaults.object(forKey: Key.lastSync) as? Date }
        set { defaults.set(newValue, forKey: Key.lastSync) }
    }
}
