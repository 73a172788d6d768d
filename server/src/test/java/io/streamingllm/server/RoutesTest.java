package io.streamingllm.server;

import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The route table: features mounted at a prefix answer exactly their paths, and name them whole in errors. */
class RoutesTest {
    @TempDir
    Path dir;

    @Test
    void everyMountedPathAnswers() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            for (String path : List.of("/healthz", "/readyz", "/agents", "/agents/planner", "/conversations", "/events",
                    "/api/tags", "/api/version", "/metrics")) {
                assertEquals(200, s.get(path).statusCode(), path);
            }
            assertEquals(426, s.get("/ws/chat").statusCode());
        }
    }

    @Test
    void aMountPointWithATrailingSlashOrDotSegmentsIsNoRoute() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            assertNoRoute(s, "/agents/", 404, "no route for GET /agents/");
            assertNoRoute(s, "/agents/.", 404, "no route for GET /agents/.");
            assertNoRoute(s, "/conversations/", 404, "no route for GET /conversations/");
            assertNoRoute(s, "/events/", 404, "no route for GET /events/");
            assertNoRoute(s, "/metrics/.", 404, "no route for GET /metrics/.");
            assertNoRoute(s, "/healthz/", 404, "no route for GET /healthz/");
            assertNoRoute(s, "/api/", 404, "no route for GET /api/");
            assertNoRoute(s, "/agents/x/..", 400, "invalid id in /agents/x/..: ids match [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
            assertNoRoute(s, "/agents%2F", 400, "invalid id in /agents%2F: ids match [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
        }
    }

    @Test
    void wrongMethodsNameTheWholePath() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> agents = s.delete("/agents");
            assertEquals(405, agents.statusCode());
            assertEquals("GET", agents.headers().firstValue("Allow").orElseThrow());
            assertEquals("DELETE is not allowed on /agents; allowed: GET",
                    TestSidecar.json(agents.body()).getString("detail"));
            HttpResponse<String> summary = s.post("/conversations/abc/summary", "{}");
            assertEquals("POST is not allowed on /conversations/abc/summary; allowed: GET",
                    TestSidecar.json(summary.body()).getString("detail"));
            HttpResponse<String> chat = s.get("/api/chat");
            assertEquals("GET is not allowed on /api/chat; allowed: POST", TestSidecar.json(chat.body()).getString("detail"));
        }
    }

    private static void assertNoRoute(TestSidecar s, String path, int status, String detail) {
        HttpResponse<String> r = s.get(path);
        assertEquals(status, r.statusCode(), path);
        JsonObject body = TestSidecar.json(r.body());
        assertEquals(detail, body.getString("detail"), path);
    }
}
