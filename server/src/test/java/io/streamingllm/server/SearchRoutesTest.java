package io.streamingllm.server;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /conversations/{id}/search and GET /search on a real sidecar, its log and its index. */
class SearchRoutesTest {
    @TempDir
    Path dir;

    private static String q(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    private static String turn(TestSidecar s, String id, String agent, String text) {
        HttpResponse<String> r = s.post("/conversations/" + id + "/messages",
                "{\"agent_id\":\"" + agent + "\",\"user_message\":\"" + text + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        return r.headers().firstValue("X-Conversation-Id").orElseThrow();
    }

    private static String planted(TestSidecar s) {
        String id = turn(s, "new", "planner", "hello there");
        turn(s, id, "planner", "please remember my locker code is 4471");
        turn(s, id, "planner", "the weather was fine today");
        turn(s, "new", "researcher", "the locker room smelled of paint");
        return id;
    }

    @Test
    void findsMessagesOfOneConversationWithEventTurnRoleSnippetAndScore() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            String id = planted(s);
            HttpResponse<String> r = s.get("/conversations/" + id + "/search?q=" + q("locker code"));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
            JsonObject body = TestSidecar.json(r.body());
            JsonArray hits = body.getJsonArray("hits");
            assertEquals(2, hits.size(), "the user message and its echo, not the other conversation: " + body);
            JsonObject best = hits.getJsonObject(0);
            assertEquals(id, best.getString("conversation_id"));
            assertEquals(2, best.getInt("turn"));
            assertTrue(List.of("user", "assistant").contains(best.getString("role")));
            assertTrue(best.getString("snippet").contains("locker code is 4471"), best.toString());
            assertTrue(best.getJsonNumber("score").doubleValue() > 0);
            assertEquals("planner", best.getString("agent_id"));
            // the event id is the logged event's
            JsonArray events = TestSidecar.json(s.get("/conversations/" + id + "/events").body()).getJsonArray("events");
            assertTrue(events.stream().map(e -> e.asJsonObject().getString("id")).toList()
                    .contains(best.getString("event_id")));
            assertFalse(body.getBoolean("indexing"));
            assertEquals(1, TestSidecar.json(s.get("/conversations/" + id + "/search?limit=1&q=locker").body())
                    .getJsonArray("hits").size());
        }
    }

    @Test
    void searchesAcrossConversationsOrOneAgents() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            planted(s);
            assertEquals(4, TestSidecar.json(s.get("/search?q=locker").body()).getJsonArray("hits").size());
            JsonArray researcher = TestSidecar.json(s.get("/search?q=locker&agent_id=researcher").body())
                    .getJsonArray("hits");
            assertEquals(2, researcher.size());
            researcher.forEach(h -> assertEquals("researcher", h.asJsonObject().getString("agent_id")));
            assertEquals(0, TestSidecar.json(s.get("/search?q=locker&agent_id=nobody").body()).getJsonArray("hits").size());
        }
    }

    @Test
    void badQueriesAre400WithAMessageAndUnknownConversations404() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            String id = planted(s);
            assertBad(s.get("/search?q=" + q("locker AND (code")), "the query does not parse");
            assertBad(s.get("/search"), "q is required");
            assertBad(s.get("/search?q=%20%20"), "q is required");
            assertBad(s.get("/conversations/" + id + "/search?q=locker&limit=0"), "limit must be an integer from 1 to 100");
            assertBad(s.get("/search?q=locker&limit=abc"), "limit must be an integer");
            assertBad(s.get("/search?q=" + q("*ocker")), "the query does not parse");
            assertBad(s.get("/search?q=locker&agent_id=" + q("no/such agent")), "agent");
            HttpResponse<String> missing = s.get("/conversations/nosuch/search?q=locker");
            assertEquals(404, missing.statusCode());
            assertEquals("not_found", TestSidecar.json(missing.body()).getString("error"));
            assertEquals(405, s.post("/search?q=locker", "").statusCode());
        }
    }

    private static void assertBad(HttpResponse<String> r, String detail) {
        assertEquals(400, r.statusCode(), r.body());
        JsonObject body = TestSidecar.json(r.body());
        assertEquals("bad_request", body.getString("error"));
        assertTrue(body.getString("detail").contains(detail), body.toString());
    }

    @Test
    void aDeletedIndexIsRebuiltFromTheLogAtStartUpAndArchivedConversationsLeaveIt() throws Exception {
        String id;
        String other;
        try (TestSidecar s = TestSidecar.echo(dir)) {
            id = planted(s);
            other = turn(s, "new", "planner", "another locker story");
        }
        Path index = TestSidecar.config(dir, "echo", java.util.Map.of()).indexDir();
        deleteTree(index);
        try (TestSidecar s = TestSidecar.echo(dir)) {
            long deadline = System.nanoTime() + 20_000_000_000L;
            JsonObject body;
            do {
                body = TestSidecar.json(s.get("/conversations/" + id + "/search?q=locker").body());
            } while ((body.getBoolean("indexing") || body.getJsonArray("hits").isEmpty()) && System.nanoTime() < deadline);
            assertFalse(body.getBoolean("indexing"), "the catch-up ended");
            assertEquals(2, body.getJsonArray("hits").size(), "rebuilt from the log: " + body);

            assertEquals(204, s.delete("/conversations/" + other).statusCode());
            JsonArray hits = TestSidecar.json(s.get("/search?q=locker").body()).getJsonArray("hits");
            assertTrue(hits.stream().noneMatch(h -> h.asJsonObject().getString("conversation_id").equals(other)),
                    hits.toString());
            assertEquals(4, hits.size());
            s.assertNothingOutsideDataDirs();
        }
    }

    @Test
    void aTurnOverHttpRecallsAnEvictedTurnAndReportsItsTokensInTheWindowAndHeaders() {
        try (TestSidecar s = TestSidecar.echo(dir, java.util.Map.of("STREAMING_LLM_RECENT_SIZE", "60",
                "STREAMING_LLM_SUMMARY_SIZE", "20", "STREAMING_LLM_RECALL_SIZE", "60"))) {
            String id = turn(s, "new", "planner", "please remember my locker code is 4471");
            for (int n = 2; n <= 10; n++) {
                turn(s, id, "planner", "we talked about the weather and the rivers and the hills today, number " + n);
            }
            // a recall searches what the index's refresh made visible, once a second in the background; these turns
            // came within milliseconds, so a search (which refreshes first) stands in for the second that would pass
            assertEquals(200, s.get("/conversations/" + id + "/search?q=locker").statusCode());
            HttpResponse<String> r = s.post("/conversations/" + id + "/messages",
                    "{\"agent_id\":\"planner\",\"user_message\":\"what was my locker code again?\"}");
            assertEquals(200, r.statusCode(), r.body());
            JsonObject window = TestSidecar.json(s.get("/conversations/" + id).body()).getJsonObject("window");
            int recall = window.getInt("recall_tokens");
            assertTrue(recall > 0 && recall <= 60, window.toString());
            assertEquals(window.getInt("sink_tokens") + window.getInt("summary_tokens") + recall
                    + window.getInt("recent_tokens"), Integer.parseInt(r.headers().firstValue("X-Context-Tokens")
                    .orElseThrow()), "the context header counts the recalled turns");
            JsonArray events = TestSidecar.json(s.get("/conversations/" + id + "/events?type=user_message").body())
                    .getJsonArray("events");
            JsonObject asked = events.getJsonObject(events.size() - 1).getJsonObject("payload");
            assertEquals(events.getJsonObject(0).getString("id"), asked.getJsonArray("recalled_event_ids").getString(0));
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
