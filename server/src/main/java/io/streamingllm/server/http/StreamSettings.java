package io.streamingllm.server.http;

import java.time.Duration;

/**
 * Streaming knobs shared by the HTTP and WebSocket relays.
 *
 * @param bufferedTokens deltas (or frames) queued for one client before its turn is cancelled as too slow
 * @param heartbeat      idle time after which an HTTP stream writes a heartbeat (to notice vanished clients)
 */
public record StreamSettings(int bufferedTokens, Duration heartbeat) {
    public static final StreamSettings DEFAULTS = new StreamSettings(4096, Duration.ofSeconds(1));
}
