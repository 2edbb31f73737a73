// The exposure result screen, as on Android: per day at risk or not, for how long and how close, what to do
// next and whom to call. The core decides which days are at risk (the health authority's risk
// configuration); this only words it, and counts the days of watchfulness (the core's retention period)
// from the last risky day.
// Never who or where: the core's DayExposure carries nothing more (docs/privacy.md).

import Foundation
import OpenZoneCore

/// Whom to call (the school's health officer is set for each deployment).
struct HealthContacts: Equatable {
    /// The Vietnamese Ministry of Health's hotline.
    static let ministryOfHealthHotline = "1900 9095"

    var hotline = ministryOfHealthHotline
    var schoolHealthOfficer: String?
}

/// How worried the screen is.
enum RiskLevel: Equatable {
    case noContact
    case low
    case atRisk
}

/// One day of the list.
struct DayRow: Equatable, Identifiable {
    var id: String { day }
    /// `YYYY-MM-DD`.
    let day: String
    let atRisk: Bool
    /// Weighted minutes, rounded, at least one (a day in the list had some contact).
    let minutes: Int
    let closeness: L10nKey
    /// Bluezone peers announce no TX power: their signal strength was estimated.
    let estimated: Bool
}

/// A step of "what to do next".
enum NextStep: Equatable {
    /// Watch your health until the end of this day.
    case watch(until: String)
    case tellSchool
    case symptoms
    case staysPrivate
    case keepOn
}

/// A contact line: who, and the number to dial.
struct ContactRow: Equatable {
    let label: L10nKey
    let phone: String
}

/// The screen, ready to show.
struct ExposureDisplay: Equatable {
    let level: RiskLevel
    let headline: L10nKey
    let detail: L10nKey
    /// Fills the detail's `%@` (the last risky day).
    let detailDay: String?
    /// Newest first.
    let rows: [DayRow]
    let nextSteps: [NextStep]
    let contacts: [ContactRow]

    /// Days a contact is watched for, and the days the screen looks back: the days the phone keeps what
    /// it heard.
    static let watchDays = Int(protocolConstants().retentionDays)

    /// `today`: the user's calendar day, `YYYY-MM-DD`.
    static func of(_ days: [DayExposure], today: String, contacts: HealthContacts) -> ExposureDisplay {
        let first = CalendarDay.adding(-watchDays, to: today) ?? today
        let recent = days.filter { $0.date >= first && $0.date <= today && CalendarDay.date($0.date) != nil }
            .sorted { $0.date > $1.date }
        let lastRisky = recent.first(where: \.atRisk)?.date
        let level: RiskLevel = lastRisky != nil ? .atRisk : (recent.isEmpty ? .noContact : .low)
        let steps: [NextStep]
        if let lastRisky {
            steps = [.watch(until: CalendarDay.adding(watchDays, to: lastRisky) ?? lastRisky), .tellSchool,
                     .symptoms, .staysPrivate]
        } else {
            steps = [.keepOn, .symptoms]
        }
        var contactRows: [ContactRow] = []
        if let officer = contacts.schoolHealthOfficer {
            contactRows.append(ContactRow(label: .contactSchool, phone: officer))
        }
        contactRows.append(ContactRow(label: .contactHotline, phone: contacts.hotline))
        let texts: (headline: L10nKey, detail: L10nKey)
        switch level {
        case .atRisk: texts = (.exposureAtRiskHeadline, .exposureAtRiskDetail)
        case .low: texts = (.exposureLowHeadline, .exposureLowDetail)
        case .noContact: texts = (.exposureNoneHeadline, .exposureNoneDetail)
        }
        return ExposureDisplay(
            level: level, headline: texts.headline, detail: texts.detail, detailDay: lastRisky,
            rows: recent.map { day in
                DayRow(
                    day: day.date, atRisk: day.atRisk, minutes: max(1, Int(day.weightedMinutes.rounded())),
                    closeness: closeness(day.closest), estimated: day.estimated)
            },
            nextSteps: steps, contacts: contactRows)
    }

    /// The attenuation band in words (bands of signal loss, not metres: the screen promises no distance).
    static func closeness(_ proximity: Proximity) -> L10nKey {
        switch proximity {
        case .immediate: return .proximityImmediate
        case .near: return .proximityNear
        case .medium: return .proximityMedium
        case .far: return .proximityFar
        }
    }
}

@MainActor
final class ExposureViewModel: ObservableObject {
    @Published private(set) var display: ExposureDisplay
    @Published private(set) var error: String? = nil

    private let phone: PhoneControl
    private let contacts: HealthContacts
    private let today: () -> String

    init(phone: PhoneControl, contacts: HealthContacts = HealthContacts(),
         today: @escaping () -> String = { CalendarDay.of(Date()) }) {
        self.phone = phone
        self.contacts = contacts
        self.today = today
        display = ExposureDisplay.of([], today: today(), contacts: contacts)
    }

    var atRisk: Bool {
        display.level == .atRisk
    }

    func load() {
        do {
            display = ExposureDisplay.of(try phone.exposureDays(), today: today(), contacts: contacts)
            error = nil
        } catch {
            self.error = ErrorText.message(error)
        }
    }
}

/// A user-readable message for an error: the core's OpenZoneError messages are written for users.
enum ErrorText {
    static func message(_ error: Error) -> String {
        if let error = error as? OpenZoneError {
            switch error {
            case .InvalidInput(let message), .WrongDataKey(let message), .Storage(let message),
                 .UntrustedData(let message), .Network(let message), .ConsentRequired(let message),
                 .Platform(let message):
                return message
            }
        }
        return String(describing: error)
    }
}
