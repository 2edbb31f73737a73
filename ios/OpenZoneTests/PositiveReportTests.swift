// "I tested positive": the form's rules (the core's number of digits, spaces and dashes dropped; an onset
// neither in the future nor further back than the days the phone keeps, or "no symptoms"; consent), what
// reaches the phone, and how its errors are shown.

import OpenZoneCore
import XCTest
@testable import OpenZone

/// A code of `count` digits, `123...`.
private func digits(_ count: Int) -> String {
    String((0..<count).map { Character(String(($0 + 1) % 10)) })
}

private let validCode = digits(PositiveReportForm.codeLength)

final class PositiveReportFormTests: XCTestCase {
    private func validate(code: String = validCode, onset: String? = "2024-05-08", noSymptoms: Bool = false,
                          consent: Bool = true, today: String = "2024-05-10",
                          utcToday: String = "2024-05-10") -> Result<ReportSubmission, ReportInvalid> {
        PositiveReportForm.validate(code: code, onsetDay: onset, noSymptoms: noSymptoms, consent: consent,
                                    today: today, utcToday: utcToday)
    }

    func testAValidFormBecomesASubmission() {
        XCTAssertEqual(try validate(code: "\(validCode.prefix(4)) \(validCode.dropFirst(4))").get(),
                       ReportSubmission(code: validCode, onsetDate: "2024-05-08", consent: true))
        XCTAssertEqual(try validate(code: "\(validCode.prefix(4))-\(validCode.dropFirst(4))").get().code, validCode)
        XCTAssertEqual(try validate(noSymptoms: true).get().onsetDate, nil, "no symptoms: no onset")
    }

    func testTheCodeIsTheCoresNumberOfAsciiDigits() {
        let n = PositiveReportForm.codeLength
        let fullWidth = String(validCode.unicodeScalars.map { Character(UnicodeScalar($0.value - 0x30 + 0xFF10)!) })
        let arabicIndic = String(validCode.unicodeScalars.map { Character(UnicodeScalar($0.value - 0x30 + 0x0660)!) })
        for bad in ["", digits(n - 1), digits(n + 1), digits(n - 1) + "a", fullWidth, arabicIndic] {
            XCTAssertEqual(validate(code: bad), .failure(ReportInvalid(problems: [.code: .codeFormat])), bad)
        }
    }

    func testTheOnsetIsWithinTheDaysThePhoneKeeps() throws {
        let oldest = try XCTUnwrap(CalendarDay.adding(-PositiveReportForm.maxOnsetDays, to: "2024-05-10"))
        let tooOld = try XCTUnwrap(CalendarDay.adding(-1, to: oldest))
        XCTAssertEqual(validate(onset: "2024-05-11"), .failure(ReportInvalid(problems: [.onsetDate: .dateInFuture])))
        XCTAssertEqual(validate(onset: tooOld), .failure(ReportInvalid(problems: [.onsetDate: .dateTooOld])))
        XCTAssertNoThrow(try validate(onset: oldest).get())
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
    private func model(_ phone: FakePhoneControl, keyServerConfigured: Bool = true) -> PositiveReportViewModel {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!
        let now = self.now
        return PositiveReportViewModel(
            phone: phone, keyServerConfigured: keyServerConfigured, now: { now }, calendar: calendar)
    }

    @MainActor
    func testNothingIsSentWithoutConsent() async {
        let phone = FakePhoneControl()
        let report = model(phone)
        report.code = validCode
        await report.submit()
        XCTAssertTrue(phone.reports.isEmpty)
        XCTAssertEqual(report.problems, [.consent: .consentMissing])
        XCTAssertEqual(report.phase, .editing)
    }

    @MainActor
    func testAValidReportReachesThePhone() async {
        let phone = FakePhoneControl()
        let report = model(phone)
        report.code = "\(validCode.prefix(4)) \(validCode.dropFirst(4))"
        report.onsetDate = now.addingTimeInterval(-2 * 86_400)
        report.consent = true
        await report.submit()
        XCTAssertEqual(phone.reports.count, 1)
        XCTAssertEqual(phone.reports[0].code, validCode)
        XCTAssertEqual(phone.reports[0].onset, "2024-05-08")
        XCTAssertTrue(phone.reports[0].consent)
        XCTAssertEqual(report.phase, .sent(keys: 14))
        XCTAssertTrue(report.problems.isEmpty)
        XCTAssertEqual(report.code, "", "the code is used once")
        XCTAssertFalse(report.consent, "consent is asked again for another report")
    }

    @MainActor
    func testWithoutSymptomsNoOnsetIsSent() async {
        let phone = FakePhoneControl()
        let report = model(phone)
        report.code = validCode
        report.noSymptoms = true
        report.consent = true
        await report.submit()
        XCTAssertEqual(phone.reports.count, 1)
        XCTAssertNil(phone.reports[0].onset)
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
            let phone = FakePhoneControl()
            phone.reportResult = .failure(error)
            let report = model(phone)
            report.code = validCode
            report.consent = true
            await report.submit()
            XCTAssertEqual(report.phase, expected)
        }
    }

    @MainActor
    func testWithoutAKeyServerNothingIsSent() async {
        let phone = FakePhoneControl()
        let report = model(phone, keyServerConfigured: false)
        report.code = validCode
        report.consent = true
        await report.submit()
        XCTAssertTrue(phone.reports.isEmpty)
        XCTAssertEqual(report.phase, .failed(.positiveErrorNotConfigured, reason: nil, retry: false))
    }

    @MainActor
    func testThePickerOffersTheDaysThePhoneKeeps() {
        let report = model(FakePhoneControl())
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!
        XCTAssertEqual(report.onsetRange.upperBound, now)
        XCTAssertEqual(
            calendar.dateComponents([.day], from: report.onsetRange.lowerBound, to: calendar.startOfDay(for: now)).day,
            PositiveReportForm.maxOnsetDays)
    }
}
