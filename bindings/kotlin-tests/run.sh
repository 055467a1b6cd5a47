#!/usr/bin/env bash
# Tests the real native library from Kotlin on the JVM: builds libjemput and the jemput-hub
# binary the sync tests start (debug), generates
# the Kotlin bindings with the workspace's own uniffi-bindgen into target/kotlin-bindings
# (generated code is never committed), then runs the JUnit 5 tests with Maven. Everything it
# writes goes under the workspace's target/. Needs cargo, a JDK (17+) and Maven.
#
# `run.sh bench` instead builds the release library and runs only the measurements (BenchTest),
# which print `JEMPUT-BENCH key=value` lines (benchmark scenario 16 reads them).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$(uname -s)" in
  Darwin) lib="libjemput.dylib" ;;
  *) lib="libjemput.so" ;;
esac

if [ "${1:-}" = "bench" ]; then
  # The release library is stripped: its UniFFI metadata symbols are gone, so the bindings are
  # generated from the debug build (the same API and checksums) and run against the release one.
  cargo build -q -p jemput-bindings --lib
  cargo build -q --release -p jemput-bindings --lib
  profile=release
  rm -f "$target_dir/kotlin-tests/bench.txt"
  extra=(-Djemput.bench=true -Djemput.bench.out="$target_dir/kotlin-tests/bench.txt" -Dtest=BenchTest)
else
  # Built apart: together, cargo would unify jemput-core's features and link the hub's own HTTP
# client (feature native-http) into the library the apps never get (ADR 0016).
cargo build -p jemput-bindings
cargo build -p jemput-hub
  profile=debug
  extra=()
fi
rm -rf "$target_dir/kotlin-bindings"
cargo run -q -p uniffi-bindgen -- generate --no-format \
  --library "$target_dir/debug/$lib" --language kotlin --out-dir "$target_dir/kotlin-bindings"

cd "$root/bindings/kotlin-tests"
mvn -B -q -Dstyle.color=never test \
  -Djemput.bindings.dir="$target_dir/kotlin-bindings" \
  -Djemput.native.dir="$target_dir/$profile" \
  -Djemput.hub.bin="$target_dir/debug/jemput-hub" "${extra[@]}"
if [ "$profile" = release ]; then
  # On a line of their own: Maven may leave colour codes without a newline, and jemput-bench
  # reads these lines by their prefix.
  echo
  cat "$target_dir/kotlin-tests/bench.txt"
  exit 0
fi
cat "$target_dir"/kotlin-tests/surefire-reports/*.txt | grep -h "Tests run" || true
echo "Kotlin tests of libjemput passed."
