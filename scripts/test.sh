#!/usr/bin/env bash
# Runs every test of Jemput: the Rust workspace (core, bindings, hub, cross-component tests),
# with a throwaway PostgreSQL for the hub's PostgreSQL suite when the server is installed; and
# the staff dashboard end to end in a real browser (scripts/e2e.sh); the Kotlin test of the
# real native library on the JVM once it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
jemput_pg_start
cargo test --workspace --locked
bash scripts/e2e.sh
if [ -f bindings/kotlin-tests/run.sh ]; then
  bash bindings/kotlin-tests/run.sh
fi
