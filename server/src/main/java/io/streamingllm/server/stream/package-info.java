/**
 * Relaying a turn's tokens to a client: the {@link io.streamingllm.server.stream.TokenOutbox} between the
 * engine's thread and the client's writer, shared by the WebSocket and the HTTP streams; the HTTP relay
 * ({@link io.streamingllm.server.stream.TurnStreamer}) and its wire formats; the one relay path of the APIs whose
 * calls carry their own history, Ollama's and OpenAI's ({@link io.streamingllm.server.stream.ChatRelay}); the
 * headers that say what the window did ({@link io.streamingllm.server.stream.WindowHeaders}); the knobs all use.
 */
package io.streamingllm.server.stream;
