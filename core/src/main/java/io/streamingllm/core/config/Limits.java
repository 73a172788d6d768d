package io.streamingllm.core.config;

import java.time.Duration;

/**
 * What one client, or many, may take of the sidecar ({@code STREAMING_LLM_MAX_*} and the read timeouts): beyond
 * them a request gets a clear refusal instead of the server running out of threads, descriptors or memory.
 *
 * @param maxConnections     open client connections; beyond it a request is answered 503 and its connection closed
 *                           (the server also never accepts more connections than its descriptor limit allows)
 * @param maxWebSockets      open WebSockets; beyond it a socket is closed with 1013 (try again later)
 * @param maxTurnsPerSocket  turns in flight on one WebSocket; beyond it the frame gets an error frame
 * @param maxTurnsPerClient  turns in flight from one client address, HTTP and WebSocket together; beyond it 429
 *                           with {@code Retry-After} (HTTP) or an error frame (WebSocket)
 * @param readTimeout        how long a connection has for a request's headers after it opened or after its last
 *                           answer (so also how long an idle keep-alive connection is kept), and the longest
 *                           silence while the server reads a request's body
 * @param maxUpstreamLineKb  largest line (KiB) of an upstream's streamed (NDJSON) answer; a longer one fails its
 *                           turn with a clear error without being held in memory
 */
public record Limits(int maxConnections, int maxWebSockets, int maxTurnsPerSocket, int maxTurnsPerClient,
                     Duration readTimeout, int maxUpstreamLineKb) {

    public int maxUpstreamLineBytes() {
        return maxUpstreamLineKb * 1024;
    }
}
