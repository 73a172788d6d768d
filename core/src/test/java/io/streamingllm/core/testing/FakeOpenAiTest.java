package io.streamingllm.core.testing;

import io.streamingllm.core.testing.FakeOpenAi.Reply;
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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fake speaks OpenAI's documented wire format: checked with a plain HTTP client, event by event. */
class FakeOpenAiTest {
    private FakeOpenAi openai;
    private HttpClient http;

    @BeforeEach
    void start() {
        openai = FakeOpenAi.start("m1", "m2");
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterEach
    void stop() {
        http.close();
        openai.close();
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + openai.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + openai.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(String s) {
        return Json.createReader(new StringReader(s)).readObject();
    }

    /** The {@code data:} payloads, checking that each event is one data line ended by a blank line. */
    private static List<String> events(String body) {
        assertTrue(body.endsWith("\n\n"), "every event ends with a blank line");
        List<String> events = List.of(body.substring(0, body.length() - 2).split("\n\n"));
        events.forEach(e -> assertTrue(e.startsWith("data: ") && !e.contains("\n"), "one data line: " + e));
        return events.stream().map(e -> e.substring("data: ".length())).toList();
    }

    @Test
    void aStreamIsRoleChunkDeltasFinishChunkUsageChunkThenDone() throws Exception {
        openai.reply(Reply.tokens("Hi", " there").promptTokens(11));
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"m1\",\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> events = events(r.body());
        assertEquals(6, events.size(), r.body());
        JsonObject role = json(events.get(0));
        assertEquals("chat.completion.chunk", role.getString("object"));
        assertEquals("m1", role.getString("model"));
        assertEquals("assistant", role.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("role"));
        assertTrue(role.isNull("usage"), "usage: null on chunks before the last when include_usage");
        assertEquals("Hi", json(events.get(1)).getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content"));
        assertEquals(" there", json(events.get(2)).getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content"));
        JsonObject finish = json(events.get(3)).getJsonArray("choices").getJsonObject(0);
        assertEquals("stop", finish.getString("finish_reason"));
        assertTrue(finish.getJsonObject("delta").isEmpty());
        JsonObject usage = json(events.get(4));
        assertTrue(usage.getJsonArray("choices").isEmpty());
        assertEquals(11, usage.getJsonObject("usage").getInt("prompt_tokens"));
        assertEquals(2, usage.getJsonObject("usage").getInt("completion_tokens"));
        assertEquals(13, usage.getJsonObject("usage").getInt("total_tokens"));
        assertEquals("[DONE]", events.get(5));
        List<String> ids = events.subList(0, 5).stream().map(e -> json(e).getString("id")).distinct().toList();
        assertEquals(1, ids.size(), "one id per completion");
    }

    @Test
    void withoutIncludeUsageThereIsNoUsageChunkAndMaxTokensAndStopCut() throws Exception {
        openai.reply(Reply.tokens("a", " b", " c"));
        List<String> events = events(post("/v1/chat/completions", "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":2,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").body());
        assertEquals(5, events.size());
        assertEquals("length", json(events.get(3)).getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
        assertTrue(!json(events.get(1)).containsKey("usage"));

        openai.reply(Reply.tokens("one", " two END", " three"));
        JsonObject whole = json(post("/v1/chat/completions", "{\"model\":\"m1\",\"stop\":\"END\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").body());
        assertEquals("chat.completion", whole.getString("object"));
        JsonObject choice = whole.getJsonArray("choices").getJsonObject(0);
        assertEquals("one two ", choice.getJsonObject("message").getString("content"));
        assertEquals("stop", choice.getString("finish_reason"));
        assertEquals(2, whole.getJsonObject("usage").getInt("completion_tokens"));
    }

    @Test
    void errorsHaveOpenAisShape() throws Exception {
        HttpResponse<String> unknown = post("/v1/chat/completions", "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(404, unknown.statusCode());
        JsonObject err = json(unknown.body()).getJsonObject("error");
        assertEquals("model_not_found", err.getString("code"));
        assertTrue(err.getString("message").contains("nope"));
        assertTrue(err.containsKey("type") && err.containsKey("param"));

        openai.reply(Reply.rateLimited(7));
        HttpResponse<String> limited = post("/v1/chat/completions", "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(429, limited.statusCode());
        assertEquals("7", limited.headers().firstValue("retry-after").orElseThrow());

        openai.apiKey("k1");
        HttpResponse<String> noKey = get("/v1/models");
        assertEquals(401, noKey.statusCode());
        assertEquals("invalid_api_key", json(noKey.body()).getJsonObject("error").getString("code"));
    }

    @Test
    void modelsAndEmbeddings() throws Exception {
        JsonObject list = json(get("/v1/models").body());
        assertEquals("list", list.getString("object"));
        assertEquals(List.of("m1", "m2"), list.getJsonArray("data").stream().map(v -> v.asJsonObject().getString("id")).toList());
        assertEquals("m2", json(get("/v1/models/m2").body()).getString("id"));
        assertEquals(404, get("/v1/models/m3").statusCode());
        JsonObject emb = json(post("/v1/embeddings", "{\"model\":\"m1\",\"input\":[\"a b\",\"c\"]}").body());
        assertEquals(2, emb.getJsonArray("data").size());
        assertEquals(1, emb.getJsonArray("data").getJsonObject(1).getInt("index"));
        assertEquals(FakeOpenAi.EMBEDDING_DIMENSIONS, emb.getJsonArray("data").getJsonObject(0).getJsonArray("embedding").size());
        assertEquals(3, emb.getJsonObject("usage").getInt("prompt_tokens"));
    }
}
