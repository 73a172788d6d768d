/**
 * The StreamingLLM evaluation of the local engine ({@code scripts/eval-streaming.sh}, results in
 * {@code docs/streaming-eval.md}): perplexity and latency of dense, window, sliding-window-with-re-computation
 * and sinks + recent attention over a stream of stories the model samples itself
 * ({@link io.streamingllm.local.eval.StreamingEval}), how much attention the first tokens receive
 * ({@link io.streamingllm.local.eval.AttentionMass}), and the report's tables and PNG plots
 * ({@link io.streamingllm.local.eval.StreamingEvalMain}, {@link io.streamingllm.local.eval.LinePlot}).
 * A module of its own so that the engine's runtime jar carries none of it (nor AWT).
 * Single-threaded: one evaluation drives one model (whose matrix products use its own pool).
 */
package io.streamingllm.local.eval;
