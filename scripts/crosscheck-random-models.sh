#!/usr/bin/env bash
# Cross-checks the local engine's weight types and architectures against llama.cpp: writes the random-weight
# test models (llama, qwen2, qwen3 and gemma3 in every weight type, the same deterministic files the tests write), runs
# llama.cpp on each (node-llama-cpp 3.22.1, CPU, 1 thread) and writes generation fixtures to
# local-engine/src/test/resources/llamacpp/random/ (plus sha256.txt, so the tests know the files match).
# Needs node >= 20 (first run: npm install in scripts/crosscheck) and a JDK 22+.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
java="$(ls -d /usr/lib/jvm/temurin-2[2-9]*/bin/java /usr/lib/jvm/*-2[2-9]*/bin/java 2>/dev/null | head -1)"
out="$repo/local-engine/src/test/resources/llamacpp/random"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
mvn -B -q -pl local-engine -am test-compile
"$java" --add-modules jdk.incubator.vector -cp local-engine/target/classes:local-engine/target/test-classes \
  io.streamingllm.local.testing.WriteRandomModels "$tmp/models" 2>/dev/null > "$tmp/sha256.txt"
cd scripts/crosscheck
[ -d node_modules/node-llama-cpp ] || npm install --no-audit --no-fund
cat > "$tmp/prompts.json" <<'JSON'
[{"name": "ids-a", "ids": [1, 17, 300, 42, 42, 5, 259, 77]}, {"name": "ids-b", "ids": [1, 290, 291, 292]}]
JSON
echo '[]' > "$tmp/strings.json"
mkdir -p "$out"
while read -r name sha; do
  node crosscheck.mjs --model "$tmp/models/$name.gguf" --out "$tmp/fixtures" --no-vocab --prompts "$tmp/prompts.json" \
    --strings "$tmp/strings.json" --generate 16 --positions 8
  cp "$tmp/fixtures/$name.generation.json" "$out/"
done < "$tmp/sha256.txt"
cp "$tmp/sha256.txt" "$out/sha256.txt"
echo "fixtures written to $out"
