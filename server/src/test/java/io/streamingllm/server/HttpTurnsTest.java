package io.streamingllm.server;

import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpTurnsTest {
    @TempDir
    Path dir;

    record SseEvent(String event, JsonObject data) {
    }

    static List<SseEvent> parseSse(String body) {
        List<SseEvent> events = new ArrayList<>();
        String event = "message";
        StringBuilder data = new StringBuilder();
        for (String line : body.split("\n", -1)) {
            if (line.isEmpty()) {
                if (!data.isEmpty()) {
                    events.add(new SseEvent(event, TestSidecar.json(data.toString())));
                }
                event = "message";
                data.setLength(0);
            } else if (line.startsWith(":")) {
                continue; // comment (heartbeat)
            } else if (line.startsWith("event: ")) {
                event = line.substring(7);
            } else if (line.startsWith("data: ")) {
                data.append(line.substring(6));
            }
        }
        return events;
    }

    static List<JsonObject> parseNdjson(String body) {
        return body.lines().filter(l -> !l.isBlank()).map(TestSidecar::json).toList();
    }

    @Test
    void sseIsTheDefaultAndCarriesTokensThenDone() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> r = s.post("/conversations/new/messages",
                    "{\"agent_id\":\"planner\",\"user_message\":\"stream me please\"}");
            assertEquals(200, r.statusCode());
            assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElseThrow());
            String id = r.headers().firstValue("X-Conversation-Id").orElseThrow();
            List<SseEvent> events = parseSse(r.body());
            assertEquals(List.of("token", "token", "token", "done"), events.stream().map(SseEvent::event).toList());
            assertEquals("stream me please", events.stream().filter(e -> e.event().equals("token"))
                    .map(e -> e.data().getString("token")).reduce("", String::concat));
            events.forEach(e -> assertEquals(id, e.data().getString("conversation_id")));
            assertEquals("stop", events.get(3).data().getString("finish_reason"));
        }
    }

    @Test
    void ndjsonByAcceptAndContentAsMessageField() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> r = s.post("/conversations/conv-a/messages",
                    "{\"agent_id\":\"planner\",\"content\":\"one two\",\"options\":{\"maxNewTokens\":1}}",
                    "Accept", "application/x-ndjson");
            assertEquals(200, r.statusCode());
            assertEquals("application/x-ndjson", r.headers().firstValue("Content-Type").orElseThrow());
            List<JsonObject> records = parseNdjson(r.body());
            assertEquals(2, records.size());
            assertEquals("token", records.get(0).getString("type"));
            assertEquals("one", records.get(0).getString("token"));
            assertEquals("conv-a", records.get(0).getString("conversation_id"));
            assertEquals("done", records.get(1).getString("type"));
            assertEquals("length", records.get(1).getString("finish_reason"));
        }
    }

    @Test
    void conversationRoutesListShowEventsSummaryAndArchive() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            Instant before = Instant.now().minusSeconds(1);
            for (String msg : List.of("first message", "second message")) {
                assertEquals(200, s.post("/conversations/talk-1/messages",
                        "{\"agent_id\":\"researcher\",\"user_message\":\"" + msg + "\"}").statusCode());
            }
            JsonArray list = TestSidecar.json(s.get("/conversations").body()).getJsonArray("conversations");
            assertEquals(1, list.size());
            JsonObject one = TestSidecar.json(s.get("/conversations/talk-1").body());
            assertEquals("talk-1", one.getString("conversation_id"));
            assertEquals("researcher", one.getString("agent_id"));
            assertEquals(2, one.getInt("turns"));
            JsonObject window = one.getJsonObject("window");
            assertTrue(window.getInt("sink_tokens") > 0);
            assertEquals(0, window.getInt("evicted_turns"));
            assertTrue(one.isNull("summary_ref"));
            assertEquals(404, s.get("/conversations/nope").statusCode());

            JsonArray events = TestSidecar.json(s.get("/conversations/talk-1/events").body()).getJsonArray("events");
            assertEquals(List.of("USER_MESSAGE", "ASSISTANT_MESSAGE", "USER_MESSAGE", "ASSISTANT_MESSAGE"),
                    events.stream().map(e -> e.asJsonObject().getString("type")).toList());
            assertEquals("second message", events.getJsonObject(3).getJsonObject("payload").getString("content"));
            JsonArray tail = TestSidecar.json(s.get("/conversations/talk-1/events?limit=1").body()).getJsonArray("events");
            assertEquals(1, tail.size());
            assertEquals(events.getJsonObject(3), tail.getJsonObject(0));
            assertEquals(404, s.get("/conversations/nope/events").statusCode());

            JsonArray since = TestSidecar.json(s.get("/events?since=" + before).body()).getJsonArray("events");
            assertEquals(4, since.size());
            JsonArray future = TestSidecar.json(s.get("/events?since=" + Instant.now().plusSeconds(60)).body())
                    .getJsonArray("events");
            assertEquals(0, future.size());
            JsonArray users = TestSidecar.json(s.get("/events?type=user_message&visibility=user").body())
                    .getJsonArray("events");
            assertEquals(2, users.size());
            users.forEach(e -> assertEquals("USER_MESSAGE", e.asJsonObject().getString("type")));

            HttpResponse<String> summary = s.get("/conversations/talk-1/summary");
            assertEquals(404, summary.statusCode(), "no summary before the first eviction");
            assertEquals("not_found", TestSidecar.json(summary.body()).getString("error"));

            assertEquals(204, s.delete("/conversations/talk-1").statusCode());
            assertEquals(404, s.delete("/conversations/talk-1").statusCode());
            assertEquals(404, s.get("/conversations/talk-1").statusCode());
            try (var archived = Files.list(s.config.archiveDir())) {
                assertTrue(archived.anyMatch(p -> p.getFileName().toString().startsWith("talk-1.")
                        && p.getFileName().toString().endsWith(".jsonl")), "log moved into the archive");
            }
            assertFalse(Files.exists(s.config.logDir().resolve("talk-1.jsonl")));
        }
    }

    @Test
    void summaryAppearsAfterEviction() {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of("STREAMING_LLM_RECENT_SIZE", "64"))) {
            String words = "lorem ipsum dolor sit amet consectetur adipiscing elit ".repeat(3).trim();
            for (int i = 0; i < 6; i++) {
                assertEquals(200, s.post("/conversations/long-1/messages",
                        "{\"agent_id\":\"planner\",\"user_message\":\"" + words + "\"}").statusCode());
            }
            JsonObject info = TestSidecar.json(s.get("/conversations/long-1").body());
            assertTrue(info.getJsonObject("window").getInt("evicted_turns") > 0, info.toString());
            HttpResponse<String> summary = s.get("/conversations/long-1/summary");
            assertEquals(200, summary.statusCode());
            JsonObject body = TestSidecar.json(summary.body());
            assertEquals("long-1", body.getString("conversation_id"));
            assertEquals(info.getString("summary_ref"), body.getString("summary_ref"));
            assertFalse(body.getString("content").isBlank());
        }
    }

    @Test
    void busyConversationIs409AndArchiveMidTurnIs409() throws Exception {
        try (FakeOllama fake = FakeOllama.start(); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            CountDownLatch release = new CountDownLatch(1);
            fake.reply(FakeOllama.Reply.tokens("a", " b").gate(i -> {
                if (i == 1) {
                    release.await();
                }
            }));
            HttpResponse<InputStream> first = s.http.send(s.request("/conversations/busy-2/messages",
                            "Accept", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"planner\",\"user_message\":\"x\"}"))
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader lines = new BufferedReader(new InputStreamReader(first.body(), StandardCharsets.UTF_8));
            assertEquals("a", TestSidecar.json(lines.readLine()).getString("token"));

            HttpResponse<String> second = s.post("/conversations/busy-2/messages",
                    "{\"agent_id\":\"planner\",\"user_message\":\"y\"}");
            assertEquals(409, second.statusCode());
            assertEquals("conversation_busy", TestSidecar.json(second.body()).getString("error"));
            assertEquals(409, s.delete("/conversations/busy-2").statusCode());

            release.countDown();
            assertEquals(" b", TestSidecar.json(lines.readLine().trim()).getString("token"));
            assertEquals("done", TestSidecar.json(lines.readLine().trim()).getString("type"));
            lines.close();
        }
    }

    @Test
    void disconnectMidStreamAndBeforeFirstTokenCancelUpstream() throws Exception {
        try (FakeOllama fake = FakeOllama.start(); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            // mid-stream
            fake.reply(FakeOllama.Reply.tokens("one", " two", " three").stallAfter(1));
            HttpResponse<InputStream> mid = s.http.send(s.request("/conversations/gone-1/messages")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"planner\",\"user_message\":\"x\"}"))
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader lines = new BufferedReader(new InputStreamReader(mid.body(), StandardCharsets.UTF_8));
            String line;
            do {
                line = lines.readLine();
            } while (line != null && !line.startsWith("data: "));
            assertTrue(line != null && line.contains("\"one\""), String.valueOf(line));
            mid.body().close();
            fake.awaitExchange("/api/chat", 0, Duration.ofSeconds(10)).awaitClientClosed(Duration.ofSeconds(10));
            WsChatTest.awaitNoActiveTurns(s);

            // before the first token (SSE and NDJSON)
            for (String accept : List.of("text/event-stream", "application/x-ndjson")) {
                int index = fake.exchanges("/api/chat").size();
                fake.reply(FakeOllama.Reply.tokens("never").stallAfter(0));
                HttpResponse<InputStream> early = s.http.send(s.request("/conversations/new/messages", "Accept", accept)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"planner\",\"user_message\":\"x\"}"))
                        .build(), HttpResponse.BodyHandlers.ofInputStream());
                assertEquals(200, early.statusCode());
                FakeOllama.Exchange upstream = fake.awaitExchange("/api/chat", index, Duration.ofSeconds(10));
                early.body().close();
                upstream.awaitClientClosed(Duration.ofSeconds(10));
                WsChatTest.awaitNoActiveTurns(s);
            }
            assertEquals(200, s.get("/healthz").statusCode());
        }
    }

    @Test
    void engineNotReadyIs503WithAdvice() {
        FakeOllama fake = FakeOllama.start();
        fake.close();
        try (TestSidecar s = TestSidecar.ollama(dir, fake)) {
            HttpResponse<String> r = s.post("/conversations/new/messages", "{\"agent_id\":\"planner\",\"user_message\":\"x\"}");
            assertEquals(503, r.statusCode());
            JsonObject body = TestSidecar.json(r.body());
            assertEquals("engine_unavailable", body.getString("error"));
            assertTrue(body.getString("detail").contains("ollama") || body.getString("detail").contains("Ollama"),
                    body.toString());
        }
    }
}
