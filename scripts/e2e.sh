#!/usr/bin/env bash
# End-to-end test of the staff dashboard in a real browser: Chromium from Debian's packages
# (scripts/setup.sh installs it) driven by playwright-core (hub/e2e, pinned by its lock file),
# against the real jemput-hub binary and a real phone (jemput-phone: the core's store and sync
# client). Screenshots land in docs/screenshots/dashboard/. Without Chromium the test is skipped
# with a notice, unless JEMPUT_REQUIRE_BROWSER=1 (CI), where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM="${JEMPUT_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null; then
  if [ "${JEMPUT_REQUIRE_BROWSER:-0}" = 1 ]; then
    echo "Chromium ($CHROMIUM) atau Node.js tidak ada; jalankan scripts/setup.sh" >&2
    exit 1
  fi
  echo "catatan: Chromium atau Node.js tidak ada; uji peramban dasbor dilewati (jalankan scripts/setup.sh)"
  exit 0
fi
# Debian's Chromium shows its own widgets (a date field's dd/mm/tttt) in Bahasa Indonesia only
# with its translations (chromium-l10n); without them the screenshots would show English ones.
if [ -d /usr/lib/chromium/locales ] && [ ! -f /usr/lib/chromium/locales/id.pak ] && [ "$CHROMIUM" = /usr/bin/chromium ]; then
  if [ "${JEMPUT_REQUIRE_BROWSER:-0}" = 1 ]; then
    echo "Terjemahan Chromium (chromium-l10n) tidak ada; jalankan scripts/setup.sh" >&2
    exit 1
  fi
  echo "catatan: terjemahan Chromium (chromium-l10n) tidak ada; isian tanggal tampil dalam format Inggris"
fi
cargo build --locked -p jemput-hub --bin jemput-hub -p jemput-tests --bin jemput-phone
(cd hub/e2e && npm ci --no-audit --no-fund --loglevel=error)
node hub/e2e/run.mjs target/debug/jemput-hub target/debug/jemput-phone
