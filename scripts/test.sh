#!/usr/bin/env bash
# The test command (README, .ci/run): provides what the tests need on a fresh machine of this kind, then runs
# `mvn -B verify` with any extra arguments. Every step says what it does; nothing is skipped or hidden.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The playground tests (server/src/test/.../PlaygroundTest) drive a real headless browser: Debian's chromium
# through its chromedriver. Nothing is downloaded at test time, so they are installed here when absent.
if ! command -v chromedriver >/dev/null 2>&1; then
    echo "test.sh: chromedriver not found: installing Debian's chromium and chromium-driver for the playground tests"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    $sudo apt-get update -q
    $sudo apt-get install -y -q chromium chromium-driver
fi

exec mvn -B verify "$@"
