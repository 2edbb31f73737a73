// The app's entry: a SwiftUI app whose UIKit delegate does what must happen during launch, including
// launches in the background (iOS relaunching the app to restore its Bluetooth managers, or to run a
// background task): register the background tasks, open the engine, recreate the Bluetooth managers.

import SwiftUI
import UIKit
import UserNotifications

@main
struct OpenZoneApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var appDelegate
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            RootView()
                .environmentObject(appDelegate.host)
                .environmentObject(appDelegate.host.strings)
        }
        .onChange(of: scenePhase) { phase in
            appDelegate.host.setForeground(phase == .active)
        }
    }
}

@MainActor
final class AppDelegate: NSObject, UIApplicationDelegate, UNUserNotificationCenterDelegate {
    private(set) lazy var host = PhoneHost()

    func application(_ application: UIApplication,
                     didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil) -> Bool {
        // The unit tests run inside the app: nothing starts then.
        guard !AppConfig.isRunningTests else { return true }
        // Background task handlers must be registered before launch ends.
        host.syncScheduler.register()
        UNUserNotificationCenter.current().delegate = self
        // When iOS relaunches the app for a Bluetooth event, launchOptions lists the restore identifiers
        // (.bluetoothCentrals, .bluetoothPeripherals): they are the fixed identifiers CentralController and
        // PeripheralController use, and `launch` recreates both managers with them.
        host.launch(foreground: application.applicationState != .background)
        return true
    }

    /// Shows the at-risk notification even while the app is open.
    nonisolated func userNotificationCenter(_ center: UNUserNotificationCenter, willPresent notification: UNNotification,
                                            withCompletionHandler completionHandler: @escaping (UNNotificationPresentationOptions) -> Void) {
        completionHandler([.banner, .list, .sound])
    }
}
