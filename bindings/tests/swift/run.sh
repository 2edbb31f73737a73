#!/usr/bin/env bash
# On a Mac with Xcode (or the Swift toolchain): builds openzone-ffi with the test support (the simulated air
# and test export signing, never in an app), generates the Swift bindings into Generated/ and runs the XCTest
# suite on the host.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../../.."
cd "$root"
FEATURES=test-support scripts/gen-bindings swift "$here/Generated/raw"
mkdir -p "$here/Generated/OpenZoneCoreFFI" "$here/Generated/OpenZoneCore"
cp "$here/Generated/raw/OpenZoneCoreFFI.h" "$here/Generated/OpenZoneCoreFFI/"
# SwiftPM's system library target wants the module map under this name.
sed 's/^module OpenZoneCoreFFI/module OpenZoneCoreFFI/' "$here/Generated/raw/OpenZoneCoreFFI.modulemap" \
  > "$here/Generated/OpenZoneCoreFFI/module.modulemap"
cp "$here/Generated/raw/OpenZoneCore.swift" "$here/Generated/OpenZoneCore/"
cd "$here"
DYLD_LIBRARY_PATH="$root/target/debug" swift test
