#!/usr/bin/env bash
# System packages the test suite uses beyond Python: Chromium for the HTML report's browser
# test (tests/test_report_html.py). PostgreSQL's server binaries come with the machine image
# (tests/test_database.py says how to install them where they are missing).
# Installs Chromium from the system packages when it is missing and we may (root, apt-get);
# otherwise it says what the browser test needs and leaves the rest of the suite to run.
set -u
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: installing chromium for the browser test" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null && apt-get clean && exit 0
    echo "system-deps: could not install chromium; the browser test will fail" >&2
else
    echo "system-deps: no chromium; install it (apt-get install chromium) or run pytest -m 'not browser'" >&2
fi
exit 0
