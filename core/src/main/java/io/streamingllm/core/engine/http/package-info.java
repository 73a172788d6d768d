/**
 * HTTP plumbing the upstream engines share (Ollama's NDJSON and OpenAI's server-sent events are both line records):
 * {@link io.streamingllm.core.engine.http.NdjsonBody} splits a streamed body into lines where the bytes arrive,
 * {@link io.streamingllm.core.engine.http.ErrorBody} reads a bounded error body, and
 * {@link io.streamingllm.core.engine.http.TransportFailures} tells "never reached" from "lost on the way".
 * Streamed calls go through {@link io.streamingllm.core.engine.http.StreamingHttp}: for {@code http} upstreams
 * {@link io.streamingllm.core.engine.http.SocketStreamingHttp} (a virtual thread per call, over a
 * {@code SocketConnection} whose response starts with a {@code ResponseHead}), for {@code https} the JDK's client.
 * {@link io.streamingllm.core.engine.http.JsonBytes} writes the engines' request bodies in one pass over the prompt.
 * {@link io.streamingllm.core.engine.http.StreamedCall} is the lifecycle of one streamed call (stop, abort, idle
 * watchdog, drain guard, settling once) both engines' generations extend, and
 * {@link io.streamingllm.core.engine.http.EngineArgs} their constructors' checks and timer thread.
 */
package io.streamingllm.core.engine.http;
