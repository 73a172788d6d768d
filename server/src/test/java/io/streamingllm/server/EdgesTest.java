package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EdgesTest {
    @TempDir
    Path dir;

    @Test
    void healthUnknownRouteAndWrongMethodAnswerJson() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> health = s.get("/healthz");
            assertEquals(200, health.statusCode());
            assertEquals("ok", TestSidecar.json(health.body()).getString("status"));

            HttpResponse<String> missing = s.get("/no/such/route");
            assertEquals(404, missing.statusCode());
            assertEquals("application/json", missing.headers().firstValue("Content-Type").orElseThrow());
            assertEquals("not_found", TestSidecar.json(missing.body()).getString("error"));

            HttpResponse<String> wrong = s.delete("/healthz");
            assertEquals(405, wrong.statusCode());
            assertEquals("GET", wrong.headers().firstValue("Allow").orElseThrow());
            JsonObject body = TestSidecar.json(wrong.body());
            assertEquals("method_not_allowed", body.getString("error"));
            assertTrue(body.getString("detail").contains("DELETE"));

            assertEquals(405, s.get("/conversations/new/messages").statusCode());
            assertEquals(405, s.post("/agents", "{}").statusCode());
            assertEquals(426, s.get("/ws/chat").statusCode());
        }
    }

    @Test
    void tokenGuardsEveryRouteButHealthz() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.API_TOKEN, "s3cret"))) {
            assertEquals(200, s.get("/healthz").statusCode());

            HttpResponse<String> anonymous = s.get("/agents");
            assertEquals(401, anonymous.statusCode());
            assertEquals("unauthorized", TestSidecar.json(anonymous.body()).getString("error"));
            assertEquals(401, s.get("/agents", "Authorization", "Bearer wrong").statusCode());
            assertEquals(401, s.get("/agents", "Authorization", "Bearer s3cret-and-more").statusCode());
            assertEquals(401, s.get("/no/such/route").statusCode(), "unknown routes do not leak without a token");
            assertEquals(401, s.get("/agents?token=s3cret").statusCode(), "query tokens are for the WebSocket only");
            assertEquals(200, s.get("/agents", "Authorization", "Bearer s3cret").statusCode());
            assertEquals(200, s.get("/metrics", "Authorization", "Bearer s3cret").statusCode());

            CompletionException refused = assertThrows(CompletionException.class, () -> WsClient.connect(s.base, ""));
            assertInstanceOf(WebSocketHandshakeException.class, refused.getCause());
            assertEquals(401, ((WebSocketHandshakeException) refused.getCause()).getResponse().statusCode());
            assertThrows(CompletionException.class, () -> WsClient.connect(s.base, "?token=wrong"));

            try (WsClient ws = WsClient.connect(s.base, "?token=s3cret")) {
                ws.send("{\"agent_id\":\"planner\",\"user_message\":\"hi there\"}");
                assertEquals("hi there", ws.readTurn().text());
            }
        }
    }

    @Test
    void withoutTokenEverythingIsOpen() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            assertEquals(200, s.get("/agents").statusCode());
            assertEquals(200, s.get("/agents", "Authorization", "Bearer anything").statusCode());
        }
    }

    @Test
    void corsAllowsConfiguredOriginsAndAnswersPreflight() {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.CORS_ORIGINS, "http://ui.example:3000",
                SidecarConfig.API_TOKEN, "t"))) {
            HttpResponse<String> preflight = s.send(s.request("/conversations/new/messages",
                    "Origin", "http://ui.example:3000",
                    "Access-Control-Request-Method", "POST",
                    "Access-Control-Request-Headers", "authorization, content-type")
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertEquals(204, preflight.statusCode(), "preflight needs no token");
            assertEquals("http://ui.example:3000", preflight.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
            assertTrue(preflight.headers().firstValue("Access-Control-Allow-Methods").orElseThrow().contains("POST"));
            assertEquals("authorization, content-type",
                    preflight.headers().firstValue("Access-Control-Allow-Headers").orElseThrow());

            HttpResponse<String> get = s.get("/agents", "Origin", "http://ui.example:3000", "Authorization", "Bearer t");
            assertEquals(200, get.statusCode());
            assertEquals("http://ui.example:3000", get.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());

            HttpResponse<String> denied401 = s.get("/agents", "Origin", "http://ui.example:3000");
            assertEquals(401, denied401.statusCode());
            assertTrue(denied401.headers().firstValue("Access-Control-Allow-Origin").isPresent(),
                    "the browser may read the 401");

            HttpResponse<String> other = s.get("/agents", "Origin", "http://evil.example", "Authorization", "Bearer t");
            assertFalse(other.headers().firstValue("Access-Control-Allow-Origin").isPresent());
            HttpResponse<String> otherPreflight = s.send(s.request("/agents", "Origin", "http://evil.example",
                    "Access-Control-Request-Method", "GET").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertEquals(403, otherPreflight.statusCode());
        }
    }

    @Test
    void corsStarAllowsAnyOrigin() {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.CORS_ORIGINS, "*"))) {
            HttpResponse<String> get = s.get("/healthz", "Origin", "http://anything.example");
            assertEquals("*", get.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
        }
    }

    @Test
    void bodiesOverOneMebibyteAre413Json() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            String big = "{\"agent_id\":\"planner\",\"user_message\":\"" + "a".repeat(2 << 20) + "\"}";
            HttpResponse<String> sized = s.post("/conversations/new/messages", big);
            assertEquals(413, sized.statusCode());
            assertEquals("payload_too_large", TestSidecar.json(sized.body()).getString("error"));

            // chunked: no Content-Length, so the limit is enforced while reading
            HttpResponse<String> chunked = s.send(s.request("/agents/big")
                    .PUT(HttpRequest.BodyPublishers.fromPublisher(chunks(big))));
            assertEquals(413, chunked.statusCode());
            assertEquals("payload_too_large", TestSidecar.json(chunked.body()).getString("error"), chunked.body());

            assertEquals(200, s.get("/healthz").statusCode(), "still serving");
            assertEquals(404, s.get("/agents/big").statusCode(), "nothing stored");
        }
    }

    @Test
    void badInputTableAnswersRightStatusAndWritesNothingOutsideDataDirs() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            record Case(String method, String path, String body, int status, String error) {
            }
            var cases = new Case[]{
                    new Case("POST", "/conversations/new/messages", "{not json", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "[1,2,3]", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "\"text\"", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "{\"agent_id\":7,\"user_message\":\"x\"}", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "{\"agent_id\":\"planner\"}", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "{\"agent_id\":\"planner\",\"user_message\":[\"x\"]}", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "{\"agent_id\":\"planner\",\"user_message\":\"x\",\"options\":{\"max_new_tokens\":\"ten\"}}", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "{\"agent_id\":\"planner\",\"user_message\":\"x\",\"options\":{\"temperature\":\"hot\"}}", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "{\"agent_id\":\"planner\",\"user_message\":\"x\",\"options\":[]}", 400, "bad_request"),
                    new Case("POST", "/conversations/new/messages", "{\"agent_id\":\"nobody\",\"user_message\":\"x\"}", 404, "unknown_agent"),
                    new Case("POST", "/conversations/new/messages", "{\"agent_id\":\"../x\",\"user_message\":\"x\"}", 400, "bad_request"),
                    new Case("POST", "/conversations/..%2Fx/messages", "{\"agent_id\":\"planner\",\"user_message\":\"x\"}", 400, "bad_request"),
                    new Case("GET", "/conversations/..%2Fx", null, 400, "bad_request"),
                    new Case("GET", "/conversations/..%2F..%2Fetc%2Fpasswd/events", null, 400, "bad_request"),
                    new Case("DELETE", "/conversations/..%2Fx", null, 400, "bad_request"),
                    new Case("PUT", "/agents/..%2Fx", "{\"name\":\"x\"}", 400, "bad_request"),
                    new Case("PUT", "/agents/%20", "{\"name\":\"x\"}", 400, "bad_request"),
                    new Case("PUT", "/agents/ok", "{\"name\":5}", 400, "bad_request"),
                    new Case("PUT", "/agents/ok", "[1,2,3]", 400, "bad_request"),
                    new Case("GET", "/agents/..%2Fx", null, 400, "bad_request"),
                    new Case("DELETE", "/agents/.hidden", null, 400, "bad_request"),
                    new Case("POST", "/api/chat", "{\"model\":\"echo\",\"messages\":\"hi\"}", 400, "bad_request"),
                    new Case("POST", "/api/chat", "{\"model\":\"echo\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", 400, "bad_request"),
                    new Case("POST", "/api/chat", "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}", 400, "bad_request"),
                    new Case("POST", "/api/generate", "{\"model\":\"echo\"}", 400, "bad_request"),
                    new Case("GET", "/events?since=yesterday", null, 400, "bad_request"),
                    new Case("GET", "/events?type=NOPE", null, 400, "bad_request"),
                    new Case("GET", "/events?visibility=everyone", null, 400, "bad_request"),
                    new Case("GET", "/events?limit=-1", null, 400, "bad_request"),
                    new Case("GET", "/conversations/abc/events?limit=many", null, 400, "bad_request"),
            };
            for (Case c : cases) {
                HttpRequest.BodyPublisher body = c.body() == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(c.body());
                HttpResponse<String> r = s.send(s.request(c.path()).method(c.method(), body));
                String what = c.method() + " " + c.path() + " " + c.body();
                assertEquals(c.status(), r.statusCode(), what + " -> " + r.body());
                JsonObject json = TestSidecar.json(r.body());
                assertEquals(c.error(), json.getString("error"), what);
                assertFalse(json.getString("detail").isBlank(), what);
                assertFalse(r.body().contains("Exception"), what + " leaks a stack trace: " + r.body());
            }
            HttpResponse<String> dots = s.get("/conversations/../x");
            assertTrue(dots.statusCode() == 400 || dots.statusCode() == 404, "raw ../ is refused: " + dots.statusCode());

            assertEquals(200, s.get("/healthz").statusCode());
            HttpResponse<String> turn = s.post("/conversations/new/messages",
                    "{\"agent_id\":\"planner\",\"user_message\":\"still here\"}", "Accept", "application/x-ndjson");
            assertEquals(200, turn.statusCode(), "still serving turns");
            assertTrue(turn.body().contains("\"type\":\"done\""));
            s.assertNothingOutsideDataDirs();
            assertFalse(Files.exists(dir.resolve("x")));
            assertFalse(Files.exists(dir.resolve("data").resolve("x.jsonl")));
        }
    }

    private static Flow.Publisher<ByteBuffer> chunks(String body) {
        return HttpRequest.BodyPublishers.ofString(body)::subscribe;
    }
}
