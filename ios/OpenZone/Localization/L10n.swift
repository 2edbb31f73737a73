// The app's texts in the language the user chose (Vietnamese by default), whatever the phone's language.
// Every key the code uses is a case of L10nKey, so LocalizationTests can check that both Localizable.strings
// files have all of them. The Bluetooth permission text is in InfoPlist.strings: iOS shows it in the
// phone's language.

import Foundation
import OpenZoneCore
import SwiftUI

enum L10nKey: String, CaseIterable {
    // Common
    case commonContinue = "common.continue"
    case commonBack = "common.back"
    case commonCancel = "common.cancel"
    case commonOpenSettings = "common.openSettings"
    case commonYes = "common.yes"
    case commonNo = "common.no"

    // Navigation
    case navStatus = "nav.status"
    case navExposure = "nav.exposure"
    case navPositive = "nav.positive"
    case navSettings = "nav.settings"
    case navQa = "nav.qa"

    // Onboarding
    case onboardingWelcomeTitle = "onboarding.welcome.title"
    case onboardingWelcomeBody = "onboarding.welcome.body"
    case onboardingPrivacyTitle = "onboarding.privacy.title"
    case onboardingCollectsTitle = "onboarding.collects.title"
    case onboardingCollectsEncounters = "onboarding.collects.encounters"
    case onboardingCollectsKeys = "onboarding.collects.keys"
    case onboardingNotCollectedTitle = "onboarding.notCollected.title"
    case onboardingNotCollected = "onboarding.notCollected"
    case onboardingConsentTitle = "onboarding.consent.title"
    case onboardingConsentBody = "onboarding.consent.body"
    case onboardingConsentCheck = "onboarding.consent.check"
    case onboardingBluetoothTitle = "onboarding.bluetooth.title"
    case onboardingBluetoothBody = "onboarding.bluetooth.body"
    case onboardingBluetoothScan = "onboarding.bluetooth.scan"
    case onboardingBluetoothAdvertise = "onboarding.bluetooth.advertise"
    case onboardingBluetoothConnect = "onboarding.bluetooth.connect"
    case onboardingBluetoothIphone = "onboarding.bluetooth.iphone"
    case onboardingNotificationsTitle = "onboarding.notifications.title"
    case onboardingNotificationsBody = "onboarding.notifications.body"
    case onboardingDoneTitle = "onboarding.done.title"
    case onboardingDoneBody = "onboarding.done.body"
    case onboardingGrant = "onboarding.grant"

    // Status
    case statusProtected = "status.protected"
    case statusNotProtected = "status.notProtected"
    case statusRunningDetail = "status.running.detail"
    case statusRunningQaDetail = "status.running.qa.detail"
    case statusStoppedDetail = "status.stopped.detail"
    case statusBluetoothOffDetail = "status.bluetoothOff.detail"
    case statusPermissionDetail = "status.permission.detail"
    case statusFailingDetail = "status.failing.detail"
    case statusLastSync = "status.lastSync"
    case statusNeverSynced = "status.neverSynced"
    case statusCheckNow = "status.checkNow"
    case statusChecking = "status.checking"
    case statusSyncFailed = "status.syncFailed"
    case fixStart = "fix.start"
    case fixBluetoothPermission = "fix.bluetoothPermission"
    case adviceNotifications = "advice.notifications"
    case fixNotifications = "fix.notifications"
    case startupTitle = "startup.title"
    case startupReset = "startup.reset"

    // Exposure
    case exposureTitle = "exposure.title"
    case exposureNoneHeadline = "exposure.none.headline"
    case exposureNoneDetail = "exposure.none.detail"
    case exposureLowHeadline = "exposure.low.headline"
    case exposureLowDetail = "exposure.low.detail"
    case exposureAtRiskHeadline = "exposure.atRisk.headline"
    case exposureAtRiskDetail = "exposure.atRisk.detail"
    case exposureDayAtRisk = "exposure.day.atRisk"
    case exposureDayLow = "exposure.day.low"
    case exposureDayMinutes = "exposure.day.minutes"
    case exposureDayEstimated = "exposure.day.estimated"
    case proximityImmediate = "proximity.immediate"
    case proximityNear = "proximity.near"
    case proximityMedium = "proximity.medium"
    case proximityFar = "proximity.far"
    case exposureNextTitle = "exposure.next.title"
    case exposureStepWatch = "exposure.step.watch"
    case exposureStepTellSchool = "exposure.step.tellSchool"
    case exposureStepSymptoms = "exposure.step.symptoms"
    case exposureStepPrivate = "exposure.step.private"
    case exposureStepKeepOn = "exposure.step.keepOn"
    case exposureWhoToCall = "exposure.whoToCall"
    case contactHotline = "contact.hotline"
    case contactSchool = "contact.school"
    case exposureError = "exposure.error"

    // Report positive
    case positiveTitle = "positive.title"
    case positiveIntro = "positive.intro"
    case positiveCode = "positive.code"
    case positiveOnset = "positive.onset"
    case positiveNoSymptoms = "positive.noSymptoms"
    case positiveConsent = "positive.consent"
    case positiveSubmit = "positive.submit"
    case errorCodeFormat = "error.codeFormat"
    case errorDateFuture = "error.dateFuture"
    case errorDateTooOld = "error.dateTooOld"
    case errorConsent = "error.consent"
    case positiveSending = "positive.sending"
    case positiveSent = "positive.sent"
    case positiveErrorNetwork = "positive.error.network"
    case positiveErrorNotConfigured = "positive.error.notConfigured"
    case positiveErrorOther = "positive.error.other"

    // Settings
    case settingsTitle = "settings.title"
    case settingsLanguage = "settings.language"
    case languageVi = "language.vi"
    case languageEn = "language.en"
    case settingsProtection = "settings.protection"
    case settingsProtectionDetail = "settings.protection.detail"
    case settingsDelete = "settings.delete"
    case settingsDeleteConfirm = "settings.delete.confirm"
    case settingsDeleteYes = "settings.delete.yes"
    case settingsDeleted = "settings.deleted"
    case settingsDeleteFailed = "settings.delete.failed"
    case settingsQa = "settings.qa"
    case settingsQaDetail = "settings.qa.detail"
    case settingsVersion = "settings.version"

    // QA
    case qaTitle = "qa.title"
    case qaIdentifier = "qa.identifier"
    case qaNoIdentifier = "qa.noIdentifier"
    case qaLive = "qa.live"
    case qaNothingHeard = "qa.nothingHeard"
    case qaRow = "qa.row"
    case qaTxNone = "qa.txNone"
    case qaAttenuationNote = "qa.attenuationNote"
    case qaKindEn = "qa.kind.en"
    case qaKindBluezone = "qa.kind.bluezone"
    case qaKindIphone = "qa.kind.iphone"
    case qaKindOther = "qa.kind.other"
    case qaDuty = "qa.duty"
    case qaDutyRow = "qa.duty.row"
    case modeBackground = "mode.background"
    case modeForeground = "mode.foreground"
    case modeQa = "mode.qa"
    case qaCounters = "qa.counters"
    case qaBluetooth = "qa.bluetooth"
    case qaExport = "qa.export"

    // Notification
    case notificationAtRiskTitle = "notification.atRisk.title"
    case notificationAtRiskBody = "notification.atRisk.body"
}

/// Looks texts up in one language's Localizable.strings, and writes dates and shares as that language does
/// (as the Android app does: `dd/MM/yyyy` in Vietnamese, `d MMM yyyy` in English). The protocol's numbers a
/// text states, `{retention}` (days the phone keeps encounters) and `{digits}` (of a one-time code), come
/// from the core.
struct L10n {
    let language: AppLanguage
    private let bundle: Bundle

    init(language: AppLanguage, bundle: Bundle = .main) {
        self.language = language
        let path = bundle.path(forResource: language.rawValue, ofType: "lproj")
        self.bundle = path.flatMap(Bundle.init(path:)) ?? bundle
    }

    subscript(_ key: L10nKey) -> String {
        let text = bundle.localizedString(forKey: key.rawValue, value: key.rawValue, table: "Localizable")
        return Self.protocolNumbers.reduce(text) { $0.replacingOccurrences(of: $1.token, with: $1.value) }
    }

    private static let protocolNumbers: [(token: String, value: String)] = {
        let constants = protocolConstants()
        return [("{retention}", String(constants.retentionDays)), ("{digits}", String(constants.codeDigits))]
    }()

    /// A text with `%@` and `%lld` placeholders filled in.
    func format(_ key: L10nKey, _ arguments: CVarArg...) -> String {
        String(format: self[key], locale: locale, arguments: arguments)
    }

    var locale: Locale {
        Locale(identifier: language == .vietnamese ? "vi_VN" : "en_GB")
    }

    /// A calendar day (`YYYY-MM-DD`, as the core writes days) as people of this language write it.
    func day(_ day: String) -> String {
        guard let date = CalendarDay.date(day) else { return day }
        let formatter = DateFormatter()
        formatter.locale = locale
        formatter.timeZone = CalendarDay.utc
        formatter.dateFormat = language == .vietnamese ? "dd/MM/yyyy" : "d MMM yyyy"
        return formatter.string(from: date)
    }

    /// A moment, for "last checked".
    func dateTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = locale
        formatter.dateStyle = .short
        formatter.timeStyle = .short
        return formatter.string(from: date)
    }

    /// A share (0 to 1) as a percentage with one decimal, with this language's decimal separator.
    func percent(_ share: Double) -> String {
        String(format: "%.1f%%", locale: locale, share * 100)
    }
}

/// The chosen language for the views: changing it redraws them.
final class Strings: ObservableObject {
    @Published private(set) var l10n: L10n

    init(language: AppLanguage, bundle: Bundle = .main) {
        l10n = L10n(language: language, bundle: bundle)
    }

    func use(_ language: AppLanguage) {
        guard language != l10n.language else { return }
        l10n = L10n(language: language)
    }

    subscript(_ key: L10nKey) -> String {
        l10n[key]
    }

    func format(_ key: L10nKey, _ arguments: CVarArg...) -> String {
        String(format: l10n[key], locale: l10n.locale, arguments: arguments)
    }
}

/// Calendar days as `YYYY-MM-DD` strings, the form the core uses (they sort as text).
enum CalendarDay {
    static let utc = TimeZone(identifier: "UTC") ?? .current

    private static var gregorian: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        return calendar
    }

    /// The day `date` falls on in `calendar` (the user's, for what the user calls "today").
    static func of(_ date: Date, in calendar: Calendar = .current) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04ld-%02ld-%02ld", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// Midnight UTC of a day, or `nil` for text that is no day.
    static func date(_ day: String) -> Date? {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, day.count == 10 else { return nil }
        return gregorian.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }

    /// `day` moved by `days` days.
    static func adding(_ days: Int, to day: String) -> String? {
        guard let date = date(day), let moved = gregorian.date(byAdding: .day, value: days, to: date) else {
            return nil
        }
        return of(moved, in: gregorian)
    }
}
