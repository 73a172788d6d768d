#!/usr/bin/env bash
# Local engine features, measured on the generated ~100M model (and stories260K):
#  - KvRestoreBench: time to first token of the first turn after a restart with a full 2,048-token window,
#    KV cache restored from DATA_DIR/kv vs the window prefilled again (target: at least 20x sooner), and
#    whether both generate the tokens of an engine that never stopped;
#  - JsonDecodeBench: decode time per token with format json / a JSON schema vs free text (target: at most +15%).
# Usage: scripts/bench-local-features.sh [THREADS (default 2)]
# Run it on a quiet machine: the figures are wall-clock times.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
threads="${1:-2}"
dir="${BENCH_DIR:-${TMPDIR:-/tmp}/streamingllm-bench}"
cd "$repo"
# shellcheck source=lib/find-java.sh
source scripts/lib/find-java.sh
java="$(find_java)" || { echo "bench-local-features: no JDK 22+ found (JAVA_HOME, PATH, /usr/lib/jvm/*); install one" >&2; exit 2; }
mvn -B -q -pl bench -am package -DskipTests
cp="bench/target/streaming-llm-bench-0.1.0-SNAPSHOT.jar:bench/target/libs/*"
echo "## KV cache restored after a restart"
"$java" --add-modules jdk.incubator.vector -Xmx4g -cp "$cp" io.streamingllm.bench.KvRestoreBench \
  --dir "$dir" --threads "$threads" 2>/dev/null
echo
echo "## JSON-constrained decoding, cost per token"
"$java" --add-modules jdk.incubator.vector -Xmx4g -cp "$cp" io.streamingllm.bench.JsonDecodeBench \
  --stories models/stories260K.gguf --dir "$dir" --threads "$threads" 2>/dev/null
