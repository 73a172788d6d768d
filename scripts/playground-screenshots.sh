#!/usr/bin/env bash
# Refreshes the README's playground screenshots: runs the browser tests (which save a screenshot of each view
# they check into server/target/playground-screenshots) and copies them to docs/playground.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mvn -B -q -pl server -am test -Dtest=PlaygroundTest -Dsurefire.failIfNoSpecifiedTests=false "$@"
mkdir -p docs/playground
install -m 644 server/target/playground-screenshots/*.png docs/playground/
ls -l docs/playground
