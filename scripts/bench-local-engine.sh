#!/usr/bin/env bash
# Local engine speed, side by side with llama.cpp (node-llama-cpp 3.22.1) on the same GGUF files and threads.
# Each model and thread count runs in a JVM of its own (as llama.cpp's side runs in a process of its own): one JVM
# running six types in turn compiles the later ones' kernels after the earlier ones' and measured Q6_K decode 6x slower.
# Models: models/stories260K.gguf (when present) and generated ~110M-parameter llama models in
# F32, Q8_0, Q4_0, Q4_K, Q5_K and Q6_K (written once to $BENCH_DIR). Prefill/decode tokens per second, best of 5 runs
# after a warm-up.
# Usage: scripts/bench-local-engine.sh [THREADS (default "1 2")]
# The machine may be shared: compare the two columns of one run, not runs made at different times.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
threads="${1:-1 2}"
dir="${BENCH_DIR:-${TMPDIR:-/tmp}/streamingllm-bench}"
stories="$repo/models/stories260K.gguf"
cd "$repo"
# shellcheck source=lib/find-java.sh
source scripts/lib/find-java.sh
java="$(find_java)" || { echo "bench-local-engine: no JDK 22+ found (JAVA_HOME, PATH, /usr/lib/jvm/*); install one" >&2; exit 2; }
mvn -B -q -pl bench -am package -DskipTests
cp="bench/target/streaming-llm-bench-0.1.0-SNAPSHOT.jar:bench/target/libs/*"
echo "## local engine (Java, one JVM a model and thread count, as a sidecar serves one model)"
echo "| model | threads | prefill tok/s (tokens) | decode tok/s (tokens) |"
echo "| --- | --- | --- | --- |"
for t in $threads; do
  for type in stories F32 Q8_0 Q4_0 Q4_K Q5_K Q6_K; do
    if [ "$type" = stories ]; then args=(--stories "$stories" --types ""); [ -f "$stories" ] || continue
    else args=(--stories /nonexistent --types "$type"); fi
    "$java" --add-modules jdk.incubator.vector -Xmx4g -cp "$cp" io.streamingllm.bench.LocalBench \
      "${args[@]}" --dir "$dir" --threads "$t" 2>/dev/null | grep -v -e '^| model' -e '^| ---'
  done
done
if [ -d scripts/crosscheck/node_modules/node-llama-cpp ]; then
  echo
  echo "## llama.cpp (node-llama-cpp 3.22.1, CPU)"
  echo "| model | threads | prefill tok/s (tokens) | decode tok/s (tokens) |"
  echo "| --- | --- | --- | --- |"
  for t in $threads; do
    for m in "$stories" "$dir"/bench-100M-{F32,Q8_0,Q4_0,Q4_K,Q5_K,Q6_K}.gguf; do
      [ -f "$m" ] || continue
      if [[ "$m" == *stories260K* ]]; then p=128; d=256; else p=64; d=32; fi
      (cd scripts/crosscheck && node bench.mjs --model "$m" --threads "$t" --prefill $p --decode $d --runs 5) \
        | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);const n=r.model.split("/").pop().replace(".gguf","").replace("bench-","");console.log(`| ${n} | ${r.threads} | ${r.prefillTps} (${r.prefill}) | ${r.decodeTps} (${r.decode}) |`)})'
    done
  done
else
  echo "(llama.cpp side skipped: run npm install in scripts/crosscheck)"
fi
