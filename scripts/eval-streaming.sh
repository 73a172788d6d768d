#!/usr/bin/env bash
# StreamingLLM evaluation: dense, window, sliding window with re-computation and streaming (sinks +
# recent) over a stream of stories the model samples itself; markdown table + PNG plots.
# Usage: scripts/eval-streaming.sh [--model PATH] [--tokens N] [--out DIR] [--seed N]
#          [--recompute-stride N] [--threads N] [--caches 256,512] [--sinks 1,2,4,8] [--max-story N]
#   --model             a GGUF file (default models/stories260K.gguf, relative to the repo root)
#   --tokens            stream length (default 20000)
#   --out               output directory (default docs/streaming-eval)
#   --recompute-stride  evaluate the re-computation baseline at every N-th token (default 16)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=lib/find-java.sh
source scripts/lib/find-java.sh

JAVA="$(find_java)" || { echo "eval-streaming: no JDK 22+ found (JAVA_HOME, PATH, /usr/lib/jvm/*); install one" >&2; exit 1; }
mvn -B -q -pl local-eval -am package -DskipTests \
  dependency:build-classpath -Dmdep.outputFile=target/runtime.classpath -Dmdep.includeScope=runtime
cp="local-eval/target/classes:$(cat local-eval/target/runtime.classpath)"
exec "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true \
  -XX:+UseParallelGC -cp "$cp" io.streamingllm.local.eval.StreamingEvalMain "$@"
