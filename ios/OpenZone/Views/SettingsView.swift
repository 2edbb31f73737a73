// Settings: language, protection, QA mode, delete my data (with a confirmation), the QA screen.

import SwiftUI

@MainActor
struct SettingsView: View {
    @ObservedObject var model: SettingsViewModel
    let qa: QAViewModel
    @EnvironmentObject private var strings: Strings

    var body: some View {
        NavigationView {
            Form {
                Section {
                    Picker(strings[.settingsLanguage], selection: $model.language) {
                        Text(strings[.languageVi]).tag(AppLanguage.vietnamese)
                        Text(strings[.languageEn]).tag(AppLanguage.english)
                    }
                }
                Section {
                    Toggle(strings[.settingsProtection], isOn: $model.protectionOn)
                    Text(strings[.settingsProtectionDetail]).font(.footnote).foregroundColor(.secondary)
                }
                Section {
                    Toggle(strings[.settingsQa], isOn: $model.qaMode)
                    Text(strings[.settingsQaDetail]).font(.footnote).foregroundColor(.secondary)
                    NavigationLink(destination: QAView(model: qa)) {
                        Text(strings[.navQa])
                    }
                }
                Section {
                    Button(role: .destructive) {
                        model.requestDeletion()
                    } label: {
                        Text(strings[.settingsDelete])
                    }
                    switch model.deletion {
                    case .done:
                        Text(strings[.settingsDeleted]).foregroundColor(.secondary)
                    case .failed(let reason):
                        Text(strings.format(.settingsDeleteFailed, reason)).foregroundColor(.red)
                    case .idle, .confirming:
                        EmptyView()
                    }
                }
                Section {
                    Text(strings.format(.settingsVersion, version))
                        .font(.footnote)
                        .foregroundColor(.secondary)
                }
            }
            .navigationTitle(strings[.settingsTitle])
            .alert(strings[.settingsDelete], isPresented: confirming) {
                Button(strings[.settingsDeleteYes], role: .destructive) { model.confirmDeletion() }
                Button(strings[.commonCancel], role: .cancel) { model.cancelDeletion() }
            } message: {
                Text(strings[.settingsDeleteConfirm])
            }
        }
        .navigationViewStyle(.stack)
    }

    private var confirming: Binding<Bool> {
        Binding(get: { model.deletion == .confirming }, set: { if !$0 && model.deletion == .confirming { model.cancelDeletion() } })
    }

    private var version: String {
        let info = Bundle.main.infoDictionary
        let short = info?["CFBundleShortVersionString"] as? String ?? "?"
        let build = info?["CFBundleVersion"] as? String ?? "?"
        return "\(short) (\(build))"
    }
}
