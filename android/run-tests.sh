#!/usr/bin/env bash
# Tests the Android app on the JVM: builds the native library (debug) and the jemput-hub
# binary, generates the Kotlin bindings with the workspace's own uniffi-bindgen into
# target/android-bindings (never committed), then runs the Robolectric tests with Maven
# (offline SDK jar fetched by Maven; no downloads at test time). The tests start a live hub from
# the built binary and write the screenshots to docs/screenshots/android/. Needs cargo, a JDK
# (17+) and Maven.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$(uname -s)" in
  Darwin) lib="libjemput.dylib" ;;
  *) lib="libjemput.so" ;;
esac

# Built apart: together, cargo would unify jemput-core's features and link the hub's own HTTP
# client (feature native-http) into the library the apps never get (ADR 0016).
cargo build -p jemput-bindings
cargo build -p jemput-hub
rm -rf "$target_dir/android-bindings"
cargo run -q -p uniffi-bindgen -- generate --no-format \
  --library "$target_dir/debug/$lib" --language kotlin --out-dir "$target_dir/android-bindings"

cd "$root/android"
rm -rf "$root/target/android-app/surefire-reports"
mvn -B -q -Dstyle.color=never test \
  -Djemput.bindings.dir="$target_dir/android-bindings" \
  -Djemput.native.dir="$target_dir/debug" \
  -Djemput.hub.bin="$target_dir/debug/jemput-hub" "$@"
grep -h "Tests run" "$root"/target/android-app/surefire-reports/*.txt || true
echo "Robolectric tests of the Android app passed."
