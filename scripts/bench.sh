#!/usr/bin/env bash
# Benchmarks. Usage: scripts/bench.sh SCENARIO [args...]
#   log   durable event-log appends: EventLog (journal group commit) vs the Python sidecar's per-event fsync
#         (args: --seconds N per cell, --dir PATH to keep the files, --virtual for virtual-thread writers)
#   ws    N concurrent WebSocket sessions through the sidecar jar to the fake Ollama upstream vs. straight to it:
#         relayed tokens/s, TTFT added (p50/p99), sidecar RSS, CPU s per M tokens (sidecar; and the bench's own
#         JVM, i.e. the WebSocket clients plus the fake upstream, which share the machine with it)
#         (args: [sessions csv, default 1,50,200,1000] [ms/token csv, default 0,20] [turns, 10] [tokens per reply, 32]
#         [arrivals: lockstep (default, every session starts at once) | staggered (starts spread over one reply) |
#         lockstep,staggered (both, one row each, on the same sidecar)])
#         env BENCH_SIDECAR_JAVA_OPTS adds JVM options to the sidecar (e.g. -XX:StartFlightRecording=filename=/tmp/s.jfr),
#         BENCH_JAVA_OPTS to the bench JVM; each sidecar is first warmed up until JIT compilation has settled
#   v1    the /v1 path next to the ws path, in one run: streamed POST /v1/chat/completions (SSE, whole history per
#         call, X-Conversation-Id) through the sidecar jar running openai:NAME in front of the fake OpenAI-compatible
#         server, and /ws/chat in front of the fake Ollama; relayed tokens/s, their ratio, TTFT added (p50/p99) and
#         sidecar CPU per M tokens, medians of alternating repeats and their spread (args: [sessions csv, default
#         1,50,200] [ms/token csv, default 0,20] [turns, 10] [tokens per reply, 32] [repeats, 3]; at 0 ms/token a cell
#         relays at least 100,000 tokens or runs 200 turns); BENCH_SIDECAR_JAVA_OPTS and warm-up as for ws
#   syscalls  system calls per turn of each relay path's sidecar (WebSocket + Ollama, /v1 + OpenAI), counted by
#         perf stat on the system-call tracepoints after the same warm-up as ws (args: [sessions, 50] [turns, 20]
#         [tokens per reply, 32]); needs perf
#   query event-log queries (the /events pages) over a large log directory: ms and MB allocated per query, and
#         paging back through a long conversation (args: --mb N (800), --conversations N (200), --runs N (5),
#         --dir PATH to keep and reuse the generated logs); BENCH_JAVA_OPTS=-Xmx64m shows memory stays bounded
#   session  per-turn overhead of log, window and summary at turns 10, 1,000, 10,000 (echo engine, 0 ms/token)
#         and heap per resident conversation with a full window (args: [turns, 10000] [conversations, 400])
#   recall  per-turn cost with recall on (Lucene index, recall search) at turns 10, 1,000, 10,000 of one conversation,
#         and the recall search alone, then the same with recall off (args: [turns, 10000])
#   upstream  the engines' own CPU per relayed token: Ollama (NDJSON) vs OpenAI-compatible (SSE) engine, each
#         streaming from its fake upstream at full speed (args: [sessions, 200] [rounds, 20] [tokens per reply, 32])
#   pool  several upstreams behind one engine: tokens/s and TTFT with 1 and 3 fake Ollamas, the share of turns that
#         reach the previous turn's upstream (pool placement vs round-robin), failover when one is closed mid-run
#         (args: [sessions, 300] [turns, 5] [tokens per reply, 16] [ms/token, 20])
#   store the files next to PostgreSQL in one run: durable appends/s, p50/p99 at 1, 8 and 64 writers, and the
#         per-turn overhead with each store (args: --seconds N (3) --turns N (300) --server host:port (127.0.0.1:5432)
#         --user NAME (postgres); a database is made for the run and dropped after it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  echo "usage: scripts/bench.sh <scenario> [args...]   scenarios: log ws v1 syscalls session recall query upstream pool store" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
scenario="$1"
shift
case "$scenario" in
  log) main=io.streamingllm.bench.LogBench ;;
  ws) main=io.streamingllm.bench.WsBench ;;
  v1) main=io.streamingllm.bench.V1Bench ;;
  syscalls) main=io.streamingllm.bench.SyscallBench ;;
  session) main=io.streamingllm.bench.SessionBench ;;
  recall) main=io.streamingllm.bench.RecallBench ;;
  query) main=io.streamingllm.bench.QueryBench ;;
  upstream) main=io.streamingllm.bench.UpstreamBench ;;
  pool) main=io.streamingllm.bench.PoolBench ;;
  store) main=io.streamingllm.bench.StoreBench ;;
  *) echo "unknown scenario: $scenario" >&2; usage ;;
esac

# shellcheck source=lib/find-java.sh
source scripts/lib/find-java.sh

JAVA="$(find_java)" || { echo "bench: no JDK 22+ found (JAVA_HOME, PATH, /usr/lib/jvm/*); install one" >&2; exit 1; }
mvn -B -q -pl bench -am package -DskipTests
exec "$JAVA" ${BENCH_JAVA_OPTS:-} -cp "bench/target/classes:bench/target/libs/*" "$main" "$@"
