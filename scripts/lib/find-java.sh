# Sourced by the benchmark and evaluation scripts: find_java prints a java binary of a JDK 22+
# (JAVA_HOME, then java on PATH, then the JDKs under STREAMING_LLM_JDK_DIRS, default /usr/lib/jvm),
# or returns 1. JDK 22: the local engine maps GGUF files with the FFM API, final in 22.
# (scripts/run-sidecar.sh keeps its own copy: it is the one script users copy on its own.)

java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2; exit}'
}

find_java() {
  local candidates=()
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  local IFS=:
  for d in ${STREAMING_LLM_JDK_DIRS:-/usr/lib/jvm}; do
    for j in "$d"/*/bin/java; do
      [[ -x "$j" ]] && candidates+=("$j")
    done
  done
  for j in "${candidates[@]}"; do
    local v
    v="$(java_major "$j" || true)"
    if [[ "$v" =~ ^[0-9]+$ ]] && (( v >= 22 )); then
      echo "$j"
      return 0
    fi
  done
  return 1
}
