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

# The PostgreSQL store tests (store-postgres, server's ReplicasTest) make a fresh database each on the
# PostgreSQL at 127.0.0.1:5432 (trust authentication, user postgres or root). Started here when none answers.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    if ! command -v pg_isready >/dev/null 2>&1; then
        echo "test.sh: PostgreSQL not installed: installing Debian's postgresql for the store tests"
        $sudo apt-get update -q
        $sudo apt-get install -y -q postgresql
    fi
    if command -v pg_lsclusters >/dev/null 2>&1 && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
        read -r version cluster _ < <(pg_lsclusters -h | head -n 1)
        echo "test.sh: PostgreSQL does not answer at 127.0.0.1:5432: starting cluster $version/$cluster (pg_ctlcluster)"
        $sudo pg_ctlcluster "$version" "$cluster" start
    else
        echo "test.sh: PostgreSQL does not answer at 127.0.0.1:5432: service postgresql start"
        $sudo service postgresql start
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
    if ! pg_isready -h 127.0.0.1 -p 5432; then
        echo "test.sh: PostgreSQL still does not answer at 127.0.0.1:5432; the store tests need it" >&2
        exit 1
    fi
    echo "test.sh: PostgreSQL answers at 127.0.0.1:5432"
fi

exec mvn -B verify "$@"
