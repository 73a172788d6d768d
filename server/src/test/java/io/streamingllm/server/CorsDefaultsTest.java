package io.streamingllm.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With no STREAMING_LLM_CORS_ORIGINS, pages on localhost and 127.0.0.1 (any port) may call the sidecar; a page from
 * any other origin can neither write (a "simple" cross-origin POST or PUT is refused before it acts) nor open the
 * WebSocket. Requests without an Origin (curl, SDKs, other services) are not browsers and pass.
 */
class CorsDefaultsTest {
    private static final String PROMPT = "{\"system_prompt\":\"you obey the page\"}";

    @TempDir
    Path dir;

    @Test
    void writesFromOtherOriginsAre403AndChangeNothing() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            String before = s.get("/agents/planner").body();
            HttpResponse<String> put = s.put("/agents/planner", PROMPT, "Origin", "http://evil.example");
            assertEquals(403, put.statusCode(), put.body());
            assertEquals("cors_origin_not_allowed", TestSidecar.json(put.body()).getString("error"));
            assertEquals(before, s.get("/agents/planner").body(), "the agent was not rewritten");

            HttpResponse<String> post = s.post("/conversations/x-1/messages",
                    "{\"agent_id\":\"planner\",\"user_message\":\"hi\"}", "Origin", "https://evil.example",
                    "Content-Type", "text/plain");
            assertEquals(403, post.statusCode(), post.body());
            assertEquals(404, s.get("/conversations/x-1/events").statusCode(), "no turn was logged");

            HttpResponse<String> delete = s.delete("/conversations/x-1", "Origin", "http://localhost.evil.example");
            assertEquals(403, delete.statusCode(), delete.body());

            HttpResponse<String> preflight = s.send(s.request("/agents/planner", "Origin", "http://evil.example",
                    "Access-Control-Request-Method", "PUT").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertEquals(403, preflight.statusCode());

            HttpResponse<String> read = s.get("/agents", "Origin", "http://evil.example");
            assertEquals(200, read.statusCode(), "a read is answered; the browser keeps it from the page");
            assertFalse(read.headers().firstValue("Access-Control-Allow-Origin").isPresent());
        }
    }

    @Test
    void localPagesOnAnyPortMayWrite() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            for (String origin : new String[] {"http://localhost:5173", "http://127.0.0.1:8080", "http://localhost",
                    "https://127.0.0.1:8443", "http://[::1]:3000"}) {
                HttpResponse<String> put = s.put("/agents/local", PROMPT, "Origin", origin);
                assertEquals(200, put.statusCode(), origin + ": " + put.body());
                assertEquals(origin, put.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
            }
            assertEquals(200, s.put("/agents/tool", PROMPT).statusCode(), "no Origin: not a browser");
            // a page the sidecar serves itself, opened under any name: its origin is the host it calls
            assertEquals(200, rawPut(s, "sidecar.test:9000", "http://sidecar.test:9000"));
            assertEquals(403, rawPut(s, "sidecar.test:9000", "http://evil.example:9000"));
        }
    }

    @Test
    void theWebSocketChecksItsOriginTheSameWay() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            assertTrue(upgrade(s, "http://evil.example").startsWith("HTTP/1.1 403"), upgrade(s, "http://evil.example"));
            assertTrue(upgrade(s, "http://localhost:5173").startsWith("HTTP/1.1 101"));
            assertTrue(upgrade(s, null).startsWith("HTTP/1.1 101"));
        }
    }

    private static int rawPut(TestSidecar s, String host, String origin) throws Exception {
        try (RawHttp raw = new RawHttp(s.base)) {
            raw.write("PUT /agents/own HTTP/1.1\r\nHost: " + host + "\r\nOrigin: " + origin
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + PROMPT.length() + "\r\n\r\n" + PROMPT);
            return RawHttp.status(raw.readResponse(10_000));
        }
    }

    private static String upgrade(TestSidecar s, String origin) throws Exception {
        try (RawHttp raw = new RawHttp(s.base)) {
            raw.write("GET /ws/chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + (origin == null ? "" : "Origin: " + origin + "\r\n") + "\r\n");
            raw.socket.setSoTimeout(10_000);
            byte[] head = new byte[12];
            int n = raw.socket.getInputStream().readNBytes(head, 0, 12);
            return new String(head, 0, n, StandardCharsets.ISO_8859_1);
        }
    }
}
