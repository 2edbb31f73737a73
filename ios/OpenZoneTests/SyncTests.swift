// The background sync's decision, as on Android: notify once per day that becomes at risk within the last
// 14 days, never again for the same day, nothing on failure.

import OpenZoneCore
import XCTest
@testable import OpenZone

final class RiskNotificationPolicyTests: XCTestCase {
    func testOnlyNewAtRiskDaysOfTheWatchPeriodAreNotified() {
        let days = [
            day("2024-05-01", atRisk: true),
            day("2024-05-02", atRisk: false),
            day("2024-05-03", atRisk: true),
            day("2024-04-01", atRisk: true),
        ]
        let today = "2024-05-10"
        XCTAssertEqual(RiskNotificationPolicy.daysToNotify(days, alreadyNotified: [], today: today),
                       ["2024-05-01", "2024-05-03"], "a day out of the last 14 is not news")
        XCTAssertEqual(RiskNotificationPolicy.daysToNotify(days, alreadyNotified: ["2024-05-01"], today: today),
                       ["2024-05-03"])
        XCTAssertEqual(RiskNotificationPolicy.daysToNotify(days, alreadyNotified: ["2024-05-01", "2024-05-03"],
                                                           today: today), [])
    }

    func testTheRememberedDaysStayWithinTheWatchPeriod() {
        let remembered = RiskNotificationPolicy.remember(["2024-05-09"], in: ["2024-04-01", "2024-05-01"],
                                                         today: "2024-05-10")
        XCTAssertEqual(remembered, ["2024-05-01", "2024-05-09"])
    }
}

final class SyncCoordinatorTests: XCTestCase {
    private var hanoi: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!
        return calendar
    }

    /// 2024-05-10 10:00 in Hanoi.
    private let now = Date(timeIntervalSince1970: 1_715_310_000)

    @MainActor
    func testANewAtRiskDayIsNotifiedOnce() async {
        let engine = FakeEngineControl()
        engine.syncResult = .success([day("2024-05-03", atRisk: true), day("2024-05-04", atRisk: false)])
        let notifier = RecordingNotifier()
        let preferences = freshPreferences()
        let now = self.now
        let sync = SyncCoordinator(engine: engine, notifier: notifier, preferences: preferences, now: { now },
                                   calendar: hanoi)
        var reloads = 0
        sync.onSynced = { reloads += 1 }

        let first = await sync.run()
        XCTAssertEqual(first, .synced(atRisk: ["2024-05-03"], notified: ["2024-05-03"]))
        XCTAssertEqual(notifier.notified, [["2024-05-03"]])
        XCTAssertEqual(preferences.notifiedDays, ["2024-05-03"])

        let second = await sync.run()
        XCTAssertEqual(second, .synced(atRisk: ["2024-05-03"], notified: []))
        XCTAssertEqual(notifier.notified.count, 1, "the same day is not notified twice")
        XCTAssertEqual(reloads, 2)
        XCTAssertEqual(sync.lastSync, now)
    }

    @MainActor
    func testAFailedSyncNotifiesNothing() async {
        let engine = FakeEngineControl()
        engine.syncResult = .failure(OpenZoneError.UntrustedData(message: "the export's signature is wrong"))
        let notifier = RecordingNotifier()
        let sync = SyncCoordinator(engine: engine, notifier: notifier, preferences: freshPreferences())
        let outcome = await sync.run()
        XCTAssertEqual(outcome, .failed("the export's signature is wrong"))
        XCTAssertFalse(outcome.succeeded)
        XCTAssertTrue(notifier.notified.isEmpty)
        XCTAssertNil(sync.lastSync)
    }

    func testTheTaskIdentifiersAreTheOnesInfoPlistPermits() throws {
        let permitted = try XCTUnwrap(
            Bundle.main.object(forInfoDictionaryKey: "BGTaskSchedulerPermittedIdentifiers") as? [String])
        XCTAssertEqual(Set(permitted), [SyncScheduler.refreshIdentifier, SyncScheduler.processingIdentifier])
        let modes = try XCTUnwrap(Bundle.main.object(forInfoDictionaryKey: "UIBackgroundModes") as? [String])
        XCTAssertEqual(Set(modes), ["bluetooth-central", "bluetooth-peripheral", "fetch", "processing"])
    }
}
