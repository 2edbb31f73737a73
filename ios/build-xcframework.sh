#!/usr/bin/env bash
# Builds the Rust core for iOS and packages it for the Swift package in ios/OpenZoneCore (on a Mac):
#
#   1. cargo builds openzone-ffi (profile release-mobile) for aarch64-apple-ios (devices) and for
#      aarch64-apple-ios-sim and x86_64-apple-ios (Apple silicon and Intel simulators);
#   2. lipo joins the two simulator slices into one library (an XCFramework takes one per platform);
#   3. scripts/gen-bindings generates the Swift bindings: OpenZoneCore.swift, OpenZoneCoreFFI.h and the
#      module map (renamed module.modulemap, the name Xcode looks for in an XCFramework's headers);
#   4. xcodebuild -create-xcframework packs both libraries with the header and module map into
#      ios/OpenZoneCore/OpenZoneCoreFFI.xcframework, and OpenZoneCore.swift goes to
#      ios/OpenZoneCore/Sources/OpenZoneCore/. Both are generated and git-ignored.
#
#   ios/build-xcframework.sh                 release-mobile (what ships: small, LTO)
#   PROFILE=dev ios/build-xcframework.sh     unoptimised, faster to build while working on the core
#
# Needs macOS with Xcode, and the three rustup targets (the script says which are missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

if [ "$(uname -s)" != Darwin ]; then
  echo "build-xcframework.sh runs on macOS with Xcode (it needs xcodebuild and lipo)" >&2
  exit 1
fi
for tool in cargo rustup xcodebuild lipo; do
  command -v "$tool" >/dev/null || { echo "build-xcframework.sh: $tool is missing" >&2; exit 1; }
done

profile=${PROFILE:-release-mobile}
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# Objects compiled from C (ring) must target the app's minimum iOS, or the linker warns for every one.
export IPHONEOS_DEPLOYMENT_TARGET=15.0

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
installed="$(rustup target list --installed)"
for target in "$device" "${simulators[@]}"; do
  if ! grep -qx "$target" <<<"$installed"; then
    echo "missing Rust target $target: rustup target add $device ${simulators[*]}" >&2
    exit 1
  fi
done
for target in "$device" "${simulators[@]}"; do
  echo "== cargo build --profile $profile -p openzone-ffi --target $target"
  cargo build --locked --profile "$profile" -p openzone-ffi --target "$target"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
lib=libopenzone_ffi.a
mkdir -p "$work/simulator" "$work/headers"
lipo -create \
  "$CARGO_TARGET_DIR/aarch64-apple-ios-sim/$dir/$lib" \
  "$CARGO_TARGET_DIR/x86_64-apple-ios/$dir/$lib" \
  -output "$work/simulator/$lib"

# The bindings come from the host build of the same crate (library mode reads its uniffi metadata); the
# dev profile keeps the metadata symbols the generator reads.
PROFILE=dev scripts/gen-bindings swift "$work/bindings"
cp "$work/bindings/OpenZoneCoreFFI.h" "$work/headers/"
cp "$work/bindings/OpenZoneCoreFFI.modulemap" "$work/headers/module.modulemap"

package="$here/OpenZoneCore"
rm -rf "$package/OpenZoneCoreFFI.xcframework"
xcodebuild -create-xcframework \
  -library "$CARGO_TARGET_DIR/$device/$dir/$lib" -headers "$work/headers" \
  -library "$work/simulator/$lib" -headers "$work/headers" \
  -output "$package/OpenZoneCoreFFI.xcframework"
mkdir -p "$package/Sources/OpenZoneCore"
cp "$work/bindings/OpenZoneCore.swift" "$package/Sources/OpenZoneCore/OpenZoneCore.swift"

echo "OpenZoneCoreFFI.xcframework and OpenZoneCore.swift are in ios/OpenZoneCore ($profile)"
