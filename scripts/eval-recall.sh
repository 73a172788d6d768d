#!/usr/bin/env bash
# Recall evaluation (issue 18): long synthetic conversations with facts planted among filler turns and questions
# about them 100 to 2,000 turns later, played through the real session (log, window, summary, Lucene recall) in
# front of the echo engine. No model: it checks whether each fact is in the prompt sent to the engine, for window
# only, window + summary, and window + summary + recall, and the prompt's size. Prints markdown tables and writes
# an SVG chart.
# Usage: scripts/eval-recall.sh [--out DIR] [--seed N] [--turns N] [--per-distance N]
#          [--distances 100,250,500,1000,2000] [--recall-size N]
#   --out           where the chart goes (default docs/recall-eval)
#   --turns         turns of the conversation (default 2600)
#   --per-distance  questions for each distance (default 20)
#   --recall-size   STREAMING_LLM_RECALL_SIZE (default: the sidecar's default, a quarter of RECENT_SIZE)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=lib/find-java.sh
source scripts/lib/find-java.sh

JAVA="$(find_java)" || { echo "eval-recall: no JDK 22+ found (JAVA_HOME, PATH, /usr/lib/jvm/*); install one" >&2; exit 1; }
mvn -B -q -pl bench -am package -DskipTests
exec "$JAVA" ${BENCH_JAVA_OPTS:-} -cp "bench/target/classes:bench/target/libs/*" io.streamingllm.bench.RecallEval "$@"
