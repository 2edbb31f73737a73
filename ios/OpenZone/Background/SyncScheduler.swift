// Syncing with the key server in the background.
//
// - SyncCoordinator runs one sync (`phone.sync()`: download new exports, check them on the core's runtime).
//   The core tells the phone's listener of each day that becomes at risk, once per day, while it checks
//   (PhoneEvents posts the notification through RiskNotifier): nothing here decides what to notify.
// - SyncScheduler registers two BGTaskScheduler tasks: an app refresh every 6 hours at the earliest (about
//   30 s of running time: enough for a day's exports), and a processing task iOS runs when it suits it
//   (often at night, minutes of running time: catches up after days offline). iOS decides when either runs, and runs
//   neither after the user swiped the app away.

import BackgroundTasks
import Foundation
import OpenZoneCore

enum SyncOutcome: Equatable {
    /// Synced: the days that became at risk in this sync (the listener was told of each, and notified).
    case synced(newlyAtRisk: [String])
    case failed(String)

    var succeeded: Bool {
        if case .synced = self { return true }
        return false
    }
}

@MainActor
final class SyncCoordinator {
    private let phone: PhoneControl
    private let preferences: AppPreferences
    private let now: () -> Date
    /// Called after a successful sync (the Exposure screen reloads).
    var onSynced: (() -> Void)?

    init(phone: PhoneControl, preferences: AppPreferences, now: @escaping () -> Date = { Date() }) {
        self.phone = phone
        self.preferences = preferences
        self.now = now
    }

    var lastSync: Date? {
        preferences.lastSync
    }

    func run() async -> SyncOutcome {
        do {
            let summary = try await phone.sync()
            preferences.lastSync = now()
            onSynced?()
            return .synced(newlyAtRisk: summary.newlyAtRisk)
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
