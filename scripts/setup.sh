#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: PostgreSQL (the hub's second back end)
# and the C toolchain pieces the Rust build uses. Rust (cargo), Java 17 and Maven are expected to
# be there already (see README). Needs root (or sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends postgresql postgresql-contrib ca-certificates
# Debian starts a system cluster on port 5432; the tests run their own on 54329 instead.
for c in cargo java mvn; do
  command -v "$c" >/dev/null || { echo "$c tidak ditemukan: pasang dulu (lihat README)" >&2; exit 1; }
done
echo "Siap: jalankan scripts/test.sh"
