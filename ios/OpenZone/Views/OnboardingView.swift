// Onboarding pages: welcome, your data, agreement, Bluetooth, notifications, done (Android's flow, without
// its Android-only steps).

import SwiftUI

@MainActor
struct OnboardingView: View {
    @StateObject private var model: OnboardingViewModel
    @EnvironmentObject private var host: PhoneHost
    @EnvironmentObject private var strings: Strings

    init(host: PhoneHost) {
        _model = StateObject(wrappedValue: OnboardingViewModel(actions: host))
    }

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            if model.step == .welcome {
                Picker(strings[.settingsLanguage], selection: language) {
                    Text(strings[.languageVi]).tag(AppLanguage.vietnamese)
                    Text(strings[.languageEn]).tag(AppLanguage.english)
                }
                .pickerStyle(.segmented)
            }
            Spacer()
            Image(systemName: icon)
                .font(.system(size: 56))
                .foregroundColor(.accentColor)
            Text(strings[title])
                .font(.title)
                .bold()
            Text(strings[text])
            ForEach(bullets, id: \.self) { bullet in
                Label(bullet, systemImage: "circle.fill")
                    .labelStyle(BulletLabelStyle())
            }
            if model.step == .consent {
                Toggle(strings[.onboardingConsentCheck], isOn: $model.consent)
            }
            Spacer()
            HStack {
                if model.canGoBack {
                    Button(strings[.commonBack]) { model.back() }
                }
                Spacer()
                Button {
                    Task { await model.next() }
                } label: {
                    Text(strings[button]).bold()
                }
                .buttonStyle(.borderedProminent)
                .disabled(!model.canAdvance)
            }
        }
        .padding(24)
    }

    private var language: Binding<AppLanguage> {
        Binding(get: { strings.l10n.language }, set: { host.setLanguage($0) })
    }

    private var icon: String {
        switch model.step {
        case .welcome: return "hand.wave"
        case .privacy: return "lock.shield"
        case .consent: return "checkmark.seal"
        case .bluetooth: return "antenna.radiowaves.left.and.right"
        case .notifications: return "bell.badge"
        case .done: return "checkmark.circle"
        }
    }

    private var title: L10nKey {
        switch model.step {
        case .welcome: return .onboardingWelcomeTitle
        case .privacy: return .onboardingPrivacyTitle
        case .consent: return .onboardingConsentTitle
        case .bluetooth: return .onboardingBluetoothTitle
        case .notifications: return .onboardingNotificationsTitle
        case .done: return .onboardingDoneTitle
        }
    }

    private var text: L10nKey {
        switch model.step {
        case .welcome: return .onboardingWelcomeBody
        case .privacy: return .onboardingCollectsTitle
        case .consent: return .onboardingConsentBody
        case .bluetooth: return .onboardingBluetoothBody
        case .notifications: return .onboardingNotificationsBody
        case .done: return .onboardingDoneBody
        }
    }

    private var bullets: [String] {
        switch model.step {
        case .privacy:
            return [strings[.onboardingCollectsEncounters], strings[.onboardingCollectsKeys],
                    "\(strings[.onboardingNotCollectedTitle]): \(strings[.onboardingNotCollected])"]
        case .bluetooth:
            return [strings[.onboardingBluetoothScan], strings[.onboardingBluetoothAdvertise],
                    strings[.onboardingBluetoothConnect], strings[.onboardingBluetoothIphone]]
        default:
            return []
        }
    }

    private var button: L10nKey {
        switch model.step {
        case .bluetooth, .notifications: return .onboardingGrant
        default: return .commonContinue
        }
    }
}

/// A small dot before each bullet.
struct BulletLabelStyle: LabelStyle {
    func makeBody(configuration: Configuration) -> some View {
        HStack(alignment: .firstTextBaseline, spacing: 8) {
            configuration.icon.font(.system(size: 6))
            configuration.title
        }
    }
}
