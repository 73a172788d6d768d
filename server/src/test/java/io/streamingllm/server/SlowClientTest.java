package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.server.stream.StreamSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A WebSocket client that stops reading must not keep the engine busy: its turn is cancelled. */
class SlowClientTest {
    @TempDir
    Path dir;

    @Test
    void clientThatStopsReadingGetsItsTurnCancelled() throws Exception {
        SidecarConfig config = TestSidecar.config(dir, "echo", Map.of(SidecarConfig.RECENT_SIZE, "1048576"));
        try (SidecarServer server = SidecarServer.start(config, new EchoEngine(0),
                new StreamSettings(64, Duration.ofMillis(50), Duration.ofSeconds(30)));
             HttpClient http = HttpClient.newHttpClient()) {
            CountDownLatch firstFrame = new CountDownLatch(1);
            WebSocket ws = http.newWebSocketBuilder().buildAsync(
                    URI.create("ws://127.0.0.1:" + server.port() + "/ws/chat"), new WebSocket.Listener() {
                        @Override
                        public void onOpen(WebSocket webSocket) {
                            webSocket.request(1);
                        }

                        @Override
                        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                            firstFrame.countDown(); // and never ask for more: the socket backs up
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS);
            String words = "w ".repeat(300_000).trim();
            ws.sendText("{\"agent_id\":\"planner\",\"user_message\":\"" + words
                    + "\",\"options\":{\"max_new_tokens\":1000000}}", true).get(10, TimeUnit.SECONDS);
            assertTrue(firstFrame.await(20, TimeUnit.SECONDS));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!server.metrics().render().contains("streamingllm_turns_total{outcome=\"cancelled\"} 1\n")) {
                assertTrue(System.nanoTime() < deadline, "turn of a client that stopped reading was not cancelled");
                LockSupport.parkNanos(5_000_000);
            }
            assertEquals(0, server.metrics().streamsActive());
            assertTrue(server.metrics().tokensRelayed() < 300_000, "the generation stopped early");
            ws.abort();
        }
    }
}
