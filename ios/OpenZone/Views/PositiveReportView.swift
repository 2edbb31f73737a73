// "I tested positive": the code, the day symptoms started or "no symptoms", consent, send.

import SwiftUI

@MainActor
struct PositiveReportView: View {
    @ObservedObject var model: PositiveReportViewModel
    @EnvironmentObject private var strings: Strings

    var body: some View {
        NavigationView {
            Form {
                Section {
                    Text(strings[.positiveIntro]).font(.subheadline)
                }
                Section {
                    TextField(strings[.positiveCode], text: $model.code)
                        .keyboardType(.numberPad)
                        .textContentType(.oneTimeCode)
                    problem(.code)
                } header: {
                    Text(strings[.positiveCode])
                }
                Section {
                    Toggle(strings[.positiveNoSymptoms], isOn: $model.noSymptoms)
                    if !model.noSymptoms {
                        DatePicker(
                            strings[.positiveOnset], selection: $model.onsetDate, in: model.onsetRange,
                            displayedComponents: .date)
                            .environment(\.locale, strings.l10n.locale)
                        problem(.onsetDate)
                    }
                }
                Section {
                    Toggle(strings[.positiveConsent], isOn: $model.consent)
                    problem(.consent)
                }
                Section {
                    Button {
                        Task { await model.submit() }
                    } label: {
                        HStack {
                            if model.phase == .sending {
                                ProgressView()
                                Text(strings[.positiveSending])
                            } else {
                                Text(strings[.positiveSubmit]).bold()
                            }
                        }
                    }
                    .disabled(model.phase == .sending)
                    switch model.phase {
                    case .sent(let keys):
                        Text(strings.format(.positiveSent, Int64(keys))).foregroundColor(.green)
                    case .failed(let key, let reason, _):
                        Text(reason.map { strings.format(key, $0) } ?? strings[key]).foregroundColor(.red)
                    case .editing, .sending:
                        EmptyView()
                    }
                }
            }
            .navigationTitle(strings[.positiveTitle])
        }
        .navigationViewStyle(.stack)
    }

    @ViewBuilder
    private func problem(_ field: ReportField) -> some View {
        if let problem = model.problems[field] {
            Text(strings.format(problem.text, Int64(PositiveReportForm.maxOnsetDays)))
                .font(.footnote)
                .foregroundColor(.red)
        }
    }
}
