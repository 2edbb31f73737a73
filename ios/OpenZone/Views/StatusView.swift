// The Status screen: protected or not, the one thing to fix, advice, today's count, the last check.

import SwiftUI
import UIKit

@MainActor
struct StatusView: View {
    @ObservedObject var model: StatusViewModel
    @ObservedObject var exposure: ExposureViewModel
    @EnvironmentObject private var strings: Strings

    var body: some View {
        NavigationView {
            List {
                Section {
                    VStack(alignment: .leading, spacing: 8) {
                        Label {
                            Text(strings[model.display.headline]).font(.headline)
                        } icon: {
                            Image(systemName: model.display.protected ? "checkmark.shield.fill" : "exclamationmark.shield.fill")
                                .foregroundColor(model.display.protected ? .green : .orange)
                        }
                        Text(detail)
                            .font(.subheadline)
                            .foregroundColor(.secondary)
                        switch model.display.fix {
                        case .startProtection?:
                            Button(strings[.fixStart]) { model.startProtection() }
                        case .bluetoothPermission?:
                            Button(strings[.fixBluetoothPermission], action: openSettings)
                        case nil:
                            EmptyView()
                        }
                    }
                    .padding(.vertical, 4)
                    if model.display.advice == .notifications {
                        VStack(alignment: .leading, spacing: 4) {
                            Text(strings[.adviceNotifications]).font(.footnote)
                            Button(strings[.fixNotifications], action: openSettings)
                        }
                    }
                }
                Section {
                    if exposure.atRisk {
                        Text(strings[exposure.display.headline]).foregroundColor(.red)
                    }
                    Text(lastSync)
                        .font(.footnote)
                        .foregroundColor(.secondary)
                    Button {
                        Task { await model.checkNow() }
                    } label: {
                        HStack {
                            if model.syncing {
                                ProgressView()
                                Text(strings[.statusChecking])
                            } else {
                                Text(strings[.statusCheckNow])
                            }
                        }
                    }
                    .disabled(model.syncing)
                    if let failure {
                        Text(strings.format(.statusSyncFailed, failure))
                            .font(.footnote)
                            .foregroundColor(.red)
                    }
                }
            }
            .navigationTitle(strings[.navStatus])
            .onAppear {
                model.refresh()
                exposure.load()
            }
        }
        .navigationViewStyle(.stack)
    }

    private var detail: String {
        if let count = model.display.count {
            return strings.format(model.display.detail, Int64(clamping: count))
        }
        return strings[model.display.detail]
    }

    private var lastSync: String {
        guard let date = model.lastSync else { return strings[.statusNeverSynced] }
        return strings.format(.statusLastSync, strings.l10n.dateTime(date))
    }

    private var failure: String? {
        if case .failed(let message)? = model.lastOutcome {
            return message
        }
        return nil
    }

    private func openSettings() {
        if let url = URL(string: UIApplication.openSettingsURLString) {
            UIApplication.shared.open(url)
        }
    }
}
