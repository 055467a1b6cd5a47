#!/usr/bin/env bash
# The benchmark command (docs/benchmarks.md): builds in release mode, starts a throwaway
# PostgreSQL for scenario 9 when the server is installed, and runs every scenario, printing
# one table (scenario 16 also needs a JDK and Maven). Extra arguments go to jemput-bench
# (e.g. --only 1,2 or --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
jemput_pg_start
cargo build --release --locked -p jemput-tests --bin jemput-bench
./target/release/jemput-bench "$@"
