// Owns the phone for the app's lifetime: opens it with the data key from the Keychain, wires it to the
// CoreBluetooth platform, to the screens and to the at-risk notification, starts the radio after onboarding
// (and at every launch after that, which is also how iOS's Bluetooth state restoration finds its managers
// again), and tells it when the app comes and goes from the screen.

import Foundation
import OpenZoneCore
import UIKit
import UserNotifications

/// The screens' view models, for one opened phone.
@MainActor
final class AppSession {
    let status: StatusViewModel
    let exposure: ExposureViewModel
    let report: PositiveReportViewModel
    let settings: SettingsViewModel
    let qa: QAViewModel
    let sync: SyncCoordinator

    init(phone: PhoneControl, host: PhoneHost) {
        sync = SyncCoordinator(phone: phone, preferences: host.preferences)
        status = StatusViewModel(phone: phone, sync: sync)
        exposure = ExposureViewModel(phone: phone, contacts: AppConfig.healthContacts())
        report = PositiveReportViewModel(phone: phone, keyServerConfigured: AppConfig.keyServerURL() != nil)
        let keyStore = host.keyStore
        settings = SettingsViewModel(
            phone: phone, preferences: host.preferences, strings: host.strings,
            replaceDataKey: { try keyStore.replace() })
        let platform = host.platform
        qa = QAViewModel(
            phone: phone, bluetooth: { platform.diagnostics() }, live: { platform.liveSightings() },
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

    /// Reads the phone again (the app came to the foreground).
    func refresh() {
        status.refresh()
        exposure.load()
    }
}

@MainActor
final class PhoneHost: ObservableObject, OnboardingActions {
    @Published private(set) var session: AppSession? = nil
    /// Why the phone could not be opened (the Keychain is locked, the store is damaged or its key lost).
    @Published private(set) var startupError: String? = nil
    /// Whether starting afresh can help: the store's key is wrong or the store is damaged (not when the
    /// Keychain is merely locked before the first unlock, when waiting is the fix).
    @Published private(set) var canResetStore = false
    @Published private(set) var onboardingDone: Bool

    let strings: Strings
    let preferences: AppPreferences
    let platform: IOSBlePlatform
    private(set) lazy var syncScheduler = SyncScheduler(coordinator: { [weak self] in self?.session?.sync })
    /// The store's data key ("delete my data" replaces it).
    let keyStore = DataKeyStore()
    private var phone: OpenZonePhone?
    private var radioStarted = false
    private var foreground = false

    init(preferences: AppPreferences = AppPreferences(), platform: IOSBlePlatform = .make()) {
        self.preferences = preferences
        self.platform = platform
        strings = Strings(language: preferences.language)
        onboardingDone = preferences.onboardingDone
    }

    /// At launch (also when iOS relaunches the app in the background for a Bluetooth event or a
    /// background task): opens the phone, and starts the radio if the user already went through
    /// onboarding, recreating the Bluetooth managers with their restore identifiers. `foreground`: the
    /// app opens on screen (SwiftUI reports only later changes of the scene phase).
    func launch(foreground isForeground: Bool) {
        foreground = isForeground
        openPhone()
        if onboardingDone {
            startRadio()
        }
        syncScheduler.schedule()
    }

    /// The app came to the screen (true) or left it.
    func setForeground(_ isForeground: Bool) {
        foreground = isForeground
        phone?.setForeground(foreground: isForeground)
        platform.setForeground(isForeground)
        if isForeground {
            session?.refresh()
            Task { await refreshNotificationSetting() }
        }
    }

    /// Protection on or off (Settings, or the Status screen's button): the phone's radio and CoreBluetooth
    /// together. Off, nothing is advertised, scanned or connected, even in the background.
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
                phone?.stop()
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
        guard phone == nil else { return }
        if let directory = try? AppConfig.dataDirectory() {
            try? FileManager.default.removeItem(at: directory)
        }
        try? keyStore.delete()
        openPhone()
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
        guard let phone, !radioStarted, !preferences.protectionPaused else { return }
        radioStarted = true
        platform.activateRadio()
        phone.setQaMode(on: preferences.qaMode)
        phone.start()
        phone.setForeground(foreground: foreground)
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

    // MARK: Phone

    private func openPhone() {
        do {
            let settings = PhoneSettings(
                dataDir: try AppConfig.dataDirectory().path,
                dataKey: try keyStore.loadOrCreate(),
                scheme: .enV1,
                device: AppConfig.deviceModel(),
                riskConfigJson: nil,
                keyServerUrl: AppConfig.keyServerURL(),
                exportKeys: AppConfig.exportKeys(),
                uploadSealingKeys: AppConfig.uploadSealingKeys())
            let events = PhoneEvents(host: self, notifier: LocalRiskNotifier(preferences: preferences))
            let phone = try OpenZonePhone(settings: settings, platform: platform, listener: events, clock: nil)
            platform.attach(phone: phone)
            self.phone = phone
            session = AppSession(phone: phone, host: self)
            startupError = nil
            canResetStore = false
        } catch {
            phone = nil
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

    fileprivate func radioStateChanged() {
        session?.status.refresh()
    }

    fileprivate func sightingsRecorded(today: UInt64) {
        session?.status.sightingsRecorded(today: today)
    }
}

/// The phone's listener: called on the core's threads. Screen updates are handed to the main actor, where
/// the state is read again rather than passed along, so that reports arriving out of order cannot leave a
/// stale state shown. A day at risk is notified at once, on the core's thread (RiskNotifying says why).
final class PhoneEvents: PhoneListener, @unchecked Sendable {
    private weak var host: PhoneHost?
    private let notifier: RiskNotifying

    init(host: PhoneHost?, notifier: RiskNotifying) {
        self.host = host
        self.notifier = notifier
    }

    func dayAtRisk(day: DayExposure) {
        notifier.notifyAtRisk(day: day)
    }

    func presenceWarning(warning: PresenceWarningInfo) {
        // A check-in overlapped a confirmed case (once per check-in and day, the core's rule). The app has
        // no check-in screens yet; their notification goes here.
    }

    func syncProgress(done: UInt32, total: UInt32) {
        // A sync runs in a background task, or behind the Status screen's "checking" spinner: no progress bar.
    }

    func stateChanged(state: EngineState) {
        Task { @MainActor [weak host = self.host] in host?.radioStateChanged() }
    }

    func sightingsRecorded(today: UInt64) {
        Task { @MainActor [weak host = self.host] in host?.sightingsRecorded(today: today) }
    }

    func error(message: String) {
        // Errors the user can act on (a full disk, a damaged store) show through the state; kept for the
        // debugger, without personal data (the core's messages carry none).
        NSLog("OpenZone phone: %@", message)
    }
}
