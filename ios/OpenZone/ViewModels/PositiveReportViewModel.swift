// "I tested positive", as on Android: the health officer's one-time code, the day symptoms started or "no
// symptoms", the user's consent, then `reportPositive`; the core's errors become what the user can do about
// them. The form's checks say what can be sent; the core checks the code and the dates again and alone
// decides what is uploaded.

import Foundation
import OpenZoneCore

/// The fields that can be wrong.
enum ReportField: Hashable {
    case code
    case onsetDate
    case consent
}

/// What is wrong with a field.
enum ReportProblem: Equatable {
    case codeFormat
    case dateInFuture
    case dateTooOld
    case consentMissing

    var text: L10nKey {
        switch self {
        case .codeFormat: return .errorCodeFormat
        case .dateInFuture: return .errorDateFuture
        case .dateTooOld: return .errorDateTooOld
        case .consentMissing: return .errorConsent
        }
    }
}

/// A checked report, ready for `OpenZonePhone.reportPositive`.
struct ReportSubmission: Equatable {
    let code: String
    let onsetDate: String?
    let consent: Bool
}

enum PositiveReportForm {
    /// Digits of a code (the key server issues them).
    static let codeLength = Int(protocolConstants().codeDigits)
    /// The onset may be at most this many days back (the keys the phone keeps).
    static let maxOnsetDays = Int(protocolConstants().retentionDays)

    /// The code without the spaces and dashes people type when reading it aloud.
    static func normalizeCode(_ code: String) -> String {
        code.filter { $0 != " " && $0 != "-" }
    }

    /// Checks the form. `onsetDay` and `today` are the user's calendar days (`YYYY-MM-DD`); `utcToday` is
    /// today in UTC, which the core compares the onset with: in Vietnam (UTC+7) the local date runs a day
    /// ahead of UTC until 07:00, and "today" is sent as UTC's today then, so the core does not refuse it.
    static func validate(code: String, onsetDay: String?, noSymptoms: Bool, consent: Bool, today: String,
                         utcToday: String) -> Result<ReportSubmission, ReportInvalid> {
        var problems: [ReportField: ReportProblem] = [:]
        let digits = normalizeCode(code)
        if digits.utf8.count != codeLength || !digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            problems[.code] = .codeFormat
        }
        if !noSymptoms, let onsetDay {
            if onsetDay > today {
                problems[.onsetDate] = .dateInFuture
            } else if let oldest = CalendarDay.adding(-maxOnsetDays, to: today), onsetDay < oldest {
                problems[.onsetDate] = .dateTooOld
            }
        }
        if !consent {
            problems[.consent] = .consentMissing
        }
        guard problems.isEmpty else { return .failure(ReportInvalid(problems: problems)) }
        let onset = noSymptoms ? nil : onsetDay.map { min($0, utcToday) }
        return .success(ReportSubmission(code: digits, onsetDate: onset, consent: true))
    }
}

struct ReportInvalid: Error, Equatable {
    let problems: [ReportField: ReportProblem]
}

@MainActor
final class PositiveReportViewModel: ObservableObject {
    enum Phase: Equatable {
        case editing
        case sending
        case sent(keys: UInt32)
        /// Failed: the message, the core's words for `positiveErrorOther`, and whether the same code may
        /// work later (a network problem).
        case failed(L10nKey, reason: String?, retry: Bool)
    }

    @Published var code = ""
    @Published var onsetDate: Date
    @Published var noSymptoms = false
    @Published var consent = false
    @Published private(set) var problems: [ReportField: ReportProblem] = [:]
    @Published private(set) var phase: Phase = .editing

    private let phone: PhoneControl
    private let keyServerConfigured: Bool
    private let now: () -> Date
    private let calendar: Calendar

    init(phone: PhoneControl, keyServerConfigured: Bool, now: @escaping () -> Date = { Date() },
         calendar: Calendar = .current) {
        self.phone = phone
        self.keyServerConfigured = keyServerConfigured
        self.now = now
        self.calendar = calendar
        onsetDate = now()
    }

    /// The dates the onset picker offers: the days the phone keeps keys for.
    var onsetRange: ClosedRange<Date> {
        let today = calendar.startOfDay(for: now())
        let first = calendar.date(byAdding: .day, value: -PositiveReportForm.maxOnsetDays, to: today) ?? today
        return first...now()
    }

    /// Checks the form; shows its problems, or sends it.
    func submit() async {
        guard phase != .sending else { return }
        let moment = now()
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = CalendarDay.utc
        let checked = PositiveReportForm.validate(
            code: code, onsetDay: CalendarDay.of(onsetDate, in: calendar), noSymptoms: noSymptoms,
            consent: consent, today: CalendarDay.of(moment, in: calendar), utcToday: CalendarDay.of(moment, in: utc))
        switch checked {
        case .failure(let invalid):
            problems = invalid.problems
        case .success(let submission):
            problems = [:]
            await send(submission)
        }
    }

    private func send(_ submission: ReportSubmission) async {
        guard keyServerConfigured else {
            phase = .failed(.positiveErrorNotConfigured, reason: nil, retry: false)
            return
        }
        phase = .sending
        do {
            let keys = try await phone.reportPositive(
                code: submission.code, onsetDate: submission.onsetDate, consent: submission.consent)
            phase = .sent(keys: keys)
            code = ""
            consent = false
        } catch {
            phase = Self.failure(error)
        }
    }

    /// The user's side of a core error.
    nonisolated static func failure(_ error: Error) -> Phase {
        if case .some(.Network) = error as? OpenZoneError {
            // The key server refusing a code comes as Network too: asking for a new code is in the message.
            return .failed(.positiveErrorNetwork, reason: nil, retry: true)
        }
        return .failed(.positiveErrorOther, reason: ErrorText.message(error), retry: false)
    }
}
