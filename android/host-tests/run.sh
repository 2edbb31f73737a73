#!/usr/bin/env bash
# Compiles the Android shell's plain Kotlin (android/shared/src/main) and its host tests
# (android/shared/src/hostTest) with the generated uniffi bindings, and runs them on the host JVM against the
# real core library (target/debug/libopenzone_ffi.so) through JNA, as scripts/test-bindings-kotlin does.
# No Android SDK is needed: the shared sources import nothing from android.*, which this script checks.
#
#   android/host-tests/run.sh            all tests
#   android/host-tests/run.sh scan       only tests whose "suite: name" contains "scan"
#
# The compiled bindings are cached in $CARGO_TARGET_DIR/android-host-tests, keyed by the generated source, so
# a run after the first compiles only the shell's sources.
set -euo pipefail
cd "$(dirname "$0")/../.."

kotlin_home=bindings/tests/kotlin/node_modules/kotlin-compiler
[ -x "$kotlin_home/bin/kotlinc" ] || { echo "error: kotlinc missing at $kotlin_home: run scripts/setup" >&2; exit 1; }
jna=/usr/share/java/jna.jar
[ -f "$jna" ] || { echo "error: $jna missing: run scripts/setup (Debian package libjna-java)" >&2; exit 1; }
command -v java >/dev/null || { echo "error: java missing: run scripts/setup" >&2; exit 1; }

shared=android/shared/src
if grep -rnE '^import (android|androidx)\.' "$shared/main" "$shared/hostTest"; then
  echo "error: the shared module must stay free of Android imports (the lines above)" >&2
  exit 1
fi

target_dir=${CARGO_TARGET_DIR:-target}
cache="$target_dir/android-host-tests"
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Builds the library (debug) and generates the bindings.
FEATURES=test-support scripts/gen-bindings kotlin "$work/bindings" >/dev/null
lib_dir="$target_dir/debug"
[ -f "$lib_dir/libopenzone_ffi.so" ] || { echo "error: $lib_dir/libopenzone_ffi.so was not built" >&2; exit 1; }

coroutines="$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"
test_jar="$kotlin_home/lib/kotlin-test.jar"
stdlib="$kotlin_home/lib/kotlin-stdlib.jar"
# kotlinc is a short-lived JVM: C1 alone (no C2 warm-up) halves its time on a 2-CPU machine.
kotlinc() {
  JAVA_OPTS="-Xmx2g -XX:TieredStopAtLevel=1 -XX:+UseSerialGC" \
    "$kotlin_home/bin/kotlinc" -nowarn "$@" 2>&1 | grep -v '^warning' || true
}

hash=$(find "$work/bindings" -name '*.kt' -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
bindings_jar="$cache/bindings-$hash.jar"
if [ ! -f "$bindings_jar" ]; then
  echo "compiling the generated bindings (cached as $bindings_jar)"
  rm -f "$cache"/bindings-*.jar
  kotlinc -cp "$jna:$coroutines" "$work/bindings" -d "$work/bindings.jar"
  [ -f "$work/bindings.jar" ] || { echo "error: compiling the bindings failed" >&2; exit 1; }
  mv "$work/bindings.jar" "$bindings_jar"
fi

echo "compiling android/shared (main and hostTest)"
kotlinc -cp "$bindings_jar:$jna:$coroutines:$test_jar" "$shared/main/kotlin" "$shared/hostTest/kotlin" \
  -d "$work/tests.jar"
[ -f "$work/tests.jar" ] || { echo "error: compiling android/shared failed" >&2; exit 1; }

# The tests' stores go under $work, removed on exit.
mkdir -p "$work/tmp"
java -Djna.library.path="$lib_dir" -Dopenzone.android.dir=android -Djava.io.tmpdir="$work/tmp" \
  -cp "$work/tests.jar:$bindings_jar:$jna:$coroutines:$test_jar:$stdlib" \
  org.openzone.app.HostTestsKt "$@"
