/**
 * The engine SPI: the seam between sessions and a model. A {@link io.streamingllm.core.engine.ModelEngine} streams a
 * {@link io.streamingllm.core.engine.Generation} for a windowed prompt of
 * {@link io.streamingllm.core.engine.ChatMessage}s, sending each text delta to a
 * {@link io.streamingllm.core.engine.TokenListener}; failures are typed
 * {@link io.streamingllm.core.engine.EngineException}s whose message says what to do.
 *
 * <p>Threads: the listener runs on the engine's own thread (the Ollama engine: its HTTP client's selector thread,
 * shared by every stream; the echo engine: one virtual thread per generation; the local engine: its worker thread),
 * in order, and must not block. A generation's result completes only after the last listener call returned, and
 * never on a thread that serves other streams, so callers may block in what they chain on it.
 *
 * <p>Implementations: {@code engine.ollama} (an Ollama server over HTTP), {@code engine.echo} (the wiring and
 * load-test engine) and, in the {@code local-engine} module, pure-Java GGUF inference.
 */
package io.streamingllm.core.engine;
