// Owns the engine for the app's lifetime: opens it with the data key from the Keychain, wires it to the
// CoreBluetooth platform and to the screens, starts the radio after onboarding (and at every launch after
// that, which is also how iOS's Bluetooth state restoration finds its managers again), and tells it when
// the app comes and goes from the screen.

import Foundation
import OpenZoneCore
import UIKit
import UserNotifications

/// The screens' view models, for one opened engine.
@MainActor
final class AppSession {
    let status: StatusViewModel
    let exposure: ExposureViewModel
    let report: PositiveReportViewModel
    let settings: SettingsViewModel
    let qa: QAViewModel
    let sync: SyncCoordinator

    init(engine: EngineControl, host: EngineHost) {
        sync = SyncCoordinator(
            engine: engine,
            notifier: LocalRiskNotifier(strings: { [weak host] in host?.strings.l10n ?? L10n(language: .vietnamese) }),
            preferences: host.preferences)
        status = StatusViewModel(engine: engine, sync: sync)
        exposure = ExposureViewModel(engine: engine, contacts: AppConfig.healthContacts())
        report = PositiveReportViewModel(engine: engine, keyServerConfigured: AppConfig.keyServerURL() != nil)
        settings = SettingsViewModel(engine: engine, preferences: host.preferences, strings: host.strings)
        let platform = host.platform
        qa = QAViewModel(
            engine: engine, bluetooth: { platform.diagnostics() }, live: { platform.liveSightings() },
            device: AppConfig.deviceModel(),
            appVersion: Bundle.main.object(forInfoDictionaryKey: "CFBundleShortVersionString") as? String ?? "?",
            systemVersion: UIDevice.current.systemVersion)
        let exposureModel = exposure
        let statusModel = status
        sync.onSynced = { exposureModel.load() }
        settings.onDeletedData = {
            exposureModel.load()
            statusModel.refresh()
        }
        settings.onProtectionChanged = { [weak host] on in host?.setProtection(on) }
        status.onStartProtection = { [weak host] in host?.setProtection(true) }
    }

    /// Reads the engine again (the app came to the foreground).
    func refresh() {
        status.refresh()
        exposure.load()
    }
}

@MainActor
final class EngineHost: ObservableObject, OnboardingActions {
    @Published private(set) var session: AppSession? = nil
    /// Why the engine could not be opened (the Keychain is locked, the store is damaged or its key lost).
    @Published private(set) var startupError: String? = nil
    /// Whether starting afresh can help: the store's key is wrong or the store is damaged (not when the
    /// Keychain is merely locked before the first unlock, when waiting is the fix).
    @Published private(set) var canResetStore = false
    @Published private(set) var onboardingDone: Bool

    let strings: Strings
    let preferences: AppPreferences
    let platform: IOSBlePlatform
    private(set) lazy var syncScheduler = SyncScheduler(coordinator: { [weak self] in self?.session?.sync })
    private let keyStore = DataKeyStore()
    private var engine: OpenZoneEngine?
    private var radioStarted = false
    private var foreground = false

    init(preferences: AppPreferences = AppPreferences(), platform: IOSBlePlatform = .make()) {
        self.preferences = preferences
        self.platform = platform
        strings = Strings(language: preferences.language)
        onboardingDone = preferences.onboardingDone
    }

    /// At launch (also when iOS relaunches the app in the background for a Bluetooth event or a
    /// background task): opens the engine, and starts the radio if the user already went through
    /// onboarding, recreating the Bluetooth managers with their restore identifiers. `foreground`: the
    /// app opens on screen (SwiftUI reports only later changes of the scene phase).
    func launch(foreground isForeground: Bool) {
        foreground = isForeground
        openEngine()
        if onboardingDone {
            startRadio()
        }
        syncScheduler.schedule()
    }

    /// The app came to the screen (true) or left it.
    func setForeground(_ isForeground: Bool) {
        foreground = isForeground
        engine?.setForeground(foreground: isForeground)
        platform.setForeground(isForeground)
        if isForeground {
            session?.refresh()
            Task { await refreshNotificationSetting() }
        }
    }

    /// Protection on or off (Settings, or the Status screen's button): the engine and the radio together.
    /// Off, nothing is advertised, scanned or connected, even in the background.
    func setProtection(_ on: Bool) {
        preferences.protectionPaused = !on
        session?.settings.protectionChanged(on: on)
        if on {
            platform.setPaused(false)
            if onboardingDone {
                startRadio()
            }
        } else {
            if radioStarted {
                engine?.stop()
                radioStarted = false
            }
            platform.setPaused(true)
        }
        session?.status.refresh()
    }

    /// Whether notifications are allowed, for the Status screen's advice.
    func refreshNotificationSetting() async {
        let settings = await UNUserNotificationCenter.current().notificationSettings()
        let allowed = settings.authorizationStatus == .authorized || settings.authorizationStatus == .provisional
        session?.status.setNotificationsAllowed(allowed)
    }

    /// After a failed start (the store's key was lost with a restored backup, or the store is damaged):
    /// deletes the store and its key, and starts afresh.
    func resetStore() {
        guard engine == nil else { return }
        if let directory = try? AppConfig.dataDirectory() {
            try? FileManager.default.removeItem(at: directory)
        }
        try? keyStore.delete()
        preferences.notifiedDays = []
        openEngine()
        if onboardingDone {
            startRadio()
        }
    }

    /// The app's language (onboarding and Settings).
    func setLanguage(_ language: AppLanguage) {
        preferences.language = language
        strings.use(language)
        if session?.settings.language != language {
            session?.settings.language = language
        }
    }

    // MARK: OnboardingActions

    func startRadio() {
        guard let engine, !radioStarted, !preferences.protectionPaused else { return }
        radioStarted = true
        platform.activateRadio()
        engine.setQaMode(on: preferences.qaMode)
        engine.start()
        engine.setForeground(foreground: foreground)
        platform.setForeground(foreground)
    }

    func requestNotifications() async {
        _ = await LocalRiskNotifier.requestAuthorization()
    }

    func finishOnboarding() {
        preferences.onboardingDone = true
        onboardingDone = true
        session?.refresh()
        Task { await refreshNotificationSetting() }
    }

    // MARK: Engine

    private func openEngine() {
        do {
            let settings = EngineSettings(
                dataDir: try AppConfig.dataDirectory().path,
                dataKey: try keyStore.loadOrCreate(),
                scheme: .enV1,
                device: AppConfig.deviceModel(),
                riskConfigJson: nil,
                keyServerUrl: AppConfig.keyServerURL(),
                exportKeys: AppConfig.exportKeys())
            let engine = try OpenZoneEngine(
                settings: settings, platform: platform, listener: EngineEvents(host: self), clock: nil)
            platform.attach(engine: engine)
            self.engine = engine
            session = AppSession(engine: engine, host: self)
            startupError = nil
            canResetStore = false
        } catch {
            engine = nil
            session = nil
            startupError = ErrorText.message(error)
            switch error as? OpenZoneError {
            case .some(.WrongDataKey), .some(.Storage):
                canResetStore = true
            default:
                canResetStore = false
            }
        }
    }

    fileprivate func engineChanged() {
        session?.status.refresh()
    }

    fileprivate func sightingsRecorded(today: UInt64) {
        session?.status.sightingsRecorded(today: today)
    }
}

/// The engine's listener: called on the core's threads, handed to the main actor. The state is read again
/// there rather than passed along, so that reports arriving out of order cannot leave a stale state shown.
private final class EngineEvents: EngineListener, @unchecked Sendable {
    private weak var host: EngineHost?

    init(host: EngineHost) {
        self.host = host
    }

    func stateChanged(state: EngineState) {
        Task { @MainActor [weak host = self.host] in host?.engineChanged() }
    }

    func sightingsRecorded(today: UInt64) {
        Task { @MainActor [weak host = self.host] in host?.sightingsRecorded(today: today) }
    }

    func error(message: String) {
        // Errors the user can act on (a full disk, a damaged store) show through the state; kept for the
        // debugger, without personal data (the core's messages carry none).
        NSLog("OpenZone engine: %@", message)
    }
}
