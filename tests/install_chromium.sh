#!/bin/sh
# Install Debian's Chromium (and a CJK font, so Chinese mentions render in
# screenshots) for the browser tests, unless they are already there.
# Playwright's own browser download cannot work offline; the tests drive this one.
set -e
if dpkg -s chromium fonts-wqy-zenhei >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
