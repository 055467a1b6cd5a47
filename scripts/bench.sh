#!/usr/bin/env bash
# The benchmark command (docs/benchmarks.md): builds the benchmark in release mode and the hub
# binary (which scenarios 8, 9, 12 and 15 run in its own process) with the `server` profile,
# starts a throwaway PostgreSQL for scenario 9 when the server is installed, installs the Automerge sync server
# for scenario 15 when Node.js is installed, and runs every scenario, printing one table
# (scenario 16 also needs a JDK and Maven; 8 also valgrind). Extra arguments go to
# jemput-bench (e.g. --only 1,2 or --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
jemput_pg_start
cargo build --release --locked -p jemput-tests --bin jemput-bench
# The hub in its own process (scenarios 8, 9, 12, 15) as an operator builds it: profile `server`
# (opt-level 3); the phone's library and the store scenarios stay on `release` (opt-level "s").
cargo build --profile server --locked -p jemput-hub --bin jemput-hub
export JEMPUT_HUB_BIN="${JEMPUT_HUB_BIN:-$PWD/target/server/jemput-hub}"
if command -v npm >/dev/null && [ ! -d tests/automerge-compare/node_modules ]; then
  # `npm install` (from the lock file), not `npm ci`: npm 11's ci refuses this lock file over
  # cbor-extract's platform packages, optional dependencies that carry no version.
  (cd tests/automerge-compare && npm install --no-audit --no-fund)
fi
./target/release/jemput-bench "$@"
