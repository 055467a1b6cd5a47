#!/usr/bin/env bash
# Runs every test of Jemput: style (`cargo fmt --check`) and lints (`cargo clippy -D warnings`)
# first, then the Rust workspace (core, bindings, hub, cross-component tests, the layering
# check), with a throwaway PostgreSQL for the hub's PostgreSQL suite when the server is
# installed; the staff dashboard end to end in a real browser (scripts/e2e.sh); the Kotlin test
# of the real native library on the JVM; and the Android app's Robolectric tests (against a
# live hub started from the built binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
source scripts/postgres.sh
jemput_pg_start
cargo test --workspace --locked
bash scripts/e2e.sh
if [ -f bindings/kotlin-tests/run.sh ]; then
  bash bindings/kotlin-tests/run.sh
fi
bash android/run-tests.sh
