package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The configured limits, reached over real sockets: each gets its clear answer, and the server serves on. */
class LimitsTest {
    private static final String STALLED_TURN = "{\"model\":\"llama3.2\",\"stream\":false,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";

    @TempDir
    Path dir;

    @Test
    void connectionsBeyondTheCapAreAnswered503AndClosed() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.MAX_CONNECTIONS, "2"));
             RawHttp first = new RawHttp(s.base); RawHttp second = new RawHttp(s.base)) {
            for (RawHttp open : new RawHttp[] {first, second}) {
                open.write("GET /agents HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals(200, RawHttp.status(open.readResponse(10_000)));
            }
            try (RawHttp third = new RawHttp(s.base)) {
                third.write("GET /agents HTTP/1.1\r\nHost: t\r\n\r\n");
                String r = third.readUntilClosed(10_000);
                assertEquals(503, RawHttp.status(r), r);
                assertTrue(r.contains("too_many_connections") && r.contains("Retry-After: 1"), r);
                assertFalse(r.contains("<no close"), "the refused connection is closed: " + r);
            }
            first.close();
            second.close();
            // the server notices the closes as it reads them: poll until a new connection is served
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            int status;
            do {
                status = s.get("/agents").statusCode();
            } while (status == 503 && System.nanoTime() < deadline);
            assertEquals(200, status, "served again once connections closed");
        }
    }

    @Test
    void webSocketsBeyondTheCapGetAnErrorFrameAndClose1013() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.MAX_WEBSOCKETS, "1"));
             WsClient first = WsClient.connect(s.base, "")) {
            try (WsClient second = WsClient.connect(s.base, "")) {
                JsonObject error = second.next();
                assertEquals("error", error.getString("type"));
                assertTrue(error.getString("message").contains("STREAMING_LLM_MAX_WEBSOCKETS"), error.toString());
                assertEquals(1013, second.awaitClose());
            }
            first.send("{\"agent_id\":\"planner\",\"user_message\":\"still here\"}");
            assertEquals("still here", first.readTurn().text());
            first.socket.sendClose(1000, "bye").join();
            assertEquals(1000, first.awaitClose());
            awaitOpenWebSockets(s, 0);
            try (WsClient third = WsClient.connect(s.base, "")) {
                third.send("{\"agent_id\":\"planner\",\"user_message\":\"my turn\"}");
                assertEquals("my turn", third.readTurn().text(), "a closed socket frees its place");
            }
        }
    }

    @Test
    void turnsBeyondTheCapOfOneSocketGetAnErrorFrameAndTheSocketStaysOpen() throws Exception {
        try (FakeOllama fake = FakeOllama.start();
             TestSidecar s = TestSidecar.ollama(dir, fake, "llama3.2:latest",
                     Map.of(SidecarConfig.MAX_TURNS_PER_SOCKET, "1"));
             WsClient ws = WsClient.connect(s.base, "")) {
            fake.reply(FakeOllama.Reply.tokens("never").stallAfter(0));
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"one\",\"conversation_id\":\"sock-1\"}");
            fake.awaitExchange("/api/chat", 0, Duration.ofSeconds(10));
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"two\",\"conversation_id\":\"sock-2\"}");
            JsonObject error = ws.next();
            assertEquals("error", error.getString("type"));
            assertTrue(error.getString("message").contains("STREAMING_LLM_MAX_TURNS_PER_SOCKET"), error.toString());
            assertFalse(ws.isClosed(), "the socket stays open");
            assertEquals(1, fake.exchanges("/api/chat").size(), "the refused turn never reached the upstream");
        }
    }

    @Test
    void turnsBeyondTheCapOfOneClientAre429WithRetryAfterOverHttpAndAnErrorFrameOverWebSockets() throws Exception {
        try (FakeOllama fake = FakeOllama.start();
             TestSidecar s = TestSidecar.ollama(dir, fake, "llama3.2:latest",
                     Map.of(SidecarConfig.MAX_TURNS_PER_CLIENT, "2"));
             RawHttp a = new RawHttp(s.base); RawHttp b = new RawHttp(s.base)) {
            fake.reply(FakeOllama.Reply.tokens("never").stallAfter(0));
            a.post("/api/chat", STALLED_TURN);
            b.post("/api/chat", STALLED_TURN);
            fake.awaitExchange("/api/chat", 1, Duration.ofSeconds(10));

            HttpResponse<String> third = s.post("/api/chat", STALLED_TURN);
            assertEquals(429, third.statusCode(), third.body());
            assertEquals("1", third.headers().firstValue("Retry-After").orElseThrow());
            assertEquals("too_many_turns", TestSidecar.json(third.body()).getString("error"));
            HttpResponse<String> conversation = s.post("/conversations/c-1/messages",
                    "{\"agent_id\":\"planner\",\"user_message\":\"hi\"}");
            assertEquals(429, conversation.statusCode(), conversation.body());

            try (WsClient ws = WsClient.connect(s.base, "")) {
                ws.send("{\"agent_id\":\"planner\",\"user_message\":\"hi\"}");
                JsonObject error = ws.next();
                assertTrue(error.getString("message").contains("STREAMING_LLM_MAX_TURNS_PER_CLIENT"), error.toString());
            }
            assertEquals(2, fake.exchanges("/api/chat").size(), "refused turns never reached the upstream");

            a.close(); // its turn is cancelled, its place freed
            CompletableFuture.anyOf(fake.exchanges("/api/chat").stream().map(FakeOllama.Exchange::clientClosed)
                    .toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            fake.reply(FakeOllama.Reply.tokens("ok"));
            HttpResponse<String> again = awaitStatus(s, 200);
            assertTrue(again.body().contains("ok"), again.body());
        }
    }

    /** Polls (a freed place is released when the cancelled turn completes) until the turn is admitted. */
    private static HttpResponse<String> awaitStatus(TestSidecar s, int status) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            HttpResponse<String> r = s.post("/api/chat", STALLED_TURN);
            if (r.statusCode() == status || System.nanoTime() > deadline) {
                assertEquals(status, r.statusCode(), r.body());
                return r;
            }
            Thread.onSpinWait();
        }
    }

    private static void awaitOpenWebSockets(TestSidecar s, int expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (s.server.openWebSockets() != expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(s.server.openWebSockets() + " WebSockets open, expected " + expected);
            }
            Thread.onSpinWait();
        }
    }
}
