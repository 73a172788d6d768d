#!/usr/bin/env bash
# Re-runs the llama.cpp cross-check and rewrites the JSON fixtures that `mvn verify` compares against
# (local-engine/src/test/resources/llamacpp/, format in README.md there).
#   1. MODEL (default models/stories260K.gguf): vocab, tokenisation, greedy continuations, top-5.
#   2. Two generated vocabulary-only GGUFs with byte-level BPE (Llama 3 and Qwen2 pre-tokenizers): vocab and
#      tokenisation, so the gpt2 tokenizer is checked against llama.cpp without a real Llama 3 / Qwen2 model.
# Usage: scripts/crosscheck-llamacpp.sh [MODEL.gguf] [extra crosscheck.mjs args for MODEL...]
# Needs node >= 20 and npm (first run: npm install of node-llama-cpp 3.22.1 into scripts/crosscheck/node_modules).
# Any other GGUF (e.g. a generated random-weight model) can be run the same way:
#   node scripts/crosscheck/crosscheck.mjs --model X.gguf --out DIR --prompts prompts.json
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:-$repo/models/stories260K.gguf}"
shift || true
[ -f "$model" ] || { echo "model not found: $model" >&2; exit 2; }
out="$repo/local-engine/src/test/resources/llamacpp"
cd "$repo/scripts/crosscheck"
[ -d node_modules/node-llama-cpp ] || npm install --no-audit --no-fund
node crosscheck.mjs --model "$model" --out "$out" "$@"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node make-bpe-vocab.mjs "$tmp"
for pre in llama3 qwen2; do
  node crosscheck.mjs --model "$tmp/bpe-$pre.gguf" --out "$out" --vocab-only 2>"$tmp/stderr-$pre" \
    || { cat "$tmp/stderr-$pre" >&2; exit 1; }
done
echo "fixtures written to $out"
