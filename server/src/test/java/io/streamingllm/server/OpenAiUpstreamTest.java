package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOpenAi;
import io.streamingllm.core.testing.FakeOpenAi.Reply;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sidecar in front of an OpenAI-compatible server ({@code STREAMING_LLM_MODEL=openai:NAME}), built as Main builds it. */
class OpenAiUpstreamTest {
    private static final String MODEL = "Qwen/Qwen2.5-0.5B-Instruct";
    private static final String KEY = "sk-upstream-4f2a9c";

    @TempDir
    Path dir;

    private static Map<String, String> env(FakeOpenAi fake, String key) {
        return Map.of(SidecarConfig.OPENAI_URL, fake.baseUri().toString(), SidecarConfig.OPENAI_API_KEY, key);
    }

    @Test
    void readyzTellsUnreachableBadKeyAndMissingModelApart() {
        FakeOpenAi gone = FakeOpenAi.start(MODEL);
        gone.close();
        try (TestSidecar s = TestSidecar.fromModel(dir.resolve("a"), "openai:" + MODEL, env(gone, KEY))) {
            HttpResponse<String> r = s.get("/readyz");
            assertEquals(503, r.statusCode());
            JsonObject body = TestSidecar.json(r.body());
            assertEquals("unreachable", body.getString("engine_status"));
            assertTrue(body.getString("detail").contains(gone.baseUri().toString()), body.toString());
        }
        try (FakeOpenAi fake = FakeOpenAi.start("other-model").apiKey(KEY)) {
            try (TestSidecar s = TestSidecar.fromModel(dir.resolve("b"), "openai:" + MODEL, env(fake, "sk-wrong-key-77"))) {
                HttpResponse<String> r = s.get("/readyz");
                assertEquals(503, r.statusCode());
                JsonObject body = TestSidecar.json(r.body());
                assertEquals("error", body.getString("engine_status"));
                assertTrue(body.getString("detail").contains("refused the API key"), body.toString());
                assertFalse(r.body().contains("sk-wrong-key-77"), r.body());
            }
            try (TestSidecar s = TestSidecar.fromModel(dir.resolve("c"), "openai:" + MODEL, env(fake, KEY))) {
                HttpResponse<String> r = s.get("/readyz");
                assertEquals(503, r.statusCode());
                JsonObject body = TestSidecar.json(r.body());
                assertEquals("model_missing", body.getString("engine_status"));
                assertTrue(body.getString("detail").contains("other-model"), "names what the server has: " + body);
                fake.models("other-model", MODEL);
                assertEquals(200, s.get("/readyz").statusCode());
            }
        }
    }

    @Test
    void chatThroughTheSidecarStreamsTheUpstreamsTokens() {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL).apiKey(KEY);
             TestSidecar s = TestSidecar.fromModel(dir, "openai:" + MODEL, env(fake, KEY))) {
            fake.reply(Reply.tokens("Hel", "lo", " there").promptTokens(21));
            HttpResponse<String> r = s.post("/api/chat", "{\"model\":\"" + MODEL + "\",\"messages\":["
                    + "{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(200, r.statusCode());
            List<JsonObject> recs = OllamaApiTest.records(r.body());
            StringBuilder text = new StringBuilder();
            recs.stream().filter(rec -> !rec.getBoolean("done")).forEach(rec ->
                    text.append(rec.getJsonObject("message").getString("content")));
            assertEquals("Hello there", text.toString());
            JsonObject last = recs.getLast();
            assertEquals(21, last.getInt("prompt_eval_count"), "usage reached the client");
            assertEquals(3, last.getInt("eval_count"));
            JsonObject upstream = fake.exchanges(FakeOpenAi.CHAT).getFirst().json();
            assertEquals("system", upstream.getJsonArray("messages").getJsonObject(0).getString("role"));
        }
    }

    @Test
    void contextLengthTwiceIs413AndALongRateLimitIs429() {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL);
             TestSidecar s = TestSidecar.fromModel(dir, "openai:" + MODEL, env(fake, ""))) {
            String body = "{\"model\":\"" + MODEL + "\",\"stream\":false,\"messages\":["
                    + "{\"role\":\"user\",\"content\":\"one two three four\"},{\"role\":\"assistant\",\"content\":\"five six\"},"
                    + "{\"role\":\"user\",\"content\":\"seven\"}]}";
            fake.reply(Reply.contextLengthVllm());
            HttpResponse<String> tooBig = s.post("/api/chat", body);
            assertEquals(413, tooBig.statusCode(), tooBig.body());
            assertEquals(2, fake.exchanges(FakeOpenAi.CHAT).size(), "retried once in a smaller window first");

            fake.reply(Reply.rateLimited(60));
            HttpResponse<String> limited = s.post("/api/chat", body);
            assertEquals(429, limited.statusCode(), limited.body());
            assertEquals(3, fake.exchanges(FakeOpenAi.CHAT).size(), "a minute is not waited for");
        }
    }

    @Test
    void aClientThatLeavesMidStreamClosesTheUpstreamRequest() throws Exception {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL);
             TestSidecar s = TestSidecar.fromModel(dir, "openai:" + MODEL, env(fake, ""))) {
            fake.reply(Reply.tokens("one", " two", " three").stallAfter(1));
            HttpResponse<InputStream> mid = s.http.send(s.request("/conversations/gone-1/messages")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"planner\",\"user_message\":\"x\"}"))
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader lines = new BufferedReader(new InputStreamReader(mid.body(), StandardCharsets.UTF_8));
            String line;
            do {
                line = lines.readLine();
            } while (line != null && !line.startsWith("data: "));
            assertTrue(line != null && line.contains("\"one\""), String.valueOf(line));
            long leftAt = System.nanoTime();
            mid.body().close();
            long closedAt = fake.awaitExchange(FakeOpenAi.CHAT, 0, Duration.ofSeconds(10)).awaitClientClosed(Duration.ofSeconds(10));
            System.out.println("upstream closed " + TimeUnit.NANOSECONDS.toMillis(closedAt - leftAt)
                    + " ms after the client left (heartbeat " + TestSidecar.SETTINGS + ")");
            WsChatTest.awaitNoActiveTurns(s);
        }
    }
}
