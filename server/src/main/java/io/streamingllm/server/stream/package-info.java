/**
 * Relaying a turn's tokens to a client: the {@link io.streamingllm.server.stream.TokenOutbox} between the
 * engine's thread and the client's writer, shared by the WebSocket and the HTTP streams; the HTTP relay
 * ({@link io.streamingllm.server.stream.TurnStreamer}) and its wire formats; the knobs both use.
 */
package io.streamingllm.server.stream;
