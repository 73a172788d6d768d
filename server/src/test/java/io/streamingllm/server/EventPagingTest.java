package io.streamingllm.server;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Both event routes page with before/after cursors and say whether more events match. */
class EventPagingTest {
    @TempDir
    Path dir;

    private static List<String> ids(JsonArray events) {
        return events.stream().map(e -> e.asJsonObject().getString("id")).toList();
    }

    /** Follows a route's cursor to the end, from {@code cursor} (a first "&after=…" or nothing); the ids in order. */
    private static List<String> pageThrough(TestSidecar s, String path, String query, boolean forward) {
        return pageThrough(s, path, query, forward, "");
    }

    private static List<String> pageThrough(TestSidecar s, String path, String query, boolean forward, String cursor) {
        List<String> all = new ArrayList<>();
        for (int pages = 0; pages < 1000; pages++) {
            HttpResponse<String> r = s.get(path + "?" + query + cursor);
            assertEquals(200, r.statusCode(), r.body());
            JsonObject page = TestSidecar.json(r.body());
            List<String> ids = ids(page.getJsonArray("events"));
            if (forward) {
                all.addAll(ids);
            } else {
                all.addAll(0, ids);
            }
            if (!page.getBoolean("has_more")) {
                return all;
            }
            cursor = forward ? "&after=" + ids.get(ids.size() - 1) : "&before=" + ids.get(0);
        }
        throw new AssertionError("no end");
    }

    @Test
    void bothEventRoutesPageBackAndForthWithCursors() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            Instant start = Instant.now().minusSeconds(1);
            for (int i = 0; i < 9; i++) {
                for (String conv : List.of("p1", "p2")) {
                    assertEquals(200, s.post("/conversations/" + conv + "/messages",
                            "{\"agent_id\":\"planner\",\"user_message\":\"turn " + i + "\"}").statusCode());
                }
            }
            JsonObject all = TestSidecar.json(s.get("/conversations/p1/events?limit=10000").body());
            List<String> p1 = ids(all.getJsonArray("events"));
            assertEquals(18, p1.size());
            assertFalse(all.getBoolean("has_more"));

            JsonObject newest = TestSidecar.json(s.get("/conversations/p1/events?limit=5").body());
            assertEquals(p1.subList(13, 18), ids(newest.getJsonArray("events")), "the newest page, oldest first");
            assertTrue(newest.getBoolean("has_more"));
            assertEquals(p1, pageThrough(s, "/conversations/p1/events", "limit=5", false));
            assertEquals(p1.subList(1, 18), pageThrough(s, "/conversations/p1/events", "limit=4", true,
                    "&after=" + p1.get(0)));
            JsonObject range = TestSidecar.json(s.get("/conversations/p1/events?after=" + p1.get(3) + "&before="
                    + p1.get(7)).body());
            assertEquals(p1.subList(4, 7), ids(range.getJsonArray("events")));
            JsonObject replies = TestSidecar.json(s.get("/conversations/p1/events?type=assistant_message&limit=2").body());
            replies.getJsonArray("events").forEach(e ->
                    assertEquals("ASSISTANT_MESSAGE", e.asJsonObject().getString("type")));
            assertEquals(p1.get(17), ids(replies.getJsonArray("events")).get(1));

            List<String> everything = pageThrough(s, "/events", "limit=7", false);
            assertEquals(36, everything.size());
            assertEquals(everything.stream().sorted().toList(), everything, "creation order across conversations");
            assertTrue(everything.containsAll(p1));
            String since = URLEncoder.encode(start.toString(), StandardCharsets.UTF_8);
            assertEquals(everything, pageThrough(s, "/events", "limit=7&since=" + since, true));
            JsonObject first = TestSidecar.json(s.get("/events?limit=1&since=" + since).body());
            assertEquals(List.of(everything.get(0)), ids(first.getJsonArray("events")));
            assertTrue(first.getBoolean("has_more"));
            JsonObject none = TestSidecar.json(s.get("/events?type=error").body());
            assertEquals(JsonValue.EMPTY_JSON_ARRAY, none.getJsonArray("events"));
            assertFalse(none.getBoolean("has_more"));
        }
    }

    @Test
    void badCursorsAndLimitsAreClear400s() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            assertEquals(200, s.post("/conversations/b1/messages", "{\"agent_id\":\"planner\",\"user_message\":\"x\"}")
                    .statusCode());
            for (String path : List.of("/events", "/conversations/b1/events")) {
                for (String query : List.of("before=", "after=%20", "after=" + "a".repeat(129), "limit=0",
                        "limit=10001", "since=yesterday", "type=nope", "visibility=all")) {
                    HttpResponse<String> r = s.get(path + "?" + query);
                    assertEquals(400, r.statusCode(), path + "?" + query + ": " + r.body());
                    JsonObject error = TestSidecar.json(r.body());
                    assertEquals("bad_request", error.getString("error"));
                    String name = query.substring(0, query.indexOf('='));
                    assertTrue(error.getString("detail").startsWith(name + " ")
                            || error.getString("detail").contains("unknown event type"), error.toString());
                }
            }
            assertEquals(404, s.get("/conversations/nope/events?before=x").statusCode());
        }
    }
}
