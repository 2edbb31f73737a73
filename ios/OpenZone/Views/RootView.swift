// Which screen the app shows: onboarding until the user agreed, then the tabs (Status, Result, Report
// positive, Settings, as on Android); or why the engine could not start.

import SwiftUI

@MainActor
struct RootView: View {
    @EnvironmentObject private var host: PhoneHost
    @EnvironmentObject private var strings: Strings

    var body: some View {
        if let error = host.startupError {
            StartupErrorView(message: error, canReset: host.canResetStore) { host.resetStore() }
        } else if !host.onboardingDone {
            OnboardingView(host: host)
        } else if let session = host.session {
            MainView(session: session)
        } else {
            ProgressView()
        }
    }
}

@MainActor
struct MainView: View {
    let session: AppSession
    @EnvironmentObject private var strings: Strings

    var body: some View {
        TabView {
            StatusView(model: session.status, exposure: session.exposure)
                .tabItem { Label(strings[.navStatus], systemImage: "antenna.radiowaves.left.and.right") }
            ExposureView(model: session.exposure)
                .tabItem { Label(strings[.navExposure], systemImage: "exclamationmark.shield") }
            PositiveReportView(model: session.report)
                .tabItem { Label(strings[.navPositive], systemImage: "cross.case") }
            SettingsView(model: session.settings, qa: session.qa)
                .tabItem { Label(strings[.navSettings], systemImage: "gearshape") }
        }
    }
}

@MainActor
struct StartupErrorView: View {
    let message: String
    let canReset: Bool
    let reset: () -> Void
    @EnvironmentObject private var strings: Strings

    var body: some View {
        VStack(spacing: 16) {
            Image(systemName: "exclamationmark.triangle")
                .font(.system(size: 48))
                .foregroundColor(.orange)
            Text(strings[.startupTitle])
                .font(.title2)
                .multilineTextAlignment(.center)
            Text(message)
                .font(.footnote)
                .foregroundColor(.secondary)
                .multilineTextAlignment(.center)
            if canReset {
                Button(role: .destructive, action: reset) {
                    Text(strings[.startupReset])
                }
                .buttonStyle(.bordered)
            }
        }
        .padding(24)
    }
}
