// The background sync and the at-risk notification: a sync reports what the core found and remembers
// when; the days to notify of are the core's to choose (once per day), and the phone's listener hands each
// to the notifier as it comes; nothing is notified on failure.

import OpenZoneCore
import XCTest
@testable import OpenZone

final class PhoneEventsTests: XCTestCase {
    func testEachDayTheCoreAnnouncesIsNotified() {
        let notifier = RecordingNotifier()
        let events = PhoneEvents(host: nil, notifier: notifier)
        events.dayAtRisk(day: day("2024-05-03", atRisk: true))
        events.dayAtRisk(day: day("2024-05-04", atRisk: true))
        XCTAssertEqual(notifier.notified, ["2024-05-03", "2024-05-04"])
    }
}

final class SyncCoordinatorTests: XCTestCase {
    /// 2024-05-10 10:00 in Hanoi.
    private let now = Date(timeIntervalSince1970: 1_715_310_000)

    @MainActor
    func testASyncReportsTheDaysNewlyAtRiskAndRemembersWhen() async {
        let phone = FakePhoneControl()
        phone.syncResult = .success(summary([day("2024-05-03", atRisk: true), day("2024-05-04", atRisk: false)],
                                            newlyAtRisk: ["2024-05-03"]))
        let preferences = freshPreferences()
        let now = self.now
        let sync = SyncCoordinator(phone: phone, preferences: preferences, now: { now })
        var reloads = 0
        sync.onSynced = { reloads += 1 }

        let first = await sync.run()
        XCTAssertEqual(first, .synced(newlyAtRisk: ["2024-05-03"]))
        phone.syncResult = .success(summary([day("2024-05-03", atRisk: true)]))
        let second = await sync.run()
        XCTAssertEqual(second, .synced(newlyAtRisk: []), "the core tells of a day once")
        XCTAssertEqual(phone.syncs, 2)
        XCTAssertEqual(reloads, 2)
        XCTAssertEqual(sync.lastSync, now)
    }

    @MainActor
    func testAFailedSyncReportsWhy() async {
        let phone = FakePhoneControl()
        phone.syncResult = .failure(OpenZoneError.UntrustedData(message: "the export's signature is wrong"))
        let sync = SyncCoordinator(phone: phone, preferences: freshPreferences())
        let outcome = await sync.run()
        XCTAssertEqual(outcome, .failed("the export's signature is wrong"))
        XCTAssertFalse(outcome.succeeded)
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
