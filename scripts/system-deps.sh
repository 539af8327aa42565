#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing: chromium (the widget's
# browser tests, and print-to-PDF of the test documents), fonts-dejavu-core (Cyrillic glyphs for
# those PDFs and for ReportLab's) and docker-compose (validates docker-compose.yml; no Docker engine).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: please install ${missing[*]} (Debian: sudo apt-get install ${missing[*]}); tests that need them will skip" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
