// The at-risk notification, in the app's language, saying nothing about who or where. Which days to notify
// of is the core's rule (once per day that becomes at risk, remembered across launches, whichever sync
// found it); the phone's listener (PhoneEvents) hands each such day here, on the core's thread.

import Foundation
import OpenZoneCore
import UserNotifications

/// Posts the at-risk notification for a day the core announced.
protocol RiskNotifying: AnyObject {
    /// Called on the core's thread, before the core records the day as told: post at once rather than
    /// queue work that a suspended or killed app would lose (a crash in between repeats a notification
    /// rather than losing one).
    func notifyAtRisk(day: DayExposure)
}

final class LocalRiskNotifier: RiskNotifying, @unchecked Sendable {
    static let identifier = "org.openzone.app.at-risk"
    /// Read on the core's thread: UserDefaults is thread-safe.
    private let preferences: AppPreferences

    init(preferences: AppPreferences) {
        self.preferences = preferences
    }

    func notifyAtRisk(day: DayExposure) {
        let l10n = L10n(language: preferences.language)
        let content = UNMutableNotificationContent()
        content.title = l10n[.notificationAtRiskTitle]
        content.body = l10n[.notificationAtRiskBody]
        content.sound = .default
        // One notification, replaced by the next: the lock screen never lists days.
        let request = UNNotificationRequest(identifier: Self.identifier, content: content, trigger: nil)
        UNUserNotificationCenter.current().add(request, withCompletionHandler: nil)
    }

    static func requestAuthorization() async -> Bool {
        (try? await UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound, .badge]))
            ?? false
    }
}
