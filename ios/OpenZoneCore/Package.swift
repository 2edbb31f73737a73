// swift-tools-version:5.9
// OpenZoneCore: the Rust core (openzone-ffi) for the iOS app, as a Swift package.
//
// - OpenZoneCoreFFI: the XCFramework built by `ios/build-xcframework.sh` (static libraries for devices and
//   simulators, with the C header and module map uniffi generates).
// - OpenZoneCore: the generated Swift bindings over it (`Sources/OpenZoneCore/OpenZoneCore.swift`).
//
// Both are generated and git-ignored: run `ios/build-xcframework.sh` before opening the project.
//
// The product is a dynamic framework so that the app and its hosted unit tests share one copy of the core
// (a static product linked into both would give the test bundle a second Rust runtime and second copies
// of every Swift type of the bindings).
import PackageDescription

let package = Package(
    name: "OpenZoneCore",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "OpenZoneCore", type: .dynamic, targets: ["OpenZoneCore"]),
    ],
    targets: [
        .binaryTarget(name: "OpenZoneCoreFFI", path: "OpenZoneCoreFFI.xcframework"),
        .target(
            name: "OpenZoneCore",
            dependencies: ["OpenZoneCoreFFI"],
            path: "Sources/OpenZoneCore",
            exclude: ["README.md"],
            // A Rust static library does not carry its system dependencies: the key server client's TLS
            // verifies certificates with Security.framework (rustls-platform-verifier), which uses
            // CoreFoundation. Check with `cargo rustc --profile release-mobile -p openzone-ffi
            // --target aarch64-apple-ios --lib --crate-type staticlib -- --print native-static-libs`.
            linkerSettings: [
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
    ]
)
