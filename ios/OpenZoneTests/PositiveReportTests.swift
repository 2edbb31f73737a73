// "I tested positive": the form's rules (8 digits, spaces and dashes dropped; an onset neither in the
// future nor more than 14 days back, or "no symptoms"; consent), what reaches the engine, and how its
// errors are shown.

import OpenZoneCore
import XCTest
@testable import OpenZone

final class PositiveReportFormTests: XCTestCase {
    private func validate(code: String = "12345678", onset: String? = "2024-05-08", noSymptoms: Bool = false,
                          consent: Bool = true, today: String = "2024-05-10",
                          utcToday: String = "2024-05-10") -> Result<ReportSubmission, ReportInvalid> {
        PositiveReportForm.validate(code: code, onsetDay: onset, noSymptoms: noSymptoms, consent: consent,
                                    today: today, utcToday: utcToday)
    }

    func testAValidFormBecomesASubmission() {
        XCTAssertEqual(try validate(code: "1234 5678").get(),
                       ReportSubmission(code: "12345678", onsetDate: "2024-05-08", consent: true))
        XCTAssertEqual(try validate(code: "1234-5678").get().code, "12345678")
        XCTAssertEqual(try validate(noSymptoms: true).get().onsetDate, nil, "no symptoms: no onset")
    }

    func testTheCodeIsEightAsciiDigits() {
        for code in ["", "1234567", "123456789", "1234567a", "１２３４５６７８", "١٢٣٤٥٦٧٨"] {
            XCTAssertEqual(validate(code: code), .failure(ReportInvalid(problems: [.code: .codeFormat])), code)
        }
    }

    func testTheOnsetIsWithinTheLastFourteenDays() {
        XCTAssertEqual(validate(onset: "2024-05-11"), .failure(ReportInvalid(problems: [.onsetDate: .dateInFuture])))
        XCTAssertEqual(validate(onset: "2024-04-25"), .failure(ReportInvalid(problems: [.onsetDate: .dateTooOld])))
        XCTAssertNoThrow(try validate(onset: "2024-04-26").get())
        XCTAssertNoThrow(try validate(onset: "2024-04-01", noSymptoms: true).get(), "ignored without symptoms")
    }

    func testEverythingWrongIsSaidAtOnce() {
        XCTAssertEqual(validate(code: "12", onset: "2024-06-01", consent: false), .failure(ReportInvalid(problems: [
            .code: .codeFormat, .onsetDate: .dateInFuture, .consent: .consentMissing,
        ])))
    }

    func testTodayGoesToTheCoreAsUTCsToday() {
        // 06:00 in Hanoi on 2024-05-11 is still 2024-05-10 in UTC: the core would refuse 2024-05-11.
        XCTAssertEqual(try validate(onset: "2024-05-11", today: "2024-05-11", utcToday: "2024-05-10").get().onsetDate,
                       "2024-05-10")
    }
}

final class PositiveReportViewModelTests: XCTestCase {
    /// 2024-05-10 10:00 in Hanoi (03:00 UTC).
    private let now = Date(timeIntervalSince1970: 1_715_310_000)

    @MainActor
    private func model(_ engine: FakeEngineControl, keyServerConfigured: Bool = true) -> PositiveReportViewModel {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!
        let now = self.now
        return PositiveReportViewModel(
            engine: engine, keyServerConfigured: keyServerConfigured, now: { now }, calendar: calendar)
    }

    @MainActor
    func testNothingIsSentWithoutConsent() async {
        let engine = FakeEngineControl()
        let report = model(engine)
        report.code = "12345678"
        await report.submit()
        XCTAssertTrue(engine.reports.isEmpty)
        XCTAssertEqual(report.problems, [.consent: .consentMissing])
        XCTAssertEqual(report.phase, .editing)
    }

    @MainActor
    func testAValidReportReachesTheEngine() async {
        let engine = FakeEngineControl()
        let report = model(engine)
        report.code = "1234 5678"
        report.onsetDate = now.addingTimeInterval(-2 * 86_400)
        report.consent = true
        await report.submit()
        XCTAssertEqual(engine.reports.count, 1)
        XCTAssertEqual(engine.reports[0].code, "12345678")
        XCTAssertEqual(engine.reports[0].onset, "2024-05-08")
        XCTAssertTrue(engine.reports[0].consent)
        XCTAssertEqual(report.phase, .sent(keys: 14))
        XCTAssertTrue(report.problems.isEmpty)
        XCTAssertEqual(report.code, "", "the code is used once")
        XCTAssertFalse(report.consent, "consent is asked again for another report")
    }

    @MainActor
    func testWithoutSymptomsNoOnsetIsSent() async {
        let engine = FakeEngineControl()
        let report = model(engine)
        report.code = "12345678"
        report.noSymptoms = true
        report.consent = true
        await report.submit()
        XCTAssertEqual(engine.reports.count, 1)
        XCTAssertNil(engine.reports[0].onset)
    }

    @MainActor
    func testTheCoresErrorsBecomeWhatTheUserCanDo() async {
        let cases: [(Error, PositiveReportViewModel.Phase)] = [
            (OpenZoneError.Network(message: "unreachable"), .failed(.positiveErrorNetwork, reason: nil, retry: true)),
            (OpenZoneError.InvalidInput(message: "the code is not valid"),
             .failed(.positiveErrorOther, reason: "the code is not valid", retry: false)),
            (OpenZoneError.Storage(message: "disk full"), .failed(.positiveErrorOther, reason: "disk full", retry: false)),
        ]
        for (error, expected) in cases {
            let engine = FakeEngineControl()
            engine.reportResult = .failure(error)
            let report = model(engine)
            report.code = "12345678"
            report.consent = true
            await report.submit()
            XCTAssertEqual(report.phase, expected)
        }
    }

    @MainActor
    func testWithoutAKeyServerNothingIsSent() async {
        let engine = FakeEngineControl()
        let report = model(engine, keyServerConfigured: false)
        report.code = "12345678"
        report.consent = true
        await report.submit()
        XCTAssertTrue(engine.reports.isEmpty)
        XCTAssertEqual(report.phase, .failed(.positiveErrorNotConfigured, reason: nil, retry: false))
    }

    @MainActor
    func testThePickerOffersTheLastFourteenDays() {
        let report = model(FakeEngineControl())
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!
        XCTAssertEqual(report.onsetRange.upperBound, now)
        XCTAssertEqual(
            calendar.dateComponents([.day], from: report.onsetRange.lowerBound, to: calendar.startOfDay(for: now)).day, 14)
    }
}
