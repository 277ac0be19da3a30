#!/usr/bin/env bash
# The browser for the console tests: Debian's chromium, driven by the Python playwright package
# through executable_path (the tests never download a browser of their own).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
else
  echo "scripts/browser.sh: no apt-get; install chromium at /usr/bin/chromium for the console tests" >&2
fi
