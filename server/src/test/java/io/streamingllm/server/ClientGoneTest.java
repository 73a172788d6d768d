package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOllama;
import io.streamingllm.core.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that goes away from a non-streamed answer cancels its upstream generation promptly (the streamed
 * routes notice it by writing); a dropped connection is one log line, never a stack trace; an upstream line over
 * the limit fails its turn with a clear error.
 */
class ClientGoneTest {
    @TempDir
    Path dir;

    @Test
    void nonStreamedChatAndGenerateCancelTheUpstreamWhenTheClientGoes() throws Exception {
        try (FakeOllama fake = FakeOllama.start(); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.reply(FakeOllama.Reply.tokens("one", " two", " never").stallAfter(2));
            String[][] routes = {
                    {"/api/chat", "{\"model\":\"llama3.2\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}"},
                    {"/api/generate", "{\"model\":\"llama3.2\",\"stream\":false,\"prompt\":\"go\"}"},
            };
            for (int i = 0; i < routes.length; i++) {
                FakeOllama.Exchange upstream;
                try (RawHttp client = new RawHttp(s.base)) {
                    client.post(routes[i][0], routes[i][1]);
                    upstream = fake.awaitExchange("/api/chat", i, Duration.ofSeconds(10));
                }
                long closedAt = System.nanoTime();
                long seen = upstream.awaitClientClosed(Duration.ofSeconds(5));
                assertTrue(seen - closedAt < Duration.ofSeconds(2).toNanos(),
                        routes[i][0] + ": the upstream was cancelled promptly, not after its full length");
            }
            WsChatTest.awaitNoActiveTurns(s);
        }
    }

    @Test
    void droppedConnectionsLogOneLineEachAndNoStackTrace() throws Exception {
        LogCapture log = LogCapture.start();
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.ECHO_DELAY_MS, "20"))) {
            for (int i = 0; i < 10; i++) {
                try (RawHttp client = new RawHttp(s.base)) {
                    client.post("/api/chat", "{\"model\":\"echo\",\"stream\":false,\"messages\":[{\"role\":\"user\","
                            + "\"content\":\"" + "word ".repeat(20) + "\"}]}");
                    client.socket.setSoLinger(true, 0); // a reset, as a client that crashed
                }
            }
            HttpResponse<String> after = s.get("/healthz");
            assertEquals(200, after.statusCode());
            WsChatTest.awaitNoActiveTurns(s);
        } finally {
            log.close();
        }
        assertEquals(List.of(), log.stackTraces(), "no stack trace");
        long dropped = log.count("dropped");
        assertTrue(dropped <= 10, "at most one line per dropped connection: " + dropped);
    }

    @Test
    void anUpstreamLineOverTheLimitFailsTheTurnWithAClearError() throws Exception {
        try (FakeOllama fake = FakeOllama.start();
             TestSidecar s = TestSidecar.fromModel(dir, "ollama:llama3.2", Map.of(
                     SidecarConfig.OLLAMA_URL, fake.baseUri().toString(),
                     SidecarConfig.MAX_UPSTREAM_LINE_KB, "64"))) {
            fake.reply(FakeOllama.Reply.tokens("fine", "x".repeat(200_000)));
            HttpResponse<String> r = s.post("/api/chat",
                    "{\"model\":\"llama3.2\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}");
            assertEquals(502, r.statusCode(), r.body());
            assertTrue(TestSidecar.json(r.body()).getString("detail").contains("longer than 64 KiB"), r.body());

            fake.reply(FakeOllama.Reply.tokens("small", " again"));
            HttpResponse<String> ok = s.post("/api/chat",
                    "{\"model\":\"llama3.2\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}");
            assertEquals(200, ok.statusCode(), ok.body());
        }
    }
}
