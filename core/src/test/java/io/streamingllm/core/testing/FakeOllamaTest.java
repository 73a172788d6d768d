package io.streamingllm.core.testing;

import io.streamingllm.core.testing.FakeOllama.Reply;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fake speaks Ollama's wire format: checked with a plain HTTP client, field by field. */
class FakeOllamaTest {
    private FakeOllama ollama;
    private HttpClient http;

    @BeforeEach
    void start() {
        ollama = FakeOllama.start("llama3.2:latest", "qwen2.5:0.5b");
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterEach
    void stop() {
        http.close();
        ollama.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create(ollama.baseUri() + path);
    }

    private static JsonObject json(String s) {
        return Json.createReader(new StringReader(s)).readObject();
    }

    @Test
    void chatStreamsNdjsonRecordsThenAFinalRecordWithStats() throws Exception {
        HttpResponse<String> r = post("/api/chat", """
                {"model":"llama3.2","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"why is <sky> blue"}]}""");
        assertEquals(200, r.statusCode());
        assertEquals("application/x-ndjson", r.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("chunked", r.headers().firstValue("Transfer-Encoding").orElseThrow());
        String[] lines = r.body().split("\n");
        assertEquals(5, lines.length, r.body());
        assertTrue(lines[0].startsWith("{\"model\":\"llama3.2\",\"created_at\":\""), "field order as Ollama: " + lines[0]);
        assertTrue(lines[2].contains("\"content\":\" \\u003csky\\u003e\""), "Go escapes HTML characters: " + lines[2]);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            JsonObject rec = json(lines[i]);
            assertFalse(rec.getBoolean("done"));
            assertEquals("assistant", rec.getJsonObject("message").getString("role"));
            text.append(rec.getJsonObject("message").getString("content"));
        }
        assertEquals("why is <sky> blue", text.toString());
        assertTrue(lines[4].matches("\\{\"model\":\"llama3.2\",\"created_at\":\"[^\"]+\",\"message\":\\{\"role\":\"assistant\",\"content\":\"\"},"
                + "\"done_reason\":\"stop\",\"done\":true,\"total_duration\":\\d+,\"load_duration\":\\d+,\"prompt_eval_count\":6,"
                + "\"prompt_eval_duration\":\\d+,\"eval_count\":4,\"eval_duration\":\\d+}"), lines[4]);
    }

    @Test
    void chatWithStreamFalseAnswersOneObject() throws Exception {
        HttpResponse<String> r = post("/api/chat", "{\"model\":\"qwen2.5:0.5b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"a b c\"}]}");
        assertEquals(200, r.statusCode());
        assertEquals("application/json; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
        JsonObject o = json(r.body());
        assertEquals("a b c", o.getJsonObject("message").getString("content"));
        assertTrue(o.getBoolean("done"));
        assertEquals("stop", o.getString("done_reason"));
        assertEquals(3, o.getInt("eval_count"));
    }

    @Test
    void generateStreamsResponseFieldAndEndsWithContext() throws Exception {
        ollama.reply(Reply.tokens("The", " sky").promptEvalCount(26));
        String[] lines = post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"Why is the sky blue?\",\"options\":{\"num_predict\":1}}")
                .body().split("\n");
        assertEquals(2, lines.length);
        assertEquals("The", json(lines[0]).getString("response"));
        JsonObject fin = json(lines[1]);
        assertEquals("", fin.getString("response"));
        assertEquals("length", fin.getString("done_reason"), "num_predict cut the answer");
        assertEquals(26, fin.getInt("prompt_eval_count"));
        assertEquals(1, fin.getInt("eval_count"));
        assertEquals(27, fin.getJsonArray("context").size());
    }

    @Test
    void missingModelIs404WithOllamasMessage() throws Exception {
        HttpResponse<String> r = post("/api/chat", "{\"model\":\"mistral\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(404, r.statusCode());
        assertEquals("{\"error\":\"model \\\"mistral\\\" not found, try pulling it first\"}", r.body());
    }

    @Test
    void tagsShowVersionAndRoot() throws Exception {
        JsonObject tags = json(get("/api/tags").body());
        assertEquals(2, tags.getJsonArray("models").size());
        JsonObject m = tags.getJsonArray("models").getJsonObject(0);
        assertEquals("llama3.2:latest", m.getString("name"));
        assertEquals("llama3.2:latest", m.getString("model"));
        assertEquals(64, m.getString("digest").length());
        assertEquals("gguf", m.getJsonObject("details").getString("format"));
        assertTrue(m.getJsonNumber("size").longValue() > 0);

        JsonObject show = json(post("/api/show", "{\"model\":\"llama3.2\"}").body());
        assertEquals("llama", show.getJsonObject("details").getString("family"));
        assertTrue(show.getJsonObject("model_info").containsKey("llama.context_length"));
        assertEquals(404, post("/api/show", "{\"model\":\"nope\"}").statusCode());

        assertEquals("{\"version\":\"0.12.6\"}", get("/api/version").body());
        assertEquals("Ollama is running", get("/").body());
        assertEquals(404, get("/api/nothing").statusCode());
    }

    @Test
    void recordsRequestsInOrderWithTheirJsonBodies() throws Exception {
        post("/api/chat", "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}],\"options\":{\"seed\":7}}");
        get("/api/tags");
        FakeOllama.Exchange chat = ollama.awaitExchange("/api/chat", 0, Duration.ofSeconds(5));
        assertEquals("POST", chat.method());
        assertEquals(7, chat.json().getJsonObject("options").getInt("seed"));
        assertEquals(List.of("/api/chat", "/api/tags"), ollama.exchanges().stream().map(FakeOllama.Exchange::path).toList());
        assertFalse(chat.clientClosed().isDone(), "the client read the whole answer");
    }

    @Test
    void sustainsAThousandConcurrentStreams() throws Exception {
        int n = 1000;
        ollama.recording(false).reply(Reply.tokens(java.util.Collections.nCopies(50, " tok")));
        try (HttpClient many = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                calls.add(many.sendAsync(HttpRequest.newBuilder(uri("/api/chat")).POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> c : calls) {
                String body = c.get(60, TimeUnit.SECONDS).body();
                assertEquals(51, body.split("\n").length);
                assertTrue(body.contains("\"done\":true"));
            }
        }
        assertEquals(n, ollama.requestCount());
        assertTrue(ollama.exchanges().isEmpty(), "recording was off");
    }
}
