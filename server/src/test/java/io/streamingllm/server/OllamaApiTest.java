package io.streamingllm.server;

import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OllamaApiTest {
    @TempDir
    Path dir;

    static List<JsonObject> records(String body) {
        return body.lines().filter(l -> !l.isBlank()).map(TestSidecar::json).toList();
    }

    static void assertFinalRecord(JsonObject last) {
        assertTrue(last.getBoolean("done"));
        for (String key : List.of("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration",
                "eval_count", "eval_duration")) {
            assertTrue(last.containsKey(key) && last.getJsonNumber(key).longValue() >= 0, key + " in " + last);
        }
        assertFalse(last.getString("created_at").isBlank());
    }

    @Test
    void chatStreamsOllamaRecordsAndAnswersOneObjectWithoutStreaming() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> r = s.post("/api/chat", "{\"model\":\"echo\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                    + "{\"role\":\"user\",\"content\":\"hello big world\"}]}");
            assertEquals(200, r.statusCode());
            assertEquals("application/x-ndjson", r.headers().firstValue("Content-Type").orElseThrow());
            List<JsonObject> recs = records(r.body());
            assertEquals(4, recs.size());
            StringBuilder text = new StringBuilder();
            for (JsonObject rec : recs.subList(0, 3)) {
                assertEquals("echo", rec.getString("model"));
                assertFalse(rec.getBoolean("done"));
                assertEquals("assistant", rec.getJsonObject("message").getString("role"));
                text.append(rec.getJsonObject("message").getString("content"));
            }
            assertEquals("hello big world", text.toString());
            JsonObject last = recs.get(3);
            assertEquals("stop", last.getString("done_reason"));
            assertEquals(3, last.getInt("eval_count"));
            assertFinalRecord(last);

            HttpResponse<String> whole = s.post("/api/chat", "{\"model\":\"echo\",\"stream\":false,\"options\":{\"num_predict\":2},"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}]}");
            assertEquals(200, whole.statusCode());
            JsonObject one = TestSidecar.json(whole.body());
            assertEquals("one two", one.getJsonObject("message").getString("content"));
            assertEquals("length", one.getString("done_reason"));
            assertFinalRecord(one);
        }
    }

    @Test
    void generateStreamsResponsesAndConversationHeaderLogs() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            List<JsonObject> recs = records(s.post("/api/generate", "{\"model\":\"echo\",\"prompt\":\"tell me\"}").body());
            assertEquals("tell", recs.get(0).getString("response"));
            assertEquals(" me", recs.get(1).getString("response"));
            assertFinalRecord(recs.get(2));
            JsonObject whole = TestSidecar.json(s.post("/api/generate",
                    "{\"model\":\"echo\",\"prompt\":\"tell me\",\"stream\":false}").body());
            assertEquals("tell me", whole.getString("response"));
            assertEquals(0, TestSidecar.json(s.get("/conversations").body()).getJsonArray("conversations").size(),
                    "no header, nothing logged");

            HttpResponse<String> logged = s.post("/api/chat", "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"remember this\"}]}",
                    "X-Conversation-Id", "ollama-conv-1");
            assertEquals(200, logged.statusCode());
            JsonObject events = TestSidecar.json(s.get("/conversations/ollama-conv-1/events").body());
            assertEquals(2, events.getJsonArray("events").size());
            assertEquals(400, s.post("/api/chat", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                    "X-Conversation-Id", "../etc").statusCode());
        }
    }

    @Test
    void metadataIsSynthesisedForEcho() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            JsonObject tags = TestSidecar.json(s.get("/api/tags").body());
            JsonObject model = tags.getJsonArray("models").getJsonObject(0);
            assertEquals("echo", model.getString("name"));
            assertTrue(model.getString("digest").startsWith("sha256:"));
            assertTrue(model.containsKey("details"));
            assertFalse(TestSidecar.json(s.get("/api/version").body()).getString("version").isBlank());
            JsonObject show = TestSidecar.json(s.post("/api/show", "{\"model\":\"echo\"}").body());
            assertTrue(show.containsKey("modelfile") && show.containsKey("details"));
            assertEquals(404, s.post("/api/show", "{\"model\":\"other\"}").statusCode());
        }
    }

    @Test
    void metadataPassesThroughToOllamaAndChatRelays() throws Exception {
        try (FakeOllama fake = FakeOllama.start("llama3.2:latest", "qwen2:0.5b");
             TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.version("0.42.1");
            JsonObject tags = TestSidecar.json(s.get("/api/tags").body());
            assertEquals(2, tags.getJsonArray("models").size());
            assertEquals("0.42.1", TestSidecar.json(s.get("/api/version").body()).getString("version"));
            HttpResponse<String> show = s.post("/api/show", "{\"model\":\"qwen2:0.5b\"}");
            assertEquals(200, show.statusCode());
            assertEquals("qwen2:0.5b", fake.awaitExchange("/api/show", 0, Duration.ofSeconds(5)).json().getString("model"));

            fake.reply(FakeOllama.Reply.tokens("Hi", " there").promptEvalCount(11).durations(900, 100, 200, 600));
            List<JsonObject> recs = records(s.post("/api/chat",
                    "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"options\":{\"temperature\":0}}").body());
            assertEquals("Hi", recs.get(0).getJsonObject("message").getString("content"));
            assertEquals("llama3.2", recs.get(0).getString("model"));
            JsonObject last = recs.get(recs.size() - 1);
            assertEquals(11, last.getInt("prompt_eval_count"));
            assertFinalRecord(last);
        }
    }

    @Test
    void readyzTellsUnreachableFromMissingModel() {
        FakeOllama gone = FakeOllama.start();
        gone.close();
        try (TestSidecar s = TestSidecar.ollama(dir.resolve("a"), gone)) {
            HttpResponse<String> r = s.get("/readyz");
            assertEquals(503, r.statusCode());
            assertEquals("unreachable", TestSidecar.json(r.body()).getString("engine_status"));
        }
        try (FakeOllama fake = FakeOllama.start("other:latest");
             TestSidecar s = TestSidecar.ollama(dir.resolve("b"), fake, "llama3.2:latest", Map.of())) {
            HttpResponse<String> r = s.get("/readyz");
            assertEquals(503, r.statusCode());
            JsonObject body = TestSidecar.json(r.body());
            assertEquals("model_missing", body.getString("engine_status"));
            assertTrue(body.getString("detail").contains("ollama pull"), body.toString());
            fake.models("llama3.2:latest");
            assertEquals(200, s.get("/readyz").statusCode());
        }
        try (TestSidecar s = TestSidecar.echo(dir.resolve("c"))) {
            assertEquals(200, s.get("/readyz").statusCode());
        }
    }

    @Test
    void metricsCountTokensStreamsAndLatencies() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            s.post("/api/chat", "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"a b c d e\"}]}");
            s.post("/conversations/m-1/messages", "{\"agent_id\":\"planner\",\"user_message\":\"f g\"}");
            HttpResponse<String> r = s.get("/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
            String text = r.body();
            assertTrue(text.contains("\nstreamingllm_tokens_relayed_total 7\n"), text);
            assertTrue(text.contains("\nstreamingllm_streams_active 0\n"), text);
            assertTrue(text.contains("streamingllm_time_to_first_token_seconds_count 2\n"), text);
            assertTrue(text.contains("streamingllm_turns_total{outcome=\"completed\"} 2\n"), text);
            long fsyncs = text.lines().filter(l -> l.startsWith("streamingllm_event_log_fsync_seconds_count "))
                    .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(' ') + 1))).findFirst().orElse(-1);
            assertTrue(fsyncs >= 1, "the logged turn fsynced: " + text);
        }
    }
}
