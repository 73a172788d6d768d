/**
 * The Ollama engine: {@code POST /api/chat} streamed as NDJSON over {@link io.streamingllm.core.engine.http.StreamingHttp}
 * (plain sockets for {@code http} URLs, {@code java.net.http} for {@code https}), plus the relay of
 * Ollama's other routes ({@code /api/tags}, {@code /api/show}, {@code /api/version}).
 *
 * <p>{@link io.streamingllm.core.engine.ollama.ChatRequestJson} writes the request body in one pass;
 * {@link io.streamingllm.core.engine.http.NdjsonBody} splits the response into lines where the bytes arrive and
 * {@link io.streamingllm.core.engine.ollama.ChatChunks} reads plain chat chunks without a JSON parser (anything else
 * goes to Parsson); {@link io.streamingllm.core.engine.ollama.OllamaGeneration} is one call's lifecycle (cancel, idle
 * timeout, final record, settle once); {@code OllamaErrors} turns failures into typed messages that say what to do.
 *
 * <p>Threads: each streamed call is read and parsed by its own virtual thread, and listeners are called there (they
 * should only enqueue). One scheduler thread runs the idle and drain timers. Results complete on a fresh virtual thread each.
 */
package io.streamingllm.core.engine.ollama;
