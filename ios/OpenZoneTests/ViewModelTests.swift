// The screens' state over a fake phone, as the Android app's host tests check its screens: every radio
// state on the Status screen, the exposure result and its next steps, settings (language, protection, QA
// mode, deletion), the QA screen and its export, onboarding's order.

import CoreBluetooth
import OpenZoneCore
import XCTest
@testable import OpenZone

final class StatusDisplayTests: XCTestCase {
    func testEveryEngineStateHasItsDisplay() {
        XCTAssertEqual(
            StatusDisplay.of(.running(mode: .background), sightingsToday: 7, notificationsAllowed: true),
            StatusDisplay(protected: true, headline: .statusProtected, detail: .statusRunningDetail, count: 7))
        XCTAssertEqual(
            StatusDisplay.of(.running(mode: .foreground), sightingsToday: 0, notificationsAllowed: true).detail,
            .statusRunningDetail)
        XCTAssertEqual(
            StatusDisplay.of(.running(mode: .qa), sightingsToday: 0, notificationsAllowed: true).detail,
            .statusRunningQaDetail)
        XCTAssertEqual(
            StatusDisplay.of(.stopped, sightingsToday: 0, notificationsAllowed: true),
            StatusDisplay(protected: false, headline: .statusNotProtected, detail: .statusStoppedDetail,
                          fix: .startProtection))
        XCTAssertEqual(
            StatusDisplay.of(.bluetoothOff, sightingsToday: 0, notificationsAllowed: true),
            StatusDisplay(protected: false, headline: .statusNotProtected, detail: .statusBluetoothOffDetail))
        for permission in [PermissionKind.scan, .advertise, .connect] {
            XCTAssertEqual(
                StatusDisplay.of(.permissionMissing(permission: permission), sightingsToday: 0, notificationsAllowed: true),
                StatusDisplay(protected: false, headline: .statusNotProtected, detail: .statusPermissionDetail,
                              fix: .bluetoothPermission))
        }
        let failing = StatusDisplay.of(.failing(message: "advertising is not supported"), sightingsToday: 0,
                                       notificationsAllowed: true)
        XCTAssertEqual(failing, StatusDisplay(protected: false, headline: .statusNotProtected, detail: .statusFailingDetail))
    }

    func testNotificationsOffIsAdviceOnlyWhileProtected() {
        XCTAssertEqual(
            StatusDisplay.of(.running(mode: .background), sightingsToday: 0, notificationsAllowed: false).advice,
            .notifications)
        XCTAssertNil(StatusDisplay.of(.bluetoothOff, sightingsToday: 0, notificationsAllowed: false).advice,
                     "the blocking problem comes first")
    }
}

final class StatusViewModelTests: XCTestCase {
    @MainActor
    func testTheStatusFollowsTheEngine() {
        let phone = FakePhoneControl()
        phone.engineState = .bluetoothOff
        let sync = SyncCoordinator(phone: phone, preferences: freshPreferences())
        let model = StatusViewModel(phone: phone, sync: sync)
        XCTAssertEqual(model.display.detail, .statusBluetoothOffDetail)

        phone.engineState = .running(mode: .background)
        model.refresh()
        XCTAssertTrue(model.display.protected)
        XCTAssertEqual(model.display.count, 12)
        model.sightingsRecorded(today: 13)
        XCTAssertEqual(model.display.count, 13)
        model.setNotificationsAllowed(false)
        XCTAssertEqual(model.display.advice, .notifications)
    }

    @MainActor
    func testTurningProtectionOnGoesToTheHost() {
        let phone = FakePhoneControl()
        phone.engineState = .stopped
        let model = StatusViewModel(
            phone: phone,
            sync: SyncCoordinator(phone: phone, preferences: freshPreferences()))
        var started = 0
        model.onStartProtection = {
            started += 1
            phone.engineState = .running(mode: .foreground)
        }
        model.startProtection()
        XCTAssertEqual(started, 1)
        XCTAssertTrue(model.display.protected)
    }

    @MainActor
    func testCheckingNowSyncsAndRemembersWhen() async {
        let phone = FakePhoneControl()
        phone.syncResult = .success(summary([day("2024-05-02", atRisk: true)], newlyAtRisk: ["2024-05-02"]))
        let now = Date(timeIntervalSince1970: 1_714_700_000)
        let sync = SyncCoordinator(phone: phone, preferences: freshPreferences(), now: { now })
        let model = StatusViewModel(phone: phone, sync: sync)
        XCTAssertNil(model.lastSync)
        await model.checkNow()
        XCTAssertEqual(phone.syncs, 1)
        XCTAssertEqual(model.lastSync, now)
        XCTAssertFalse(model.syncing)
        XCTAssertEqual(model.lastOutcome, .synced(newlyAtRisk: ["2024-05-02"]))
    }

    @MainActor
    func testAFailedCheckSaysWhy() async {
        let phone = FakePhoneControl()
        phone.syncResult = .failure(OpenZoneError.Network(message: "the key server did not answer"))
        let sync = SyncCoordinator(phone: phone, preferences: freshPreferences())
        let model = StatusViewModel(phone: phone, sync: sync)
        await model.checkNow()
        XCTAssertEqual(model.lastOutcome, .failed("the key server did not answer"))
        XCTAssertNil(model.lastSync)
    }
}

final class ExposureDisplayTests: XCTestCase {
    private let contacts = HealthContacts(schoolHealthOfficer: "0243 123 456")

    func testNoContactKeepsTheAppOn() {
        let display = ExposureDisplay.of([], today: "2024-05-10", contacts: HealthContacts())
        XCTAssertEqual(display.level, .noContact)
        XCTAssertEqual(display.headline, .exposureNoneHeadline)
        XCTAssertEqual(display.nextSteps, [.keepOn, .symptoms])
        XCTAssertEqual(display.contacts, [ContactRow(label: .contactHotline, phone: "1900 9095")])
    }

    func testALowRiskContactIsListed() {
        let display = ExposureDisplay.of(
            [day("2024-05-08", atRisk: false, minutes: 0.2, closest: .far)], today: "2024-05-10", contacts: contacts)
        XCTAssertEqual(display.level, .low)
        XCTAssertEqual(display.rows, [DayRow(day: "2024-05-08", atRisk: false, minutes: 1,
                                             closeness: .proximityFar, estimated: false)],
                       "a listed day had at least a minute")
        XCTAssertNil(display.detailDay)
    }

    func testAtRiskDaysSayUntilWhenToWatch() throws {
        let display = ExposureDisplay.of(
            [
                day("2024-05-01", atRisk: false, minutes: 4.4, closest: .far),
                day("2024-05-06", atRisk: true, minutes: 31.6, closest: .immediate, estimated: true),
                day("2024-05-03", atRisk: true, minutes: 18, closest: .near),
                day("2024-04-20", atRisk: true),
                day("2024-05-11", atRisk: true),
            ],
            today: "2024-05-10", contacts: contacts)
        XCTAssertEqual(display.level, .atRisk)
        XCTAssertEqual(display.detailDay, "2024-05-06")
        XCTAssertEqual(display.rows.map(\.day), ["2024-05-06", "2024-05-03", "2024-05-01"],
                       "newest first, only the watch period, nothing after today")
        XCTAssertEqual(display.rows[0], DayRow(day: "2024-05-06", atRisk: true, minutes: 32,
                                               closeness: .proximityImmediate, estimated: true))
        let watchEnds = try XCTUnwrap(CalendarDay.adding(ExposureDisplay.watchDays, to: "2024-05-06"))
        XCTAssertEqual(display.nextSteps, [.watch(until: watchEnds), .tellSchool, .symptoms, .staysPrivate])
        XCTAssertEqual(display.contacts, [ContactRow(label: .contactSchool, phone: "0243 123 456"),
                                          ContactRow(label: .contactHotline, phone: "1900 9095")])
    }

    func testCalendarDays() {
        XCTAssertEqual(CalendarDay.adding(15, to: "2024-12-25"), "2025-01-09")
        XCTAssertEqual(CalendarDay.adding(-15, to: "2024-03-10"), "2024-02-24", "across a leap day")
        XCTAssertNil(CalendarDay.adding(1, to: "yesterday"))
        var hanoi = Calendar(identifier: .gregorian)
        hanoi.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!
        XCTAssertEqual(CalendarDay.of(Date(timeIntervalSince1970: 1_715_382_000), in: hanoi), "2024-05-11")
    }
}

final class ExposureViewModelTests: XCTestCase {
    @MainActor
    func testTheResultIsLoadedFromTheEngine() {
        let phone = FakePhoneControl()
        phone.days = [day("2024-05-09", atRisk: true)]
        let model = ExposureViewModel(phone: phone, today: { "2024-05-10" })
        XCTAssertFalse(model.atRisk)
        model.load()
        XCTAssertTrue(model.atRisk)
        XCTAssertNil(model.error)
    }

    @MainActor
    func testAStoreErrorIsShown() {
        let phone = FakePhoneControl()
        phone.daysError = OpenZoneError.Storage(message: "the disk is full")
        let model = ExposureViewModel(phone: phone, today: { "2024-05-10" })
        model.load()
        XCTAssertEqual(model.error, "the disk is full")
        XCTAssertEqual(model.display.level, .noContact)
    }
}

final class SettingsViewModelTests: XCTestCase {
    @MainActor
    private func model(_ phone: FakePhoneControl, _ preferences: AppPreferences,
                       _ strings: Strings = Strings(language: .vietnamese)) -> SettingsViewModel {
        SettingsViewModel(phone: phone, preferences: preferences, strings: strings,
                          replaceDataKey: { Data(repeating: 0x5A, count: 32) })
    }

    @MainActor
    func testTheLanguageIsRememberedAndApplied() {
        let preferences = freshPreferences()
        XCTAssertEqual(preferences.language, .vietnamese, "Vietnamese by default")
        let strings = Strings(language: preferences.language)
        let settings = model(FakePhoneControl(), preferences, strings)
        settings.language = .english
        XCTAssertEqual(preferences.language, .english)
        XCTAssertEqual(strings.l10n.language, .english)
        XCTAssertEqual(strings[.settingsDelete], "Delete my data")
    }

    @MainActor
    func testProtectionIsAppliedOnceAndReflectedWithoutLoops() {
        let preferences = freshPreferences()
        let settings = model(FakePhoneControl(), preferences)
        XCTAssertTrue(settings.protectionOn)
        var applied: [Bool] = []
        settings.onProtectionChanged = { applied.append($0) }
        settings.protectionOn = false
        XCTAssertEqual(applied, [false])
        settings.protectionChanged(on: true)
        XCTAssertTrue(settings.protectionOn)
        XCTAssertEqual(applied, [false], "a change made elsewhere is not applied again")
    }

    @MainActor
    func testQAModeIsRememberedAndGoesToTheEngine() {
        let phone = FakePhoneControl()
        let preferences = freshPreferences()
        let settings = model(phone, preferences)
        settings.qaMode = true
        XCTAssertTrue(preferences.qaMode)
        XCTAssertEqual(phone.qaModes, [true])
    }

    @MainActor
    func testDeletionAsksFirstAndHandsTheCoreTheNewKey() {
        let phone = FakePhoneControl()
        let settings = model(phone, freshPreferences())
        var reloaded = false
        settings.onDeletedData = { reloaded = true }

        settings.confirmDeletion()
        XCTAssertEqual(phone.newDataKeys, [], "nothing is deleted without the question")
        settings.requestDeletion()
        settings.cancelDeletion()
        XCTAssertEqual(settings.deletion, .idle)
        settings.requestDeletion()
        settings.confirmDeletion()
        XCTAssertEqual(phone.newDataKeys, [Data(repeating: 0x5A, count: 32)], "the key just put in the Keychain")
        XCTAssertEqual(settings.deletion, .done)
        XCTAssertTrue(reloaded)
    }

    @MainActor
    func testAFailedDeletionSaysWhy() {
        let phone = FakePhoneControl()
        phone.deleteError = OpenZoneError.Storage(message: "the store is locked")
        let settings = model(phone, freshPreferences())
        settings.requestDeletion()
        settings.confirmDeletion()
        XCTAssertEqual(settings.deletion, .failed("the store is locked"))
    }
}

final class QAViewModelTests: XCTestCase {
    private let diagnostics = BluetoothDiagnostics(
        authorization: .allowedAlways,
        central: CentralDiagnostics(scanning: true, windowOpen: false, keptPeers: 2, pendingReads: 0, knownPeripherals: 5),
        peripheral: PeripheralDiagnostics(published: true, advertising: true, subscribers: 1, lastError: nil))
    private let now = Date(timeIntervalSince1970: 1_715_310_000)

    @MainActor
    private func model(_ phone: FakePhoneControl, live: [LiveSighting] = []) -> QAViewModel {
        let diagnostics = self.diagnostics
        return QAViewModel(
            phone: phone, bluetooth: { diagnostics }, live: { live },
            device: DeviceModel(manufacturer: "Apple", device: "iPhone14,5", model: "iPhone14,5"),
            appVersion: "0.1.0", systemVersion: "17.5")
    }

    func testTheIdentifierOnAirIsShownInHex() {
        let value = Data((0..<20).map { UInt8($0) })
        XCTAssertEqual(QAViewModel.identifierText(value),
                       "RPI 000102030405060708090a0b0c0d0e0f · AEM 10111213")
        XCTAssertEqual(QAViewModel.identifierText(Data([0xA1, 0xB2])), "ID a1b2")
    }

    @MainActor
    func testWhatIsHeardNowIsListed() {
        let peer = UUID()
        let sighting = LiveSighting(peer: peer, kind: .iphone, rssi: -61, txPower: nil, count: 3,
                                    lastSeen: now.addingTimeInterval(-12))
        let qa = model(FakePhoneControl(), live: [sighting])
        qa.refresh(now: now)
        XCTAssertEqual(qa.rows, [QARow(sighting: sighting, age: 12)])
        XCTAssertEqual(qa.rows.map(\.id), [peer])
        XCTAssertNotNil(qa.identifier)
    }

    @MainActor
    func testTheExportHoldsStatesAndCountsOnly() throws {
        let phone = FakePhoneControl()
        phone.engineState = .running(mode: .background)
        phone.days = [day("2024-05-03", atRisk: true)]
        let peer = UUID()
        let qa = model(phone, live: [LiveSighting(peer: peer, kind: .en, rssi: -70, txPower: -8, count: 1, lastSeen: now)])
        let text = qa.diagnosticsReport(now: now)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(json["format"] as? String, "openzone-diagnostics-1")
        XCTAssertEqual(Set(json.keys), ["format", "app", "phone", "time", "state", "counters", "radio_duty",
                                        "peers_heard_recently", "bluetooth"])
        XCTAssertEqual(json["state"] as? [String: String], ["state": "running", "mode": "background"])
        XCTAssertEqual((json["counters"] as? [String: Any])?["gatt_reads_ok"] as? Int, 5)
        XCTAssertEqual(json["peers_heard_recently"] as? Int, 1)
        XCTAssertEqual((json["bluetooth"] as? [String: Any])?["kept_peers"] as? Int, 2)
        XCTAssertFalse(text.contains("2024-05-03"), "exposure results stay out of the export")
        XCTAssertFalse(text.lowercased().contains("abab"), "the identifier on air stays out of the export")
        XCTAssertFalse(text.contains(peer.uuidString), "peers stay out of the export")
    }
}

final class LiveSightingsTests: XCTestCase {
    func testTheLatestPerPeerNewestFirstAndNothingOld() {
        let live = LiveSightings(capacity: 2, maxAge: 60)
        let start = Date(timeIntervalSince1970: 1_000)
        let (a, b, c) = (UUID(), UUID(), UUID())
        let android = AdvertisementFields(
            serviceUuids: [OpenZoneUUIDs.service16], serviceData: [OpenZoneUUIDs.service16: payload(1)],
            manufacturerData: [:], rssi: -60, txPower: -8)
        live.add(peer: a, fields: android, at: start)
        live.add(peer: a, fields: android, at: start.addingTimeInterval(5))
        live.add(peer: b, fields: AdvertisementMapping.keptPeer(rssi: NSNumber(value: -70)), at: start.addingTimeInterval(6))
        let snapshot = live.snapshot(now: start.addingTimeInterval(10))
        XCTAssertEqual(snapshot.map(\.peer), [b, a])
        XCTAssertEqual(snapshot.map(\.kind), [.iphone, .en])
        XCTAssertEqual(snapshot[1].count, 2)
        live.add(peer: c, fields: android, at: start.addingTimeInterval(7))
        XCTAssertEqual(Set(live.snapshot(now: start.addingTimeInterval(10)).map(\.peer)), [b, c], "the oldest goes first")
        XCTAssertTrue(live.snapshot(now: start.addingTimeInterval(100)).isEmpty)
    }

    func testKinds() {
        let bluezone = AdvertisementFields(serviceUuids: [OpenZoneUUIDs.service16], serviceData: [:],
                                           manufacturerData: [0x22B5: Data(count: 12)], rssi: -60, txPower: nil)
        XCTAssertEqual(SightingKind.of(bluezone), .bluezone)
        XCTAssertEqual(SightingKind.of(AdvertisementFields(serviceUuids: [], serviceData: [:], manufacturerData: [:],
                                                           rssi: -60, txPower: nil)), .other)
    }
}

@MainActor
private final class RecordingOnboarding: OnboardingActions {
    private(set) var calls: [String] = []

    func startRadio() { calls.append("radio") }
    func requestNotifications() async { calls.append("notifications") }
    func finishOnboarding() { calls.append("finish") }
}

final class OnboardingViewModelTests: XCTestCase {
    @MainActor
    func testBluetoothIsAskedForOnlyAfterTheUserAgreed() async {
        let actions = RecordingOnboarding()
        let model = OnboardingViewModel(actions: actions)
        XCTAssertFalse(model.canGoBack)
        await model.next()
        await model.next()
        XCTAssertEqual(model.step, .consent)
        XCTAssertFalse(model.canAdvance)
        await model.next()
        XCTAssertEqual(model.step, .consent, "no agreement, no way on")
        XCTAssertTrue(actions.calls.isEmpty)

        model.consent = true
        await model.next()
        XCTAssertEqual(model.step, .bluetooth)
        XCTAssertTrue(actions.calls.isEmpty, "the permission prompt comes with the Bluetooth page's button")
        await model.next()
        XCTAssertEqual(actions.calls, ["radio"])
        XCTAssertEqual(model.step, .notifications)
        model.back()
        XCTAssertEqual(model.step, .bluetooth)
        await model.next()
        await model.next()
        XCTAssertEqual(model.step, .done)
        XCTAssertFalse(model.canGoBack)
        await model.next()
        XCTAssertEqual(actions.calls, ["radio", "radio", "notifications", "finish"])
    }
}
