#!/usr/bin/env bash
# Runs every test of Jemput: the Rust workspace (core, bindings, hub on SQLite and on a
# throwaway PostgreSQL, cross-component tests) and the Kotlin test of the real native library
# on the JVM.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
jemput_pg_start
cargo test --workspace --locked
bash bindings/kotlin-tests/run.sh
