#!/bin/sh
# Install what the tests need from Debian, unless it is already there:
# - Chromium (and a CJK font, so Chinese mentions render in screenshots) for the
#   browser tests; Playwright's own browser download cannot work offline, the tests
#   drive this one;
# - PostgreSQL, the team store's engine: the store tests start their own server
#   from it (tests/postgres_server.py).
set -e
PACKAGES="chromium fonts-wqy-zenhei postgresql"
if dpkg -s $PACKAGES >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PACKAGES >/dev/null
