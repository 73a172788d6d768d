package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenAI-compatible routes under {@code /v1} over real HTTP: wire format, window, models, errors. */
class OpenAiApiTest {
    @TempDir
    Path dir;

    /** The JSON payloads of an SSE body's {@code data:} lines, in order ({@code [DONE]} as the string). */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            for (String line : event.split("\n")) {
                if (line.startsWith("data: ")) {
                    out.add(line.substring(6));
                }
            }
        }
        return out;
    }

    static JsonObject error(HttpResponse<String> r) {
        JsonObject e = TestSidecar.json(r.body()).getJsonObject("error");
        assertTrue(e.containsKey("message") && e.containsKey("type") && e.containsKey("param") && e.containsKey("code"),
                r.body());
        return e;
    }

    @Test
    void streamedChatIsChunksThenUsageThenDone() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> r = s.post("/v1/chat/completions", "{\"model\":\"echo\",\"stream\":true,"
                    + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"developer\",\"content\":"
                    + "\"be brief\"},{\"role\":\"user\",\"content\":\"stream these words\"}]}");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElseThrow());
            List<String> events = events(r.body());
            assertEquals("[DONE]", events.getLast());
            StringBuilder text = new StringBuilder();
            List<JsonObject> chunks = events.subList(0, events.size() - 1).stream().map(TestSidecar::json).toList();
            for (JsonObject c : chunks) {
                assertEquals("chat.completion.chunk", c.getString("object"));
                assertEquals("echo", c.getString("model"));
                assertEquals(chunks.getFirst().getString("id"), c.getString("id"), "one id for the whole reply");
                if (!c.getJsonArray("choices").isEmpty()) {
                    JsonObject delta = c.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
                    text.append(delta.getString("content", ""));
                }
            }
            assertEquals("assistant", chunks.getFirst().getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
                    .getString("role"));
            assertEquals("stream these words", text.toString());
            JsonObject finish = chunks.get(chunks.size() - 2);
            assertEquals("stop", finish.getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
            JsonObject window = finish.getJsonObject("streaming_llm");
            assertTrue(window.getInt("sink_tokens") > 0, "the developer message is the sink: " + window);
            assertEquals(0, window.getInt("evicted_turns"));
            assertEquals(window.getInt("context_tokens"),
                    Integer.parseInt(r.headers().firstValue("X-Context-Tokens").orElseThrow()));
            assertEquals("0", r.headers().firstValue("X-Context-Evicted-Turns").orElseThrow());
            JsonObject usage = chunks.getLast();
            assertTrue(usage.getJsonArray("choices").isEmpty());
            assertEquals(3, usage.getJsonObject("usage").getInt("completion_tokens"));
            assertEquals(usage.getJsonObject("usage").getInt("prompt_tokens") + 3,
                    usage.getJsonObject("usage").getInt("total_tokens"));
        }
    }

    @Test
    void wholeChatHasUsageLengthAndTextParts() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> r = s.post("/v1/chat/completions", "{\"model\":\"echo\",\"max_completion_tokens\":2,"
                    + "\"temperature\":0.2,\"top_p\":0.9,\"seed\":7,\"user\":\"u1\",\"n\":1,\"messages\":[{\"role\":\"user\","
                    + "\"content\":[{\"type\":\"text\",\"text\":\"one two \"},{\"type\":\"text\",\"text\":\"three\"}]}]}");
            assertEquals(200, r.statusCode(), r.body());
            JsonObject c = TestSidecar.json(r.body());
            assertEquals("chat.completion", c.getString("object"));
            JsonObject choice = c.getJsonArray("choices").getJsonObject(0);
            assertEquals("one two", choice.getJsonObject("message").getString("content"));
            assertEquals("assistant", choice.getJsonObject("message").getString("role"));
            assertEquals("length", choice.getString("finish_reason"));
            assertEquals(2, c.getJsonObject("usage").getInt("completion_tokens"));
            assertTrue(c.containsKey("streaming_llm"));

            HttpResponse<String> stop = s.post("/v1/chat/completions", "{\"stop\":\"three\",\"messages\":[{\"role\":"
                    + "\"user\",\"content\":\"one two three four\"}]}");
            JsonObject stopped = TestSidecar.json(stop.body()).getJsonArray("choices").getJsonObject(0);
            assertEquals("stop", stopped.getString("finish_reason"));
            assertEquals("one two", stopped.getJsonObject("message").getString("content").strip());
        }
    }

    @Test
    void theWindowFoldsOldMessagesAndSaysSo() {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.RECENT_SIZE, "8", SidecarConfig.SUMMARY_SIZE,
                "16"))) {
            StringBuilder messages = new StringBuilder("{\"role\":\"system\",\"content\":\"you are terse\"}");
            for (int i = 0; i < 6; i++) {
                messages.append(",{\"role\":\"user\",\"content\":\"question number ").append(i).append("\"}")
                        .append(",{\"role\":\"assistant\",\"content\":\"answer number ").append(i).append("\"}");
            }
            messages.append(",{\"role\":\"user\",\"content\":\"last one\"}");
            HttpResponse<String> r = s.post("/v1/chat/completions", "{\"messages\":[" + messages + "]}",
                    "X-Conversation-Id", "oa-window");
            assertEquals(200, r.statusCode(), r.body());
            int evicted = Integer.parseInt(r.headers().firstValue("X-Context-Evicted-Turns").orElseThrow());
            assertTrue(evicted > 0, "turns beyond 8 tokens left the window: " + r.headers().map());
            JsonObject window = TestSidecar.json(r.body()).getJsonObject("streaming_llm");
            assertEquals(evicted, window.getInt("evicted_turns"));
            assertTrue(window.getInt("summary_tokens") > 0, window.toString());
            assertEquals("oa-window", window.getString("conversation_id"));
            assertEquals("oa-window", r.headers().firstValue("X-Conversation-Id").orElseThrow());
            assertEquals("last one", TestSidecar.json(r.body()).getJsonArray("choices").getJsonObject(0)
                    .getJsonObject("message").getString("content"));
            // logged as the conversation's turn
            assertEquals(1, TestSidecar.json(s.get("/conversations/oa-window").body()).getInt("turns"));
        }
    }

    @Test
    void completionsStreamedAndWhole() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            JsonObject whole = TestSidecar.json(s.post("/v1/completions", "{\"model\":\"echo\",\"prompt\":\"complete this\"}")
                    .body());
            assertEquals("text_completion", whole.getString("object"));
            assertEquals("complete this", whole.getJsonArray("choices").getJsonObject(0).getString("text"));
            List<String> events = events(s.post("/v1/completions", "{\"prompt\":[\"a b\"],\"stream\":true}").body());
            assertEquals("[DONE]", events.getLast());
            StringBuilder text = new StringBuilder();
            events.subList(0, events.size() - 1).forEach(e -> text.append(TestSidecar.json(e).getJsonArray("choices")
                    .getJsonObject(0).getString("text")));
            assertEquals("a b", text.toString());
        }
    }

    @Test
    void badRequestsAreOpenAiErrorsNamingTheParam() throws IOException {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> image = s.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":"
                    + "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}}]}]}");
            assertEquals(400, image.statusCode());
            assertTrue(error(image).getString("message").contains("image_url"), image.body());
            assertEquals("invalid_request_error", error(image).getString("type"));
            assertEquals("messages", error(image).getString("param"));

            HttpResponse<String> n = s.post("/v1/chat/completions", "{\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(400, n.statusCode());
            assertEquals("n", error(n).getString("param"));

            HttpResponse<String> malformed = s.post("/v1/chat/completions", "{\"messages\":");
            assertEquals(400, malformed.statusCode());
            assertTrue(error(malformed).getString("message").contains("malformed JSON"), malformed.body());

            HttpResponse<String> unknownPath = s.get("/v1/nothing-here");
            assertEquals(404, unknownPath.statusCode());
            error(unknownPath);

            HttpResponse<String> wrongMethod = s.get("/v1/chat/completions");
            assertEquals(405, wrongMethod.statusCode());
            assertEquals("POST", wrongMethod.headers().firstValue("Allow").orElseThrow());
            error(wrongMethod);

            // announced too large: refused before the body is read (sent over a raw socket, which then reads the
            // answer, since a client still writing a body the server will never read may lose the answer to a reset)
            String tooLarge = rawPost(s, "/v1/chat/completions", 2 << 20);
            assertTrue(tooLarge.startsWith("HTTP/1.1 413"), tooLarge);
            JsonObject tooLargeError = TestSidecar.json(tooLarge.substring(tooLarge.indexOf("\r\n\r\n") + 4))
                    .getJsonObject("error");
            assertEquals("payload_too_large", tooLargeError.getString("code"));
            assertEquals("invalid_request_error", tooLargeError.getString("type"));

            HttpResponse<String> embeddings = s.post("/v1/embeddings", "{\"input\":\"x\"}");
            assertEquals(400, embeddings.statusCode());
            assertTrue(error(embeddings).getString("message").contains("no embeddings"), embeddings.body());

            // the other APIs keep their own shape
            HttpResponse<String> api = s.get("/api/nothing-here");
            assertEquals("not_found", TestSidecar.json(api.body()).getString("error"));
        }
    }

    @Test
    void unknownModelIs404OnBothApisAndTheModelsRoutesListTheEngines() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> whole = s.post("/v1/chat/completions", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":"
                    + "\"user\",\"content\":\"x\"}]}");
            assertEquals(404, whole.statusCode(), whole.body());
            assertEquals("model_not_found", error(whole).getString("code"));
            assertEquals("model", error(whole).getString("param"));
            HttpResponse<String> streamed = s.post("/v1/chat/completions", "{\"model\":\"gpt-4o\",\"stream\":true,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(404, streamed.statusCode(), streamed.body());
            HttpResponse<String> ollama = s.post("/api/chat", "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"x\"}]}");
            assertEquals(404, ollama.statusCode(), ollama.body());
            assertEquals("model_not_found", TestSidecar.json(ollama.body()).getString("error"));

            JsonObject models = TestSidecar.json(s.get("/v1/models").body());
            assertEquals("list", models.getString("object"));
            assertEquals("echo", models.getJsonArray("data").getJsonObject(0).getString("id"));
            assertEquals("model", TestSidecar.json(s.get("/v1/models/echo").body()).getString("object"));
            assertEquals(404, s.get("/v1/models/gpt-4o").statusCode());
        }
    }

    @Test
    void anOllamaUpstreamGetsTheRequestedModelAndEmbeds() throws Exception {
        try (FakeOllama fake = FakeOllama.start("llama3.2", "qwen2:0.5b", "all-minilm", "hf.co/org/tiny:Q4_K_M");
             TestSidecar s = TestSidecar.ollama(dir, fake)) {
            HttpResponse<String> r = s.post("/v1/chat/completions", "{\"model\":\"qwen2:0.5b\",\"top_p\":0.5,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}");
            assertEquals(200, r.statusCode(), r.body());
            JsonObject sent = fake.awaitExchange("/api/chat", 0, Duration.ofSeconds(5)).json();
            assertEquals("qwen2:0.5b", sent.getString("model"));
            assertEquals(0.5, sent.getJsonObject("options").getJsonNumber("top_p").doubleValue());
            assertEquals("qwen2:0.5b", TestSidecar.json(r.body()).getString("model"));

            s.post("/api/chat", "{\"model\":\"all-minilm\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals("all-minilm", fake.awaitExchange("/api/chat", 1, Duration.ofSeconds(5)).json().getString("model"));

            HttpResponse<String> missing = s.post("/v1/chat/completions", "{\"model\":\"nope\",\"stream\":true,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(404, missing.statusCode(), missing.body());
            assertEquals("model_not_found", error(missing).getString("code"));
            assertTrue(error(missing).getString("message").contains("nope"), missing.body());
            HttpResponse<String> missingGenerate = s.post("/api/generate", "{\"model\":\"nope\",\"prompt\":\"x\"}");
            assertEquals(404, missingGenerate.statusCode(), missingGenerate.body());

            JsonObject models = TestSidecar.json(s.get("/v1/models").body());
            assertEquals(4, models.getJsonArray("data").size());
            assertEquals("hf.co/org/tiny:Q4_K_M", TestSidecar.json(s.get("/v1/models/hf.co/org/tiny:Q4_K_M").body())
                    .getString("id"), "a model id with slashes");
            assertEquals("llama3.2:latest", models.getJsonArray("data").getJsonObject(0).getString("id"));
            assertTrue(models.getJsonArray("data").getJsonObject(0).getJsonNumber("created").longValue() > 0);
            assertEquals(200, s.get("/v1/models/qwen2:0.5b").statusCode());
            assertEquals(200, s.get("/v1/models/all-minilm").statusCode(), "NAME names NAME:latest");

            JsonObject emb = TestSidecar.json(s.post("/v1/embeddings",
                    "{\"model\":\"all-minilm\",\"input\":[\"first text\",\"second\"]}").body());
            assertEquals(2, emb.getJsonArray("data").size());
            assertEquals(4, emb.getJsonArray("data").getJsonObject(1).getJsonArray("embedding").size());
            assertEquals(3, emb.getJsonObject("usage").getInt("prompt_tokens"));
            JsonObject b64 = TestSidecar.json(s.post("/v1/embeddings",
                    "{\"model\":\"all-minilm\",\"input\":\"first text\",\"encoding_format\":\"base64\"}").body());
            float[] decoded = floats(b64.getJsonArray("data").getJsonObject(0).getString("embedding"));
            assertEquals(emb.getJsonArray("data").getJsonObject(0).getJsonArray("embedding").getJsonNumber(3).doubleValue(),
                    decoded[3], 1e-6);
            assertEquals(404, s.post("/v1/embeddings", "{\"model\":\"nope\",\"input\":\"x\"}").statusCode());
        }
    }

    /** A POST that announces {@code length} bytes and sends none of them; the whole answer as text. */
    private static String rawPost(TestSidecar s, String path, int length) throws IOException {
        try (Socket socket = new Socket(s.base.getHost(), s.base.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: " + s.base.getAuthority()
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static float[] floats(String base64) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        for (int i = 0; i < f.length; i++) {
            f[i] = b.getFloat();
        }
        return f;
    }

    @Test
    void authBusyAndRateLimitsAnswerInOpenAiShape() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch holding = new CountDownLatch(1);
        try (FakeOllama fake = FakeOllama.start("llama3.2").reply(FakeOllama.Reply.tokens("a", " b").gate(i -> {
            holding.countDown();
            release.await(20, TimeUnit.SECONDS);
        })); TestSidecar s = TestSidecar.ollama(dir, fake, "llama3.2:latest", Map.of(SidecarConfig.API_TOKEN, "sekret"))) {
            HttpResponse<String> unauthorized = s.get("/v1/models");
            assertEquals(401, unauthorized.statusCode());
            assertEquals("invalid_api_key", error(unauthorized).getString("code"));
            assertEquals("authentication_error", error(unauthorized).getString("type"));
            assertEquals("unauthorized", TestSidecar.json(s.get("/api/tags").body()).getString("error"));

            String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
            CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> s.post(
                    "/v1/chat/completions", body, "Authorization", "Bearer sekret", "X-Conversation-Id", "busy1"));
            assertTrue(holding.await(10, TimeUnit.SECONDS), "the first turn is under way");
            HttpResponse<String> busy = s.post("/v1/chat/completions", body, "Authorization", "Bearer sekret",
                    "X-Conversation-Id", "busy1");
            assertEquals(409, busy.statusCode(), busy.body());
            assertEquals("conversation_busy", error(busy).getString("code"));
            release.countDown();
            assertEquals(200, first.get(20, TimeUnit.SECONDS).statusCode());
        }
        try (TestSidecar s = TestSidecar.withEngine(dir.resolve("limited"), new RateLimitedEngine(), Map.of())) {
            for (boolean stream : new boolean[] {false, true}) {
                HttpResponse<String> limited = s.post("/v1/chat/completions", "{\"stream\":" + stream
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
                assertEquals(429, limited.statusCode(), limited.body());
                assertEquals("7", limited.headers().firstValue("Retry-After").orElseThrow());
                assertEquals("rate_limit_exceeded", error(limited).getString("code"));
                assertEquals("rate_limit_error", error(limited).getString("type"));
            }
        }
    }

    @Test
    void aMultiModelUpstreamServesNamedModelsWithoutTheConfiguredOne() {
        try (FakeOllama fake = FakeOllama.start("qwen2:0.5b"); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            String ask = "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
            HttpResponse<String> named = s.post("/v1/chat/completions", "{\"model\":\"qwen2:0.5b\"," + ask);
            assertEquals(200, named.statusCode(), named.body());
            HttpResponse<String> configured = s.post("/v1/chat/completions", "{" + ask);
            assertEquals(503, configured.statusCode(), configured.body());
            assertTrue(error(configured).getString("message").contains("ollama pull llama3.2:latest"), configured.body());
            assertEquals(404, s.post("/api/chat", "{\"model\":\"mistral\"," + ask).statusCode());
        }
    }

    @Test
    void anUpstreamFailureIs502StreamedOrNot() {
        try (FakeOllama fake = FakeOllama.start("llama3.2").reply(FakeOllama.Reply.tokens("a").httpError(500, "boom"));
             TestSidecar s = TestSidecar.ollama(dir, fake)) {
            for (boolean stream : new boolean[] {false, true}) {
                HttpResponse<String> r = s.post("/v1/chat/completions", "{\"stream\":" + stream
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
                assertEquals(502, r.statusCode(), r.body());
                assertEquals("server_error", error(r).getString("type"));
                assertTrue(error(r).getString("message").contains("boom"), r.body());
            }
        }
    }

    @Test
    void anUnreachableUpstreamIs503() {
        FakeOllama gone = FakeOllama.start("llama3.2");
        gone.close();
        try (TestSidecar s = TestSidecar.ollama(dir, gone)) {
            HttpResponse<String> r = s.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("server_error", error(r).getString("type"));
            assertFalse(error(r).getString("message").isBlank());
        }
    }

    /** An upstream that refuses every generation with 429 and says when to come back. */
    static final class RateLimitedEngine implements ModelEngine {
        @Override
        public String engineName() {
            return "limited";
        }

        @Override
        public String model() {
            return "limited";
        }

        @Override
        public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
            CompletableFuture<GenerationResult> result = CompletableFuture.failedFuture(new EngineException(
                    EngineException.Kind.RATE_LIMITED, "the upstream is rate limiting", Duration.ofMillis(6500)));
            return new Generation() {
                @Override
                public CompletableFuture<GenerationResult> result() {
                    return result;
                }

                @Override
                public void cancel() {
                }
            };
        }

        @Override
        public EngineHealth health() {
            return EngineHealth.ready("ready");
        }
    }
}
