#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: PostgreSQL (the hub's second back end),
# Chromium and Node.js (the dashboard's browser test) and, when missing, a JDK and Maven (the
# Kotlin test of the native library and the Android app's Robolectric tests; Maven fetches
# Kotlin, JNA, JUnit and Robolectric itself), and the Debian tools that assemble the Android
# APK. Rust (cargo) is expected to be there (see README). Needs root (or sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends postgresql postgresql-contrib ca-certificates openssl
# The dashboard's browser test: Chromium (driven by playwright-core from npm) with its
# translations (the test runs it in Bahasa Indonesia, as on an office PC), fonts, and python3 to
# open the exported workbook.
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-l10n fonts-dejavu-core python3
# Node.js and npm only when missing: a machine may already have Node.js from NodeSource, whose
# package bundles npm and conflicts with Debian's npm package (apt then refuses the whole line).
command -v node >/dev/null || $SUDO apt-get install -y -q --no-install-recommends nodejs
command -v npm >/dev/null || $SUDO apt-get install -y -q --no-install-recommends npm
command -v java >/dev/null || $SUDO apt-get install -y -q --no-install-recommends default-jdk-headless
command -v mvn >/dev/null || $SUDO apt-get install -y -q --no-install-recommends maven
# The Android APK without the Android SDK (android/build-apk.sh): aapt v1, zipalign, apksigner
# and the framework's resources for aapt's -I.
$SUDO apt-get install -y -q --no-install-recommends aapt zipalign apksigner android-framework-res
# Debian starts a system cluster on port 5432; the tests run their own on 54329 instead.
for c in cargo java mvn node npm; do
  command -v "$c" >/dev/null || { echo "$c tidak ditemukan: pasang dulu (lihat README)" >&2; exit 1; }
done
echo "Siap: jalankan scripts/test.sh"
