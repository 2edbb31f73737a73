// Onboarding, as on Android: what OpenZone does, what it records and never collects, the user's agreement,
// then the permissions, each with its reason, in that order, so that Bluetooth is asked for only after the
// user agreed (creating the Bluetooth managers is what shows iOS's prompt). iPhones have no battery step;
// the Bluetooth page says instead not to swipe the app away.

import Foundation

/// What onboarding asks of the app (PhoneHost).
@MainActor
protocol OnboardingActions: AnyObject {
    /// The user agreed: create the Bluetooth managers (iOS asks for the permission) and start the radio.
    func startRadio()
    /// Asks for permission to post notifications.
    func requestNotifications() async
    /// Onboarding is over: from now on the radio starts at every launch.
    func finishOnboarding()
}

@MainActor
final class OnboardingViewModel: ObservableObject {
    enum Step: Int, CaseIterable {
        case welcome
        case privacy
        case consent
        case bluetooth
        case notifications
        case done
    }

    @Published private(set) var step: Step = .welcome
    @Published var consent = false

    private weak var actions: OnboardingActions?

    init(actions: OnboardingActions) {
        self.actions = actions
    }

    var canGoBack: Bool {
        step != .welcome && step != .done
    }

    /// The consent step holds until the user ticks the box.
    var canAdvance: Bool {
        step != .consent || consent
    }

    /// The page's button: continue, or grant what the page asks for.
    func next() async {
        guard canAdvance else { return }
        switch step {
        case .bluetooth:
            actions?.startRadio()
        case .notifications:
            await actions?.requestNotifications()
        case .done:
            actions?.finishOnboarding()
            return
        default:
            break
        }
        if let following = Step(rawValue: step.rawValue + 1) {
            step = following
        }
    }

    func back() {
        guard canGoBack, let previous = Step(rawValue: step.rawValue - 1) else { return }
        step = previous
    }
}
