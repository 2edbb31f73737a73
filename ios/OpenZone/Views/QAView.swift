// The QA screen, for testers: the identifier on air, what the phone hears now, counters, radio duty, the
// shell's Bluetooth state, and the diagnostics export (states and counts only).

import CoreBluetooth
import OpenZoneCore
import SwiftUI
import UIKit

@MainActor
struct QAView: View {
    @ObservedObject var model: QAViewModel
    @EnvironmentObject private var strings: Strings
    @State private var report: String? = nil

    var body: some View {
        List {
            Section {
                Text(model.identifier ?? strings[.qaNoIdentifier])
                    .font(.system(.footnote, design: .monospaced))
                    .textSelection(.enabled)
            } header: {
                Text(strings[.qaIdentifier])
            }
            Section {
                if model.rows.isEmpty {
                    Text(strings[.qaNothingHeard]).foregroundColor(.secondary)
                }
                ForEach(model.rows) { row in
                    Text(strings.format(
                        .qaRow, strings[row.sighting.kind.text], Int64(row.sighting.rssi),
                        row.sighting.txPower.map { "\($0) dBm" } ?? strings[.qaTxNone], Int64(row.sighting.count),
                        Int64(row.age)))
                        .font(.footnote)
                }
                Text(strings[.qaAttenuationNote]).font(.caption).foregroundColor(.secondary)
            } header: {
                Text(strings[.qaLive])
            }
            Section {
                Text(strings.format(
                    .qaCounters, Int64(clamping: model.counters.scans), Int64(clamping: model.counters.rotations),
                    Int64(clamping: model.counters.sightings), Int64(clamping: model.counters.sightingsToday),
                    Int64(clamping: model.counters.gattReadsOk), Int64(clamping: model.counters.gattReadsFailed)))
                    .font(.footnote)
                if let bluetooth = model.bluetooth {
                    Text(strings.format(
                        .qaBluetooth, QAViewModel.authorizationName(bluetooth.authorization),
                        yesNo(bluetooth.central.scanning), yesNo(bluetooth.peripheral.advertising),
                        Int64(bluetooth.central.keptPeers), Int64(bluetooth.central.pendingReads),
                        bluetooth.peripheral.lastError ?? "—"))
                        .font(.footnote)
                }
            }
            Section {
                ForEach(model.duty, id: \.mode) { info in
                    Text(strings.format(
                        .qaDutyRow, strings[QAViewModel.modeText(info.mode)], strings.l10n.percent(info.scanning),
                        strings.l10n.percent(info.advertising), strings.l10n.percent(info.total)))
                        .font(.footnote)
                }
            } header: {
                Text(strings[.qaDuty])
            }
            Section {
                Button(strings[.qaExport]) { report = model.diagnosticsReport() }
            }
        }
        .navigationTitle(strings[.qaTitle])
        .onAppear { model.refresh() }
        .refreshable { model.refresh() }
        .sheet(isPresented: Binding(get: { report != nil }, set: { if !$0 { report = nil } })) {
            ShareSheet(items: [report ?? ""])
        }
    }

    private func yesNo(_ value: Bool) -> String {
        strings[value ? .commonYes : .commonNo]
    }
}

/// The system share sheet (SwiftUI's ShareLink needs iOS 16).
@MainActor
struct ShareSheet: UIViewControllerRepresentable {
    let items: [Any]

    func makeUIViewController(context: Context) -> UIActivityViewController {
        UIActivityViewController(activityItems: items, applicationActivities: nil)
    }

    func updateUIViewController(_ controller: UIActivityViewController, context: Context) {}
}
