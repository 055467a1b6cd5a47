#!/usr/bin/env bash
# Generates the app-side bindings of libjemput with the workspace's own uniffi-bindgen (the same
# UniFFI version as the library): `bindings/generate.sh kotlin|swift OUT_DIR`. Builds the host
# library first (the bindings are read from its metadata; they are the same for every
# Android/iOS target). Generated code is never committed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
lang="${1:?kotlin or swift}"
out="${2:?output folder}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$(uname -s)" in
  Darwin) lib="libjemput.dylib" ;;
  *) lib="libjemput.so" ;;
esac
# The bindings are read from the debug build: the release build is stripped of the UniFFI
# metadata symbols (same API and checksums either way).
cargo build -q -p jemput-bindings --lib
rm -rf "$out"
cargo run -q -p uniffi-bindgen -- generate --no-format \
  --library "$target_dir/debug/$lib" --language "$lang" --out-dir "$out"
echo "Bindings ($lang) in $out"
