// swift-tools-version:5.9
// Host tests of the Swift bindings, for a Mac: `bindings/tests/swift/run.sh` generates the bindings into
// Generated/ and runs `swift test` against the debug build of openzone-ffi.
import PackageDescription

let package = Package(
    name: "OpenZoneCoreHostTests",
    platforms: [.macOS(.v13)],
    targets: [
        .systemLibrary(name: "OpenZoneCoreFFI", path: "Generated/OpenZoneCoreFFI"),
        .target(
            name: "OpenZoneCore",
            dependencies: ["OpenZoneCoreFFI"],
            path: "Generated/OpenZoneCore",
            linkerSettings: [
                .linkedLibrary("openzone_ffi"),
                .unsafeFlags(["-L../../../target/debug"]),
            ]
        ),
        .testTarget(name: "OpenZoneCoreTests", dependencies: ["OpenZoneCore"], path: "Tests/OpenZoneCoreTests"),
    ]
)
