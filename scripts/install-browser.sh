#!/bin/sh
# Installs the headless browser the report test uses (tests/report_browser.rs): Debian's
# chromium. Without it that test prints "skipped" and passes; with it, it opens every kind of
# report.html the command line writes and checks what the browser drew.
#
#   scripts/install-browser.sh
set -e
for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" >/dev/null 2>&1; then
        echo "a browser is already installed: $(command -v "$b")"
        exit 0
    fi
done
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser.sh: no apt-get here; install Chromium or Google Chrome with your system's package manager" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
$SUDO apt-get update
$SUDO apt-get install -y chromium
chromium --version
