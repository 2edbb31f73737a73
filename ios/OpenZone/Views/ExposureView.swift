// The exposure result: the headline, each day (at risk or not, how long, how close), what to do next and
// whom to call. Never who or where.

import SwiftUI
import UIKit

@MainActor
struct ExposureView: View {
    @ObservedObject var model: ExposureViewModel
    @EnvironmentObject private var strings: Strings

    var body: some View {
        NavigationView {
            List {
                Section {
                    Text(strings[model.display.headline])
                        .font(.headline)
                        .foregroundColor(model.display.level == .atRisk ? .red : .primary)
                    Text(detail)
                    if let error = model.error {
                        Text(strings.format(.exposureError, error)).font(.footnote).foregroundColor(.red)
                    }
                }
                if !model.display.rows.isEmpty {
                    Section {
                        ForEach(model.display.rows) { row in
                            VStack(alignment: .leading, spacing: 4) {
                                HStack {
                                    Text(strings.l10n.day(row.day)).font(.headline)
                                    Spacer()
                                    Text(strings[row.atRisk ? .exposureDayAtRisk : .exposureDayLow])
                                        .foregroundColor(row.atRisk ? .red : .secondary)
                                }
                                Text(verbatim: "\(strings.format(.exposureDayMinutes, row.minutes)) · \(strings[row.closeness])")
                                if row.estimated {
                                    Text(strings[.exposureDayEstimated])
                                        .font(.footnote)
                                        .foregroundColor(.secondary)
                                }
                            }
                            .padding(.vertical, 2)
                        }
                    }
                }
                Section {
                    ForEach(Array(model.display.nextSteps.enumerated()), id: \.offset) { _, step in
                        Text(text(step))
                    }
                } header: {
                    Text(strings[.exposureNextTitle])
                }
                Section {
                    ForEach(model.display.contacts, id: \.phone) { contact in
                        Button {
                            call(contact.phone)
                        } label: {
                            HStack {
                                Text(strings[contact.label])
                                Spacer()
                                Text(contact.phone)
                            }
                        }
                    }
                } header: {
                    Text(strings[.exposureWhoToCall])
                }
            }
            .navigationTitle(strings[.exposureTitle])
            .onAppear { model.load() }
        }
        .navigationViewStyle(.stack)
    }

    private var detail: String {
        if let day = model.display.detailDay {
            return strings.format(model.display.detail, strings.l10n.day(day))
        }
        return strings[model.display.detail]
    }

    private func text(_ step: NextStep) -> String {
        switch step {
        case .watch(let until): return strings.format(.exposureStepWatch, strings.l10n.day(until))
        case .tellSchool: return strings[.exposureStepTellSchool]
        case .symptoms: return strings[.exposureStepSymptoms]
        case .staysPrivate: return strings[.exposureStepPrivate]
        case .keepOn: return strings[.exposureStepKeepOn]
        }
    }

    private func call(_ phone: String) {
        let digits = phone.filter(\.isNumber)
        if let url = URL(string: "tel:\(digits)") {
            UIApplication.shared.open(url)
        }
    }
}
