/**
 * The Ollama-compatible API under {@code /api}: chat and generate relayed through the chat service with the window
 * applied ({@link io.streamingllm.server.ollama.OllamaApi}), and the model routes
 * ({@link io.streamingllm.server.ollama.OllamaModels}), so that Ollama's clients can point at the sidecar.
 */
package io.streamingllm.server.ollama;
