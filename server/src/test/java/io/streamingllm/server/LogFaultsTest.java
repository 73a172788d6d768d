package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.Tmpfs;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sidecar with its log directory on a small tmpfs that fills up: readiness, refused turns, recovery. */
class LogFaultsTest {
    private static final String TURN = "{\"agent_id\":\"planner\",\"user_message\":\"hello there\"}";
    /** Larger than what a full tmpfs still has in the pages its files already hold. */
    private static final String BIG_TURN = "{\"agent_id\":\"planner\",\"user_message\":\"" + "x".repeat(64 * 1024) + "\"}";

    @TempDir
    Path dir;

    private static HttpResponse<String> awaitReadyz(TestSidecar s, int status) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            HttpResponse<String> r = s.get("/readyz");
            if (r.statusCode() == status) {
                return r;
            }
            assertTrue(System.nanoTime() < deadline, "/readyz did not become " + status + ": " + r.body());
        }
    }

    @Test
    void aFullLogVolumeMakesTheSidecarNotReadyAndRefuseTurnsUntilSpaceReturns() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(dir.resolve("vol"), 4 << 20);
             TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.LOG_DIR, fs.dir().resolve("logs").toString(),
                     SidecarConfig.LOG_RETRY_S, "0", SidecarConfig.RECENT_SIZE, "100000"))) {
            HttpResponse<String> ready = s.get("/readyz");
            assertEquals(200, ready.statusCode(), ready.body());
            assertEquals("writable", TestSidecar.json(ready.body()).getString("log"));
            assertEquals(200, s.post("/conversations/vol-1/messages", TURN).statusCode());

            Path filler = fs.fill();
            HttpResponse<String> failed = s.post("/conversations/vol-1/messages", BIG_TURN);
            assertTrue(failed.body().contains("event: error") && failed.body().contains("No space left on device"),
                    "the turn whose events could not be logged ends with an error, never done: " + failed.body());

            HttpResponse<String> notReady = awaitReadyz(s, 503);
            JsonObject body = TestSidecar.json(notReady.body());
            assertEquals("not_ready", body.getString("status"));
            assertEquals("ready", body.getString("engine_status"), "the engine is fine: the log is why");
            assertEquals("not_writable", body.getString("log"));
            assertTrue(body.getString("log_detail").contains("No space left on device"), body.toString());

            HttpResponse<String> refused = s.post("/conversations/vol-1/messages", BIG_TURN);
            assertEquals(503, refused.statusCode(), refused.body());
            JsonObject error = TestSidecar.json(refused.body());
            assertEquals("log_unavailable", error.getString("error"));
            assertTrue(error.getString("detail").contains("No space left on device"), error.toString());

            Files.delete(filler);
            awaitReadyz(s, 200);
            HttpResponse<String> works = s.post("/conversations/vol-1/messages", BIG_TURN);
            assertEquals(200, works.statusCode());
            assertTrue(works.body().contains("event: done"), works.body());
            JsonObject events = TestSidecar.json(s.get("/conversations/vol-1/events").body());
            assertEquals(4, events.getJsonArray("events").size(),
                    "two whole turns in the log: the failed one left nothing behind: " + events);
        }
    }
}
