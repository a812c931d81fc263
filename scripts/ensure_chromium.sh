#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing.
# Playwright's own browser download does not work offline, so the tests drive this one.
set -eu
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
if command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is missing and apt-get is not available: the browser tests will be skipped." >&2
fi
