package io.streamingllm.core.engine.ollama;

/**
 * An upstream HTTP answer relayed as is (the server passes Ollama's {@code /api/tags}, {@code /api/show}
 * and {@code /api/version} through).
 *
 * @param status      HTTP status
 * @param contentType the upstream {@code Content-Type}, {@code application/json} when it sent none
 * @param body        the body bytes
 */
public record UpstreamResponse(int status, String contentType, byte[] body) {
}
