// Syncing with the key server in the background, and telling the user when a day becomes at risk.
//
// - SyncCoordinator runs one sync (`engine.sync()`: download new exports, check them on the core's runtime)
//   and decides which days to notify of: at-risk days not notified before (RiskNotificationPolicy).
// - SyncScheduler registers two BGTaskScheduler tasks: an app refresh every 6 hours at the earliest (about
//   30 s of running time: enough for a day's exports), and a processing task iOS runs when it suits it
//   (often at night, minutes of running time: catches up after days offline). iOS decides when either runs, and runs
//   neither after the user swiped the app away.
// - LocalRiskNotifier posts the notification, in the app's language, saying nothing about who or where.

import BackgroundTasks
import Foundation
import OpenZoneCore
import UserNotifications

enum SyncOutcome: Equatable {
    /// Synced: the days at risk now, and those the user was just notified of.
    case synced(atRisk: [String], notified: [String])
    case failed(String)

    var succeeded: Bool {
        if case .synced = self { return true }
        return false
    }
}

/// When to notify, as on Android: once per day that becomes at risk within the watch period (the last 14
/// days), never again for the same day.
enum RiskNotificationPolicy {
    static let watchDays = 14

    /// The at-risk days of the watch period the user has not been notified of yet, oldest first. `today`:
    /// the user's calendar day, `YYYY-MM-DD` (such days sort as text).
    static func daysToNotify(_ days: [DayExposure], alreadyNotified: Set<String>, today: String) -> [String] {
        let first = CalendarDay.adding(-watchDays, to: today) ?? today
        return Set(days.filter { $0.atRisk && $0.date >= first && $0.date <= today }.map(\.date))
            .subtracting(alreadyNotified).sorted()
    }

    /// The notified days after notifying `new`, without those out of the watch period (the set stays small).
    static func remember(_ new: [String], in notified: Set<String>, today: String) -> Set<String> {
        let first = CalendarDay.adding(-watchDays, to: today) ?? today
        return notified.union(new).filter { $0 >= first }
    }
}

/// Posts the at-risk notification.
@MainActor
protocol RiskNotifying: AnyObject {
    func notifyAtRisk(days: [String]) async
}

@MainActor
final class SyncCoordinator {
    private let engine: EngineControl
    private let notifier: RiskNotifying
    private let preferences: AppPreferences
    private let now: () -> Date
    private let calendar: Calendar
    /// Called after a successful sync (the Exposure screen reloads).
    var onSynced: (() -> Void)?

    init(engine: EngineControl, notifier: RiskNotifying, preferences: AppPreferences,
         now: @escaping () -> Date = { Date() }, calendar: Calendar = .current) {
        self.engine = engine
        self.notifier = notifier
        self.preferences = preferences
        self.now = now
        self.calendar = calendar
    }

    var lastSync: Date? {
        preferences.lastSync
    }

    func run() async -> SyncOutcome {
        do {
            let days = try await engine.sync()
            let moment = now()
            preferences.lastSync = moment
            let today = CalendarDay.of(moment, in: calendar)
            let fresh = RiskNotificationPolicy.daysToNotify(days, alreadyNotified: preferences.notifiedDays, today: today)
            if !fresh.isEmpty {
                await notifier.notifyAtRisk(days: fresh)
            }
            preferences.notifiedDays = RiskNotificationPolicy.remember(fresh, in: preferences.notifiedDays, today: today)
            onSynced?()
            return .synced(atRisk: days.filter(\.atRisk).map(\.date).sorted(), notified: fresh)
        } catch {
            return .failed(ErrorText.message(error))
        }
    }
}

final class SyncScheduler {
    /// Listed in Info.plist's BGTaskSchedulerPermittedIdentifiers (project.yml).
    static let refreshIdentifier = "org.openzone.app.sync"
    static let processingIdentifier = "org.openzone.app.sync-processing"
    /// Exports are published a few times a day (Android syncs every 6 hours too); iOS decides when, in the end.
    static let refreshInterval: TimeInterval = 6 * 3600
    static let processingInterval: TimeInterval = 12 * 3600

    private let coordinator: @MainActor () -> SyncCoordinator?

    init(coordinator: @escaping @MainActor () -> SyncCoordinator?) {
        self.coordinator = coordinator
    }

    /// Registers the task handlers; must run before the app finishes launching.
    func register() {
        for identifier in [Self.refreshIdentifier, Self.processingIdentifier] {
            _ = BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { [weak self] task in
                guard let self else {
                    task.setTaskCompleted(success: false)
                    return
                }
                self.handle(task)
            }
        }
    }

    /// Asks iOS for the next runs (a new request replaces the pending one with the same identifier).
    func schedule() {
        let refresh = BGAppRefreshTaskRequest(identifier: Self.refreshIdentifier)
        refresh.earliestBeginDate = Date(timeIntervalSinceNow: Self.refreshInterval)
        let processing = BGProcessingTaskRequest(identifier: Self.processingIdentifier)
        processing.requiresNetworkConnectivity = true
        processing.requiresExternalPower = false
        processing.earliestBeginDate = Date(timeIntervalSinceNow: Self.processingInterval)
        for request in [refresh, processing] as [BGTaskRequest] {
            // Fails on the simulator and when background refresh is off; the next launch tries again.
            try? BGTaskScheduler.shared.submit(request)
        }
    }

    private func handle(_ task: BGTask) {
        schedule()
        let completion = TaskCompletion(task)
        // iOS ends the app soon after this; the core's work stops with it and resumes at the next sync
        // (exports already checked are not checked again).
        task.expirationHandler = {
            completion.complete(success: false)
        }
        let coordinator = self.coordinator
        Task { @MainActor in
            guard let sync = coordinator() else {
                completion.complete(success: false)
                return
            }
            let outcome = await sync.run()
            completion.complete(success: outcome.succeeded)
        }
    }
}

/// Completes a background task once, whichever of the work and the expiration comes first.
final class TaskCompletion: @unchecked Sendable {
    private let lock = NSLock()
    private var task: BGTask?

    init(_ task: BGTask) {
        self.task = task
    }

    func complete(success: Bool) {
        lock.lock()
        let task = self.task
        self.task = nil
        lock.unlock()
        task?.setTaskCompleted(success: success)
    }
}

@MainActor
final class LocalRiskNotifier: RiskNotifying {
    static let identifier = "org.openzone.app.at-risk"
    private let strings: @MainActor () -> L10n

    init(strings: @escaping @MainActor () -> L10n) {
        self.strings = strings
    }

    func notifyAtRisk(days: [String]) async {
        let l10n = strings()
        let content = UNMutableNotificationContent()
        content.title = l10n[.notificationAtRiskTitle]
        content.body = l10n[.notificationAtRiskBody]
        content.sound = .default
        // One notification, replaced by the next: the lock screen never lists days.
        let request = UNNotificationRequest(identifier: Self.identifier, content: content, trigger: nil)
        try? await UNUserNotificationCenter.current().add(request)
    }

    static func requestAuthorization() async -> Bool {
        (try? await UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound, .badge]))
            ?? false
    }
}
