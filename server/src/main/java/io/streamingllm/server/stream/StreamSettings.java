package io.streamingllm.server.stream;

import java.time.Duration;

/**
 * Streaming knobs shared by the HTTP and WebSocket relays.
 *
 * @param bufferedTokens deltas (or frames) queued for one client before its turn is cancelled as too slow
 * @param heartbeat      idle time after which an HTTP stream writes a heartbeat (to notice vanished clients)
 * @param wsPing         idle time after which a WebSocket gets a ping; the client's pong keeps the connection from
 *                       being closed as idle by the web server (5 minutes) while a user thinks
 */
public record StreamSettings(int bufferedTokens, Duration heartbeat, Duration wsPing) {
    public static final StreamSettings DEFAULTS = new StreamSettings(4096, Duration.ofSeconds(1), Duration.ofSeconds(30));
}
