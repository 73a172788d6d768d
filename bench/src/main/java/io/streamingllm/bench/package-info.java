/** Benchmark scenarios run by {@code scripts/bench.sh}. */
package io.streamingllm.bench;
