#!/usr/bin/env bash
# Local engine speed, side by side with llama.cpp (node-llama-cpp 3.22.1) on the same GGUF files and threads.
# Each model and thread count runs in a JVM of its own (as llama.cpp's side runs in a process of its own), so that
# no cell's figures depend on what C2 compiled for an earlier one (before the kernels' fix in the tensor package doc,
# one JVM running six types in turn measured Q6_K decode 6x slower in about half the runs).
# Each Java cell runs right before the same llama.cpp cell: on a shared VM all Java cells, then all llama.cpp ones, put
# minutes of a slower machine on one side of every ratio.
# Models: models/stories260K.gguf (when present) and generated ~110M-parameter llama models in
# F32, Q8_0, Q4_0, Q4_K, Q5_K and Q6_K (written once to $BENCH_DIR). Prefill/decode tokens per second, best of 5 runs
# after a warm-up.
# Usage: scripts/bench-local-engine.sh [THREADS (default "1 2")]
# The machine may be shared: compare the two sides of one row, not runs made at different times.
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
llama_cpp=yes
[ -d scripts/crosscheck/node_modules/node-llama-cpp ] || { llama_cpp=; echo "(llama.cpp side skipped: run npm install in scripts/crosscheck)"; }
echo "Java: one JVM a model and thread count; llama.cpp: node-llama-cpp 3.22.1, CPU, one process each; each Java cell"
echo "is run right before its llama.cpp cell, so that a shared machine's slow minutes fall on both sides of a ratio."
echo
echo "| model | threads | Java prefill | llama.cpp prefill | prefill ratio | Java decode | llama.cpp decode | decode ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for t in $threads; do
  for type in stories F32 Q8_0 Q4_0 Q4_K Q5_K Q6_K; do
    if [ "$type" = stories ]; then
      [ -f "$stories" ] || continue
      m="$stories"; args=(--stories "$stories" --types ""); p=128; d=256
    else
      m="$dir/bench-100M-$type.gguf"; args=(--stories /nonexistent --types "$type"); p=64; d=32
    fi
    # "| model | threads | prefill (tokens) | decode (tokens) |" -> "model prefill decode"
    java_cell=$("$java" --add-modules jdk.incubator.vector -Xmx4g -cp "$cp" io.streamingllm.bench.LocalBench \
      "${args[@]}" --dir "$dir" --threads "$t" 2>/dev/null | awk -F'|' '$3 ~ /[0-9]/ {print $2, $4, $5}' \
      | awk '{print $1, $2, $4}')
    read -r name jp jd <<< "$java_cell"
    if [ -n "$llama_cpp" ]; then
      read -r lp ld < <((cd scripts/crosscheck && node bench.mjs --model "$m" --threads "$t" --prefill $p --decode $d --runs 5) \
        | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(r.prefillTps, r.decodeTps)})')
      awk -v n="$name" -v t="$t" -v jp="$jp" -v jd="$jd" -v lp="$lp" -v ld="$ld" -v p="$p" -v d="$d" \
        'BEGIN {printf "| %s | %s | %.1f (%d) | %.1f | %.2f | %.1f (%d) | %.1f | %.2f |\n", n, t, jp, p, lp, jp / lp, jd, d, ld, jd / ld}'
    else
      echo "| $name | $t | $jp ($p) | | | $jd ($d) | | |"
    fi
  done
done
