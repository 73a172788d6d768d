#!/usr/bin/env bash
# Starts the StreamingLLM sidecar from any working directory.
#
#   scripts/run-sidecar.sh
#
# 1. Exports <repo>/.env.sidecar when present. Variables already set in the environment win over
#    the file (as compose's `environment` wins over `env_file`), so
#    `STREAMING_LLM_PORT=9000 scripts/run-sidecar.sh` does what it says.
# 2. Finds a JDK 22+: $JAVA_HOME, then `java` on PATH, then the JDKs under each directory of
#    $STREAMING_LLM_JDK_DIRS (colon-separated, default /usr/lib/jvm; the newest one wins).
# 3. Builds the server jar when STREAMING_LLM_BOOTSTRAP_DEPS=1 (default) or when it is missing.
# 4. exec's the server (the script's process becomes the JVM, so signals reach it directly),
#    bound to ${STREAMING_LLM_HOST:-0.0.0.0}:${STREAMING_LLM_PORT:-8000}.
# Relative paths in the configuration (STREAMING_LLM_DATA_DIR=./data, ...) resolve against the
# repository root, where the server runs.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd -- "$script_dir/.." && pwd -P)
jar="$root/server/target/streaming-llm-server.jar"
libs="$root/server/target/libs"

die() {
  printf 'run-sidecar.sh: %s\n' "$1" >&2
  exit 1
}

# --- 1. .env.sidecar (the real environment keeps precedence) ---------------------------------
if [[ -f "$root/.env.sidecar" ]]; then
  declare -A from_env=()
  while IFS= read -r name; do
    from_env[$name]=${!name-}
  done < <(compgen -e)
  set -a
  # shellcheck source=/dev/null
  source "$root/.env.sidecar"
  set +a
  for name in "${!from_env[@]}"; do
    if [[ "${!name-}" != "${from_env[$name]}" ]]; then
      printf -v "$name" '%s' "${from_env[$name]}"
      export "${name?}"
    fi
  done
  unset from_env name
fi

# --- 2. a JDK 22+ ------------------------------------------------------------------------------
# Major version of the java binary at $1, or nothing. Reads the JDK's release file when there
# is one (no JVM start), else parses `java -version`.
java_major() {
  local bin=$1 home version=""
  [[ -x "$bin" ]] || return 0
  home=$(cd -- "$(dirname -- "$bin")/.." && pwd -P)
  if [[ -f "$home/release" ]]; then
    version=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [[ -z "$version" ]]; then
    version=$("$bin" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1) || true
  fi
  version=${version#1.}            # 1.8.0_392 -> 8.0_392
  [[ "$version" =~ ^([0-9]+) ]] && printf '%s\n' "${BASH_REMATCH[1]}"
  return 0
}

java_bin=""
best=0
consider() {
  local bin=$1 major
  major=$(java_major "$bin")
  if [[ -n "$major" && "$major" -ge 22 && "$major" -gt "$best" ]]; then
    java_bin=$bin
    best=$major
  fi
}
if [[ -n "${JAVA_HOME:-}" ]]; then
  consider "$JAVA_HOME/bin/java"
fi
if [[ -z "$java_bin" ]] && path_java=$(command -v java 2>/dev/null); then
  consider "$(readlink -f -- "$path_java" 2>/dev/null || printf '%s' "$path_java")"
fi
jdk_dirs=${STREAMING_LLM_JDK_DIRS:-/usr/lib/jvm}
if [[ -z "$java_bin" ]]; then
  IFS=: read -r -a search_dirs <<< "$jdk_dirs"
  for dir in "${search_dirs[@]}"; do
    [[ -n "$dir" && -d "$dir" ]] || continue
    consider "$dir/bin/java"
    for candidate in "$dir"/*/bin/java; do
      [[ -e "$candidate" ]] && consider "$candidate"
    done
  done
fi
[[ -n "$java_bin" ]] || die "no JDK 22+ found (looked at JAVA_HOME, java on PATH, $jdk_dirs): install one, e.g. Temurin 22+ (25 recommended) from https://adoptium.net, or set JAVA_HOME"
export JAVA_HOME
JAVA_HOME=$(cd -- "$(dirname -- "$java_bin")/.." && pwd -P)

# --- 3. build ----------------------------------------------------------------------------------
if [[ "${STREAMING_LLM_BOOTSTRAP_DEPS:-1}" == "1" || ! -f "$jar" || ! -d "$libs" ]]; then
  command -v mvn >/dev/null 2>&1 \
    || die "the server jar is not built ($jar) and Maven is missing: install Maven 3.8+ (e.g. 'apt-get install maven') or build it elsewhere with 'mvn -B -DskipTests -pl server -am package'"
  (cd -- "$root" && mvn -B -q -DskipTests -pl server -am package) >&2 \
    || die "building the server failed (mvn -B -q -DskipTests -pl server -am package in $root)"
fi

# --- 4. run ------------------------------------------------------------------------------------
cd -- "$root"
exec "$java_bin" --add-modules jdk.incubator.vector -jar "$jar" \
  --host "${STREAMING_LLM_HOST:-0.0.0.0}" --port "${STREAMING_LLM_PORT:-8000}"
