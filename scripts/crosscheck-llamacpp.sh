#!/usr/bin/env bash
# Re-runs the llama.cpp cross-check and rewrites the JSON fixtures that `mvn verify` compares against.
# Usage: scripts/crosscheck-llamacpp.sh [MODEL.gguf] [extra crosscheck.mjs args...]
# Needs node >= 20 and npm (first run: npm install of node-llama-cpp 3.22.1 into scripts/crosscheck/node_modules).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:-$repo/../shared/models/stories260K.gguf}"
shift || true
[ -f "$model" ] || { echo "model not found: $model" >&2; exit 2; }
cd "$repo/scripts/crosscheck"
[ -d node_modules/node-llama-cpp ] || npm install --no-audit --no-fund
exec node crosscheck.mjs --model "$model" --out "$repo/local-engine/src/test/resources/llamacpp" "$@"
